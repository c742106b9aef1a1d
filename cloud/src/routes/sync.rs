//! The change feed a phone syncs from.

use axum::Json;
use axum::extract::State;
use tessera_api::{ErrorBody, MAX_SYNC_PAGE, SyncPage, SyncQuery};

use crate::auth::AccountCaller;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::state::AppState;

pub const DEFAULT_SYNC_PAGE: u32 = 500;

/// Everything that changed in the caller's locks since `cursor`: one entry per
/// changed thing with its current state, oldest first. Ask again with the
/// returned `cursor` while `has_more`.
#[utoipa::path(
    get,
    path = "/v1/sync",
    tag = "sync",
    security(("bearer" = [])),
    params(SyncQuery),
    responses(
        (status = 200, description = "A page of changes", body = SyncPage),
        (status = 400, description = "`invalid_request`: bad cursor or limit", body = ErrorBody),
        (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
    )
)]
pub async fn sync(
    State(state): State<AppState>,
    caller: AccountCaller,
    ApiQuery(query): ApiQuery<SyncQuery>,
) -> ApiResult<Json<SyncPage>> {
    let limit = query.limit.unwrap_or(DEFAULT_SYNC_PAGE);
    if !(1..=MAX_SYNC_PAGE).contains(&limit) {
        return Err(
            ApiError::invalid_request(format!("limit must be 1 to {MAX_SYNC_PAGE}")).with_field("limit"),
        );
    }
    let mut snapshot = state.db.snapshot().await?;
    let page = db::changes::page(
        &mut snapshot,
        &state.db.cipher,
        caller.account_id,
        query.cursor.unwrap_or(0),
        limit,
    )
    .await?;
    snapshot.commit().await?;
    Ok(Json(page))
}
