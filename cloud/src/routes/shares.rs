//! Share links. An owner or member uploads a pass sealed on the phone (the cloud
//! never sees it in the clear), lists and revokes a code's links; a visitor's
//! page opens a link with its access key.
//!
//! Opening is the only public call: it answers the same 404 body for every
//! failure (unknown or malformed id, wrong key, expired, revoked, no views left,
//! malformed body), compares the access key's hash in constant time, and counts
//! the view in one conditional UPDATE. Page GETs never reach this module.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, TimeDelta, Utc};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};
use tessera_api::{ErrorBody, ErrorCode, NewShare, OpenShare, SealedShare, ShareView};
use tessera_model::{CodeId, CodeStatus, EffectiveSchedule};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::limited;
use crate::access;
use crate::auth::AccountCaller;
use crate::db::shares::StoredShare;
use crate::db::{self, now};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ClientIp};
use crate::state::AppState;

/// A link id: 16 random bytes, base64url without padding.
pub const ID_BYTES: usize = 16;
/// Largest sealed pass accepted, in bytes (decoded).
pub const MAX_SEALED_BYTES: usize = 16 * 1024;
/// Nonce and GCM tag: a sealed pass is longer than this.
const MIN_SEALED_BYTES: usize = 12 + 16;
/// Most views a link may allow.
pub const MAX_VIEWS: u32 = 1_000;
/// How long a link to a code without an end (permanent) may live.
pub const PERMANENT_CODE_LINK_DAYS: i64 = 365;
/// The format of the sealed pass (the capsule's version).
const CAPSULE_VERSION: u8 = 1;
/// The most of an open request's body read.
const MAX_OPEN_BODY: usize = 1024;
/// The one answer to every failed open.
pub const NOT_OPEN_MESSAGE: &str = "this link does not open";

fn decode(text: &str) -> Option<Vec<u8>> {
    B64.decode(text).ok()
}

/// Whether `id` is a well-formed link id (22 characters decoding to 16 bytes).
pub fn is_link_id(id: &str) -> bool {
    id.len() == 22 && decode(id).is_some_and(|bytes| bytes.len() == ID_BYTES)
}

/// Checks what can be checked without the database.
fn validate(new: &NewShare) -> ApiResult<()> {
    if !is_link_id(&new.id) {
        return Err(ApiError::invalid_input(
            "id",
            "a link id is 22 base64url characters (16 bytes)",
        ));
    }
    match decode(&new.sealed) {
        Some(sealed) if sealed.len() > MIN_SEALED_BYTES && sealed.len() <= MAX_SEALED_BYTES => {}
        Some(sealed) if sealed.len() > MAX_SEALED_BYTES => {
            return Err(ApiError::invalid_input(
                "sealed",
                format!("a sealed pass is at most {MAX_SEALED_BYTES} bytes"),
            ));
        }
        _ => {
            return Err(ApiError::invalid_input(
                "sealed",
                "the sealed pass must be base64url (no padding): nonce and ciphertext",
            ));
        }
    }
    if decode(&new.access_key_hash).is_none_or(|hash| hash.len() != 32) {
        return Err(ApiError::invalid_input(
            "access_key_hash",
            "the access key hash is 32 bytes, base64url without padding",
        ));
    }
    if let Some(views) = new.max_views
        && !(1..=MAX_VIEWS).contains(&views)
    {
        return Err(ApiError::invalid_input(
            "max_views",
            format!("a link may allow 1 to {MAX_VIEWS} views"),
        ));
    }
    Ok(())
}

/// Hosts a pass sealed on the phone for one of the caller's codes. The link
/// expires no later than the code's last instant of access (a year from now for
/// a permanent code). Re-sending the same share (same id and content) changes
/// nothing; another share with a taken id is a conflict.
#[utoipa::path(
    post,
    path = "/v1/shares",
    tag = "shares",
    security(("bearer" = [])),
    request_body = NewShare,
    responses(
        (status = 201, description = "Hosted", body = ShareView),
        (status = 200, description = "Already hosted with this content (a retry)", body = ShareView),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such code, or not the caller's", body = ErrorBody),
        (status = 409, description = "`conflict`: the link id is taken; `code_revoked`: the code is revoked", body = ErrorBody),
        (status = 422, description = "`invalid_input` (`field`: `id`, `sealed`, `access_key_hash`, `expires_at` (past, or after the code's end) or `max_views` (1 to 1000))", body = ErrorBody),
    )
)]
pub async fn create_share(
    State(state): State<AppState>,
    caller: AccountCaller,
    ApiJson(new): ApiJson<NewShare>,
) -> ApiResult<(StatusCode, Json<ShareView>)> {
    let now = now();
    let mut tx = state.db.write().await?;
    let lock_id = access::code(&mut tx, new.code_id, caller.account_id).await?;
    validate(&new)?;
    let expires_at = db::from_millis(db::millis(new.expires_at))?;
    if let Some(existing) = db::shares::get(&mut tx, &new.id).await? {
        let same = existing.code_id == new.code_id
            && existing.sealed == new.sealed
            && existing.access_key_hash == new.access_key_hash
            && existing.expires_at == expires_at
            && existing.max_views == new.max_views;
        if same {
            return Ok((StatusCode::OK, Json(existing.view())));
        }
        return Err(ApiError::conflict("a link with this id already exists"));
    }
    let code = db::codes::get(&mut tx, &state.db.cipher, new.code_id)
        .await?
        .ok_or_else(|| ApiError::not_found("code"))?
        .code;
    if code.status == CodeStatus::Revoked {
        return Err(ApiError::new(
            ErrorCode::CodeRevoked,
            "the code is revoked: it cannot be shared",
        ));
    }
    let lock = db::locks::get(&mut tx, lock_id)
        .await?
        .ok_or_else(|| ApiError::not_found("lock"))?
        .lock;
    let effective = EffectiveSchedule::compile(&code.schedule, &lock, code.compile_options())?;
    let latest = last_instant(&effective, now);
    if expires_at <= now {
        return Err(ApiError::invalid_input(
            "expires_at",
            "the link must expire in the future",
        ));
    }
    if expires_at > latest {
        let message = if latest <= now {
            "the code grants no more access: there is nothing to share".to_owned()
        } else {
            format!(
                "a link expires no later than its code's last instant of access ({})",
                latest.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            )
        };
        return Err(ApiError::invalid_input("expires_at", message));
    }
    let share = StoredShare {
        id: new.id,
        code_id: new.code_id,
        lock_id,
        sealed: new.sealed,
        access_key_hash: new.access_key_hash,
        expires_at,
        max_views: new.max_views,
        views: 0,
        revoked: false,
        created_at: now,
    };
    db::shares::insert(&mut tx, &share, caller.account_id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(share.view())))
}

/// The latest a link to a code with this schedule may expire.
pub fn last_instant(effective: &EffectiveSchedule, now: DateTime<Utc>) -> DateTime<Utc> {
    effective
        .bounds()
        .1
        .unwrap_or_else(|| now + TimeDelta::days(PERMANENT_CODE_LINK_DAYS))
}

/// A code's links, revoked and expired ones included, oldest first.
#[utoipa::path(
    get,
    path = "/v1/codes/{id}/shares",
    tag = "shares",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The code")),
    responses(
        (status = 200, description = "The code's links", body = Vec<ShareView>),
        (status = 400, description = "`invalid_request`: not an id", body = ErrorBody),
        (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
pub async fn list_shares(
    State(state): State<AppState>,
    caller: AccountCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Vec<ShareView>>> {
    let id = CodeId::from_uuid(id);
    let mut conn = state.db.snapshot().await?;
    access::code(&mut conn, id, caller.account_id).await?;
    let shares = db::shares::of_code(&mut conn, id).await?;
    Ok(Json(shares.iter().map(StoredShare::view).collect()))
}

/// Revokes a link: it no longer opens. Revoking a revoked link changes nothing.
#[utoipa::path(
    delete,
    path = "/v1/shares/{id}",
    tag = "shares",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The link id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such link, or not the caller's", body = ErrorBody),
    )
)]
pub async fn revoke_share(
    State(state): State<AppState>,
    caller: AccountCaller,
    path: Result<Path<String>, PathRejection>,
) -> ApiResult<StatusCode> {
    let not_found = || ApiError::not_found("link");
    let Ok(Path(id)) = path else {
        return Err(not_found());
    };
    if !is_link_id(&id) {
        return Err(not_found());
    }
    let mut tx = state.db.write().await?;
    let lock_id = db::shares::lock_of(&mut tx, &id).await?.ok_or_else(not_found)?;
    db::members::role_of(&mut tx, lock_id, caller.account_id)
        .await?
        .ok_or_else(not_found)?;
    db::shares::revoke(&mut tx, &id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Opens a link: with the link's access key, returns the sealed pass and counts
/// a view. Public (the visitor has no account). Every failure is the same 404.
#[utoipa::path(
    post,
    path = "/v1/shares/{id}/open",
    tag = "shares",
    params(("id" = String, Path, description = "The link id")),
    request_body = OpenShare,
    responses(
        (status = 200, description = "The sealed pass; one view counted", body = SealedShare),
        (status = 404, description = "`not_found`, always with the message \"this link does not open\": unknown or malformed id, wrong key, expired, revoked, no views left, or a malformed body", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many opens from this address; see Retry-After", body = ErrorBody),
    )
)]
pub async fn open_share(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    path: Result<Path<String>, PathRejection>,
    body: Body,
) -> Response {
    if let Err(retry) = state.limiter.open_from(ip) {
        return limited(retry).into_response();
    }
    match open(&state, path.ok().map(|Path(id)| id), body).await {
        Ok(Some(sealed)) => no_store((StatusCode::OK, Json(sealed)).into_response()),
        Ok(None) => not_open(),
        Err(error) => error.into_response(),
    }
}

/// `Ok(None)` for every way a link fails to open; `Err` only when the cloud fails.
async fn open(state: &AppState, id: Option<String>, body: Body) -> ApiResult<Option<SealedShare>> {
    let bytes = axum::body::to_bytes(body, MAX_OPEN_BODY).await.ok();
    let presented: Option<Zeroizing<Vec<u8>>> = bytes
        .as_deref()
        .and_then(|bytes| serde_json::from_slice::<OpenShare>(bytes).ok())
        .and_then(|open| decode(&open.access_key).map(Zeroizing::new))
        .filter(|key| key.len() == 32);
    let id = id.unwrap_or_default();
    let well_formed = is_link_id(&id) && presented.is_some();
    // The same work for every request that gets this far: one lookup by id, one
    // hash, one constant-time comparison.
    let stored = if id.len() <= 64 {
        let mut conn = state.db.read().await?;
        db::shares::access_key_hash(&mut conn, &id).await?
    } else {
        None
    };
    let stored_hash: Option<[u8; 32]> = stored
        .as_deref()
        .and_then(decode)
        .and_then(|hash| hash.try_into().ok());
    let found = stored_hash.is_some();
    let stored_hash = stored_hash.unwrap_or([0u8; 32]);
    let dummy = Zeroizing::new(vec![0u8; 32]);
    let presented_hash: [u8; 32] = Sha256::digest(presented.as_ref().unwrap_or(&dummy).as_slice()).into();
    let matches = presented_hash.ct_eq(&stored_hash)
        & Choice::from(u8::from(found))
        & Choice::from(u8::from(well_formed));
    if !bool::from(matches) {
        return Ok(None);
    }
    let mut tx = state.db.write().await?;
    let consumed = db::shares::consume_view(&mut tx, &id, now()).await?;
    tx.commit().await?;
    Ok(consumed.map(|(sealed, expires_at)| SealedShare {
        id,
        version: CAPSULE_VERSION,
        expires_at,
        sealed,
    }))
}

/// The one answer to a link that does not open.
fn not_open() -> Response {
    no_store(ApiError::new(ErrorCode::NotFound, NOT_OPEN_MESSAGE).into_response())
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
