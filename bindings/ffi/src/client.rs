//! `TesseraClient`: the one object an app holds, over tessera-core's client.

use std::path::PathBuf;
use std::sync::Arc;

use tessera_core::model::{self, CodeId, EffectiveSchedule, LockId};
use tessera_core::{CodeDraft, api::Secret};
use uuid::Uuid;

use crate::listeners::{Active, CodesListener, ListenerHandle, SyncStatusListener};
use crate::platform::{self, Logger, PlatformSecureStore, SecureStore};
use crate::types::{
    AccessCode, Account, ClientConfig, CodeChanges, CodeRequest, EffectiveWindow, Lock, NewLock, Schedule,
    SyncReport, SyncStatus, Timestamp,
};
use crate::{TesseraError, runtime};

/// Occurrences a window preview lists.
const PREVIEW_OCCURRENCES: usize = 5;

/// The owner's side of Tessera on this device. Local calls (locks, codes) work
/// offline and take about a millisecond (they touch the local database: call them
/// off the UI thread); cloud calls are async.
#[derive(uniffi::Object)]
pub struct TesseraClient {
    inner: Arc<tessera_core::TesseraClient>,
}

impl std::fmt::Debug for TesseraClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

#[uniffi::export]
impl TesseraClient {
    /// Opens (or creates) the client's data in `config.data_dir`; the PIN key and
    /// the session live in `secure_store`; `logger` receives the core's log.
    #[uniffi::constructor]
    pub fn new(
        config: ClientConfig,
        secure_store: Arc<dyn SecureStore>,
        logger: Option<Arc<dyn Logger>>,
    ) -> Result<Arc<Self>, TesseraError> {
        if let Some(logger) = logger {
            platform::install_logger(logger);
        }
        let config = tessera_core::ClientConfig {
            data_dir: PathBuf::from(non_empty("data_dir", config.data_dir)?),
            extra_root_certificates: config.extra_root_certificates,
            share_host: config.share_host,
        };
        let inner = tessera_core::TesseraClient::open(config, Arc::new(PlatformSecureStore(secure_store)))?;
        Ok(Arc::new(TesseraClient {
            inner: Arc::new(inner),
        }))
    }

    /// Creates an account on the cloud at `cloud_url` and signs in.
    pub async fn sign_up(
        &self,
        cloud_url: String,
        email: String,
        password: String,
        device_name: Option<String>,
    ) -> Result<Account, TesseraError> {
        let inner = self.inner.clone();
        runtime::run(async move {
            Ok(inner
                .sign_up(&cloud_url, &email, Secret::new(password), device_name)
                .await?
                .into())
        })
        .await
    }

    /// Signs in; locks and codes made on this device before are kept and synced.
    pub async fn log_in(
        &self,
        cloud_url: String,
        email: String,
        password: String,
        device_name: Option<String>,
    ) -> Result<Account, TesseraError> {
        let inner = self.inner.clone();
        runtime::run(async move {
            Ok(inner
                .log_in(&cloud_url, &email, Secret::new(password), device_name)
                .await?
                .into())
        })
        .await
    }

    /// Signs out and removes the account's data from this device.
    pub async fn log_out(&self) -> Result<(), TesseraError> {
        let inner = self.inner.clone();
        runtime::run(async move { Ok(inner.log_out().await?) }).await
    }

    /// The signed-in account, known offline.
    pub fn account(&self) -> Option<Account> {
        self.inner.account().map(Into::into)
    }

    /// Pushes this device's changes and pulls everyone else's.
    pub async fn sync(&self) -> Result<SyncReport, TesseraError> {
        let inner = self.inner.clone();
        runtime::run(async move { Ok(inner.sync().await?.into()) }).await
    }

    pub fn sync_status(&self) -> SyncStatus {
        self.inner.sync_status().into()
    }

    pub fn add_lock(&self, lock: NewLock) -> Result<Lock, TesseraError> {
        let lock = self.inner.add_lock(tessera_core::NewLock {
            name: lock.name,
            time_zone: lock.time_zone,
            capabilities: lock.capabilities.into(),
        })?;
        Ok(lock.into())
    }

    pub fn rename_lock(&self, id: Uuid, name: String) -> Result<Lock, TesseraError> {
        Ok(self.inner.rename_lock(LockId::from_uuid(id), &name)?.into())
    }

    pub fn locks(&self) -> Result<Vec<Lock>, TesseraError> {
        Ok(self.inner.locks()?.into_iter().map(Into::into).collect())
    }

    pub fn lock(&self, id: Uuid) -> Result<Lock, TesseraError> {
        Ok(self.inner.lock(LockId::from_uuid(id))?.into())
    }

    /// What `schedule` becomes on the lock (rounding, daylight saving), before any
    /// code exists: the preview to show before sharing. Times also in `viewer_zone`.
    pub fn preview_schedule(
        &self,
        lock_id: Uuid,
        schedule: Schedule,
        allow_widening: bool,
        viewer_zone: Option<String>,
    ) -> Result<EffectiveWindow, TesseraError> {
        let options = model::CompileOptions { allow_widening };
        let effective =
            self.inner
                .compile_schedule(LockId::from_uuid(lock_id), &schedule.try_into()?, options)?;
        preview(&effective, chrono::Utc::now(), viewer_zone)
    }

    /// Creates a code; works offline. Its digits: [`Self::reveal_pin`].
    pub fn create_code(&self, lock_id: Uuid, request: CodeRequest) -> Result<AccessCode, TesseraError> {
        let draft = CodeDraft {
            label: request.label,
            schedule: request.schedule.try_into()?,
            allow_widening: request.allow_widening,
            max_uses: request.max_uses,
            pin: request.pin.try_into()?,
        };
        Ok(self.inner.create_code(LockId::from_uuid(lock_id), draft)?.into())
    }

    pub fn update_code(&self, id: Uuid, changes: CodeChanges) -> Result<AccessCode, TesseraError> {
        let changes = tessera_core::CodeChanges {
            label: changes.label,
            pin: changes.pin.map(TryInto::try_into).transpose()?,
            schedule: changes.schedule.map(TryInto::try_into).transpose()?,
            allow_widening: changes.allow_widening,
            max_uses: if changes.remove_max_uses {
                Some(None)
            } else {
                changes.max_uses.map(Some)
            },
        };
        Ok(self.inner.update_code(CodeId::from_uuid(id), changes)?.into())
    }

    /// Revokes a code; revoking twice changes nothing.
    pub fn revoke_code(&self, id: Uuid) -> Result<AccessCode, TesseraError> {
        Ok(self.inner.revoke_code(CodeId::from_uuid(id))?.into())
    }

    /// Every code of a lock, revoked and expired ones included, oldest first.
    pub fn codes(&self, lock_id: Uuid) -> Result<Vec<AccessCode>, TesseraError> {
        Ok(self
            .inner
            .codes(LockId::from_uuid(lock_id))?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    pub fn code(&self, id: Uuid) -> Result<AccessCode, TesseraError> {
        Ok(self.inner.code(CodeId::from_uuid(id))?.into())
    }

    /// The code's digits, for the owner to read or share.
    pub fn reveal_pin(&self, id: Uuid) -> Result<String, TesseraError> {
        Ok(self
            .inner
            .code(CodeId::from_uuid(id))?
            .code
            .pin
            .expose()
            .to_owned())
    }

    /// The code's effective window from `from` on, in the lock's zone and `viewer_zone`.
    pub fn code_window(
        &self,
        id: Uuid,
        from: Timestamp,
        viewer_zone: Option<String>,
    ) -> Result<EffectiveWindow, TesseraError> {
        let record = self.inner.code(CodeId::from_uuid(id))?;
        let effective = self.inner.effective_schedule(&record.code)?;
        preview(&effective, from, viewer_zone)
    }

    /// Calls `listener` with the lock's codes now and after every change.
    pub fn observe_codes(
        &self,
        lock_id: Uuid,
        listener: Arc<dyn CodesListener>,
    ) -> Result<Arc<ListenerHandle>, TesseraError> {
        let lock = LockId::from_uuid(lock_id);
        self.inner.lock(lock)?;
        let mut changes = self.inner.watch_changes();
        // Weak references: the handle owns the listener, the app owns the client.
        let client = Arc::downgrade(&self.inner);
        let weak_listener = Arc::downgrade(&listener);
        let active = Active::new();
        let subscribed = active.clone();
        let task = runtime::spawn(async move {
            loop {
                let Some(codes) = client.upgrade().map(|client| client.codes(lock)) else {
                    return;
                };
                // The lock is gone (signed out, access taken back): nothing more to tell.
                let Ok(codes) = codes else {
                    return;
                };
                let codes = codes.into_iter().map(Into::into).collect();
                // Cancelled while the codes were read: not one call more.
                let Some(listener) = weak_listener.upgrade().filter(|_| subscribed.is_active()) else {
                    return;
                };
                if let Err(error) = listener.on_codes(codes) {
                    tracing::warn!(%error, "a codes listener failed");
                }
                drop(listener);
                if changes.changed().await.is_err() {
                    return;
                }
            }
        })?;
        Ok(ListenerHandle::new(task, active, Box::new(listener)))
    }

    /// Calls `listener` with the sync status now and on every change.
    pub fn observe_sync_status(
        &self,
        listener: Arc<dyn SyncStatusListener>,
    ) -> Result<Arc<ListenerHandle>, TesseraError> {
        let mut status = self.inner.watch_sync_status();
        let weak_listener = Arc::downgrade(&listener);
        let active = Active::new();
        let subscribed = active.clone();
        let task = runtime::spawn(async move {
            loop {
                let current = status.borrow_and_update().clone();
                let Some(listener) = weak_listener.upgrade().filter(|_| subscribed.is_active()) else {
                    return;
                };
                if let Err(error) = listener.on_sync_status(current.into()) {
                    tracing::warn!(%error, "a sync status listener failed");
                }
                drop(listener);
                if status.changed().await.is_err() {
                    return;
                }
            }
        })?;
        Ok(ListenerHandle::new(task, active, Box::new(listener)))
    }
}

impl TesseraClient {
    /// The core client, for calls that outlive `&self` (async work on the runtime).
    pub(crate) fn core(&self) -> Arc<tessera_core::TesseraClient> {
        self.inner.clone()
    }
}

fn preview(
    effective: &EffectiveSchedule,
    from: Timestamp,
    viewer_zone: Option<String>,
) -> Result<EffectiveWindow, TesseraError> {
    let viewer = viewer_zone
        .map(|zone| model::lock::parse_time_zone(&zone))
        .transpose()?;
    Ok(effective.preview(from, viewer, PREVIEW_OCCURRENCES).into())
}

fn non_empty(field: &str, value: String) -> Result<String, TesseraError> {
    if value.trim().is_empty() {
        return Err(TesseraError::input(field, "must not be empty"));
    }
    Ok(value)
}
