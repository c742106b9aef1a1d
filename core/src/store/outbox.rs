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
    CreateCode,
    RevokeCode,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::CreateLock => "create_lock",
            Operation::CreateCode => "create_code",
            Operation::RevokeCode => "revoke_code",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            Operation::CreateLock,
            Operation::CreateCode,
            Operation::RevokeCode,
        ]
        .into_iter()
        .find(|op| op.as_str() == s)
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
    pub created_at: DateTime<Utc>,
}

pub(crate) fn push(
    conn: &Connection,
    operation: Operation,
    entity_id: Uuid,
    now: DateTime<Utc>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO outbox (mutation_id, operation, entity_id, created_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        Uuid::now_v7().as_bytes(),
        operation.as_str(),
        entity_id.as_bytes(),
        millis(now)
    ])?;
    Ok(())
}

pub(crate) fn pending(conn: &Connection) -> Result<Vec<OutboxEntry>> {
    let mut statement = conn.prepare_cached(
        "SELECT seq, mutation_id, operation, entity_id, created_at FROM outbox ORDER BY seq",
    )?;
    let rows = statement.query_map([], |row| Ok(from_row(row)))?;
    rows.map(|row| row?).collect()
}

fn from_row(row: &Row) -> Result<OutboxEntry> {
    let operation: String = row.get(2)?;
    Ok(OutboxEntry {
        seq: row.get(0)?,
        mutation_id: Uuid::from_bytes(row.get(1)?),
        operation: Operation::parse(&operation)
            .ok_or_else(|| Error::storage(format!("unknown outbox operation {operation:?}")))?,
        entity_id: Uuid::from_bytes(row.get(3)?),
        created_at: from_millis(row.get(4)?)?,
    })
}
