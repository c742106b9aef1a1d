//! Sessions: opened by sign-up or login, renewed by exchanging the single-use
//! refresh token, ended by logout, by revocation, or by a refresh token presented
//! twice (someone holds a copy: the whole session goes).

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;
use tessera_api::{Account, ErrorCode, Tokens};
use uuid::Uuid;

use super::tokens::{TokenKind, issue};
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Opens a session for `account` and returns its first tokens.
pub async fn open(
    state: &AppState,
    conn: &mut SqliteConnection,
    account: Account,
    device_name: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<Tokens> {
    let session_id = Uuid::now_v7();
    let refresh_expires_at = now + state.refresh_token_ttl;
    db::sessions::insert(
        conn,
        &db::sessions::NewSession {
            id: session_id,
            account_id: account.id,
            device_name,
            now,
            expires_at: refresh_expires_at,
        },
    )
    .await?;
    issue_pair(state, conn, account, session_id, now).await
}

/// Exchanges a refresh token for a new pair. A spent token ends its session.
pub async fn refresh(
    state: &AppState,
    conn: &mut SqliteConnection,
    refresh_token: &str,
) -> ApiResult<Tokens> {
    let now = db::now();
    let refused = || {
        ApiError::new(
            ErrorCode::Unauthorized,
            "the refresh token is not valid; log in again",
        )
    };
    if !TokenKind::Refresh.marks(refresh_token) {
        return Err(refused());
    }
    let hash = crate::crypto::token_hash(refresh_token);
    let grant = db::sessions::find_refresh(conn, &hash)
        .await?
        .ok_or_else(refused)?;
    if grant.session_ended || grant.expires_at <= now {
        return Err(refused());
    }
    if grant.spent {
        db::sessions::end(conn, grant.session_id, now).await?;
        tracing::warn!(session = %grant.session_id, "a spent refresh token was presented; session ended");
        return Err(ApiError::new(
            ErrorCode::RefreshTokenReused,
            "this refresh token was already used; the session has ended",
        ));
    }
    db::sessions::spend_refresh(conn, &hash, now).await?;
    db::sessions::renew(conn, grant.session_id, now, now + state.refresh_token_ttl).await?;
    let account = db::accounts::get(conn, grant.account_id).await?;
    issue_pair(state, conn, account, grant.session_id, now).await
}

async fn issue_pair(
    state: &AppState,
    conn: &mut SqliteConnection,
    account: Account,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<Tokens> {
    let access = issue(TokenKind::Access)?;
    let refresh = issue(TokenKind::Refresh)?;
    let access_expires_at = now + state.access_token_ttl;
    let refresh_expires_at = now + state.refresh_token_ttl;
    db::sessions::insert_access_token(conn, &access.hash, session_id, access_expires_at).await?;
    db::sessions::insert_refresh_token(conn, &refresh.hash, session_id, refresh_expires_at).await?;
    Ok(Tokens {
        account,
        session_id,
        access_token: access.token,
        access_expires_at,
        refresh_token: refresh.token,
        refresh_expires_at,
    })
}
