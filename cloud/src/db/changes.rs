//! The change feed. Every mutation calls one of the `*_changed` functions in its
//! own transaction: the entity's previous row goes and a new one takes the next
//! sequence number, so the feed holds one row per entity, pointing at its latest
//! state. Reading a page joins the rows with the current state of what they name.
//!
//! Sequence numbers come from the `sequences` table, not from the row id: a row
//! id can be handed out again after the newest row is deleted, and a phone whose
//! cursor is that number would never see the change.

use std::collections::HashMap;

use sqlx::{Row, SqliteConnection};
use tessera_api::{Change, SyncPage};
use tessera_model::{CodeId, LockId};
use uuid::Uuid;

use super::{codes, events, locks, members, parse_uuid};
use crate::crypto::PinCipher;
use crate::error::{ApiError, ApiResult};

const LOCK: &str = "lock";
const CODE: &str = "code";
const MEMBER: &str = "member";
const MEMBER_REMOVED: &str = "member_removed";
const EVENT: &str = "event";
const LOCK_REMOVED: &str = "lock_removed";

/// Where a change row is visible.
enum Audience {
    /// Every account with access to the lock.
    Lock(LockId),
    /// One account only.
    Account(Uuid),
}

async fn record(
    conn: &mut SqliteConnection,
    entity: String,
    kind: &str,
    audience: Audience,
    entity_id: String,
) -> ApiResult<()> {
    sqlx::query("DELETE FROM changes WHERE entity = ?1")
        .bind(&entity)
        .execute(&mut *conn)
        .await?;
    let seq: i64 =
        sqlx::query_scalar("UPDATE sequences SET value = value + 1 WHERE name = 'changes' RETURNING value")
            .fetch_one(&mut *conn)
            .await?;
    let (lock_id, account_id) = match audience {
        Audience::Lock(lock) => (Some(lock.to_string()), None),
        Audience::Account(account) => (None, Some(account.to_string())),
    };
    sqlx::query(
        "INSERT INTO changes (seq, entity, kind, lock_id, account_id, entity_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .bind(seq)
    .bind(entity)
    .bind(kind)
    .bind(lock_id)
    .bind(account_id)
    .bind(entity_id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn lock_changed(conn: &mut SqliteConnection, lock: LockId) -> ApiResult<()> {
    record(
        conn,
        format!("lock:{lock}"),
        LOCK,
        Audience::Lock(lock),
        lock.to_string(),
    )
    .await
}

pub async fn code_changed(conn: &mut SqliteConnection, lock: LockId, code: CodeId) -> ApiResult<()> {
    record(
        conn,
        format!("code:{code}"),
        CODE,
        Audience::Lock(lock),
        code.to_string(),
    )
    .await
}

pub async fn member_changed(conn: &mut SqliteConnection, lock: LockId, account: Uuid) -> ApiResult<()> {
    let entity = format!("member:{lock}:{account}");
    record(conn, entity, MEMBER, Audience::Lock(lock), account.to_string()).await
}

pub async fn member_removed(conn: &mut SqliteConnection, lock: LockId, account: Uuid) -> ApiResult<()> {
    let entity = format!("member:{lock}:{account}");
    record(
        conn,
        entity,
        MEMBER_REMOVED,
        Audience::Lock(lock),
        account.to_string(),
    )
    .await
}

pub async fn event_recorded(conn: &mut SqliteConnection, lock: LockId, event: Uuid) -> ApiResult<()> {
    record(
        conn,
        format!("event:{event}"),
        EVENT,
        Audience::Lock(lock),
        event.to_string(),
    )
    .await
}

/// Tells `account` (only) that it lost access to `lock`.
pub async fn lock_removed_for(conn: &mut SqliteConnection, lock: LockId, account: Uuid) -> ApiResult<()> {
    let entity = format!("lock_removed:{lock}:{account}");
    record(
        conn,
        entity,
        LOCK_REMOVED,
        Audience::Account(account),
        lock.to_string(),
    )
    .await
}

/// Access given (back) to `account`: its old "lock removed" row no longer holds,
/// and the lock, its members and every code get new sequence numbers, so the
/// account's feed carries them wherever its cursor is.
pub async fn reemit_lock_for_new_member(
    conn: &mut SqliteConnection,
    lock: LockId,
    account: Uuid,
) -> ApiResult<()> {
    sqlx::query("DELETE FROM changes WHERE entity = ?1")
        .bind(format!("lock_removed:{lock}:{account}"))
        .execute(&mut *conn)
        .await?;
    lock_changed(conn, lock).await?;
    for member in members::of_lock(conn, lock).await? {
        member_changed(conn, lock, member.account_id).await?;
    }
    for code in codes::ids_of_lock(conn, lock).await? {
        record(conn, format!("code:{code}"), CODE, Audience::Lock(lock), code).await?;
    }
    Ok(())
}

/// The changes after `cursor` that `account` may see, oldest first, at most `limit`.
///
/// When the page is the last one, the cursor moves to the newest sequence number
/// of the snapshot even if the account saw none of the rows up to it: rows it
/// cannot see now it will never see (access granted later re-emits the lock), so
/// the next sync starts from there instead of walking them again.
pub async fn page(
    conn: &mut SqliteConnection,
    cipher: &PinCipher,
    account: Uuid,
    cursor: u64,
    limit: u32,
) -> ApiResult<SyncPage> {
    let after = i64::try_from(cursor).unwrap_or(i64::MAX);
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT ch.seq, ch.kind, ch.lock_id, ch.entity_id, {columns}
         FROM changes ch LEFT JOIN codes c ON ch.kind = 'code' AND c.id = ch.entity_id
         WHERE ch.seq > ?1
           AND (ch.lock_id IN (SELECT lock_id FROM lock_members WHERE account_id = ?2) OR ch.account_id = ?2)
         ORDER BY ch.seq
         LIMIT ?3",
        columns = codes::COLUMNS
    )))
    .bind(after)
    .bind(account.to_string())
    .bind(i64::from(limit) + 1)
    .fetch_all(&mut *conn)
    .await?;
    let has_more = rows.len() > limit as usize;
    let rows = &rows[..rows.len().min(limit as usize)];

    // Load what the rows name, by kind, in a few queries.
    let mut lock_ids = Vec::new();
    let mut member_locks = Vec::new();
    let mut event_ids = Vec::new();
    for row in rows {
        let kind: &str = row.try_get(1)?;
        let lock_id: Option<String> = row.try_get(2)?;
        let entity_id: String = row.try_get(3)?;
        match kind {
            LOCK => lock_ids.push(entity_id),
            MEMBER => member_locks.extend(lock_id),
            EVENT => event_ids.push(entity_id),
            _ => {}
        }
    }
    let locks: HashMap<LockId, _> = locks::views_for(conn, account, &lock_ids)
        .await?
        .into_iter()
        .map(|view| (view.id, view))
        .collect();
    member_locks.sort();
    member_locks.dedup();
    let mut memberships = HashMap::new();
    for lock in member_locks {
        let lock = LockId::from_uuid(parse_uuid(&lock)?);
        for member in members::of_lock(conn, lock).await? {
            memberships.insert((member.lock_id, member.account_id), member);
        }
    }
    let events: HashMap<Uuid, _> = events::by_ids(conn, &event_ids)
        .await?
        .into_iter()
        .map(|event| (event.id, event))
        .collect();

    let mut changes = Vec::with_capacity(rows.len());
    let mut last_seq = after;
    for row in rows {
        last_seq = row.try_get(0)?;
        let kind: &str = row.try_get(1)?;
        let lock_id: Option<String> = row.try_get(2)?;
        let entity_id = parse_uuid(row.try_get(3)?)?;
        let lock_of_row = || -> ApiResult<LockId> {
            let id = lock_id
                .as_deref()
                .ok_or_else(|| ApiError::internal("a lock change without a lock"))?;
            Ok(LockId::from_uuid(parse_uuid(id)?))
        };
        // Every row names an entity that exists in the same snapshot; one that
        // does not (a bug, or a hand-edited database) is left out, not fatal.
        let change = match kind {
            LOCK => locks
                .get(&LockId::from_uuid(entity_id))
                .cloned()
                .map(Change::Lock),
            CODE => Some(Change::Code(codes::from_row(row, 4, cipher)?.view())),
            MEMBER => memberships
                .get(&(lock_of_row()?, entity_id))
                .cloned()
                .map(Change::Member),
            MEMBER_REMOVED => Some(Change::MemberRemoved {
                lock_id: lock_of_row()?,
                account_id: entity_id,
            }),
            EVENT => events.get(&entity_id).cloned().map(Change::Event),
            LOCK_REMOVED => Some(Change::LockRemoved {
                lock_id: LockId::from_uuid(entity_id),
            }),
            other => return Err(ApiError::internal(format!("unknown change kind {other:?}"))),
        };
        changes.extend(change);
    }
    let cursor = if has_more {
        last_seq
    } else {
        let newest: i64 = sqlx::query_scalar("SELECT value FROM sequences WHERE name = 'changes'")
            .fetch_one(conn)
            .await?;
        newest.max(last_seq).max(after)
    };
    Ok(SyncPage {
        changes,
        cursor: u64::try_from(cursor).unwrap_or(0),
        has_more,
    })
}
