//! What a Wi-Fi lock fetches with its device credential: the codes it must
//! hold. The lock applies them and reports `code_set` / `code_removed` events
//! (`POST /v1/locks/{id}/events`), which set the codes' `set_on_lock_at`.

use axum::Json;
use axum::extract::State;
use tessera_api::{CodeView, ErrorBody};

use crate::auth::DeviceCaller;
use crate::db::codes::StoredCode;
use crate::db::{self, now};
use crate::error::ApiResult;
use crate::state::AppState;

/// The codes the calling lock must hold: not revoked and not yet ended, with
/// their PINs, oldest first. The lock is the credential's own; no other lock's
/// codes are reachable with it.
#[utoipa::path(
    get,
    path = "/v1/device/codes",
    tag = "device",
    security(("device" = [])),
    responses(
        (status = 200, description = "The lock's live codes, with their PINs", body = Vec<CodeView>),
        (status = 401, description = "`unauthorized`: no valid device credential", body = ErrorBody),
    )
)]
pub async fn device_codes(
    State(state): State<AppState>,
    device: DeviceCaller,
) -> ApiResult<Json<Vec<CodeView>>> {
    let mut conn = state.db.read().await?;
    let codes = db::codes::live_of_lock(&mut conn, &state.db.cipher, device.lock_id, now()).await?;
    Ok(Json(codes.iter().map(StoredCode::view).collect()))
}
