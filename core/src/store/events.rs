//! Rows of the `events` table: what locks reported, as the cloud relays it.

use rusqlite::{Connection, Row, params};
use tessera_api::{LockEventKind, LockEventView};
use tessera_model::{CodeId, LockId};
use uuid::Uuid;

use super::{from_millis, millis};
use crate::{Error, Result};

/// Records an event; one the store already has is left as it is.
pub(crate) fn insert(conn: &Connection, event: &LockEventView) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO events (id, lock_id, kind, code_id, at, recorded_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        event.id.as_bytes(),
        event.lock_id.as_bytes(),
        kind_name(event.kind),
        event.code_id.as_ref().map(|id| id.as_bytes()),
        millis(event.at),
        millis(event.recorded_at),
    ])?;
    Ok(())
}

/// The lock's latest events, newest first.
pub(crate) fn of_lock(conn: &Connection, lock: LockId, limit: usize) -> Result<Vec<LockEventView>> {
    let mut statement = conn.prepare_cached(
        "SELECT id, lock_id, kind, code_id, at, recorded_at FROM events
         WHERE lock_id = ?1 ORDER BY at DESC, id DESC LIMIT ?2",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = statement.query_map(params![lock.as_bytes(), limit], |row| Ok(from_row(row)))?;
    rows.map(|row| row?).collect()
}

pub(crate) fn delete_of_lock(conn: &Connection, lock: LockId) -> Result<()> {
    conn.prepare_cached("DELETE FROM events WHERE lock_id = ?1")?
        .execute([lock.as_bytes()])?;
    Ok(())
}

const KINDS: [(LockEventKind, &str); 5] = [
    (LockEventKind::CodeUsed, "code_used"),
    (LockEventKind::CodeSet, "code_set"),
    (LockEventKind::CodeRemoved, "code_removed"),
    (LockEventKind::LockOnline, "lock_online"),
    (LockEventKind::LockOffline, "lock_offline"),
];

fn kind_name(kind: LockEventKind) -> &'static str {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or("unknown", |(_, name)| name)
}

fn from_row(row: &Row) -> Result<LockEventView> {
    let kind: String = row.get(2)?;
    let code_id: Option<[u8; 16]> = row.get(3)?;
    Ok(LockEventView {
        id: Uuid::from_bytes(row.get(0)?),
        lock_id: LockId::from_bytes(row.get(1)?),
        kind: KINDS
            .iter()
            .find(|(_, name)| *name == kind)
            .map(|(k, _)| *k)
            .ok_or_else(|| Error::storage(format!("unknown event kind {kind:?}")))?,
        code_id: code_id.map(CodeId::from_bytes),
        at: from_millis(row.get(4)?)?,
        recorded_at: from_millis(row.get(5)?)?,
    })
}
