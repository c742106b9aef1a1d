//! Locks and who may manage them: `POST /v1/locks`, `GET /v1/locks`,
//! `GET|PATCH /v1/locks/{id}`, `GET|POST /v1/locks/{id}/members`,
//! `DELETE /v1/locks/{id}/members/{account_id}`, `POST /v1/locks/{id}/device-credentials`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tessera_model::{LockCapabilities, LockId};
use uuid::Uuid;

use crate::Secret;

/// Registers a lock (made offline on the phone, hence the id) to the caller, its owner.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewLock {
    #[cfg_attr(feature = "openapi", schema(value_type = Uuid))]
    pub id: LockId,
    pub name: String,
    /// IANA time zone, e.g. `Europe/Berlin`.
    pub time_zone: String,
    pub capabilities: LockCapabilities,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LockPatch {
    pub name: Option<String>,
}

/// What the caller may do with a lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    /// Registered the lock; manages codes and members.
    Owner,
    /// Granted by the owner; manages codes.
    Member,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LockView {
    #[cfg_attr(feature = "openapi", schema(value_type = Uuid))]
    pub id: LockId,
    pub name: String,
    pub time_zone: String,
    pub capabilities: LockCapabilities,
    /// The caller's role.
    pub role: Role,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewMember {
    /// The account to grant management rights to.
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberView {
    #[cfg_attr(feature = "openapi", schema(value_type = Uuid))]
    pub lock_id: LockId,
    pub account_id: Uuid,
    pub email: String,
    pub role: Role,
    pub added_at: DateTime<Utc>,
}

/// The credential a Wi-Fi lock uses to report events (and later fetch its codes).
/// Shown once; the cloud keeps only its hash.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceCredential {
    #[cfg_attr(feature = "openapi", schema(value_type = Uuid))]
    pub lock_id: LockId,
    pub device_token: Secret,
}
