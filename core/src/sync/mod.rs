//! Offline-first sync. Every owner action lands in the store and the outbox at
//! once; a sync pass pushes the outbox in order (each mutation with its
//! idempotency key), then pulls the change feed and reconciles it with what is
//! still pending here (rules in [`reconcile`]). Transient failures are retried
//! with exponential backoff and jitter, honouring `Retry-After`. The state of
//! sync is observable for a UI through a watch channel.

mod backoff;
mod pull;
mod push;
mod reconcile;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Mutex, watch};

use crate::cloud::{CloudError, Session};
use crate::store::Store;
use crate::{Error, Result};

pub use backoff::Backoff;

/// Tries within one call of [`SyncEngine::sync`] before reporting offline.
pub(crate) const ATTEMPTS: u32 = 3;
/// Longest the cloud's `Retry-After` is waited out inside one call.
const LONGEST_INLINE_WAIT: Duration = Duration::from_secs(5);

/// What sync is doing, for a UI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncStatus {
    pub activity: SyncActivity,
    /// Local changes the cloud has not confirmed yet.
    pub pending: usize,
    pub last_success: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncActivity {
    Idle,
    Syncing(SyncProgress),
    /// The cloud cannot be reached; changes wait. `retry_at` when a retry is planned.
    Offline {
        reason: String,
        retry_at: Option<DateTime<Utc>>,
    },
    /// Sync stopped on an error retrying will not fix.
    Failed {
        reason: String,
    },
    /// No session: sign in to sync.
    SignedOut,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncProgress {
    pub stage: SyncStage,
    pub done: usize,
    /// Known while pushing; the feed's length is not known in advance.
    pub total: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncStage {
    Pushing,
    Pulling,
}

/// What one sync did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Local changes the cloud accepted.
    pub pushed: usize,
    /// Local changes the cloud refused (the codes show why).
    pub refused: usize,
    /// Changes pulled from the cloud.
    pub pulled: usize,
}

/// Why a pass stopped early.
pub(crate) enum Interrupted {
    Transient(CloudError),
    SignedOut,
    Failed(Error),
}

/// Runs sync passes, one at a time, and publishes their state.
pub(crate) struct SyncEngine {
    store: Arc<Store>,
    status: watch::Sender<SyncStatus>,
    running: Mutex<()>,
}

impl SyncEngine {
    pub(crate) fn new(store: Arc<Store>, signed_in: bool) -> Result<Self> {
        let pending = store.read(|db| db.outbox_len())?;
        let activity = if signed_in {
            SyncActivity::Idle
        } else {
            SyncActivity::SignedOut
        };
        Ok(SyncEngine {
            store,
            status: watch::Sender::new(SyncStatus {
                activity,
                pending,
                last_success: None,
            }),
            running: Mutex::new(()),
        })
    }

    pub(crate) fn status(&self) -> SyncStatus {
        self.status.borrow().clone()
    }

    pub(crate) fn watch(&self) -> watch::Receiver<SyncStatus> {
        self.status.subscribe()
    }

    /// Publishes a new pending count after a local change.
    pub(crate) fn refresh_pending(&self) {
        if let Ok(pending) = self.store.read(|db| db.outbox_len()) {
            self.status.send_modify(|status| status.pending = pending);
        }
    }

    pub(crate) fn set_signed_out(&self) {
        self.publish(SyncActivity::SignedOut);
    }

    pub(crate) fn set_idle(&self) {
        self.publish(SyncActivity::Idle);
    }

    /// Pushes and pulls until both are done, retrying transient failures up to
    /// `attempts` times; reports offline if the cloud stays away.
    pub(crate) async fn sync(&self, session: &Session, attempts: u32) -> Result<SyncReport> {
        let _one_at_a_time = self.running.lock().await;
        let mut backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(4));
        let mut attempt = 1;
        loop {
            match self.pass(session).await {
                Ok(report) => {
                    self.status.send_modify(|status| {
                        status.activity = SyncActivity::Idle;
                        status.last_success = Some(Utc::now());
                    });
                    self.refresh_pending();
                    return Ok(report);
                }
                Err(Interrupted::Transient(error)) => {
                    let delay = backoff.next_delay(error.retry_after(), &mut rand::rng());
                    let retry_at = chrono::Duration::from_std(delay)
                        .ok()
                        .map(|delay| Utc::now() + delay);
                    self.publish(SyncActivity::Offline {
                        reason: error.to_string(),
                        retry_at: (attempt < attempts).then_some(retry_at).flatten(),
                    });
                    if attempt >= attempts || delay > LONGEST_INLINE_WAIT {
                        self.refresh_pending();
                        return Err(error.into());
                    }
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                Err(Interrupted::SignedOut) => {
                    self.set_signed_out();
                    return Err(Error::SignedOut);
                }
                Err(Interrupted::Failed(error)) => {
                    self.publish(SyncActivity::Failed {
                        reason: error.to_string(),
                    });
                    return Err(error);
                }
            }
        }
    }

    async fn pass(&self, session: &Session) -> Result<SyncReport, Interrupted> {
        let publish_push = |done, total| {
            self.publish(SyncActivity::Syncing(SyncProgress {
                stage: SyncStage::Pushing,
                done,
                total: Some(total),
            }))
        };
        let (pushed, refused) = push::push(&self.store, session, &publish_push).await?;
        self.refresh_pending();
        let publish_pull = |done| {
            self.publish(SyncActivity::Syncing(SyncProgress {
                stage: SyncStage::Pulling,
                done,
                total: None,
            }))
        };
        let pulled = pull::pull(&self.store, session, &publish_pull).await?;
        Ok(SyncReport {
            pushed,
            refused,
            pulled,
        })
    }

    fn publish(&self, activity: SyncActivity) {
        self.status.send_modify(|status| status.activity = activity);
    }
}
