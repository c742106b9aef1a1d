//! Authorization, checked on every call inside the call's transaction: a lock
//! (and everything in it) exists for an account only if it is the lock's owner
//! or member. Everyone else gets `not_found`, never `forbidden`, so ids of other
//! accounts' locks and codes reveal nothing.

use sqlx::SqliteConnection;
use tessera_api::Role;
use tessera_model::{CodeId, LockId};
use uuid::Uuid;

use crate::db;
use crate::error::{ApiError, ApiResult};

/// The caller's role on the lock, or `not_found`.
pub async fn lock(conn: &mut SqliteConnection, lock: LockId, account: Uuid) -> ApiResult<Role> {
    db::members::role_of(conn, lock, account)
        .await?
        .ok_or_else(|| ApiError::not_found("lock"))
}

/// For what only the owner may do (members, device credentials): `not_found`
/// without access, `forbidden` for a member.
pub async fn owned_lock(conn: &mut SqliteConnection, lock_id: LockId, account: Uuid) -> ApiResult<()> {
    match lock(conn, lock_id, account).await? {
        Role::Owner => Ok(()),
        Role::Member => Err(ApiError::forbidden("only the lock's owner may do this")),
    }
}

/// The lock of a code the caller may manage, or `not_found`.
pub async fn code(conn: &mut SqliteConnection, code: CodeId, account: Uuid) -> ApiResult<LockId> {
    let not_found = || ApiError::not_found("code");
    let lock_id = db::codes::lock_of(conn, code).await?.ok_or_else(not_found)?;
    db::members::role_of(conn, lock_id, account)
        .await?
        .ok_or_else(not_found)?;
    Ok(lock_id)
}
