//! Rows of the `codes` table. PINs are sealed by the store's cipher; schedules are
//! kept as plain columns so listing a lock's codes needs no parsing beyond integers.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use tessera_model::{
    AccessCode, CodeId, CodeStatus, CompileOptions, EffectiveSchedule, LockId, Schedule, ScheduleKind,
    Weekdays,
};

use super::cipher::PinCipher;
use super::{from_millis, millis};
use crate::{Error, Result};

const COLUMNS: &str = "id, lock_id, label, pin, schedule_kind, starts_local, ends_local, weekdays, \
     daily_start, daily_end, first_date, last_date, first_use_minutes, allow_widening, max_uses, status, \
     created_at, updated_at, version, sync_state, sync_error, server_version, set_on_lock_at";

/// A code with how far it has got towards the cloud and the lock.
#[derive(Debug, Clone)]
pub struct CodeRecord {
    pub code: AccessCode,
    pub sync: CodeSync,
    /// The cloud's version of the code; `None` until the cloud has it.
    pub server_version: Option<u64>,
}

/// Where a code stands, for the owner: what the UI shows next to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeSync {
    /// Changed on this device; the cloud has not confirmed it yet.
    Pending,
    /// The cloud has it; the lock has not confirmed it yet.
    Synced,
    /// The lock confirmed it holds the code.
    SetOnLock { at: DateTime<Utc> },
    /// The cloud refused the last change; `reason` says why.
    Failed { reason: String },
}

/// How a save records the code's sync state.
#[derive(Debug, Clone)]
pub(crate) struct SyncMark {
    pub sync: CodeSync,
    pub server_version: Option<u64>,
}

impl SyncMark {
    pub(crate) fn pending(server_version: Option<u64>) -> Self {
        SyncMark {
            sync: CodeSync::Pending,
            server_version,
        }
    }

    fn columns(&self) -> Result<SyncColumns<'_>> {
        let server_version = self
            .server_version
            .map(i64::try_from)
            .transpose()
            .map_err(Error::storage)?;
        let (state, error, set_on_lock_at) = match &self.sync {
            CodeSync::Pending => ("pending", None, None),
            CodeSync::Synced => ("synced", None, None),
            CodeSync::SetOnLock { at } => ("synced", None, Some(millis(*at))),
            CodeSync::Failed { reason } => ("failed", Some(reason.as_str()), None),
        };
        Ok(SyncColumns {
            state,
            error,
            set_on_lock_at,
            server_version,
        })
    }
}

/// The sync bookkeeping columns of a code row.
struct SyncColumns<'a> {
    state: &'static str,
    error: Option<&'a str>,
    set_on_lock_at: Option<i64>,
    server_version: Option<i64>,
}

/// A code's first and last instant of access (`None`: unbounded).
pub type Span = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// Inserts or replaces a code, with the span of its compiled schedule.
pub(crate) fn save(
    conn: &Connection,
    cipher: &PinCipher,
    code: &AccessCode,
    span: Span,
    mark: &SyncMark,
) -> Result<()> {
    let s = ScheduleColumns::from(&code.schedule);
    let (active_from, active_until) = (span.0.map(millis), span.1.map(millis));
    let SyncColumns {
        state,
        error,
        set_on_lock_at,
        server_version,
    } = mark.columns()?;
    conn.prepare_cached(&format!(
        "INSERT OR REPLACE INTO codes ({COLUMNS}, active_from, active_until)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,
                 ?21, ?22, ?23, ?24, ?25)"
    ))?
    .execute(params![
        code.id.as_bytes(),
        code.lock_id.as_bytes(),
        code.label,
        cipher.seal_pin(code.id, &code.pin)?,
        code.schedule.kind().as_str(),
        s.starts_local,
        s.ends_local,
        s.weekdays,
        s.daily_start,
        s.daily_end,
        s.first_date,
        s.last_date,
        s.first_use_minutes,
        code.allow_widening,
        code.max_uses,
        code.status.as_str(),
        millis(code.created_at),
        millis(code.updated_at),
        i64::try_from(code.version).map_err(Error::storage)?,
        state,
        error,
        server_version,
        set_on_lock_at,
        active_from,
        active_until,
    ])?;
    Ok(())
}

/// Records a code's sync state without touching the code.
pub(crate) fn set_sync(conn: &Connection, id: CodeId, mark: &SyncMark) -> Result<()> {
    let SyncColumns {
        state,
        error,
        set_on_lock_at,
        server_version,
    } = mark.columns()?;
    conn.prepare_cached(
        "UPDATE codes SET sync_state = ?2, sync_error = ?3, server_version = ?4, set_on_lock_at = ?5
         WHERE id = ?1",
    )?
    .execute(params![
        id.as_bytes(),
        state,
        error,
        server_version,
        set_on_lock_at
    ])?;
    Ok(())
}

pub(crate) fn delete_of_lock(conn: &Connection, lock: LockId) -> Result<()> {
    conn.prepare_cached("DELETE FROM codes WHERE lock_id = ?1")?
        .execute([lock.as_bytes()])?;
    Ok(())
}

pub(crate) fn get(conn: &Connection, cipher: &PinCipher, id: CodeId) -> Result<CodeRecord> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM codes WHERE id = ?1"))?
        .query_row([id.as_bytes()], |row| Ok(from_row(row, cipher)))
        .optional()?
        .ok_or_else(|| Error::NotFound {
            what: "code",
            id: id.to_string(),
        })?
}

/// Every code of a lock, revoked and expired ones included, oldest first.
pub(crate) fn of_lock(conn: &Connection, cipher: &PinCipher, lock: LockId) -> Result<Vec<CodeRecord>> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM codes WHERE lock_id = ?1 ORDER BY id"
    ))?;
    let rows = statement.query_map([lock.as_bytes()], |row| Ok(from_row(row, cipher)))?;
    rows.map(|row| row?).collect()
}

/// Codes of a lock that are not revoked and still grant access after `now`.
pub(crate) fn count_live(conn: &Connection, lock: LockId, now: DateTime<Utc>) -> Result<usize> {
    let count: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM codes
             WHERE lock_id = ?1 AND status = 'active' AND (active_until IS NULL OR active_until > ?2)",
        )?
        .query_row(params![lock.as_bytes(), millis(now)], |row| row.get(0))?;
    Ok(usize::try_from(count).unwrap_or(usize::MAX))
}

/// Live codes of a lock whose first-to-last span meets `[from, until)`: the only
/// ones whose PINs can clash with a new code active in that span. Oldest first.
///
/// `+id` keeps SQLite from walking `codes_by_lock` for the order, which visits every
/// code the lock ever had (revoked and expired ones too); `codes_live` finds the live
/// ones and the few are sorted.
pub(crate) fn live_between(
    conn: &Connection,
    cipher: &PinCipher,
    lock: LockId,
    from: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
) -> Result<Vec<AccessCode>> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM codes
         WHERE lock_id = ?1 AND status = 'active'
           AND (active_until IS NULL OR active_until > ?2)
           AND (active_from IS NULL OR ?3 IS NULL OR active_from < ?3)
         ORDER BY +id"
    ))?;
    let rows = statement.query_map(params![lock.as_bytes(), millis(from), until.map(millis)], |row| {
        Ok(from_row(row, cipher).map(|record| record.code))
    })?;
    rows.map(|row| row?).collect()
}

pub(crate) fn set_status(
    conn: &Connection,
    id: CodeId,
    status: CodeStatus,
    now: DateTime<Utc>,
) -> Result<()> {
    let changed = conn
        .prepare_cached("UPDATE codes SET status = ?2, updated_at = ?3, version = version + 1 WHERE id = ?1")?
        .execute(params![id.as_bytes(), status.as_str(), millis(now)])?;
    if changed == 0 {
        return Err(Error::NotFound {
            what: "code",
            id: id.to_string(),
        });
    }
    Ok(())
}

/// Each code's schedule and compile options, for migrations that recompile them.
pub(crate) fn schedules_of_lock(
    conn: &Connection,
    lock: LockId,
) -> Result<Vec<(CodeId, Schedule, CompileOptions)>> {
    let mut statement = conn.prepare(
        "SELECT id, schedule_kind, starts_local, ends_local, weekdays, daily_start, daily_end,
                first_date, last_date, first_use_minutes, allow_widening
         FROM codes WHERE lock_id = ?1",
    )?;
    let rows = statement.query_map([lock.as_bytes()], |row| {
        Ok((|| {
            let id: [u8; 16] = row.get(0)?;
            let options = CompileOptions {
                allow_widening: row.get(10)?,
            };
            Ok((
                CodeId::from_bytes(id),
                ScheduleColumns::read(row, 1)?.schedule()?,
                options,
            ))
        })())
    })?;
    rows.map(|row| row?).collect()
}

pub(crate) fn set_active_bounds(conn: &Connection, id: CodeId, effective: &EffectiveSchedule) -> Result<()> {
    let (from, until) = active_bounds(effective);
    conn.prepare_cached("UPDATE codes SET active_from = ?2, active_until = ?3 WHERE id = ?1")?
        .execute(params![id.as_bytes(), from, until])?;
    Ok(())
}

fn active_bounds(effective: &EffectiveSchedule) -> (Option<i64>, Option<i64>) {
    let (from, until) = effective.bounds();
    (from.map(millis), until.map(millis))
}

fn from_row(row: &Row, cipher: &PinCipher) -> Result<CodeRecord> {
    let id = CodeId::from_bytes(row.get(0)?);
    let sealed_pin: Vec<u8> = row.get(3)?;
    let status: String = row.get(15)?;
    let code = AccessCode {
        id,
        lock_id: LockId::from_bytes(row.get(1)?),
        label: row.get(2)?,
        pin: cipher.open_pin(id, &sealed_pin)?,
        schedule: ScheduleColumns::read(row, 4)?.schedule()?,
        allow_widening: row.get(13)?,
        max_uses: row.get(14)?,
        status: CodeStatus::parse(&status)
            .ok_or_else(|| Error::storage(format!("code {id} has an unknown status {status:?}")))?,
        created_at: from_millis(row.get(16)?)?,
        updated_at: from_millis(row.get(17)?)?,
        version: u64::try_from(row.get::<_, i64>(18)?).map_err(Error::storage)?,
    };
    let state: String = row.get(19)?;
    let error: Option<String> = row.get(20)?;
    let set_on_lock_at: Option<i64> = row.get(22)?;
    let sync = match (state.as_str(), error, set_on_lock_at) {
        ("failed", reason, _) => CodeSync::Failed {
            reason: reason.unwrap_or_default(),
        },
        ("pending", ..) => CodeSync::Pending,
        ("synced", _, Some(at)) => CodeSync::SetOnLock { at: from_millis(at)? },
        ("synced", _, None) => CodeSync::Synced,
        (other, ..) => {
            return Err(Error::storage(format!(
                "code {id} has an unknown sync state {other:?}"
            )));
        }
    };
    let server_version: Option<i64> = row.get(21)?;
    Ok(CodeRecord {
        code,
        sync,
        server_version: server_version
            .map(u64::try_from)
            .transpose()
            .map_err(Error::storage)?,
    })
}

/// A schedule as columns: local wall times in seconds since 1970-01-01T00:00
/// (naive), dates in days since 0001-01-01, times of day in seconds since midnight.
#[derive(Default)]
struct ScheduleColumns {
    kind: String,
    starts_local: Option<i64>,
    ends_local: Option<i64>,
    weekdays: Option<u8>,
    daily_start: Option<u32>,
    daily_end: Option<u32>,
    first_date: Option<i32>,
    last_date: Option<i32>,
    first_use_minutes: Option<u32>,
}

impl From<&Schedule> for ScheduleColumns {
    fn from(schedule: &Schedule) -> Self {
        use chrono::Datelike;
        let local = |t: &NaiveDateTime| Some(t.and_utc().timestamp());
        let kind = schedule.kind().as_str().to_owned();
        match schedule {
            Schedule::Permanent => ScheduleColumns {
                kind,
                ..Default::default()
            },
            Schedule::Window { start, end } | Schedule::OneTime { start, end } => ScheduleColumns {
                kind,
                starts_local: local(start),
                ends_local: local(end),
                ..Default::default()
            },
            Schedule::ExpiringAfterFirstUse { minutes, start, end } => ScheduleColumns {
                kind,
                starts_local: local(start),
                ends_local: local(end),
                first_use_minutes: Some(*minutes),
                ..Default::default()
            },
            Schedule::Weekly {
                days,
                start_time,
                end_time,
                first_date,
                last_date,
            } => ScheduleColumns {
                kind,
                weekdays: Some(days.bits()),
                daily_start: Some(start_time.num_seconds_from_midnight()),
                daily_end: Some(end_time.num_seconds_from_midnight()),
                first_date: Some(first_date.num_days_from_ce()),
                last_date: Some(last_date.num_days_from_ce()),
                ..Default::default()
            },
        }
    }
}

impl ScheduleColumns {
    /// Reads the nine schedule columns starting at `first`.
    fn read(row: &Row, first: usize) -> rusqlite::Result<Self> {
        Ok(ScheduleColumns {
            kind: row.get(first)?,
            starts_local: row.get(first + 1)?,
            ends_local: row.get(first + 2)?,
            weekdays: row.get(first + 3)?,
            daily_start: row.get(first + 4)?,
            daily_end: row.get(first + 5)?,
            first_date: row.get(first + 6)?,
            last_date: row.get(first + 7)?,
            first_use_minutes: row.get(first + 8)?,
        })
    }

    fn schedule(&self) -> Result<Schedule> {
        let damaged = || Error::storage(format!("a stored {} schedule is incomplete", self.kind));
        let local = |seconds: Option<i64>| {
            seconds
                .and_then(|s| DateTime::from_timestamp(s, 0))
                .map(|t| t.naive_utc())
                .ok_or_else(damaged)
        };
        let time = |seconds: Option<u32>| {
            seconds
                .and_then(|s| NaiveTime::from_num_seconds_from_midnight_opt(s, 0))
                .ok_or_else(damaged)
        };
        let date = |days: Option<i32>| {
            days.and_then(NaiveDate::from_num_days_from_ce_opt)
                .ok_or_else(damaged)
        };
        let kind = ScheduleKind::parse(&self.kind).ok_or_else(damaged)?;
        Ok(match kind {
            ScheduleKind::Permanent => Schedule::Permanent,
            ScheduleKind::Window => Schedule::Window {
                start: local(self.starts_local)?,
                end: local(self.ends_local)?,
            },
            ScheduleKind::OneTime => Schedule::OneTime {
                start: local(self.starts_local)?,
                end: local(self.ends_local)?,
            },
            ScheduleKind::ExpiringAfterFirstUse => Schedule::ExpiringAfterFirstUse {
                minutes: self.first_use_minutes.ok_or_else(damaged)?,
                start: local(self.starts_local)?,
                end: local(self.ends_local)?,
            },
            ScheduleKind::Weekly => Schedule::Weekly {
                days: Weekdays::from_bits(self.weekdays.ok_or_else(damaged)?),
                start_time: time(self.daily_start)?,
                end_time: time(self.daily_end)?,
                first_date: date(self.first_date)?,
                last_date: date(self.last_date)?,
            },
        })
    }
}
