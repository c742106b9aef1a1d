//! Sessions: login, refresh, logout, and the list of signed-in devices.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use tessera_api::{Credentials, ErrorBody, ErrorCode, RefreshRequest, SessionInfo, Tokens};
use uuid::Uuid;

use super::accounts::{device_name, normalize_email};
use super::limited;
use crate::auth::{self, AccountCaller};
use crate::db::{self, now};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ClientIp};
use crate::state::AppState;

/// Logs in with email and password, opening a session.
#[utoipa::path(
    post,
    path = "/v1/sessions",
    tag = "sessions",
    request_body = Credentials,
    responses(
        (status = 200, description = "Signed in", body = Tokens),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "`invalid_credentials`", body = ErrorBody),
        (status = 422, description = "`invalid_input`: device name", body = ErrorBody),
        (status = 429, description = "`rate_limited`; see Retry-After", body = ErrorBody),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(credentials): ApiJson<Credentials>,
) -> ApiResult<Json<Tokens>> {
    state.limiter.attempt_from(ip).map_err(limited)?;
    let device_name = device_name(credentials.device_name.as_deref())?;
    // A malformed email has no account; it is still counted and still costs a hash.
    let email =
        normalize_email(&credentials.email).unwrap_or_else(|_| credentials.email.trim().to_lowercase());
    state.limiter.check_account(&email).map_err(limited)?;
    let stored = {
        let mut conn = state.db.read().await?;
        db::accounts::by_email(&mut conn, &email).await?
    };
    let (account, hash) = match stored {
        Some(stored) => (Some(stored.account), Some(stored.password_hash)),
        None => (None, None),
    };
    let verified = state
        .passwords
        .verify(credentials.password.expose(), hash)
        .await?;
    let Some(account) = account.filter(|_| verified) else {
        state.limiter.failed(&email);
        return Err(ApiError::new(
            ErrorCode::InvalidCredentials,
            "wrong email or password",
        ));
    };
    state.limiter.succeeded(&email);
    let mut tx = state.db.write().await?;
    let tokens = auth::sessions::open(&state, &mut tx, account, device_name.as_deref(), now()).await?;
    tx.commit().await?;
    Ok(Json(tokens))
}

/// Exchanges the refresh token for new tokens. Each refresh token works once:
/// presenting a spent one ends the whole session.
#[utoipa::path(
    post,
    path = "/v1/sessions/refresh",
    tag = "sessions",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens; the refresh token presented is spent", body = Tokens),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "`unauthorized` (unknown, expired or ended) or `refresh_token_reused`", body = ErrorBody),
    )
)]
pub async fn refresh(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> ApiResult<Json<Tokens>> {
    let mut tx = state.db.write().await?;
    let result = auth::sessions::refresh(&state, &mut tx, request.refresh_token.expose()).await;
    // Ending the session on reuse must stick although the request fails.
    if result.is_ok()
        || result
            .as_ref()
            .is_err_and(|e| e.code == ErrorCode::RefreshTokenReused)
    {
        tx.commit().await?;
    }
    result.map(Json)
}

/// The account's signed-in devices; `current` marks the caller's.
#[utoipa::path(
    get,
    path = "/v1/sessions",
    tag = "sessions",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Live sessions, oldest first", body = Vec<SessionInfo>),
        (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
    )
)]
pub async fn list_sessions(
    State(state): State<AppState>,
    caller: AccountCaller,
) -> ApiResult<Json<Vec<SessionInfo>>> {
    let mut conn = state.db.read().await?;
    let sessions = db::sessions::list(&mut conn, caller.account_id, caller.session_id, now()).await?;
    Ok(Json(sessions))
}

/// Logs out: ends the caller's session.
#[utoipa::path(
    delete,
    path = "/v1/sessions/current",
    tag = "sessions",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The session has ended"),
        (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
    )
)]
pub async fn logout(State(state): State<AppState>, caller: AccountCaller) -> ApiResult<StatusCode> {
    let mut tx = state.db.write().await?;
    db::sessions::end(&mut tx, caller.session_id, now()).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends one of the account's sessions (signs a device out).
#[utoipa::path(
    delete,
    path = "/v1/sessions/{id}",
    tag = "sessions",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The session")),
    responses(
        (status = 204, description = "The session has ended"),
        (status = 400, description = "`invalid_request`: not an id", body = ErrorBody),
        (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
        (status = 404, description = "`not_found`: no live session of the account", body = ErrorBody),
    )
)]
pub async fn revoke_session(
    State(state): State<AppState>,
    caller: AccountCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    let now = now();
    let mut tx = state.db.write().await?;
    if !db::sessions::is_live_session_of(&mut tx, id, caller.account_id, now).await? {
        return Err(ApiError::not_found("session"));
    }
    db::sessions::end(&mut tx, id, now).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
