//! Who may manage a lock: the owner grants other accounts (members) by email and
//! takes them back. Granting re-emits the lock's state into the change feed so
//! the new member's phone receives it; taking back tells that phone to forget it.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use tessera_api::{ErrorBody, MemberView, NewMember, Role};
use tessera_model::LockId;
use uuid::Uuid;

use super::accounts::normalize_email;
use crate::access;
use crate::auth::AccountCaller;
use crate::db::{self, now};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

/// Everyone who may manage the lock, the owner first.
#[utoipa::path(
    get,
    path = "/v1/locks/{id}/members",
    tag = "members",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The lock")),
    responses(
        (status = 200, description = "The owner and the members", body = Vec<MemberView>),
        (status = 400, description = "`invalid_request`: not an id", body = ErrorBody),
        (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
pub async fn list_members(
    State(state): State<AppState>,
    caller: AccountCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Vec<MemberView>>> {
    let id = LockId::from_uuid(id);
    let mut conn = state.db.read().await?;
    access::lock(&mut conn, id, caller.account_id).await?;
    Ok(Json(db::members::of_lock(&mut conn, id).await?))
}

/// Grants the account with this email management rights (owner only). Granting
/// someone who already has them changes nothing.
#[utoipa::path(
    post,
    path = "/v1/locks/{id}/members",
    tag = "members",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The lock")),
    request_body = NewMember,
    responses(
        (status = 201, description = "Granted", body = MemberView),
        (status = 200, description = "The account already had access", body = MemberView),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the caller is a member, not the owner", body = ErrorBody),
        (status = 404, description = "`not_found`: no such lock, or no account has this email (`field`: email)", body = ErrorBody),
        (status = 422, description = "`invalid_input`: not an email", body = ErrorBody),
    )
)]
pub async fn add_member(
    State(state): State<AppState>,
    caller: AccountCaller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(new): ApiJson<NewMember>,
) -> ApiResult<(StatusCode, Json<MemberView>)> {
    let id = LockId::from_uuid(id);
    let now = now();
    let mut tx = state.db.write().await?;
    access::owned_lock(&mut tx, id, caller.account_id).await?;
    let email = normalize_email(&new.email)?;
    let account = db::accounts::by_email(&mut tx, &email)
        .await?
        .ok_or_else(|| ApiError::not_found("account with this email").with_field("email"))?
        .account;
    if let Some(existing) = db::members::get(&mut tx, id, account.id).await? {
        return Ok((StatusCode::OK, Json(existing)));
    }
    db::members::insert(&mut tx, id, account.id, Role::Member, now).await?;
    db::changes::reemit_lock_for_new_member(&mut tx, id, account.id).await?;
    let member = db::members::get(&mut tx, id, account.id)
        .await?
        .ok_or_else(|| ApiError::internal("a membership vanished as it was granted"))?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(member)))
}

/// Takes a member's rights back (owner only). The owner cannot be removed.
#[utoipa::path(
    delete,
    path = "/v1/locks/{id}/members/{account_id}",
    tag = "members",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The lock"),
        ("account_id" = Uuid, Path, description = "The member's account"),
    ),
    responses(
        (status = 204, description = "Taken back"),
        (status = 400, description = "`invalid_request`: not an id", body = ErrorBody),
        (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the caller is a member, not the owner", body = ErrorBody),
        (status = 404, description = "`not_found`: no such lock or member", body = ErrorBody),
        (status = 409, description = "`conflict`: that is the owner", body = ErrorBody),
    )
)]
pub async fn remove_member(
    State(state): State<AppState>,
    caller: AccountCaller,
    ApiPath((id, account_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    let id = LockId::from_uuid(id);
    let mut tx = state.db.write().await?;
    access::owned_lock(&mut tx, id, caller.account_id).await?;
    match db::members::role_of(&mut tx, id, account_id).await? {
        None => return Err(ApiError::not_found("member")),
        Some(Role::Owner) => return Err(ApiError::conflict("the owner cannot be removed from the lock")),
        Some(Role::Member) => {}
    }
    db::members::remove(&mut tx, id, account_id).await?;
    db::changes::member_removed(&mut tx, id, account_id).await?;
    db::changes::lock_removed_for(&mut tx, id, account_id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
