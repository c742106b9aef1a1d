//! Rows of `sessions`, `access_tokens` and `refresh_tokens`. Tokens are found by
//! their SHA-256 hash only.

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;
use tessera_api::SessionInfo;
use uuid::Uuid;

use super::{from_millis, millis, parse_uuid};
use crate::error::ApiResult;

#[derive(Debug)]
pub struct NewSession<'a> {
    pub id: Uuid,
    pub account_id: Uuid,
    pub device_name: Option<&'a str>,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut SqliteConnection, session: &NewSession<'_>) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO sessions (id, account_id, device_name, created_at, last_used_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
    )
    .bind(session.id.to_string())
    .bind(session.account_id.to_string())
    .bind(session.device_name)
    .bind(millis(session.now))
    .bind(millis(session.expires_at))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_access_token(
    conn: &mut SqliteConnection,
    token_hash: &str,
    session: Uuid,
    expires_at: DateTime<Utc>,
) -> ApiResult<()> {
    sqlx::query("INSERT INTO access_tokens (token_hash, session_id, expires_at) VALUES (?1, ?2, ?3)")
        .bind(token_hash)
        .bind(session.to_string())
        .bind(millis(expires_at))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn insert_refresh_token(
    conn: &mut SqliteConnection,
    token_hash: &str,
    session: Uuid,
    expires_at: DateTime<Utc>,
) -> ApiResult<()> {
    sqlx::query("INSERT INTO refresh_tokens (token_hash, session_id, expires_at) VALUES (?1, ?2, ?3)")
        .bind(token_hash)
        .bind(session.to_string())
        .bind(millis(expires_at))
        .execute(conn)
        .await?;
    Ok(())
}

/// An access token of a session that has not ended.
#[derive(Debug)]
pub struct AccessGrant {
    pub session_id: Uuid,
    pub account_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
}

pub async fn find_access(conn: &mut SqliteConnection, token_hash: &str) -> ApiResult<Option<AccessGrant>> {
    let row: Option<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT s.id, s.account_id, t.expires_at, s.last_used_at
         FROM access_tokens t JOIN sessions s ON s.id = t.session_id
         WHERE t.token_hash = ?1 AND s.ended_at IS NULL",
    )
    .bind(token_hash)
    .fetch_optional(conn)
    .await?;
    row.map(|(session, account, expires_at, last_used_at)| {
        Ok(AccessGrant {
            session_id: parse_uuid(&session)?,
            account_id: parse_uuid(&account)?,
            expires_at: from_millis(expires_at)?,
            last_used_at: from_millis(last_used_at)?,
        })
    })
    .transpose()
}

/// A refresh token as found, whatever its state.
#[derive(Debug)]
pub struct RefreshGrant {
    pub session_id: Uuid,
    pub account_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub spent: bool,
    pub session_ended: bool,
}

/// Session, account, expiry, when spent, when the session ended.
type RefreshRow = (String, String, i64, Option<i64>, Option<i64>);

pub async fn find_refresh(conn: &mut SqliteConnection, token_hash: &str) -> ApiResult<Option<RefreshGrant>> {
    let row: Option<RefreshRow> = sqlx::query_as(
        "SELECT s.id, s.account_id, t.expires_at, t.spent_at, s.ended_at
         FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
         WHERE t.token_hash = ?1",
    )
    .bind(token_hash)
    .fetch_optional(conn)
    .await?;
    row.map(|(session, account, expires_at, spent_at, ended_at)| {
        Ok(RefreshGrant {
            session_id: parse_uuid(&session)?,
            account_id: parse_uuid(&account)?,
            expires_at: from_millis(expires_at)?,
            spent: spent_at.is_some(),
            session_ended: ended_at.is_some(),
        })
    })
    .transpose()
}

pub async fn spend_refresh(
    conn: &mut SqliteConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    sqlx::query("UPDATE refresh_tokens SET spent_at = ?2 WHERE token_hash = ?1")
        .bind(token_hash)
        .bind(millis(now))
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a refresh: the session lives until the new refresh token expires, and
/// its expired access tokens go.
pub async fn renew(
    conn: &mut SqliteConnection,
    session: Uuid,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> ApiResult<()> {
    sqlx::query("UPDATE sessions SET last_used_at = ?2, expires_at = ?3 WHERE id = ?1")
        .bind(session.to_string())
        .bind(millis(now))
        .bind(millis(expires_at))
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM access_tokens WHERE session_id = ?1 AND expires_at <= ?2")
        .bind(session.to_string())
        .bind(millis(now))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn touch(conn: &mut SqliteConnection, session: Uuid, now: DateTime<Utc>) -> ApiResult<()> {
    sqlx::query("UPDATE sessions SET last_used_at = ?2 WHERE id = ?1")
        .bind(session.to_string())
        .bind(millis(now))
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends a session: none of its tokens works any more. The row stays (ended).
pub async fn end(conn: &mut SqliteConnection, session: Uuid, now: DateTime<Utc>) -> ApiResult<()> {
    let id = session.to_string();
    sqlx::query("UPDATE sessions SET ended_at = ?2 WHERE id = ?1 AND ended_at IS NULL")
        .bind(&id)
        .bind(millis(now))
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM access_tokens WHERE session_id = ?1")
        .bind(&id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM refresh_tokens WHERE session_id = ?1")
        .bind(&id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether `session` is a live session of `account`.
pub async fn is_live_session_of(
    conn: &mut SqliteConnection,
    session: Uuid,
    account: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM sessions WHERE id = ?1 AND account_id = ?2 AND ended_at IS NULL AND expires_at > ?3",
    )
    .bind(session.to_string())
    .bind(account.to_string())
    .bind(millis(now))
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

/// The account's live sessions, oldest first.
pub async fn list(
    conn: &mut SqliteConnection,
    account: Uuid,
    current: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<Vec<SessionInfo>> {
    let rows: Vec<(String, Option<String>, i64, i64)> = sqlx::query_as(
        "SELECT id, device_name, created_at, last_used_at FROM sessions
         WHERE account_id = ?1 AND ended_at IS NULL AND expires_at > ?2
         ORDER BY created_at, id",
    )
    .bind(account.to_string())
    .bind(millis(now))
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(id, device_name, created_at, last_used_at)| {
            let id = parse_uuid(&id)?;
            Ok(SessionInfo {
                id,
                device_name,
                created_at: from_millis(created_at)?,
                last_used_at: from_millis(last_used_at)?,
                current: id == current,
            })
        })
        .collect()
}
