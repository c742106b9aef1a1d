//! tessera-core: the phone-side library. The offline store, the cloud client, sync,
//! sharing, locks reached directly ([`local`]: discovery, pairing, the local route)
//! and offline codes ([`offline`]), and the client facade ([`TesseraClient`]) the
//! apps and the CLI call. No FFI in here: the bindings crate wraps the facade.

mod client;
pub mod cloud;
mod error;
pub mod local;
pub mod offline;
pub mod secure_store;
pub mod share;
pub mod store;
pub mod sync;

pub use client::{
    ClientConfig, ClockSync, CodeChanges, Delivery, DiscoveredLock, Discovery, DiscoveryOptions, LockRoute,
    NewLock, PairedLock, Route, STORE_FILE, ShareRequest, Shared, TesseraClient,
};
pub use error::{Error, Result};
pub use secure_store::{MemorySecureStore, SecureStore, SecureStoreError};
pub use store::{CodeRecord, CodeSync, IssuedOffline, LocalRoute, LockActivity, LockLogEntry, StoreKey};
pub use sync::{SyncActivity, SyncProgress, SyncReport, SyncStage, SyncStatus};
pub use tessera_api as api;
pub use tessera_model as model;
pub use tessera_model::{CodeDraft, PinRequest};
