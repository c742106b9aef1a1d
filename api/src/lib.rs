//! The HTTP contract between the phone (tessera-core) and the cloud
//! (tessera-cloud): every request and response body, and the error codes.
//! Both sides use these types, so they cannot drift apart; the cloud publishes
//! them as an OpenAPI document at `/openapi.json`.
//!
//! Conventions: JSON bodies, unknown fields refused, times in RFC 3339 UTC, ids
//! as UUIDs chosen by the phone (codes and locks are created offline), mutations
//! carry an `Idempotency-Key` header, errors are [`ErrorBody`].

mod accounts;
mod codes;
mod error;
mod events;
mod locks;
mod secret;
mod shares;
mod sync;

pub use accounts::{Account, Credentials, RefreshRequest, SessionInfo, Tokens};
pub use codes::{CodePatch, CodeView, NewCode};
pub use error::{ErrorBody, ErrorCode, ErrorDetail};
pub use events::{EventQuery, LockEventKind, LockEventView, NewLockEvent};
pub use locks::{DeviceCredential, LockPatch, LockView, MemberView, NewLock, NewMember, Role};
pub use secret::Secret;
pub use shares::{NewShare, OpenShare, SealedShare, ShareView};
pub use sync::{Change, SyncPage, SyncQuery};

/// Header carrying the client's key for a mutation: repeating a request with
/// the same key has the effect of sending it once.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// Largest request body the cloud reads, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Most changes one sync page carries.
pub const MAX_SYNC_PAGE: u32 = 1_000;

/// Most events one page of a lock's events carries.
pub const MAX_EVENT_PAGE: u32 = 1_000;
