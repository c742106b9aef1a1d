//! Who is calling: accounts (access tokens of a session) and locks (device
//! credentials), as extractors every route takes first, so authentication runs
//! before anything else is read. Also passwords, tokens, sessions and rate limits.

pub mod passwords;
pub mod rate_limit;
pub mod sessions;
pub mod tokens;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use chrono::TimeDelta;
use tessera_api::ErrorCode;
use tessera_model::LockId;
use uuid::Uuid;

use crate::crypto::token_hash;
use crate::db::{self, now};
use crate::error::ApiError;
use crate::state::AppState;
use tokens::TokenKind;

/// How stale a session's `last_used_at` may get before a request writes it:
/// writing on every request would serialize reads behind the writer.
const LAST_USED_GRANULARITY: TimeDelta = TimeDelta::seconds(60);

/// An account, authenticated by a live access token.
#[derive(Debug, Clone, Copy)]
pub struct AccountCaller {
    pub account_id: Uuid,
    pub session_id: Uuid,
}

impl FromRequestParts<AppState> for AccountCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts).ok_or_else(ApiError::unauthorized)?;
        if !TokenKind::Access.marks(token) {
            return Err(ApiError::unauthorized());
        }
        let hash = token_hash(token);
        let grant = {
            let mut conn = state.db.read().await?;
            db::sessions::find_access(&mut conn, &hash).await?
        }
        .ok_or_else(ApiError::unauthorized)?;
        let now = now();
        if grant.expires_at <= now {
            return Err(ApiError::new(
                ErrorCode::TokenExpired,
                "the access token has expired; refresh it",
            ));
        }
        if now - grant.last_used_at >= LAST_USED_GRANULARITY {
            let mut tx = state.db.write().await?;
            db::sessions::touch(&mut tx, grant.session_id, now).await?;
            tx.commit().await?;
        }
        Ok(AccountCaller {
            account_id: grant.account_id,
            session_id: grant.session_id,
        })
    }
}

/// A lock, authenticated by its device credential.
#[derive(Debug, Clone, Copy)]
pub struct DeviceCaller {
    pub lock_id: LockId,
}

impl FromRequestParts<AppState> for DeviceCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let refused = || ApiError::new(ErrorCode::Unauthorized, "a valid device credential is required");
        let token = bearer(parts).ok_or_else(refused)?;
        if !TokenKind::Device.marks(token) {
            return Err(refused());
        }
        let hash = token_hash(token);
        let mut conn = state.db.read().await?;
        let lock_id = db::locks::lock_of_device(&mut conn, &hash)
            .await?
            .ok_or_else(refused)?;
        Ok(DeviceCaller { lock_id })
    }
}

/// The token of a single `Authorization: Bearer <token>` header.
fn bearer(parts: &Parts) -> Option<&str> {
    let mut values = parts.headers.get_all(AUTHORIZATION).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let (scheme, token) = value.to_str().ok()?.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
