//! Rows of `accounts`.

use sqlx::SqliteConnection;
use tessera_api::Account;
use uuid::Uuid;

use super::{from_millis, millis, parse_uuid};
use crate::error::{ApiError, ApiResult};

/// An account with its password hash, for login.
#[derive(Debug)]
pub struct StoredAccount {
    pub account: Account,
    pub password_hash: String,
}

/// Inserts the account; `false` if its email is taken (two sign-ups racing).
pub async fn insert(conn: &mut SqliteConnection, account: &Account, password_hash: &str) -> ApiResult<bool> {
    let inserted =
        sqlx::query("INSERT INTO accounts (id, email, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)")
            .bind(account.id.to_string())
            .bind(&account.email)
            .bind(password_hash)
            .bind(millis(account.created_at))
            .execute(conn)
            .await;
    match inserted {
        Ok(_) => Ok(true),
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => Ok(false),
        Err(error) => Err(error.into()),
    }
}

pub async fn email_taken(conn: &mut SqliteConnection, email: &str) -> ApiResult<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM accounts WHERE email = ?1")
        .bind(email)
        .fetch_optional(conn)
        .await?;
    Ok(found.is_some())
}

pub async fn by_email(conn: &mut SqliteConnection, email: &str) -> ApiResult<Option<StoredAccount>> {
    let row: Option<(String, String, String, i64)> =
        sqlx::query_as("SELECT id, email, password_hash, created_at FROM accounts WHERE email = ?1")
            .bind(email)
            .fetch_optional(conn)
            .await?;
    row.map(|(id, email, password_hash, created_at)| {
        Ok(StoredAccount {
            account: Account {
                id: parse_uuid(&id)?,
                email,
                created_at: from_millis(created_at)?,
            },
            password_hash,
        })
    })
    .transpose()
}

pub async fn get(conn: &mut SqliteConnection, id: Uuid) -> ApiResult<Account> {
    let row: Option<(String, i64)> = sqlx::query_as("SELECT email, created_at FROM accounts WHERE id = ?1")
        .bind(id.to_string())
        .fetch_optional(conn)
        .await?;
    let (email, created_at) = row.ok_or_else(|| ApiError::not_found("account"))?;
    Ok(Account {
        id,
        email,
        created_at: from_millis(created_at)?,
    })
}
