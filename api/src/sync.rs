//! The change feed, `GET /v1/sync?cursor=&limit=`: everything that changed in the
//! caller's locks since the cursor, one entry per changed thing (its latest
//! state), oldest first, page by page. A phone stores `cursor` and asks again
//! until `has_more` is false.

use serde::{Deserialize, Serialize};
use tessera_model::LockId;
use uuid::Uuid;

use crate::{CodeView, LockEventView, LockView, MemberView};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct SyncQuery {
    /// Where the last page ended; absent for the first sync.
    pub cursor: Option<u64>,
    /// Changes per page, 1 to 1,000 (default 500).
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncPage {
    pub changes: Vec<Change>,
    /// Pass back as `cursor` for the next page.
    pub cursor: u64,
    pub has_more: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Change {
    Lock(LockView),
    /// The caller lost access to the lock (membership taken back): forget it and its codes.
    LockRemoved {
        #[cfg_attr(feature = "openapi", schema(value_type = Uuid))]
        lock_id: LockId,
    },
    Code(CodeView),
    Member(MemberView),
    MemberRemoved {
        #[cfg_attr(feature = "openapi", schema(value_type = Uuid))]
        lock_id: LockId,
        account_id: Uuid,
    },
    Event(LockEventView),
}
