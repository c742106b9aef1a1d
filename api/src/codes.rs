//! Access codes: `GET|POST /v1/locks/{id}/codes`, `GET|PATCH /v1/codes/{id}`,
//! `POST /v1/codes/{id}/revoke`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use tessera_model::{CodeId, CodeStatus, LockId, Schedule};

use crate::Secret;

/// A code created on a phone (offline, hence the id). The cloud checks it with
/// the same rules the phone did: the lock or another phone may have changed since.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewCode {
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub id: CodeId,
    pub label: String,
    /// The digits, as a string (leading zeros count).
    pub pin: Secret,
    pub schedule: Schedule,
    #[serde(default)]
    pub allow_widening: bool,
    #[serde(default)]
    pub max_uses: Option<u32>,
}

/// Changes to a code; absent fields stay as they are. `max_uses: null` removes the limit.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CodePatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_widening: Option<bool>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u32>))]
    pub max_uses: Option<Option<u32>>,
}

impl CodePatch {
    pub fn is_empty(&self) -> bool {
        self.label.is_none()
            && self.pin.is_none()
            && self.schedule.is_none()
            && self.allow_widening.is_none()
            && self.max_uses.is_none()
    }
}

/// Tells a field given as `null` (`Some(None)`) from one left out (`None`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CodeView {
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub id: CodeId,
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub lock_id: LockId,
    pub label: String,
    pub pin: Secret,
    pub schedule: Schedule,
    pub allow_widening: bool,
    pub max_uses: Option<u32>,
    pub status: CodeStatus,
    /// When the lock confirmed it holds the code (its latest `code_set` event).
    pub set_on_lock_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Bumped on every change.
    pub version: u64,
}
