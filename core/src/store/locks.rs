//! Rows of the `locks` table.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use tessera_model::{Lock, LockCapabilities, LockId, lock::parse_time_zone};

use super::millis;
use crate::{Error, Result};

const COLUMNS: &str = "id, name, time_zone, capabilities";

pub(crate) fn insert(conn: &Connection, lock: &Lock, now: DateTime<Utc>) -> Result<()> {
    let capabilities = serde_json::to_string(&lock.capabilities).map_err(Error::storage)?;
    conn.prepare_cached(
        "INSERT INTO locks (id, name, time_zone, capabilities, created_at, updated_at, version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5, 1)",
    )?
    .execute(params![
        lock.id.as_bytes(),
        lock.name,
        lock.time_zone.name(),
        capabilities,
        millis(now)
    ])?;
    Ok(())
}

pub(crate) fn get(conn: &Connection, id: LockId) -> Result<Lock> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM locks WHERE id = ?1"))?
        .query_row([id.as_bytes()], |row| Ok(from_row(row)))
        .optional()?
        .ok_or_else(|| Error::NotFound {
            what: "lock",
            id: id.to_string(),
        })?
}

pub(crate) fn all(conn: &Connection) -> Result<Vec<Lock>> {
    let mut statement = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM locks ORDER BY name, id"))?;
    let rows = statement.query_map([], |row| Ok(from_row(row)))?;
    rows.map(|row| row?).collect()
}

fn from_row(row: &Row) -> Result<Lock> {
    let id: [u8; 16] = row.get(0)?;
    let zone: String = row.get(2)?;
    let capabilities: String = row.get(3)?;
    let capabilities: LockCapabilities = serde_json::from_str(&capabilities)
        .map_err(|e| Error::storage(format!("stored capabilities of lock are unreadable: {e}")))?;
    Ok(Lock {
        id: LockId::from_bytes(id),
        name: row.get(1)?,
        time_zone: parse_time_zone(&zone)?,
        capabilities,
    })
}
