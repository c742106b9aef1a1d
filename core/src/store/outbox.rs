//! The outbox: mutations made offline, in order, waiting to be pushed. Each entry
//! is written in the same transaction as the change it records.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, Row, params};
use uuid::Uuid;

use super::{from_millis, millis};
use crate::{Error, Result};

/// What changed. The entry names the entity; the pusher reads its current row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    CreateLock,
    RenameLock,
    CreateCode,
    /// An edit of the fields the entry lists.
    UpdateCode,
    RevokeCode,
}

impl Operation {
    const ALL: [Operation; 5] = [
        Operation::CreateLock,
        Operation::RenameLock,
        Operation::CreateCode,
        Operation::UpdateCode,
        Operation::RevokeCode,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Operation::CreateLock => "create_lock",
            Operation::RenameLock => "rename_lock",
            Operation::CreateCode => "create_code",
            Operation::UpdateCode => "update_code",
            Operation::RevokeCode => "revoke_code",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.as_str() == s)
    }
}

/// A field of a code an owner can edit; edits push only the fields they changed,
/// so the cloud keeps what another device changed in the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeField {
    Label,
    Pin,
    Schedule,
    AllowWidening,
    MaxUses,
}

impl CodeField {
    pub const ALL: [CodeField; 5] = [
        CodeField::Label,
        CodeField::Pin,
        CodeField::Schedule,
        CodeField::AllowWidening,
        CodeField::MaxUses,
    ];

    fn as_str(self) -> &'static str {
        match self {
            CodeField::Label => "label",
            CodeField::Pin => "pin",
            CodeField::Schedule => "schedule",
            CodeField::AllowWidening => "allow_widening",
            CodeField::MaxUses => "max_uses",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|field| field.as_str() == s)
    }
}

/// One pending mutation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// Position in the queue: entries are pushed in this order.
    pub seq: i64,
    /// Idempotency key: pushing the same mutation twice has the effect of once.
    pub mutation_id: Uuid,
    pub operation: Operation,
    pub entity_id: Uuid,
    /// For `UpdateCode`: the fields changed.
    pub fields: Vec<CodeField>,
    pub created_at: DateTime<Utc>,
}

pub(crate) fn push(
    conn: &Connection,
    operation: Operation,
    entity_id: Uuid,
    fields: &[CodeField],
    now: DateTime<Utc>,
) -> Result<()> {
    let fields: Vec<&str> = fields.iter().map(|f| f.as_str()).collect();
    conn.prepare_cached(
        "INSERT INTO outbox (mutation_id, operation, entity_id, fields, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        Uuid::now_v7().as_bytes(),
        operation.as_str(),
        entity_id.as_bytes(),
        fields.join(","),
        millis(now)
    ])?;
    Ok(())
}

const SELECT: &str = "SELECT seq, mutation_id, operation, entity_id, fields, created_at FROM outbox";

/// Every pending entry, in the order they must be pushed.
pub(crate) fn pending(conn: &Connection) -> Result<Vec<OutboxEntry>> {
    let mut statement = conn.prepare_cached(&format!("{SELECT} ORDER BY seq"))?;
    let rows = statement.query_map([], |row| Ok(from_row(row)))?;
    rows.map(|row| row?).collect()
}

/// The pending entries about one entity, oldest first.
pub(crate) fn pending_for(conn: &Connection, entity_id: Uuid) -> Result<Vec<OutboxEntry>> {
    let mut statement = conn.prepare_cached(&format!("{SELECT} WHERE entity_id = ?1 ORDER BY seq"))?;
    let rows = statement.query_map([entity_id.as_bytes()], |row| Ok(from_row(row)))?;
    rows.map(|row| row?).collect()
}

pub(crate) fn count(conn: &Connection) -> Result<usize> {
    let count: i64 = conn
        .prepare_cached("SELECT count(*) FROM outbox")?
        .query_row([], |row| row.get(0))?;
    Ok(usize::try_from(count).unwrap_or(usize::MAX))
}

pub(crate) fn remove(conn: &Connection, seq: i64) -> Result<()> {
    conn.prepare_cached("DELETE FROM outbox WHERE seq = ?1")?
        .execute([seq])?;
    Ok(())
}

pub(crate) fn remove_for(conn: &Connection, entity_id: Uuid) -> Result<()> {
    conn.prepare_cached("DELETE FROM outbox WHERE entity_id = ?1")?
        .execute([entity_id.as_bytes()])?;
    Ok(())
}

fn from_row(row: &Row) -> Result<OutboxEntry> {
    let operation: String = row.get(2)?;
    Ok(OutboxEntry {
        seq: row.get(0)?,
        mutation_id: Uuid::from_bytes(row.get(1)?),
        operation: Operation::parse(&operation)
            .ok_or_else(|| Error::storage(format!("unknown outbox operation {operation:?}")))?,
        entity_id: Uuid::from_bytes(row.get(3)?),
        fields: row
            .get::<_, String>(4)?
            .split(',')
            .filter(|f| !f.is_empty())
            .map(|f| CodeField::parse(f).ok_or_else(|| Error::storage(format!("unknown code field {f:?}"))))
            .collect::<Result<_>>()?,
        created_at: from_millis(row.get(5)?)?,
    })
}
