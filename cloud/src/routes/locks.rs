//! Locks: registration (made offline on a phone, so the id is the phone's),
//! listing, renaming, and the device credential a lock reports events with.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use tessera_api::{DeviceCredential, ErrorBody, LockPatch, LockView, NewLock, Role};
use tessera_model::lock::{parse_time_zone, validate_lock_name};
use tessera_model::{Lock, LockId};
use uuid::Uuid;

use super::{remember_key, replayed_entity, request_digest};
use crate::access;
use crate::auth::AccountCaller;
use crate::auth::tokens::{TokenKind, issue};
use crate::db::{self, now};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, IdempotencyKey};
use crate::state::AppState;

/// Registers a lock to the caller, its owner. Sending the same registration
/// again changes nothing; another lock under a taken id is a conflict.
#[utoipa::path(
    post,
    path = "/v1/locks",
    tag = "locks",
    security(("bearer" = [])),
    request_body = NewLock,
    responses(
        (status = 201, description = "Registered", body = LockView),
        (status = 200, description = "Already registered by this request", body = LockView),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
        (status = 409, description = "`conflict`: the id is taken", body = ErrorBody),
        (status = 422, description = "`invalid_input` (name, capabilities) or `unknown_time_zone`", body = ErrorBody),
    )
)]
pub async fn create_lock(
    State(state): State<AppState>,
    caller: AccountCaller,
    ApiJson(new): ApiJson<NewLock>,
) -> ApiResult<(StatusCode, Json<LockView>)> {
    let lock = Lock {
        id: new.id,
        name: validate_lock_name(&new.name)?,
        time_zone: parse_time_zone(&new.time_zone)?,
        capabilities: new.capabilities.clone(),
    };
    lock.capabilities.validate()?;
    let digest = request_digest(&state, "create-lock", &[], &new)?;
    let now = now();
    let mut tx = state.db.write().await?;
    if let Some(existing) = db::locks::get(&mut tx, new.id).await? {
        let role = db::members::role_of(&mut tx, new.id, caller.account_id).await?;
        return match role {
            Some(Role::Owner) if existing.creation_digest == digest => {
                Ok((StatusCode::OK, Json(existing.view(Role::Owner))))
            }
            _ => Err(ApiError::conflict("a lock with this id is already registered")),
        };
    }
    db::locks::insert(&mut tx, &lock, &digest, now).await?;
    db::members::insert(&mut tx, lock.id, caller.account_id, Role::Owner, now).await?;
    db::changes::lock_changed(&mut tx, lock.id).await?;
    db::changes::member_changed(&mut tx, lock.id, caller.account_id).await?;
    let stored = db::locks::get(&mut tx, lock.id)
        .await?
        .ok_or_else(|| ApiError::internal("a lock vanished as it was registered"))?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(stored.view(Role::Owner))))
}

/// The locks the caller owns or is a member of.
#[utoipa::path(
    get,
    path = "/v1/locks",
    tag = "locks",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's locks, with its role on each", body = Vec<LockView>),
        (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
    )
)]
pub async fn list_locks(
    State(state): State<AppState>,
    caller: AccountCaller,
) -> ApiResult<Json<Vec<LockView>>> {
    let mut conn = state.db.read().await?;
    Ok(Json(db::locks::list_for(&mut conn, caller.account_id).await?))
}

#[utoipa::path(
    get,
    path = "/v1/locks/{id}",
    tag = "locks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The lock")),
    responses(
        (status = 200, description = "The lock, with the caller's role", body = LockView),
        (status = 400, description = "`invalid_request`: not an id", body = ErrorBody),
        (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such lock, or not the caller's", body = ErrorBody),
    )
)]
pub async fn get_lock(
    State(state): State<AppState>,
    caller: AccountCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<LockView>> {
    let id = LockId::from_uuid(id);
    let mut conn = state.db.read().await?;
    let role = access::lock(&mut conn, id, caller.account_id).await?;
    let stored = db::locks::get(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("lock"))?;
    Ok(Json(stored.view(role)))
}

/// Renames a lock (owner or member).
#[utoipa::path(
    patch,
    path = "/v1/locks/{id}",
    tag = "locks",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The lock"),
        ("Idempotency-Key" = Option<String>, Header, description = "Repeating the request with this key has the effect of sending it once"),
    ),
    request_body = LockPatch,
    responses(
        (status = 200, description = "The lock as it is now", body = LockView),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`invalid_input` (name) or `idempotency_key_reused`", body = ErrorBody),
    )
)]
pub async fn rename_lock(
    State(state): State<AppState>,
    caller: AccountCaller,
    ApiPath(id): ApiPath<Uuid>,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(patch): ApiJson<LockPatch>,
) -> ApiResult<Json<LockView>> {
    let id = LockId::from_uuid(id);
    let digest = request_digest(&state, "rename-lock", id.as_bytes(), &patch)?;
    let now = now();
    let mut tx = state.db.write().await?;
    let role = access::lock(&mut tx, id, caller.account_id).await?;
    let replay = replayed_entity(&mut tx, caller.account_id, key.as_deref(), &digest).await?;
    let stored = db::locks::get(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("lock"))?;
    if replay.is_some() {
        return Ok(Json(stored.view(role)));
    }
    if let Some(name) = &patch.name {
        let name = validate_lock_name(name)?;
        if name != stored.lock.name {
            db::locks::rename(&mut tx, id, &name, now).await?;
            db::changes::lock_changed(&mut tx, id).await?;
        }
    }
    remember_key(
        &mut tx,
        caller.account_id,
        key.as_deref(),
        &digest,
        &id.to_string(),
        now,
    )
    .await?;
    let stored = db::locks::get(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("lock"))?;
    tx.commit().await?;
    Ok(Json(stored.view(role)))
}

/// Issues the lock's device credential (owner only), shown once. A new one
/// replaces the previous one.
#[utoipa::path(
    post,
    path = "/v1/locks/{id}/device-credentials",
    tag = "locks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The lock")),
    responses(
        (status = 201, description = "The credential; the cloud keeps only its hash", body = DeviceCredential),
        (status = 400, description = "`invalid_request`: not an id", body = ErrorBody),
        (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the caller is a member, not the owner", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
pub async fn issue_device_credential(
    State(state): State<AppState>,
    caller: AccountCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<(StatusCode, Json<DeviceCredential>)> {
    let id = LockId::from_uuid(id);
    let mut tx = state.db.write().await?;
    access::owned_lock(&mut tx, id, caller.account_id).await?;
    let issued = issue(TokenKind::Device)?;
    db::locks::replace_device_credential(&mut tx, id, &issued.hash, now()).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(DeviceCredential {
            lock_id: id,
            device_token: issued.token,
        }),
    ))
}
