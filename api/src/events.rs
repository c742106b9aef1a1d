//! What happened at a lock: `GET /v1/locks/{id}/events` (owners and members) and
//! `POST /v1/locks/{id}/events` (the lock itself, with its device credential).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tessera_model::{CodeId, LockId};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum LockEventKind {
    /// A code opened the door.
    CodeUsed,
    /// The lock now holds the code.
    CodeSet,
    /// The lock no longer holds the code.
    CodeRemoved,
    LockOnline,
    LockOffline,
}

impl LockEventKind {
    /// Whether the event is about a code (and so must name one).
    pub fn concerns_code(self) -> bool {
        matches!(
            self,
            LockEventKind::CodeUsed | LockEventKind::CodeSet | LockEventKind::CodeRemoved
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewLockEvent {
    pub kind: LockEventKind,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<uuid::Uuid>))]
    pub code_id: Option<CodeId>,
    /// When it happened, on the lock's clock.
    pub at: DateTime<Utc>,
}

/// A page of a lock's events, newest first (`GET /v1/locks/{id}/events?limit=&before=`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct EventQuery {
    /// Events per page, 1 to 1,000 (default 100).
    pub limit: Option<u32>,
    /// The id of the last event of the previous page: the page starts with the next older one.
    pub before: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LockEventView {
    pub id: Uuid,
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub lock_id: LockId,
    pub kind: LockEventKind,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<uuid::Uuid>))]
    pub code_id: Option<CodeId>,
    pub at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
}
