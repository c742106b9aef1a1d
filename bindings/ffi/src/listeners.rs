//! Live data for the UI: a listener gets the current value at once, then every
//! change, until its handle is cancelled or dropped.

use std::sync::{Arc, Mutex};

use tokio::task::JoinHandle;

use crate::{AccessCode, SyncStatus};

/// A listener (or logger) failed; Tessera logs it and carries on.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum ListenerError {
    #[error("{reason}")]
    Failed { reason: String },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for ListenerError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> Self {
        ListenerError::Failed { reason: error.reason }
    }
}

/// The codes of one lock, whenever they change here (by the owner or by sync).
#[uniffi::export(foreign)]
pub trait CodesListener: Send + Sync {
    fn on_codes(&self, codes: Vec<AccessCode>) -> Result<(), ListenerError>;
}

#[uniffi::export(foreign)]
pub trait SyncStatusListener: Send + Sync {
    fn on_sync_status(&self, status: SyncStatus) -> Result<(), ListenerError>;
}

/// Keeps a listener subscribed; `cancel()` (or dropping it) stops it.
#[derive(Debug, uniffi::Object)]
pub struct ListenerHandle {
    task: Mutex<Option<JoinHandle<()>>>,
}

impl ListenerHandle {
    pub(crate) fn new(task: JoinHandle<()>) -> Arc<Self> {
        Arc::new(ListenerHandle {
            task: Mutex::new(Some(task)),
        })
    }
}

#[uniffi::export]
impl ListenerHandle {
    /// Stops the listener; it hears nothing more. Cancelling twice is harmless.
    pub fn cancel(&self) {
        let task = match self.task.lock() {
            Ok(mut task) => task.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(task) = task {
            task.abort();
        }
    }

    pub fn is_cancelled(&self) -> bool {
        match self.task.lock() {
            Ok(task) => task.as_ref().is_none_or(JoinHandle::is_finished),
            Err(_) => true,
        }
    }
}

impl Drop for ListenerHandle {
    fn drop(&mut self) {
        self.cancel();
    }
}
