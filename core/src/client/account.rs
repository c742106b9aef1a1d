//! Signing in and out, and sync: the client's calls that reach the cloud.

use std::sync::Arc;

use tessera_api::{Account, Credentials, Secret};
use tokio::sync::watch;

use super::TesseraClient;
use crate::cloud::{CloudApi, Session};
use crate::sync::{SyncReport, SyncStatus};
use crate::{Error, Result};

/// The account whose data the local store holds.
const STORE_ACCOUNT: &str = "account_id";

impl TesseraClient {
    /// Creates an account on the cloud at `cloud` and signs in.
    pub async fn sign_up(
        &self,
        cloud: &str,
        email: &str,
        password: Secret,
        device_name: Option<String>,
    ) -> Result<Account> {
        let api = CloudApi::new(cloud, &self.config.extra_root_certificates)?;
        let credentials = Credentials {
            email: email.to_owned(),
            password,
            device_name,
        };
        let tokens = api.sign_up(&credentials).await?;
        self.begin(api, tokens)
    }

    /// Signs in to the cloud at `cloud`.
    pub async fn log_in(
        &self,
        cloud: &str,
        email: &str,
        password: Secret,
        device_name: Option<String>,
    ) -> Result<Account> {
        let api = CloudApi::new(cloud, &self.config.extra_root_certificates)?;
        let credentials = Credentials {
            email: email.to_owned(),
            password,
            device_name,
        };
        let tokens = api.log_in(&credentials).await?;
        self.begin(api, tokens)
    }

    /// Signs out: ends the session on the cloud (when reachable), forgets its tokens,
    /// and wipes this account's locks, codes and unsynced changes from this device.
    pub async fn log_out(&self) -> Result<()> {
        if let Some(session) = self.current_session() {
            session.end().await?;
        }
        self.set_session(None);
        self.wipe_local_data()?;
        self.notify_changed();
        self.sync.refresh_pending();
        self.sync.set_signed_out();
        Ok(())
    }

    /// The signed-in account, if any (known offline).
    pub fn account(&self) -> Option<Account> {
        self.current_session().map(|session| session.account().clone())
    }

    /// Pushes local changes and pulls the cloud's, retrying a few times (with
    /// backoff) while the cloud cannot be reached.
    pub async fn sync(&self) -> Result<SyncReport> {
        self.sync_with_attempts(crate::sync::ATTEMPTS).await
    }

    /// One sync pass, no retries: right after a local change, where a missing
    /// network should cost nothing (the change waits in the outbox).
    pub async fn try_sync(&self) -> Result<SyncReport> {
        self.sync_with_attempts(1).await
    }

    async fn sync_with_attempts(&self, attempts: u32) -> Result<SyncReport> {
        let Some(session) = self.current_session() else {
            self.sync.set_signed_out();
            return Err(Error::SignedOut);
        };
        let result = self.sync.sync(&session, attempts).await;
        if matches!(result, Err(Error::SignedOut)) {
            // The session ended (revoked, or a replayed refresh token): its data goes too.
            self.set_session(None);
            self.wipe_local_data()?;
        }
        if !matches!(
            result,
            Ok(SyncReport {
                pushed: 0,
                refused: 0,
                pulled: 0
            })
        ) {
            self.notify_changed();
        }
        result
    }

    pub fn sync_status(&self) -> SyncStatus {
        self.sync.status()
    }

    /// The sync status now and on every change.
    pub fn watch_sync_status(&self) -> watch::Receiver<SyncStatus> {
        self.sync.watch()
    }

    /// Starts the session; a store holding another account's data is wiped first,
    /// data made before any sign-in is kept and pushed to this account.
    fn begin(&self, api: CloudApi, tokens: tessera_api::Tokens) -> Result<Account> {
        let account = tokens.account.clone();
        let session = Arc::new(Session::start(api, self.secure.clone(), tokens)?);
        let account_id = account.id.to_string();
        let previous = self.store.read(|db| db.meta(STORE_ACCOUNT))?;
        if previous.is_some_and(|previous| previous != account_id.as_bytes()) {
            // Another account's data: gone, with the secrets of its locks.
            self.wipe_local_data()?;
        }
        self.store
            .write(|db| db.set_meta(STORE_ACCOUNT, account_id.as_bytes()))?;
        self.set_session(Some(session));
        self.notify_changed();
        self.sync.set_idle();
        Ok(account)
    }
}
