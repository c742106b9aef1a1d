//! The signed-in session: the account, and tokens kept only in the platform's secure
//! store. Calls refresh an expired access token on their own; when refreshing fails
//! (the session was revoked, a spent refresh token was replayed) the session ends
//! cleanly: its tokens are deleted and callers see [`CloudError::SignedOut`].

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use tessera_api::{Account, ErrorCode, Secret, Tokens};
use tokio::sync::Mutex;
use uuid::Uuid;

use super::{CloudApi, CloudError};
use crate::secure_store::{SESSION, SecureStore};
use crate::{Error, Result};

/// Refresh this long before the access token expires, so a request never races it.
const EXPIRY_MARGIN: Duration = Duration::seconds(30);

/// What the secure store keeps about the session.
#[derive(Clone, Serialize, Deserialize)]
pub struct SessionState {
    pub cloud: String,
    pub account: Account,
    pub session_id: Uuid,
    access_token: Secret,
    access_expires_at: DateTime<Utc>,
    refresh_token: Secret,
}

impl SessionState {
    fn new(cloud: &str, tokens: Tokens) -> Self {
        SessionState {
            cloud: cloud.to_owned(),
            account: tokens.account.clone(),
            session_id: tokens.session_id,
            access_token: tokens.access_token.clone(),
            access_expires_at: tokens.access_expires_at,
            refresh_token: tokens.refresh_token.clone(),
        }
    }
}

impl std::fmt::Debug for SessionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionState")
            .field("cloud", &self.cloud)
            .field("account", &self.account.email)
            .field("session_id", &self.session_id)
            .finish_non_exhaustive()
    }
}

/// A signed-in session with the cloud.
pub struct Session {
    api: CloudApi,
    secure: Arc<dyn SecureStore>,
    state: Mutex<Option<SessionState>>,
    account: Account,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("cloud", &self.api.base().as_str())
            .field("account", &self.account.email)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Starts a session from fresh tokens and keeps them in the secure store.
    pub fn start(api: CloudApi, secure: Arc<dyn SecureStore>, tokens: Tokens) -> Result<Self> {
        let state = SessionState::new(api.base().as_str(), tokens);
        save(secure.as_ref(), &state)?;
        Ok(Session {
            api,
            secure,
            account: state.account.clone(),
            state: Mutex::new(Some(state)),
        })
    }

    /// The session the secure store holds, if any.
    pub fn restore(secure: Arc<dyn SecureStore>, extra_roots: &[Vec<u8>]) -> Result<Option<Self>> {
        let Some(bytes) = secure.get(SESSION)? else {
            return Ok(None);
        };
        let state: SessionState = match serde_json::from_slice(&zeroize::Zeroizing::new(bytes)) {
            Ok(state) => state,
            Err(_) => {
                // Unreadable (written by another version?): sign out rather than fail forever.
                secure.delete(SESSION)?;
                return Ok(None);
            }
        };
        Ok(Some(Session {
            api: CloudApi::new(&state.cloud, extra_roots)?,
            secure,
            account: state.account.clone(),
            state: Mutex::new(Some(state)),
        }))
    }

    pub fn account(&self) -> &Account {
        &self.account
    }

    pub fn api(&self) -> &CloudApi {
        &self.api
    }

    /// Runs `call` with a valid access token, refreshing it first when it has expired
    /// and once more if the cloud says it has.
    pub async fn call<T, F, Fut>(&self, call: F) -> Result<T, CloudError>
    where
        F: Fn(CloudApi, Secret) -> Fut,
        Fut: Future<Output = Result<T, CloudError>>,
    {
        let access = self.access_token().await?;
        match call(self.api.clone(), access.clone()).await {
            Err(CloudError::Rejected {
                code: ErrorCode::TokenExpired | ErrorCode::Unauthorized,
                ..
            }) => {
                let access = self.refresh(&access).await?;
                call(self.api.clone(), access).await
            }
            other => other,
        }
    }

    /// Signs out: tells the cloud (if it can be reached) and forgets the tokens.
    pub async fn end(&self) -> Result<()> {
        let state = self.state.lock().await.take();
        if let Some(state) = state {
            // The tokens are forgotten either way; an unreachable cloud expires them.
            if let Err(error) = self.api.log_out(&state.access_token).await {
                tracing::info!(%error, "the cloud did not confirm the logout");
            }
        }
        self.secure.delete(SESSION)?;
        Ok(())
    }

    async fn access_token(&self) -> Result<Secret, CloudError> {
        let (access, expires_at) = {
            let state = self.state.lock().await;
            let state = state.as_ref().ok_or(CloudError::SignedOut)?;
            (state.access_token.clone(), state.access_expires_at)
        };
        if expires_at - EXPIRY_MARGIN <= Utc::now() {
            return self.refresh(&access).await;
        }
        Ok(access)
    }

    /// Trades the refresh token for new tokens, once even when many calls find the
    /// access token `stale` at the same time.
    async fn refresh(&self, stale: &Secret) -> Result<Secret, CloudError> {
        let mut guard = self.state.lock().await;
        let state = guard.as_ref().ok_or(CloudError::SignedOut)?;
        if state.access_token != *stale {
            return Ok(state.access_token.clone());
        }
        match self.api.refresh(&state.refresh_token).await {
            Ok(tokens) => {
                let fresh = SessionState::new(&state.cloud, tokens);
                save(self.secure.as_ref(), &fresh).map_err(|e| CloudError::Local {
                    reason: e.to_string(),
                })?;
                let access = fresh.access_token.clone();
                *guard = Some(fresh);
                Ok(access)
            }
            Err(CloudError::Rejected {
                status: 401, code, ..
            }) => {
                tracing::info!(?code, "the session has ended");
                *guard = None;
                self.secure
                    .delete(SESSION)
                    .map_err(|e| CloudError::Local { reason: e.reason })?;
                Err(CloudError::SignedOut)
            }
            Err(other) => Err(other),
        }
    }
}

fn save(secure: &dyn SecureStore, state: &SessionState) -> Result<()> {
    let bytes =
        zeroize::Zeroizing::new(serde_json::to_vec(state).map_err(|e| Error::storage(e.to_string()))?);
    Ok(secure.put(SESSION, &bytes)?)
}
