//! Rows of `codes`. PINs are sealed by the cipher (the code id bound as associated
//! data); schedules are kept as JSON; each row carries its compiled schedule's
//! first and last instants so admission reads only codes that can be live at the
//! same time as a new one.

use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use tessera_api::{CodeView, Secret};
use tessera_model::{AccessCode, CodeId, CodeStatus, EffectiveSchedule, LockId, Schedule};

use super::{from_millis, millis, parse_uuid, version};
use crate::crypto::PinCipher;
use crate::error::{ApiError, ApiResult};

/// A code with what only the cloud keeps of it.
#[derive(Debug)]
pub struct StoredCode {
    pub code: AccessCode,
    pub set_on_lock_at: Option<DateTime<Utc>>,
    pub creation_digest: String,
}

impl StoredCode {
    pub fn view(&self) -> CodeView {
        let code = &self.code;
        CodeView {
            id: code.id,
            lock_id: code.lock_id,
            label: code.label.clone(),
            pin: Secret::new(code.pin.expose()),
            schedule: code.schedule.clone(),
            allow_widening: code.allow_widening,
            max_uses: code.max_uses,
            status: code.status,
            set_on_lock_at: self.set_on_lock_at,
            created_at: code.created_at,
            updated_at: code.updated_at,
            version: code.version,
        }
    }
}

/// The columns [`from_row`] reads, in order.
pub const COLUMNS: &str = "c.id, c.lock_id, c.label, c.sealed_pin, c.schedule, c.allow_widening, c.max_uses, \
                           c.status, c.set_on_lock_at, c.creation_digest, c.created_at, c.updated_at, c.version";

/// Reads a code from `row`, whose [`COLUMNS`] start at `offset`.
pub fn from_row(row: &SqliteRow, offset: usize, cipher: &PinCipher) -> ApiResult<StoredCode> {
    let column = |i: usize| offset + i;
    let id: String = row.try_get(column(0))?;
    let id = CodeId::from_uuid(parse_uuid(&id)?);
    let lock_id: String = row.try_get(column(1))?;
    let sealed_pin: Vec<u8> = row.try_get(column(3))?;
    let schedule: String = row.try_get(column(4))?;
    let schedule: Schedule = serde_json::from_str(&schedule)
        .map_err(|e| ApiError::internal(format!("code {id} has an unreadable schedule: {e}")))?;
    let max_uses: Option<i64> = row.try_get(column(6))?;
    let max_uses = max_uses
        .map(|n| u32::try_from(n).map_err(|_| ApiError::internal(format!("code {id}: max_uses {n}"))))
        .transpose()?;
    let status: String = row.try_get(column(7))?;
    let status = CodeStatus::parse(&status)
        .ok_or_else(|| ApiError::internal(format!("code {id} has an unknown status {status:?}")))?;
    let set_on_lock_at: Option<i64> = row.try_get(column(8))?;
    Ok(StoredCode {
        code: AccessCode {
            id,
            lock_id: LockId::from_uuid(parse_uuid(&lock_id)?),
            label: row.try_get(column(2))?,
            pin: cipher.open_pin(id, &sealed_pin)?,
            schedule,
            allow_widening: row.try_get(column(5))?,
            max_uses,
            status,
            created_at: from_millis(row.try_get(column(10))?)?,
            updated_at: from_millis(row.try_get(column(11))?)?,
            version: version(row.try_get(column(12))?)?,
        },
        set_on_lock_at: set_on_lock_at.map(from_millis).transpose()?,
        creation_digest: row.try_get(column(9))?,
    })
}

fn bounds(effective: &EffectiveSchedule) -> (Option<i64>, Option<i64>) {
    let (from, until) = effective.bounds();
    (from.map(millis), until.map(millis))
}

fn schedule_json(schedule: &Schedule) -> ApiResult<String> {
    serde_json::to_string(schedule).map_err(ApiError::internal)
}

pub async fn insert(
    conn: &mut SqliteConnection,
    cipher: &PinCipher,
    code: &AccessCode,
    effective: &EffectiveSchedule,
    creation_digest: &str,
) -> ApiResult<()> {
    let (active_from, active_until) = bounds(effective);
    sqlx::query(
        "INSERT INTO codes (id, lock_id, label, sealed_pin, schedule, allow_widening, max_uses, status,
                            set_on_lock_at, active_from, active_until, creation_digest, created_at, updated_at,
                            version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, ?9, ?10, ?11, ?12, ?13, ?14)",
    )
    .bind(code.id.to_string())
    .bind(code.lock_id.to_string())
    .bind(&code.label)
    .bind(cipher.seal_pin(code.id, &code.pin)?)
    .bind(schedule_json(&code.schedule)?)
    .bind(code.allow_widening)
    .bind(code.max_uses.map(i64::from))
    .bind(code.status.as_str())
    .bind(active_from)
    .bind(active_until)
    .bind(creation_digest)
    .bind(millis(code.created_at))
    .bind(millis(code.updated_at))
    .bind(stored_version(code.version)?)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes a changed code (its version and times already bumped by the caller).
pub async fn update(
    conn: &mut SqliteConnection,
    cipher: &PinCipher,
    code: &AccessCode,
    effective: &EffectiveSchedule,
    set_on_lock_at: Option<DateTime<Utc>>,
) -> ApiResult<()> {
    let (active_from, active_until) = bounds(effective);
    sqlx::query(
        "UPDATE codes SET label = ?2, sealed_pin = ?3, schedule = ?4, allow_widening = ?5, max_uses = ?6,
                          set_on_lock_at = ?7, active_from = ?8, active_until = ?9, updated_at = ?10, version = ?11
         WHERE id = ?1",
    )
    .bind(code.id.to_string())
    .bind(&code.label)
    .bind(cipher.seal_pin(code.id, &code.pin)?)
    .bind(schedule_json(&code.schedule)?)
    .bind(code.allow_widening)
    .bind(code.max_uses.map(i64::from))
    .bind(set_on_lock_at.map(millis))
    .bind(active_from)
    .bind(active_until)
    .bind(millis(code.updated_at))
    .bind(stored_version(code.version)?)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(
    conn: &mut SqliteConnection,
    cipher: &PinCipher,
    id: CodeId,
) -> ApiResult<Option<StoredCode>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM codes c WHERE c.id = ?1"
    )))
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    row.map(|row| from_row(&row, 0, cipher)).transpose()
}

/// The lock a code belongs to, without opening its PIN.
pub async fn lock_of(conn: &mut SqliteConnection, id: CodeId) -> ApiResult<Option<LockId>> {
    let lock: Option<String> = sqlx::query_scalar("SELECT lock_id FROM codes WHERE id = ?1")
        .bind(id.to_string())
        .fetch_optional(conn)
        .await?;
    lock.map(|id| Ok(LockId::from_uuid(parse_uuid(&id)?))).transpose()
}

/// Every code of a lock, revoked and ended ones included, oldest first.
pub async fn of_lock(
    conn: &mut SqliteConnection,
    cipher: &PinCipher,
    lock: LockId,
) -> ApiResult<Vec<StoredCode>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM codes c WHERE c.lock_id = ?1 ORDER BY c.created_at, c.id"
    )))
    .bind(lock.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter().map(|row| from_row(row, 0, cipher)).collect()
}

/// The codes a lock must hold at `now`: not revoked and not yet ended, oldest first.
pub async fn live_of_lock(
    conn: &mut SqliteConnection,
    cipher: &PinCipher,
    lock: LockId,
    now: DateTime<Utc>,
) -> ApiResult<Vec<StoredCode>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM codes c
         WHERE c.lock_id = ?1 AND c.status = 'active' AND (c.active_until IS NULL OR c.active_until > ?2)
         ORDER BY c.created_at, c.id"
    )))
    .bind(lock.to_string())
    .bind(millis(now))
    .fetch_all(conn)
    .await?;
    rows.iter().map(|row| from_row(row, 0, cipher)).collect()
}

/// Ids of every code of a lock.
pub async fn ids_of_lock(conn: &mut SqliteConnection, lock: LockId) -> ApiResult<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM codes WHERE lock_id = ?1 ORDER BY created_at, id")
            .bind(lock.to_string())
            .fetch_all(conn)
            .await?,
    )
}

/// Codes of the lock that are not revoked and still grant access after `now`,
/// `except` left out (the code being changed).
pub async fn count_live(
    conn: &mut SqliteConnection,
    lock: LockId,
    now: DateTime<Utc>,
    except: Option<CodeId>,
) -> ApiResult<usize> {
    let count: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM codes
         WHERE lock_id = ?1 AND status = 'active' AND (active_until IS NULL OR active_until > ?2)
           AND (?3 IS NULL OR id <> ?3)",
    )
    .bind(lock.to_string())
    .bind(millis(now))
    .bind(except.map(|id| id.to_string()))
    .fetch_one(conn)
    .await?;
    Ok(usize::try_from(count).unwrap_or(usize::MAX))
}

/// Live codes of the lock whose span of access meets `[from, until)` (`None`:
/// unbounded), `except` left out: the only ones a new PIN can clash with.
pub async fn live_between(
    conn: &mut SqliteConnection,
    cipher: &PinCipher,
    lock: LockId,
    from: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
    except: Option<CodeId>,
) -> ApiResult<Vec<AccessCode>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM codes c
         WHERE c.lock_id = ?1 AND c.status = 'active'
           AND (c.active_until IS NULL OR c.active_until > ?2)
           AND (c.active_from IS NULL OR ?3 IS NULL OR c.active_from < ?3)
           AND (?4 IS NULL OR c.id <> ?4)
         ORDER BY c.created_at, c.id"
    )))
    .bind(lock.to_string())
    .bind(millis(from))
    .bind(until.map(millis))
    .bind(except.map(|id| id.to_string()))
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| Ok(from_row(row, 0, cipher)?.code))
        .collect()
}

pub async fn revoke(conn: &mut SqliteConnection, id: CodeId, now: DateTime<Utc>) -> ApiResult<()> {
    sqlx::query("UPDATE codes SET status = 'revoked', updated_at = ?2, version = version + 1 WHERE id = ?1")
        .bind(id.to_string())
        .bind(millis(now))
        .execute(conn)
        .await?;
    Ok(())
}

/// Records whether (and since when) the lock holds the code.
pub async fn set_on_lock(
    conn: &mut SqliteConnection,
    id: CodeId,
    at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    sqlx::query("UPDATE codes SET set_on_lock_at = ?2, updated_at = ?3, version = version + 1 WHERE id = ?1")
        .bind(id.to_string())
        .bind(at.map(millis))
        .bind(millis(now))
        .execute(conn)
        .await?;
    Ok(())
}

fn stored_version(version: u64) -> ApiResult<i64> {
    i64::try_from(version).map_err(|_| ApiError::internal(format!("version {version} too large")))
}
