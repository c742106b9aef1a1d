//! Rows of `lock_members`: who may manage which lock, and as what. Every access
//! check of the API goes through [`role_of`].

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;
use tessera_api::{MemberView, Role};
use tessera_model::LockId;
use uuid::Uuid;

use super::{from_millis, millis, parse_uuid};
use crate::error::{ApiError, ApiResult};

pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Owner => "owner",
        Role::Member => "member",
    }
}

pub fn parse_role(text: &str) -> ApiResult<Role> {
    match text {
        "owner" => Ok(Role::Owner),
        "member" => Ok(Role::Member),
        other => Err(ApiError::internal(format!("unknown stored role {other:?}"))),
    }
}

/// The account's role on the lock; `None` when it has no access (or there is no such lock).
pub async fn role_of(conn: &mut SqliteConnection, lock: LockId, account: Uuid) -> ApiResult<Option<Role>> {
    let role: Option<String> =
        sqlx::query_scalar("SELECT role FROM lock_members WHERE lock_id = ?1 AND account_id = ?2")
            .bind(lock.to_string())
            .bind(account.to_string())
            .fetch_optional(conn)
            .await?;
    role.as_deref().map(parse_role).transpose()
}

pub async fn insert(
    conn: &mut SqliteConnection,
    lock: LockId,
    account: Uuid,
    role: Role,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    sqlx::query("INSERT INTO lock_members (lock_id, account_id, role, added_at) VALUES (?1, ?2, ?3, ?4)")
        .bind(lock.to_string())
        .bind(account.to_string())
        .bind(role_name(role))
        .bind(millis(now))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn remove(conn: &mut SqliteConnection, lock: LockId, account: Uuid) -> ApiResult<()> {
    sqlx::query("DELETE FROM lock_members WHERE lock_id = ?1 AND account_id = ?2")
        .bind(lock.to_string())
        .bind(account.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

type MemberRow = (String, String, String, String, i64);

const SELECT: &str = "SELECT m.lock_id, m.account_id, a.email, m.role, m.added_at
                      FROM lock_members m JOIN accounts a ON a.id = m.account_id";

fn from_row((lock_id, account_id, email, role, added_at): MemberRow) -> ApiResult<MemberView> {
    Ok(MemberView {
        lock_id: LockId::from_uuid(parse_uuid(&lock_id)?),
        account_id: parse_uuid(&account_id)?,
        email,
        role: parse_role(&role)?,
        added_at: from_millis(added_at)?,
    })
}

pub async fn get(conn: &mut SqliteConnection, lock: LockId, account: Uuid) -> ApiResult<Option<MemberView>> {
    let row: Option<MemberRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE m.lock_id = ?1 AND m.account_id = ?2"
    )))
    .bind(lock.to_string())
    .bind(account.to_string())
    .fetch_optional(conn)
    .await?;
    row.map(from_row).transpose()
}

/// Everyone who may manage the lock, the owner first, then in the order they were added.
pub async fn of_lock(conn: &mut SqliteConnection, lock: LockId) -> ApiResult<Vec<MemberView>> {
    let rows: Vec<MemberRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE m.lock_id = ?1 ORDER BY CASE WHEN m.role = 'owner' THEN 0 ELSE 1 END, m.added_at, m.account_id"
    )))
    .bind(lock.to_string())
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(from_row).collect()
}
