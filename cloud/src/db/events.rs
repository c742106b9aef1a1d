//! Rows of `lock_events`: what the locks reported, newest first.

use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use tessera_api::{LockEventKind, LockEventView};
use tessera_model::{CodeId, LockId};
use uuid::Uuid;

use super::{from_millis, millis, parse_uuid};
use crate::error::{ApiError, ApiResult};

pub fn kind_name(kind: LockEventKind) -> &'static str {
    match kind {
        LockEventKind::CodeUsed => "code_used",
        LockEventKind::CodeSet => "code_set",
        LockEventKind::CodeRemoved => "code_removed",
        LockEventKind::LockOnline => "lock_online",
        LockEventKind::LockOffline => "lock_offline",
    }
}

fn parse_kind(text: &str) -> ApiResult<LockEventKind> {
    Ok(match text {
        "code_used" => LockEventKind::CodeUsed,
        "code_set" => LockEventKind::CodeSet,
        "code_removed" => LockEventKind::CodeRemoved,
        "lock_online" => LockEventKind::LockOnline,
        "lock_offline" => LockEventKind::LockOffline,
        other => return Err(ApiError::internal(format!("unknown stored event kind {other:?}"))),
    })
}

pub async fn insert(conn: &mut SqliteConnection, event: &LockEventView) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO lock_events (id, lock_id, kind, code_id, at, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .bind(event.id.to_string())
    .bind(event.lock_id.to_string())
    .bind(kind_name(event.kind))
    .bind(event.code_id.map(|id| id.to_string()))
    .bind(millis(event.at))
    .bind(millis(event.recorded_at))
    .execute(conn)
    .await?;
    Ok(())
}

type EventRow = (String, String, String, Option<String>, i64, i64);

const SELECT: &str = "SELECT id, lock_id, kind, code_id, at, recorded_at FROM lock_events";

fn from_row((id, lock_id, kind, code_id, at, recorded_at): EventRow) -> ApiResult<LockEventView> {
    Ok(LockEventView {
        id: parse_uuid(&id)?,
        lock_id: LockId::from_uuid(parse_uuid(&lock_id)?),
        kind: parse_kind(&kind)?,
        code_id: code_id
            .map(|id| Ok::<_, ApiError>(CodeId::from_uuid(parse_uuid(&id)?)))
            .transpose()?,
        at: from_millis(at)?,
        recorded_at: from_millis(recorded_at)?,
    })
}

/// Where an event sits in the newest-first order: (at, id).
pub async fn position(conn: &mut SqliteConnection, lock: LockId, id: Uuid) -> ApiResult<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT at FROM lock_events WHERE lock_id = ?1 AND id = ?2")
            .bind(lock.to_string())
            .bind(id.to_string())
            .fetch_optional(conn)
            .await?,
    )
}

/// A page of the lock's events, newest first, starting after `before` (its `at` and id).
pub async fn page(
    conn: &mut SqliteConnection,
    lock: LockId,
    before: Option<(i64, Uuid)>,
    limit: u32,
) -> ApiResult<Vec<LockEventView>> {
    let mut query: QueryBuilder<Sqlite> = QueryBuilder::new(SELECT);
    query.push(" WHERE lock_id = ").push_bind(lock.to_string());
    if let Some((at, id)) = before {
        query
            .push(" AND (at < ")
            .push_bind(at)
            .push(" OR (at = ")
            .push_bind(at)
            .push(" AND id < ")
            .push_bind(id.to_string())
            .push("))");
    }
    query
        .push(" ORDER BY at DESC, id DESC LIMIT ")
        .push_bind(i64::from(limit));
    let rows: Vec<EventRow> = query.build_query_as().fetch_all(conn).await?;
    rows.into_iter().map(from_row).collect()
}

/// The events with these ids (for the change feed).
pub async fn by_ids(conn: &mut SqliteConnection, ids: &[String]) -> ApiResult<Vec<LockEventView>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut query: QueryBuilder<Sqlite> = QueryBuilder::new(SELECT);
    query.push(" WHERE id IN (");
    let mut separated = query.separated(", ");
    for id in ids {
        separated.push_bind(id.clone());
    }
    separated.push_unseparated(")");
    let rows: Vec<EventRow> = query.build_query_as().fetch_all(conn).await?;
    rows.into_iter().map(from_row).collect()
}

pub fn recorded_now(
    lock: LockId,
    kind: LockEventKind,
    code: Option<CodeId>,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> LockEventView {
    LockEventView {
        id: Uuid::now_v7(),
        lock_id: lock,
        kind,
        code_id: code,
        at,
        recorded_at: now,
    }
}
