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

/// Stores a lock as the cloud has it; a lock this device already has keeps its row
/// (and creation time) and takes the cloud's name, zone and capabilities.
pub(crate) fn save_from_cloud(
    conn: &Connection,
    lock: &Lock,
    server_version: u64,
    now: DateTime<Utc>,
) -> Result<()> {
    let capabilities = serde_json::to_string(&lock.capabilities).map_err(Error::storage)?;
    conn.prepare_cached(
        "INSERT INTO locks (id, name, time_zone, capabilities, created_at, updated_at, version, server_version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5, 1, ?6)
         ON CONFLICT (id) DO UPDATE SET name = ?2, time_zone = ?3, capabilities = ?4, updated_at = ?5,
                                        version = version + 1, server_version = ?6",
    )?
    .execute(params![
        lock.id.as_bytes(),
        lock.name,
        lock.time_zone.name(),
        capabilities,
        millis(now),
        i64::try_from(server_version).map_err(Error::storage)?
    ])?;
    Ok(())
}

pub(crate) fn rename(conn: &Connection, id: LockId, name: &str, now: DateTime<Utc>) -> Result<()> {
    let changed = conn
        .prepare_cached("UPDATE locks SET name = ?2, updated_at = ?3, version = version + 1 WHERE id = ?1")?
        .execute(params![id.as_bytes(), name, millis(now)])?;
    if changed == 0 {
        return Err(Error::NotFound {
            what: "lock",
            id: id.to_string(),
        });
    }
    Ok(())
}

pub(crate) fn delete(conn: &Connection, id: LockId) -> Result<()> {
    conn.prepare_cached("DELETE FROM locks WHERE id = ?1")?
        .execute([id.as_bytes()])?;
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

/// Locks the cloud has (it sent them, or confirmed their creation).
pub(crate) fn known_to_cloud(conn: &Connection) -> Result<Vec<LockId>> {
    let mut statement =
        conn.prepare_cached("SELECT id FROM locks WHERE server_version IS NOT NULL ORDER BY id")?;
    let rows = statement.query_map([], |row| Ok(LockId::from_bytes(row.get(0)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
