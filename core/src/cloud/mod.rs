//! The cloud: its HTTP API (typed over tessera-api) and the signed-in session
//! whose tokens live only in the platform's secure store.

mod api;
mod session;
mod tls;
pub(crate) mod wire;

pub use api::{CloudApi, CloudError};
pub use session::{Session, SessionState};
