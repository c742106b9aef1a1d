//! The HTTP surface: one module per resource, assembled here into one router
//! whose every route is also in the OpenAPI document. Around the routes: a JSON
//! `not_found` for unknown paths, an `ErrorBody` for every error a layer or the
//! router itself produces (405 ...), panics answered as `internal`, and a
//! request span for the logs.

pub mod accounts;
pub mod codes;
pub mod device;
pub mod events;
pub mod locks;
pub mod members;
pub mod sessions;
pub mod shares;
pub mod sync;
pub mod visitor;

use std::sync::Arc;

use axum::extract::Extension;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Router, middleware};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::SqliteConnection;
use tessera_api::{ErrorCode, IDEMPOTENCY_KEY};
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::access_log::AccessLog;
use crate::auth::rate_limit::RetryAfter;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::openapi::ApiDoc;
use crate::state::AppState;

/// The whole service, ready to serve; with an access log, every request is
/// written to it (method, path and query, status).
pub fn router(state: AppState, access_log: Option<Arc<AccessLog>>) -> Result<Router, serde_json::Error> {
    let (router, document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(accounts::sign_up))
        .routes(routes!(accounts::current_account))
        .routes(routes!(sessions::login, sessions::list_sessions))
        .routes(routes!(sessions::refresh))
        .routes(routes!(sessions::logout))
        .routes(routes!(sessions::revoke_session))
        .routes(routes!(locks::create_lock, locks::list_locks))
        .routes(routes!(locks::get_lock, locks::rename_lock))
        .routes(routes!(locks::issue_device_credential))
        .routes(routes!(members::list_members, members::add_member))
        .routes(routes!(members::remove_member))
        .routes(routes!(codes::list_codes, codes::create_code))
        .routes(routes!(codes::get_code, codes::update_code))
        .routes(routes!(codes::revoke_code))
        .routes(routes!(events::list_events, events::record_event))
        .routes(routes!(device::device_codes))
        .routes(routes!(shares::create_share))
        .routes(routes!(shares::list_shares))
        .routes(routes!(shares::revoke_share))
        .routes(routes!(shares::open_share))
        .routes(routes!(visitor::hosted_page))
        .routes(routes!(visitor::self_contained_page))
        .routes(routes!(visitor::asset))
        .routes(routes!(sync::sync))
        .routes(routes!(crate::openapi::openapi_json))
        .split_for_parts();
    let document = crate::openapi::Document(Arc::from(document.to_json()?));
    let router = router
        .fallback(unknown_route)
        .layer(Extension(document))
        .layer(CatchPanicLayer::custom(
            |_panic: Box<dyn std::any::Any + Send>| {
                // The payload may quote data; it is not logged.
                ApiError::internal("a request handler panicked").into_response()
            },
        ))
        .layer(middleware::map_response(ensure_error_body))
        .layer(crate::logging::request_trace())
        .with_state(state);
    Ok(match access_log {
        Some(log) => router.layer(middleware::from_fn_with_state(log, crate::access_log::record)),
        None => router,
    })
}

async fn unknown_route() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such route")
}

/// Gives every error response an `ErrorBody`: the router's own 405 (keeping its
/// `Allow` header) and whatever a layer answered with a bare status.
async fn ensure_error_body(response: Response) -> Response {
    let status = response.status();
    let is_error = status.is_client_error() || status.is_server_error();
    let has_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if !is_error || has_json {
        return response;
    }
    let allow = response.headers().get(header::ALLOW).cloned();
    let mut replacement = ApiError::for_status(status).into_response();
    if let Some(allow) = allow {
        replacement.headers_mut().insert(header::ALLOW, allow);
    }
    replacement
}

/// Too many attempts.
pub fn limited(RetryAfter(seconds): RetryAfter) -> ApiError {
    ApiError::rate_limited(seconds)
}

/// The request body as JSON again, for digests: the typed value re-serialized,
/// so that spacing or field order do not make a replay look different. It may
/// hold a PIN, so it is wiped after use.
fn request_json(body: &impl Serialize) -> ApiResult<Zeroizing<Vec<u8>>> {
    serde_json::to_vec(body)
        .map(Zeroizing::new)
        .map_err(ApiError::internal)
}

/// The keyed digest of a mutation: what it does, to what, with which body.
pub fn request_digest(
    state: &AppState,
    action: &str,
    target: &[u8],
    body: &impl Serialize,
) -> ApiResult<String> {
    let body = request_json(body)?;
    Ok(state.db.digester.digest(&[action.as_bytes(), target, &body]))
}

/// With an idempotency key the account used before: the entity that request
/// made or changed (same request) or `idempotency_key_reused` (another request).
pub async fn replayed_entity(
    conn: &mut SqliteConnection,
    account: Uuid,
    key: Option<&str>,
    digest: &str,
) -> ApiResult<Option<String>> {
    let Some(key) = key else {
        return Ok(None);
    };
    match db::idempotency::find(conn, account, key).await? {
        None => Ok(None),
        Some(remembered) if remembered.request_digest == digest => Ok(Some(remembered.entity_id)),
        Some(_) => Err(ApiError::new(
            ErrorCode::IdempotencyKeyReused,
            format!("this {IDEMPOTENCY_KEY} came with a different request"),
        )
        .with_field(IDEMPOTENCY_KEY)),
    }
}

pub async fn remember_key(
    conn: &mut SqliteConnection,
    account: Uuid,
    key: Option<&str>,
    digest: &str,
    entity_id: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    match key {
        Some(key) => db::idempotency::remember(conn, account, key, digest, entity_id, now).await,
        None => Ok(()),
    }
}
