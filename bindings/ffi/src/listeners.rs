//! Live data for the UI: a listener gets the current value at once, then every
//! change, until its handle is cancelled or dropped.

use std::sync::atomic::{AtomicBool, Ordering};
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

/// Whether a subscription still wants calls. Aborting its task stops it only at its
/// next await; the task checks this right before each call, so a listener cancelled
/// while the task was busy (reading the store) is not called once more.
#[derive(Debug, Clone)]
pub(crate) struct Active(Arc<AtomicBool>);

impl Active {
    pub(crate) fn new() -> Self {
        Active(Arc::new(AtomicBool::new(true)))
    }

    pub(crate) fn is_active(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    fn cancel(&self) {
        self.0.store(false, Ordering::Release);
    }
}

/// Keeps a listener subscribed; `cancel()` (or dropping it) stops it.
#[derive(Debug, uniffi::Object)]
pub struct ListenerHandle {
    task: Mutex<Option<JoinHandle<()>>>,
    active: Active,
    /// The only strong reference to the platform's listener: the task holds a weak
    /// one, so the listener is released on the thread that cancels or drops the
    /// handle (a platform object freed on a runtime thread while the app's
    /// interpreter shuts down aborts it).
    listener: Mutex<Option<Box<dyn std::any::Any + Send + Sync>>>,
}

impl ListenerHandle {
    pub(crate) fn new(
        task: JoinHandle<()>,
        active: Active,
        listener: Box<dyn std::any::Any + Send + Sync>,
    ) -> Arc<Self> {
        Arc::new(ListenerHandle {
            task: Mutex::new(Some(task)),
            active,
            listener: Mutex::new(Some(listener)),
        })
    }
}

#[uniffi::export]
impl ListenerHandle {
    /// Stops the listener; it hears nothing more. Cancelling twice is harmless.
    pub fn cancel(&self) {
        self.active.cancel();
        let task = match self.task.lock() {
            Ok(mut task) => task.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(task) = task {
            task.abort();
        }
        let listener = match self.listener.lock() {
            Ok(mut listener) => listener.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        drop(listener);
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
