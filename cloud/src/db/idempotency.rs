//! Rows of `idempotency_keys`: per account, a key the client chose for a mutation,
//! the keyed digest of that request, and the entity it created or changed.

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;
use uuid::Uuid;

use super::millis;
use crate::error::ApiResult;

/// What a key was first used for.
#[derive(Debug)]
pub struct Remembered {
    pub request_digest: String,
    pub entity_id: String,
}

pub async fn find(conn: &mut SqliteConnection, account: Uuid, key: &str) -> ApiResult<Option<Remembered>> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT request_digest, entity_id FROM idempotency_keys WHERE account_id = ?1 AND idempotency_key = ?2",
    )
    .bind(account.to_string())
    .bind(key)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(request_digest, entity_id)| Remembered {
        request_digest,
        entity_id,
    }))
}

pub async fn remember(
    conn: &mut SqliteConnection,
    account: Uuid,
    key: &str,
    request_digest: &str,
    entity_id: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO idempotency_keys (account_id, idempotency_key, request_digest, entity_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(account.to_string())
    .bind(key)
    .bind(request_digest)
    .bind(entity_id)
    .bind(millis(now))
    .execute(conn)
    .await?;
    Ok(())
}
