//! Access codes. A phone creates codes offline (with their ids) and sends them
//! later; the cloud admits each with tessera-model's rules against the lock as
//! it is now (another phone may have added a clashing code meanwhile).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;
use tessera_api::{CodePatch, CodeView, ErrorBody, ErrorCode, NewCode};
use tessera_model::{
    AccessCode, Admitted, CodeDraft, CodeId, CodeStatus, CompileOptions, EffectiveSchedule, Lock, LockId,
    LockState, Pin, PinRequest,
};
use uuid::Uuid;

use super::{remember_key, replayed_entity, request_digest};
use crate::access;
use crate::auth::AccountCaller;
use crate::db::codes::StoredCode;
use crate::db::{self, now};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, IdempotencyKey};
use crate::state::AppState;

/// Every code of the lock, revoked and ended ones included, oldest first.
#[utoipa::path(
    get,
    path = "/v1/locks/{id}/codes",
    tag = "codes",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The lock")),
    responses(
        (status = 200, description = "The lock's codes, with their PINs", body = Vec<CodeView>),
        (status = 400, description = "`invalid_request`: not an id", body = ErrorBody),
        (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
pub async fn list_codes(
    State(state): State<AppState>,
    caller: AccountCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Vec<CodeView>>> {
    let id = LockId::from_uuid(id);
    let mut conn = state.db.read().await?;
    access::lock(&mut conn, id, caller.account_id).await?;
    let codes = db::codes::of_lock(&mut conn, &state.db.cipher, id).await?;
    Ok(Json(codes.iter().map(StoredCode::view).collect()))
}

/// Adds a code made on a phone. With an `Idempotency-Key`, repeating the request
/// returns the same code; re-sending the same code (same id, same content) also
/// changes nothing.
#[utoipa::path(
    post,
    path = "/v1/locks/{id}/codes",
    tag = "codes",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The lock"),
        ("Idempotency-Key" = Option<String>, Header, description = "Repeating the request with this key returns the same code"),
    ),
    request_body = NewCode,
    responses(
        (status = 201, description = "Created", body = CodeView),
        (status = 200, description = "Already created by this request (replay)", body = CodeView),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`conflict`: the id is taken by another code", body = ErrorBody),
        (status = 422, description = "A domain rule refuses it (`weak_pin`, `pin_conflict`, `invalid_schedule` ...; `field` says which) or `idempotency_key_reused`", body = ErrorBody),
    )
)]
pub async fn create_code(
    State(state): State<AppState>,
    caller: AccountCaller,
    ApiPath(lock_id): ApiPath<Uuid>,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(new): ApiJson<NewCode>,
) -> ApiResult<(StatusCode, Json<CodeView>)> {
    let lock_id = LockId::from_uuid(lock_id);
    let digest = request_digest(&state, "create-code", lock_id.as_bytes(), &new)?;
    let cipher = &state.db.cipher;
    let now = now();
    let mut tx = state.db.write().await?;
    access::lock(&mut tx, lock_id, caller.account_id).await?;
    if let Some(code_id) = replayed_entity(&mut tx, caller.account_id, key.as_deref(), &digest).await? {
        let code = load(&mut tx, &state, &code_id).await?;
        return Ok((StatusCode::OK, Json(code.view())));
    }
    if let Some(existing) = db::codes::get(&mut tx, cipher, new.id).await? {
        if existing.creation_digest != digest {
            return Err(ApiError::conflict(
                "a code with this id already exists with other content",
            ));
        }
        remember_key(
            &mut tx,
            caller.account_id,
            key.as_deref(),
            &digest,
            &new.id.to_string(),
            now,
        )
        .await?;
        tx.commit().await?;
        return Ok((StatusCode::OK, Json(existing.view())));
    }
    let lock = load_lock(&mut tx, lock_id).await?;
    let draft = CodeDraft {
        label: new.label.clone(),
        schedule: new.schedule.clone(),
        allow_widening: new.allow_widening,
        max_uses: new.max_uses,
        pin: PinRequest::Chosen(Pin::parse(new.pin.expose())?),
    };
    let admitted = admit(&mut tx, &state, &lock, draft, None, now).await?;
    let code = AccessCode {
        id: new.id,
        lock_id,
        label: admitted.label,
        pin: admitted.pin,
        schedule: new.schedule.clone(),
        allow_widening: new.allow_widening,
        max_uses: new.max_uses,
        status: CodeStatus::Active,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    db::codes::insert(&mut tx, cipher, &code, &admitted.effective, &digest).await?;
    db::changes::code_changed(&mut tx, lock_id, code.id).await?;
    remember_key(
        &mut tx,
        caller.account_id,
        key.as_deref(),
        &digest,
        &code.id.to_string(),
        now,
    )
    .await?;
    tx.commit().await?;
    let stored = StoredCode {
        code,
        set_on_lock_at: None,
        creation_digest: digest,
    };
    Ok((StatusCode::CREATED, Json(stored.view())))
}

#[utoipa::path(
    get,
    path = "/v1/codes/{id}",
    tag = "codes",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The code")),
    responses(
        (status = 200, description = "The code, with its PIN", body = CodeView),
        (status = 400, description = "`invalid_request`: not an id", body = ErrorBody),
        (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
pub async fn get_code(
    State(state): State<AppState>,
    caller: AccountCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<CodeView>> {
    let id = CodeId::from_uuid(id);
    let mut conn = state.db.read().await?;
    access::code(&mut conn, id, caller.account_id).await?;
    let code = db::codes::get(&mut conn, &state.db.cipher, id)
        .await?
        .ok_or_else(|| ApiError::not_found("code"))?;
    Ok(Json(code.view()))
}

/// Changes a code; absent fields stay. The changed code is admitted again
/// against the lock's other codes. A change the lock must hear of (PIN,
/// schedule, limits) clears `set_on_lock_at` until the lock confirms it.
#[utoipa::path(
    patch,
    path = "/v1/codes/{id}",
    tag = "codes",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The code"),
        ("Idempotency-Key" = Option<String>, Header, description = "Repeating the request with this key has the effect of sending it once"),
    ),
    request_body = CodePatch,
    responses(
        (status = 200, description = "The code as it is now", body = CodeView),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`code_revoked`", body = ErrorBody),
        (status = 422, description = "A domain rule refuses it, or `idempotency_key_reused`", body = ErrorBody),
    )
)]
pub async fn update_code(
    State(state): State<AppState>,
    caller: AccountCaller,
    ApiPath(id): ApiPath<Uuid>,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(patch): ApiJson<CodePatch>,
) -> ApiResult<Json<CodeView>> {
    let id = CodeId::from_uuid(id);
    let digest = request_digest(&state, "update-code", id.as_bytes(), &patch)?;
    let cipher = &state.db.cipher;
    let now = now();
    let mut tx = state.db.write().await?;
    let lock_id = access::code(&mut tx, id, caller.account_id).await?;
    let replay = replayed_entity(&mut tx, caller.account_id, key.as_deref(), &digest).await?;
    let current = db::codes::get(&mut tx, cipher, id)
        .await?
        .ok_or_else(|| ApiError::not_found("code"))?;
    if replay.is_some() {
        return Ok(Json(current.view()));
    }
    if current.code.status == CodeStatus::Revoked {
        return Err(ApiError::new(
            ErrorCode::CodeRevoked,
            "the code is revoked and can no longer change",
        ));
    }
    let old = &current.code;
    let pin = match &patch.pin {
        Some(pin) => Pin::parse(pin.expose())?,
        None => old.pin.clone(),
    };
    let schedule = patch.schedule.clone().unwrap_or_else(|| old.schedule.clone());
    let allow_widening = patch.allow_widening.unwrap_or(old.allow_widening);
    let max_uses = patch.max_uses.unwrap_or(old.max_uses);
    let lock_must_hear = pin.expose() != old.pin.expose()
        || schedule != old.schedule
        || allow_widening != old.allow_widening
        || max_uses != old.max_uses;
    let label_changes = patch
        .label
        .as_ref()
        .is_some_and(|label| label.trim() != old.label);
    if !lock_must_hear && !label_changes {
        remember_key(
            &mut tx,
            caller.account_id,
            key.as_deref(),
            &digest,
            &id.to_string(),
            now,
        )
        .await?;
        tx.commit().await?;
        return Ok(Json(current.view()));
    }
    let lock = load_lock(&mut tx, lock_id).await?;
    let draft = CodeDraft {
        label: patch.label.clone().unwrap_or_else(|| old.label.clone()),
        schedule: schedule.clone(),
        allow_widening,
        max_uses,
        pin: PinRequest::Chosen(pin),
    };
    let admitted = admit(&mut tx, &state, &lock, draft, Some(id), now).await?;
    let code = AccessCode {
        label: admitted.label,
        pin: admitted.pin,
        schedule,
        allow_widening,
        max_uses,
        updated_at: now,
        version: old.version + 1,
        ..old.clone()
    };
    let set_on_lock_at = if lock_must_hear {
        None
    } else {
        current.set_on_lock_at
    };
    db::codes::update(&mut tx, cipher, &code, &admitted.effective, set_on_lock_at).await?;
    // Its links never outlive it: a code that now ends sooner takes their expiry with it.
    let until = super::shares::last_instant(&admitted.effective, now);
    db::shares::clamp_expiry(&mut tx, id, until).await?;
    db::changes::code_changed(&mut tx, lock_id, id).await?;
    remember_key(
        &mut tx,
        caller.account_id,
        key.as_deref(),
        &digest,
        &id.to_string(),
        now,
    )
    .await?;
    tx.commit().await?;
    let stored = StoredCode {
        code,
        set_on_lock_at,
        creation_digest: current.creation_digest,
    };
    Ok(Json(stored.view()))
}

/// Revokes a code: it stops opening the door once the lock hears of it, and its
/// share links stop opening at once. Revoking a revoked code changes nothing.
#[utoipa::path(
    post,
    path = "/v1/codes/{id}/revoke",
    tag = "codes",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The code")),
    responses(
        (status = 200, description = "The revoked code", body = CodeView),
        (status = 400, description = "`invalid_request`: not an id", body = ErrorBody),
        (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
pub async fn revoke_code(
    State(state): State<AppState>,
    caller: AccountCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<CodeView>> {
    let id = CodeId::from_uuid(id);
    let mut tx = state.db.write().await?;
    let lock_id = access::code(&mut tx, id, caller.account_id).await?;
    let current = load(&mut tx, &state, &id.to_string()).await?;
    if current.code.status == CodeStatus::Revoked {
        return Ok(Json(current.view()));
    }
    db::codes::revoke(&mut tx, id, now()).await?;
    // Its share links stop opening with it, in the same transaction.
    db::shares::revoke_of_code(&mut tx, id).await?;
    db::changes::code_changed(&mut tx, lock_id, id).await?;
    let revoked = load(&mut tx, &state, &id.to_string()).await?;
    tx.commit().await?;
    Ok(Json(revoked.view()))
}

/// Runs tessera-model's admission for `draft` on `lock` as the database holds
/// it now: its live codes and the neighbours whose span meets the draft's.
/// `except` is the code being changed, which competes with no one.
async fn admit(
    conn: &mut SqliteConnection,
    state: &AppState,
    lock: &Lock,
    draft: CodeDraft,
    except: Option<CodeId>,
    now: DateTime<Utc>,
) -> ApiResult<Admitted> {
    let options = CompileOptions {
        allow_widening: draft.allow_widening,
    };
    // A schedule that does not compile needs no neighbours: admission refuses it
    // with the same error, after the checks it makes first.
    let neighbours = match EffectiveSchedule::compile(&draft.schedule, lock, options) {
        Ok(effective) => {
            let (from, until) = effective.bounds();
            let from = from.map_or(now, |from| from.max(now));
            db::codes::live_between(conn, &state.db.cipher, lock.id, from, until, except).await?
        }
        Err(_) => Vec::new(),
    };
    let live_codes = db::codes::count_live(conn, lock.id, now, except).await?;
    let state = LockState {
        lock,
        live_codes,
        neighbours: &neighbours,
        now,
    };
    Ok(state.admit(draft, &mut rand::rng())?)
}

async fn load_lock(conn: &mut SqliteConnection, id: LockId) -> ApiResult<Lock> {
    Ok(db::locks::get(conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("lock"))?
        .lock)
}

async fn load(conn: &mut SqliteConnection, state: &AppState, id: &str) -> ApiResult<StoredCode> {
    let id = CodeId::from_uuid(db::parse_uuid(id)?);
    db::codes::get(conn, &state.db.cipher, id)
        .await?
        .ok_or_else(|| ApiError::not_found("code"))
}
