//! tessera-core: the phone-side library. The offline store and the client facade;
//! later sync, the cloud client, sharing and local locks. No FFI in here: the
//! bindings crate wraps [`TesseraClient`].

mod client;
mod error;
pub mod store;

pub use client::{NewLock, STORE_FILE, TesseraClient};
pub use error::{Error, Result};
pub use store::StoreKey;
pub use tessera_model as model;
pub use tessera_model::{CodeDraft, PinRequest};
