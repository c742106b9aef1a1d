//! Rows of `locks` and `device_credentials`.

use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use tessera_api::{LockView, Role};
use tessera_model::{Lock, LockCapabilities, LockId, lock::parse_time_zone};
use uuid::Uuid;

use super::members::parse_role;
use super::{from_millis, millis, parse_uuid, version};
use crate::error::{ApiError, ApiResult};

/// A lock as stored, with what the API shows of it.
#[derive(Debug)]
pub struct StoredLock {
    pub lock: Lock,
    pub creation_digest: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

impl StoredLock {
    pub fn view(&self, role: Role) -> LockView {
        LockView {
            id: self.lock.id,
            name: self.lock.name.clone(),
            time_zone: self.lock.time_zone.name().to_owned(),
            capabilities: self.lock.capabilities.clone(),
            role,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

const COLUMNS: &str = "l.id, l.name, l.time_zone, l.capabilities, l.creation_digest, l.created_at, \
                       l.updated_at, l.version";

type LockRow = (String, String, String, String, String, i64, i64, i64);

fn from_row(row: LockRow) -> ApiResult<StoredLock> {
    let (id, name, time_zone, capabilities, creation_digest, created_at, updated_at, stored_version) = row;
    let capabilities: LockCapabilities = serde_json::from_str(&capabilities)
        .map_err(|e| ApiError::internal(format!("lock {id} has unreadable capabilities: {e}")))?;
    Ok(StoredLock {
        lock: Lock {
            id: LockId::from_uuid(parse_uuid(&id)?),
            name,
            time_zone: parse_time_zone(&time_zone).map_err(ApiError::internal)?,
            capabilities,
        },
        creation_digest,
        created_at: from_millis(created_at)?,
        updated_at: from_millis(updated_at)?,
        version: version(stored_version)?,
    })
}

pub async fn insert(
    conn: &mut SqliteConnection,
    lock: &Lock,
    creation_digest: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let capabilities = serde_json::to_string(&lock.capabilities).map_err(ApiError::internal)?;
    sqlx::query(
        "INSERT INTO locks (id, name, time_zone, capabilities, creation_digest, created_at, updated_at, version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, 1)",
    )
    .bind(lock.id.to_string())
    .bind(&lock.name)
    .bind(lock.time_zone.name())
    .bind(capabilities)
    .bind(creation_digest)
    .bind(millis(now))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut SqliteConnection, id: LockId) -> ApiResult<Option<StoredLock>> {
    let row: Option<LockRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM locks l WHERE l.id = ?1"
    )))
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    row.map(from_row).transpose()
}

/// Every lock the account may manage, with its role, oldest first.
pub async fn list_for(conn: &mut SqliteConnection, account: Uuid) -> ApiResult<Vec<LockView>> {
    let rows: Vec<RoleLockRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT m.role, {COLUMNS} FROM lock_members m JOIN locks l ON l.id = m.lock_id
         WHERE m.account_id = ?1 ORDER BY l.id"
    )))
    .bind(account.to_string())
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(view_from_row).collect()
}

/// A lock row preceded by the caller's role.
type RoleLockRow = (String, String, String, String, String, String, i64, i64, i64);

fn view_from_row(row: RoleLockRow) -> ApiResult<LockView> {
    let (role, a, b, c, d, e, f, g, h) = row;
    Ok(from_row((a, b, c, d, e, f, g, h))?.view(parse_role(&role)?))
}

/// The locks with these ids as `account` sees them (locks it has no role on are left out).
pub async fn views_for(
    conn: &mut SqliteConnection,
    account: Uuid,
    ids: &[String],
) -> ApiResult<Vec<LockView>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut query: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
        "SELECT m.role, {COLUMNS} FROM lock_members m JOIN locks l ON l.id = m.lock_id WHERE m.account_id = "
    ));
    query.push_bind(account.to_string()).push(" AND l.id IN (");
    let mut separated = query.separated(", ");
    for id in ids {
        separated.push_bind(id.clone());
    }
    separated.push_unseparated(")");
    let rows: Vec<RoleLockRow> = query.build_query_as().fetch_all(conn).await?;
    rows.into_iter().map(view_from_row).collect()
}

pub async fn rename(
    conn: &mut SqliteConnection,
    id: LockId,
    name: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    sqlx::query("UPDATE locks SET name = ?2, updated_at = ?3, version = version + 1 WHERE id = ?1")
        .bind(id.to_string())
        .bind(name)
        .bind(millis(now))
        .execute(conn)
        .await?;
    Ok(())
}

/// Makes `token_hash` the lock's only device credential.
pub async fn replace_device_credential(
    conn: &mut SqliteConnection,
    lock: LockId,
    token_hash: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    sqlx::query("DELETE FROM device_credentials WHERE lock_id = ?1")
        .bind(lock.to_string())
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO device_credentials (token_hash, lock_id, created_at) VALUES (?1, ?2, ?3)")
        .bind(token_hash)
        .bind(lock.to_string())
        .bind(millis(now))
        .execute(conn)
        .await?;
    Ok(())
}

/// The lock a device credential belongs to.
pub async fn lock_of_device(conn: &mut SqliteConnection, token_hash: &str) -> ApiResult<Option<LockId>> {
    let lock: Option<String> =
        sqlx::query_scalar("SELECT lock_id FROM device_credentials WHERE token_hash = ?1")
            .bind(token_hash)
            .fetch_optional(conn)
            .await?;
    lock.map(|id| Ok(LockId::from_uuid(parse_uuid(&id)?))).transpose()
}
