//! Rows about locks reached directly: their local routes (`local_locks`), what each
//! lock confirmed it holds (`lock_codes`), the log read from it (`lock_log`), and
//! the offline codes issued on this device (`offline_codes`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};
use tessera_model::{CodeId, LockId};

use super::{from_millis, millis};
use crate::{Error, Result};

/// How this device reaches a lock directly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalRoute {
    pub lock_id: LockId,
    /// `host:port` of the lock on the local network, if it was reached there.
    pub address: Option<String>,
    /// The platform's id of the lock as a Bluetooth device, if paired over Bluetooth.
    pub ble_device: Option<String>,
    pub paired_at: DateTime<Utc>,
    /// When the lock last answered over this route.
    pub last_reached_at: Option<DateTime<Utc>>,
    /// Sequence number of the last event read from the lock.
    pub events_after: u64,
}

/// Something a lock recorded, as read over the local route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LockActivity {
    /// A code opened the door.
    CodeUsed {
        code: CodeId,
    },
    /// An offline code opened the door.
    OfflineCodeUsed {
        start_hour: u32,
        class: u8,
        slot: u8,
    },
    /// A wrong code, or a right one during a lockout.
    EntryRefused,
    /// Too many wrong codes: the keypad refuses everything until `until`.
    LockedOut {
        until: DateTime<Utc>,
    },
    CodeSet {
        code: CodeId,
    },
    CodeRemoved {
        code: CodeId,
    },
    ClockSet {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
    /// Every offline code issued before was revoked.
    EpochRotated {
        epoch: u32,
    },
    /// A phone paired (its id, hex).
    Paired {
        phone: String,
    },
    /// Someone tried to pair with a wrong setup code.
    PairingFailed,
    Locked,
    Unlocked,
}

impl LockActivity {
    pub fn kind(&self) -> &'static str {
        match self {
            LockActivity::CodeUsed { .. } => "code_used",
            LockActivity::OfflineCodeUsed { .. } => "offline_code_used",
            LockActivity::EntryRefused => "entry_refused",
            LockActivity::LockedOut { .. } => "locked_out",
            LockActivity::CodeSet { .. } => "code_set",
            LockActivity::CodeRemoved { .. } => "code_removed",
            LockActivity::ClockSet { .. } => "clock_set",
            LockActivity::EpochRotated { .. } => "epoch_rotated",
            LockActivity::Paired { .. } => "paired",
            LockActivity::PairingFailed => "pairing_failed",
            LockActivity::Locked => "locked",
            LockActivity::Unlocked => "unlocked",
        }
    }
}

/// One entry of a lock's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockLogEntry {
    /// The lock's sequence number: entries of one lock are ordered by it.
    pub seq: u64,
    /// When it happened, by the lock's clock.
    pub at: DateTime<Utc>,
    pub activity: LockActivity,
}

/// An offline code issued on this device (its PIN is derived again when needed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedOffline {
    pub lock_id: LockId,
    pub epoch: u32,
    pub start_hour: u32,
    pub class: u8,
    pub slot: u8,
    pub label: String,
    pub issued_at: DateTime<Utc>,
}

fn to_i64(value: u64) -> Result<i64> {
    i64::try_from(value).map_err(Error::storage)
}

pub(crate) fn save_route(
    conn: &Connection,
    lock: LockId,
    address: Option<&str>,
    ble_device: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO local_locks (lock_id, address, ble_device, paired_at, last_reached_at)
         VALUES (?1, ?2, ?3, ?4, ?4)
         ON CONFLICT (lock_id) DO UPDATE SET address = coalesce(?2, address),
             ble_device = coalesce(?3, ble_device), paired_at = ?4, last_reached_at = ?4",
    )?
    .execute(params![lock.as_bytes(), address, ble_device, millis(now)])?;
    Ok(())
}

/// Records that the lock answered (at `address`, when it moved there).
pub(crate) fn reached(
    conn: &Connection,
    lock: LockId,
    address: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE local_locks SET last_reached_at = ?2, address = coalesce(?3, address) WHERE lock_id = ?1",
    )?
    .execute(params![lock.as_bytes(), millis(now), address])?;
    Ok(())
}

pub(crate) fn set_events_after(conn: &Connection, lock: LockId, seq: u64) -> Result<()> {
    conn.prepare_cached("UPDATE local_locks SET events_after = max(events_after, ?2) WHERE lock_id = ?1")?
        .execute(params![lock.as_bytes(), to_i64(seq)?])?;
    Ok(())
}

const ROUTE_COLUMNS: &str = "lock_id, address, ble_device, paired_at, last_reached_at, events_after";

pub(crate) fn route(conn: &Connection, lock: LockId) -> Result<Option<LocalRoute>> {
    conn.prepare_cached(&format!(
        "SELECT {ROUTE_COLUMNS} FROM local_locks WHERE lock_id = ?1"
    ))?
    .query_row([lock.as_bytes()], |row| Ok(route_from_row(row)))
    .optional()?
    .transpose()
}

pub(crate) fn routes(conn: &Connection) -> Result<Vec<LocalRoute>> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {ROUTE_COLUMNS} FROM local_locks ORDER BY lock_id"
    ))?;
    let rows = statement.query_map([], |row| Ok(route_from_row(row)))?;
    rows.map(|row| row?).collect()
}

fn route_from_row(row: &Row) -> Result<LocalRoute> {
    let last: Option<i64> = row.get(4)?;
    Ok(LocalRoute {
        lock_id: LockId::from_bytes(row.get(0)?),
        address: row.get(1)?,
        ble_device: row.get(2)?,
        paired_at: from_millis(row.get(3)?)?,
        last_reached_at: last.map(from_millis).transpose()?,
        events_after: u64::try_from(row.get::<_, i64>(5)?).map_err(Error::storage)?,
    })
}

pub(crate) fn confirm(
    conn: &Connection,
    lock: LockId,
    code: CodeId,
    fingerprint: &[u8],
    now: DateTime<Utc>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO lock_codes (lock_id, code_id, fingerprint, confirmed_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![lock.as_bytes(), code.as_bytes(), fingerprint, millis(now)])?;
    Ok(())
}

pub(crate) fn unconfirm(conn: &Connection, lock: LockId, code: CodeId) -> Result<()> {
    conn.prepare_cached("DELETE FROM lock_codes WHERE lock_id = ?1 AND code_id = ?2")?
        .execute(params![lock.as_bytes(), code.as_bytes()])?;
    Ok(())
}

/// A code as the lock confirmed it: its fingerprint, and when.
pub(crate) type Confirmation = (Vec<u8>, DateTime<Utc>);

/// What the lock confirmed, by code.
pub(crate) fn confirmations(conn: &Connection, lock: LockId) -> Result<HashMap<CodeId, Confirmation>> {
    let mut statement =
        conn.prepare_cached("SELECT code_id, fingerprint, confirmed_at FROM lock_codes WHERE lock_id = ?1")?;
    let rows = statement.query_map([lock.as_bytes()], |row| {
        Ok((
            CodeId::from_bytes(row.get(0)?),
            row.get::<_, Vec<u8>>(1)?,
            row.get::<_, i64>(2)?,
        ))
    })?;
    rows.map(|row| {
        let (code, fingerprint, at) = row?;
        Ok((code, (fingerprint, from_millis(at)?)))
    })
    .collect()
}

pub(crate) fn confirmation(
    conn: &Connection,
    lock: LockId,
    code: CodeId,
) -> Result<Option<(Vec<u8>, DateTime<Utc>)>> {
    let row: Option<(Vec<u8>, i64)> = conn
        .prepare_cached(
            "SELECT fingerprint, confirmed_at FROM lock_codes WHERE lock_id = ?1 AND code_id = ?2",
        )?
        .query_row(params![lock.as_bytes(), code.as_bytes()], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()?;
    row.map(|(fingerprint, at)| Ok((fingerprint, from_millis(at)?)))
        .transpose()
}

/// Records an entry of the lock's log; one already read is left as it is.
pub(crate) fn log(conn: &Connection, lock: LockId, entry: &LockLogEntry) -> Result<()> {
    let detail = serde_json::to_string(&entry.activity).map_err(Error::storage)?;
    conn.prepare_cached(
        "INSERT OR IGNORE INTO lock_log (lock_id, seq, at, kind, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        lock.as_bytes(),
        to_i64(entry.seq)?,
        millis(entry.at),
        entry.activity.kind(),
        detail
    ])?;
    Ok(())
}

/// The lock's latest log entries, newest first.
pub(crate) fn log_of(conn: &Connection, lock: LockId, limit: usize) -> Result<Vec<LockLogEntry>> {
    let mut statement = conn.prepare_cached(
        "SELECT seq, at, detail FROM lock_log WHERE lock_id = ?1 ORDER BY seq DESC LIMIT ?2",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = statement.query_map(params![lock.as_bytes(), limit], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, String>(2)?,
        ))
    })?;
    rows.map(|row| {
        let (seq, at, detail) = row?;
        Ok(LockLogEntry {
            seq: u64::try_from(seq).map_err(Error::storage)?,
            at: from_millis(at)?,
            activity: serde_json::from_str(&detail)
                .map_err(|e| Error::storage(format!("a stored lock log entry is unreadable: {e}")))?,
        })
    })
    .collect()
}

pub(crate) fn record_offline(conn: &Connection, issued: &IssuedOffline) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO offline_codes (lock_id, epoch, start_hour, class, slot, label, issued_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        issued.lock_id.as_bytes(),
        issued.epoch,
        issued.start_hour,
        issued.class,
        issued.slot,
        issued.label,
        millis(issued.issued_at)
    ])?;
    Ok(())
}

/// The slots of one start hour and class issued here under `epoch`.
pub(crate) fn offline_slots(
    conn: &Connection,
    lock: LockId,
    epoch: u32,
    start_hour: u32,
    class: u8,
) -> Result<Vec<u8>> {
    let mut statement = conn.prepare_cached(
        "SELECT slot FROM offline_codes WHERE lock_id = ?1 AND epoch = ?2 AND start_hour = ?3 AND class = ?4
         ORDER BY slot",
    )?;
    let rows = statement.query_map(params![lock.as_bytes(), epoch, start_hour, class], |row| {
        row.get(0)
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Offline codes issued here for a lock, newest first.
pub(crate) fn offline_of(conn: &Connection, lock: LockId) -> Result<Vec<IssuedOffline>> {
    let mut statement = conn.prepare_cached(
        "SELECT epoch, start_hour, class, slot, label, issued_at FROM offline_codes WHERE lock_id = ?1
         ORDER BY issued_at DESC, start_hour DESC",
    )?;
    let rows = statement.query_map([lock.as_bytes()], |row| {
        Ok((
            row.get(0)?,
            row.get(1)?,
            row.get(2)?,
            row.get(3)?,
            row.get(4)?,
            row.get::<_, i64>(5)?,
        ))
    })?;
    rows.map(|row| {
        let (epoch, start_hour, class, slot, label, at) = row?;
        Ok(IssuedOffline {
            lock_id: lock,
            epoch,
            start_hour,
            class,
            slot,
            label,
            issued_at: from_millis(at)?,
        })
    })
    .collect()
}

/// Forgets everything local about a lock.
pub(crate) fn delete_of_lock(conn: &Connection, lock: LockId) -> Result<()> {
    for table in ["local_locks", "lock_codes", "lock_log", "offline_codes"] {
        conn.prepare_cached(&format!("DELETE FROM {table} WHERE lock_id = ?1"))?
            .execute([lock.as_bytes()])?;
    }
    Ok(())
}
