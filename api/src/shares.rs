//! Share links: `POST /v1/shares` (an owner or member uploads a sealed pass),
//! `GET /v1/codes/{id}/shares`, `DELETE /v1/shares/{id}` (revoke), and the visitor's
//! `POST /v1/shares/{id}/open`. The cloud never sees a pass in the clear: it keeps
//! the ciphertext, a hash of the access key, the expiry, a view limit and a revoked
//! flag. Every failure to open answers the same 404.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tessera_model::CodeId;

/// A sealed pass to host. `id` is the link's random id (22 base64url characters).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewShare {
    pub id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub code_id: CodeId,
    /// Nonce and AES-256-GCM ciphertext, base64url.
    pub sealed: String,
    /// SHA-256 of the access key, base64url.
    pub access_key_hash: String,
    /// No later than the code's last instant.
    pub expires_at: DateTime<Utc>,
    /// How many times the link may be opened; none: until it expires.
    #[serde(default)]
    pub max_views: Option<u32>,
}

/// A hosted link, as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShareView {
    pub id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub code_id: CodeId,
    pub expires_at: DateTime<Utc>,
    pub max_views: Option<u32>,
    pub views: u32,
    pub revoked: bool,
    pub created_at: DateTime<Utc>,
}

/// The visitor's proof of holding the link.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpenShare {
    /// The access key (HKDF of the link's secret), base64url.
    pub access_key: String,
}

/// What opening a link returns: the ciphertext and what it was sealed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SealedShare {
    pub id: String,
    pub version: u8,
    pub expires_at: DateTime<Utc>,
    pub sealed: String,
}
