//! What happened at a lock: reported by the lock itself (device credential),
//! read by its owner and members. `code_set` and `code_removed` also tell the
//! code whether the lock holds it.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::SubsecRound;
use tessera_api::{ErrorBody, EventQuery, LockEventKind, LockEventView, MAX_EVENT_PAGE, NewLockEvent};
use tessera_model::LockId;
use uuid::Uuid;

use crate::access;
use crate::auth::{AccountCaller, DeviceCaller};
use crate::db::{self, now};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

pub const DEFAULT_EVENT_PAGE: u32 = 100;

/// The lock's events, newest first, a page at a time.
#[utoipa::path(
    get,
    path = "/v1/locks/{id}/events",
    tag = "events",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The lock"), EventQuery),
    responses(
        (status = 200, description = "Events, newest first", body = Vec<LockEventView>),
        (status = 400, description = "`invalid_request`: bad id, limit or `before`", body = ErrorBody),
        (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
pub async fn list_events(
    State(state): State<AppState>,
    caller: AccountCaller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<EventQuery>,
) -> ApiResult<Json<Vec<LockEventView>>> {
    let id = LockId::from_uuid(id);
    let limit = query.limit.unwrap_or(DEFAULT_EVENT_PAGE);
    if !(1..=MAX_EVENT_PAGE).contains(&limit) {
        return Err(
            ApiError::invalid_request(format!("limit must be 1 to {MAX_EVENT_PAGE}")).with_field("limit"),
        );
    }
    let mut conn = state.db.read().await?;
    access::lock(&mut conn, id, caller.account_id).await?;
    let before = match query.before {
        Some(event) => {
            let at = db::events::position(&mut conn, id, event).await?.ok_or_else(|| {
                ApiError::invalid_request("no such event of this lock").with_field("before")
            })?;
            Some((at, event))
        }
        None => None,
    };
    Ok(Json(db::events::page(&mut conn, id, before, limit).await?))
}

/// Records an event, reported by the lock with its device credential.
#[utoipa::path(
    post,
    path = "/v1/locks/{id}/events",
    tag = "events",
    security(("device" = [])),
    params(("id" = Uuid, Path, description = "The lock (the credential's own)")),
    request_body = NewLockEvent,
    responses(
        (status = 201, description = "Recorded", body = LockEventView),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid device credential", body = ErrorBody),
        (status = 404, description = "`not_found`: not the credential's lock", body = ErrorBody),
        (status = 422, description = "`invalid_input` (`code_id`: required exactly for code events, and must be the lock's)", body = ErrorBody),
    )
)]
pub async fn record_event(
    State(state): State<AppState>,
    device: DeviceCaller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(new): ApiJson<NewLockEvent>,
) -> ApiResult<(StatusCode, Json<LockEventView>)> {
    let id = LockId::from_uuid(id);
    if device.lock_id != id {
        return Err(ApiError::not_found("lock"));
    }
    match (new.kind.concerns_code(), new.code_id) {
        (true, None) => return Err(ApiError::invalid_input("code_id", "a code event names its code")),
        (false, Some(_)) => {
            return Err(ApiError::invalid_input(
                "code_id",
                "this event is not about a code",
            ));
        }
        _ => {}
    }
    let now = now();
    let mut tx = state.db.write().await?;
    if let Some(code) = new.code_id
        && db::codes::lock_of(&mut tx, code).await? != Some(id)
    {
        return Err(ApiError::invalid_input("code_id", "no such code on this lock"));
    }
    let event = db::events::recorded_now(id, new.kind, new.code_id, new.at.trunc_subsecs(3), now);
    db::events::insert(&mut tx, &event).await?;
    if let Some(code) = event.code_id {
        let set_on_lock_at = match event.kind {
            LockEventKind::CodeSet => Some(Some(event.at)),
            LockEventKind::CodeRemoved => Some(None),
            _ => None,
        };
        if let Some(set_on_lock_at) = set_on_lock_at {
            db::codes::set_on_lock(&mut tx, code, set_on_lock_at, now).await?;
            db::changes::code_changed(&mut tx, id, code).await?;
        }
    }
    db::changes::event_recorded(&mut tx, id, event.id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(event)))
}
