//! Rows of `shares`: hosted share links. Only ciphertext and the access key's
//! hash are kept; opening consumes a view in one conditional UPDATE, so
//! concurrent opens of a one-view link cannot both succeed.

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;
use tessera_api::ShareView;
use tessera_model::{CodeId, LockId};
use uuid::Uuid;

use super::{from_millis, millis, parse_uuid};
use crate::error::{ApiError, ApiResult};

/// A share as stored, less the ciphertext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredShare {
    pub id: String,
    pub code_id: CodeId,
    pub lock_id: LockId,
    pub sealed: String,
    pub access_key_hash: String,
    pub expires_at: DateTime<Utc>,
    pub max_views: Option<u32>,
    pub views: u32,
    pub revoked: bool,
    pub created_at: DateTime<Utc>,
}

impl StoredShare {
    pub fn view(&self) -> ShareView {
        ShareView {
            id: self.id.clone(),
            code_id: self.code_id,
            expires_at: self.expires_at,
            max_views: self.max_views,
            views: self.views,
            revoked: self.revoked,
            created_at: self.created_at,
        }
    }
}

const SELECT: &str = "SELECT id, code_id, lock_id, sealed, access_key_hash, expires_at, max_views, views, \
                      revoked, created_at FROM shares";

type ShareRow = (
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    i64,
    bool,
    i64,
);

fn count(what: &str, value: i64) -> ApiResult<u32> {
    u32::try_from(value).map_err(|_| ApiError::internal(format!("stored share {what} {value} out of range")))
}

fn from_row(row: ShareRow) -> ApiResult<StoredShare> {
    let (id, code_id, lock_id, sealed, access_key_hash, expires_at, max_views, views, revoked, created_at) =
        row;
    Ok(StoredShare {
        id,
        code_id: CodeId::from_uuid(parse_uuid(&code_id)?),
        lock_id: LockId::from_uuid(parse_uuid(&lock_id)?),
        sealed,
        access_key_hash,
        expires_at: from_millis(expires_at)?,
        max_views: max_views.map(|n| count("max_views", n)).transpose()?,
        views: count("views", views)?,
        revoked,
        created_at: from_millis(created_at)?,
    })
}

pub async fn insert(conn: &mut SqliteConnection, share: &StoredShare, created_by: Uuid) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO shares (id, code_id, lock_id, sealed, access_key_hash, expires_at, max_views, views,
                             revoked, created_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, 0, ?8, ?9)",
    )
    .bind(&share.id)
    .bind(share.code_id.to_string())
    .bind(share.lock_id.to_string())
    .bind(&share.sealed)
    .bind(&share.access_key_hash)
    .bind(millis(share.expires_at))
    .bind(share.max_views.map(i64::from))
    .bind(created_by.to_string())
    .bind(millis(share.created_at))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut SqliteConnection, id: &str) -> ApiResult<Option<StoredShare>> {
    let row: Option<ShareRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE id = ?1")))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(from_row).transpose()
}

/// Every share of a code, oldest first.
pub async fn of_code(conn: &mut SqliteConnection, code: CodeId) -> ApiResult<Vec<StoredShare>> {
    let rows: Vec<ShareRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE code_id = ?1 ORDER BY created_at, id"
    )))
    .bind(code.to_string())
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(from_row).collect()
}

/// The lock a share's code belongs to (for access checks).
pub async fn lock_of(conn: &mut SqliteConnection, id: &str) -> ApiResult<Option<LockId>> {
    let lock: Option<String> = sqlx::query_scalar("SELECT lock_id FROM shares WHERE id = ?1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    lock.map(|id| Ok(LockId::from_uuid(parse_uuid(&id)?))).transpose()
}

/// The stored access-key hash of a share, for the constant-time comparison.
pub async fn access_key_hash(conn: &mut SqliteConnection, id: &str) -> ApiResult<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT access_key_hash FROM shares WHERE id = ?1")
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

/// Consumes one view if the share may still be opened (not revoked, not
/// expired, views left): one statement, so concurrent opens are counted exactly.
/// Returns the ciphertext and the expiry.
pub async fn consume_view(
    conn: &mut SqliteConnection,
    id: &str,
    now: DateTime<Utc>,
) -> ApiResult<Option<(String, DateTime<Utc>)>> {
    let row: Option<(String, i64)> = sqlx::query_as(
        "UPDATE shares SET views = views + 1
         WHERE id = ?1 AND revoked = 0 AND expires_at > ?2 AND (max_views IS NULL OR views < max_views)
         RETURNING sealed, expires_at",
    )
    .bind(id)
    .bind(millis(now))
    .fetch_optional(conn)
    .await?;
    row.map(|(sealed, expires_at)| Ok((sealed, from_millis(expires_at)?)))
        .transpose()
}

/// Revokes one share; revoking a revoked share changes nothing.
pub async fn revoke(conn: &mut SqliteConnection, id: &str) -> ApiResult<()> {
    sqlx::query("UPDATE shares SET revoked = 1 WHERE id = ?1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Revokes every share of a code (the code was revoked).
pub async fn revoke_of_code(conn: &mut SqliteConnection, code: CodeId) -> ApiResult<u64> {
    let done = sqlx::query("UPDATE shares SET revoked = 1 WHERE code_id = ?1 AND revoked = 0")
        .bind(code.to_string())
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Brings the shares of a code forward to its new last instant of access (the
/// code was changed to end sooner): a link never outlives its code.
pub async fn clamp_expiry(conn: &mut SqliteConnection, code: CodeId, until: DateTime<Utc>) -> ApiResult<()> {
    sqlx::query("UPDATE shares SET expires_at = ?2 WHERE code_id = ?1 AND expires_at > ?2")
        .bind(code.to_string())
        .bind(millis(until))
        .execute(conn)
        .await?;
    Ok(())
}
