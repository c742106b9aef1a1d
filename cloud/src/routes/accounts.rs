//! Accounts: sign-up (which also signs in) and the current account.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use tessera_api::{Account, Credentials, ErrorBody, ErrorCode, Tokens};
use uuid::Uuid;

use super::limited;
use crate::auth::{self, AccountCaller};
use crate::db::{self, now};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ClientIp};
use crate::state::AppState;

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 1_024;
pub const MAX_EMAIL_BYTES: usize = 254;
pub const MAX_DEVICE_NAME_CHARS: usize = 100;

/// Creates an account and signs it in.
#[utoipa::path(
    post,
    path = "/v1/accounts",
    tag = "accounts",
    request_body = Credentials,
    responses(
        (status = 201, description = "Signed up and signed in", body = Tokens),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 409, description = "`email_taken`", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "`invalid_input`: email, password (at least 10 characters) or device name", body = ErrorBody),
        (status = 429, description = "`rate_limited`; see Retry-After", body = ErrorBody),
    )
)]
pub async fn sign_up(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(credentials): ApiJson<Credentials>,
) -> ApiResult<(StatusCode, Json<Tokens>)> {
    state.limiter.attempt_from(ip).map_err(limited)?;
    let email = normalize_email(&credentials.email)?;
    state.limiter.check_account(&email).map_err(limited)?;
    let password = credentials.password.expose();
    let length = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&length) {
        return Err(ApiError::invalid_input(
            "password",
            format!("a password has {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    let device_name = device_name(credentials.device_name.as_deref())?;
    let taken = {
        let mut conn = state.db.read().await?;
        db::accounts::email_taken(&mut conn, &email).await?
    };
    if taken {
        state.limiter.failed(&email);
        return Err(email_taken());
    }
    let password_hash = state.passwords.hash(password).await?;
    let now = now();
    let account = Account {
        id: Uuid::now_v7(),
        email,
        created_at: now,
    };
    let mut tx = state.db.write().await?;
    if !db::accounts::insert(&mut tx, &account, &password_hash).await? {
        return Err(email_taken());
    }
    let tokens = auth::sessions::open(&state, &mut tx, account, device_name.as_deref(), now).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(tokens)))
}

/// The signed-in account.
#[utoipa::path(
    get,
    path = "/v1/account",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's account", body = Account),
        (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
    )
)]
pub async fn current_account(
    State(state): State<AppState>,
    caller: AccountCaller,
) -> ApiResult<Json<Account>> {
    let mut conn = state.db.read().await?;
    Ok(Json(db::accounts::get(&mut conn, caller.account_id).await?))
}

fn email_taken() -> ApiError {
    ApiError::new(ErrorCode::EmailTaken, "this email already has an account").with_field("email")
}

/// Trims and lower-cases an email and checks it has the shape of one
/// (`local@domain.tld`, no spaces, within the lengths mail allows).
pub fn normalize_email(raw: &str) -> ApiResult<String> {
    let email = raw.trim().to_lowercase();
    let invalid = || ApiError::invalid_input("email", "not a valid email address");
    if email.len() > MAX_EMAIL_BYTES || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid());
    }
    let (local, domain) = email.rsplit_once('@').ok_or_else(invalid)?;
    let domain_ok = domain.contains('.')
        && !domain.starts_with(['.', '-'])
        && !domain.ends_with(['.', '-'])
        && !domain.contains("..")
        && !domain.contains('@');
    if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
        return Err(invalid());
    }
    Ok(email)
}

/// Trims the optional name of a device; refuses control characters and long names.
pub fn device_name(raw: Option<&str>) -> ApiResult<Option<String>> {
    let Some(name) = raw.map(str::trim).filter(|name| !name.is_empty()) else {
        return Ok(None);
    };
    if name.chars().count() > MAX_DEVICE_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(ApiError::invalid_input(
            "device_name",
            format!("a device name has at most {MAX_DEVICE_NAME_CHARS} printable characters"),
        ));
    }
    Ok(Some(name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(
            normalize_email("  Anna@Example.COM ").unwrap(),
            "anna@example.com"
        );
        for bad in [
            "",
            "anna",
            "@example.com",
            "anna@",
            "anna@example",
            "an na@example.com",
            "a@b@c.de",
            "anna@.example.com",
            "anna@example..com",
            "anna@example.com.",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?}");
        }
    }
}
