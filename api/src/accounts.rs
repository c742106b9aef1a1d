//! Accounts and sessions: `POST /v1/accounts` (sign up), `POST /v1/sessions`
//! (log in), `POST /v1/sessions/refresh`, `GET /v1/sessions`,
//! `DELETE /v1/sessions/current` (log out), `DELETE /v1/sessions/{id}`, `GET /v1/account`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Secret;

/// Sign-up and login body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Credentials {
    pub email: String,
    /// At least 10 characters at sign-up.
    pub password: Secret,
    /// Shown in the list of sessions ("Pixel 9", "Anna's iPhone").
    #[serde(default)]
    pub device_name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshRequest {
    pub refresh_token: Secret,
}

/// What sign-up, login and refresh return. The refresh token is single-use: each
/// refresh returns a new one, and presenting a spent one ends the whole session.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tokens {
    pub account: Account,
    pub session_id: Uuid,
    pub access_token: Secret,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: Secret,
    pub refresh_expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Account {
    pub id: Uuid,
    pub email: String,
    pub created_at: DateTime<Utc>,
}

/// A signed-in device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    pub id: Uuid,
    pub device_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    /// The session making this request.
    pub current: bool,
}
