//! Wi-Fi mode: the lock polls tessera-cloud for the codes it must hold
//! (`GET /v1/device/codes`), applies them through the same checks as a phone's
//! `SetCode`, removes the cloud's codes the cloud no longer lists, and reports
//! what happened (`POST /v1/locks/{id}/events`: `code_set`, `code_removed`,
//! `code_used`, `lock_online`, `lock_offline`), so the owner's phone shows a
//! code as "set on lock" and sees it used. The event log is the outbox: events
//! are reported in order, and the position is saved, so a restart loses none.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rustls::RootCertStore;
use tessera_api::{CodeView, LockEventKind, NewLockEvent};
use tessera_model::{CodeId, CodeStatus, LockId};
use tessera_protocol::wire::{EventKind, LockCode, Refusal, Response};

use crate::lock::{LockHandle, system_ms, to_datetime};
use crate::secret::DeviceToken;
use crate::store::Origin;
use crate::{Error, Result};
use tessera_protocol::schedule::to_wire;

/// How often the lock asks the cloud for its codes unless configured.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Where the lock's cloud is and how it proves who it is.
#[derive(Debug, Clone)]
pub struct CloudLink {
    /// `https://cloud.example` (or `http://127.0.0.1:PORT` in tests).
    pub url: String,
    /// The device credential the owner issued for this lock.
    pub device_token: DeviceToken,
    pub poll_interval: Duration,
    /// Extra trusted roots (DER) for a private cloud.
    pub extra_roots: Vec<Vec<u8>>,
}

impl CloudLink {
    pub fn new(url: impl Into<String>, device_token: DeviceToken) -> Self {
        CloudLink {
            url: url.into(),
            device_token,
            poll_interval: DEFAULT_POLL_INTERVAL,
            extra_roots: Vec::new(),
        }
    }
}

/// Why a call to the cloud failed.
#[derive(Debug, thiserror::Error)]
enum CallError {
    /// Try again later: no network, the cloud is down, the credential is not
    /// (yet) valid, too many requests.
    #[error("{0}")]
    Later(String),
    /// The cloud will never take this (a code it does not know, ...).
    #[error("the cloud refused it ({0})")]
    Never(u16),
}

struct Client {
    http: reqwest::Client,
    base: String,
    token: DeviceToken,
    lock: LockId,
}

impl Client {
    fn new(link: &CloudLink, lock: LockId) -> Result<Self> {
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls_config(&link.extra_roots)?)
            .connect_timeout(REQUEST_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("tessera-lock/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Cloud(format!("the HTTP client cannot be built: {e}")))?;
        let base = link.url.trim_end_matches('/').to_owned();
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(Error::Cloud(
                "the cloud URL must start with https:// or http://".to_owned(),
            ));
        }
        Ok(Client {
            http,
            base,
            token: link.device_token.clone(),
            lock,
        })
    }

    async fn codes(&self) -> std::result::Result<Vec<CodeView>, CallError> {
        let response = self
            .http
            .get(format!("{}/v1/device/codes", self.base))
            .bearer_auth(self.token.expose())
            .send()
            .await
            .map_err(|e| CallError::Later(without_url(&e)))?;
        let response = check(response)?;
        response.json().await.map_err(|_| {
            CallError::Later("the cloud's code list is not what this lock understands".to_owned())
        })
    }

    async fn report(
        &self,
        kind: LockEventKind,
        code_id: Option<CodeId>,
        at: DateTime<Utc>,
    ) -> std::result::Result<(), CallError> {
        let response = self
            .http
            .post(format!("{}/v1/locks/{}/events", self.base, self.lock))
            .bearer_auth(self.token.expose())
            .json(&NewLockEvent { kind, code_id, at })
            .send()
            .await
            .map_err(|e| CallError::Later(without_url(&e)))?;
        check(response).map(drop)
    }
}

fn check(response: reqwest::Response) -> std::result::Result<reqwest::Response, CallError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let code = status.as_u16();
    if matches!(code, 401 | 403) {
        // The owner may not have issued it yet, or has revoked it: try again later.
        return Err(CallError::Later(format!(
            "the cloud does not accept the lock's device credential ({code})"
        )));
    }
    if status.is_server_error() || matches!(code, 408 | 429) {
        Err(CallError::Later(format!("the cloud answered {code}")))
    } else {
        Err(CallError::Never(code))
    }
}

/// reqwest's errors quote the URL; ours has no secret in it, but keep messages short.
fn without_url(error: &reqwest::Error) -> String {
    let error = error.to_string();
    error.split(" for url").next().unwrap_or_default().to_owned()
}

/// Mozilla's roots (webpki-roots) and `extra` ones; ring as the provider; both
/// HTTP versions offered (a preconfigured set-up gets none from reqwest).
fn tls_config(extra: &[Vec<u8>]) -> Result<rustls::ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for der in extra {
        roots
            .add(rustls::pki_types::CertificateDer::from(der.clone()))
            .map_err(|e| Error::Cloud(format!("an extra root certificate is invalid: {e}")))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Cloud(format!("TLS set-up failed: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The cloud's name for a lock event, and its code, if the cloud hears of it.
fn reported(kind: &EventKind) -> Option<(LockEventKind, CodeId)> {
    match kind {
        EventKind::CodeSet { id } => Some((LockEventKind::CodeSet, CodeId::from_bytes(*id))),
        EventKind::CodeRemoved { id } => Some((LockEventKind::CodeRemoved, CodeId::from_bytes(*id))),
        EventKind::CodeUsed { id } => Some((LockEventKind::CodeUsed, CodeId::from_bytes(*id))),
        _ => None,
    }
}

/// What the link keeps between polls.
#[derive(Default)]
struct Link {
    online: bool,
    /// Codes the lock refused, at the version it refused: not tried again until
    /// the owner changes them.
    refused: HashMap<[u8; 16], u64>,
}

impl LockHandle {
    /// Runs the Wi-Fi mode until the future is dropped: polls every
    /// `poll_interval`, and reports new events as soon as they are logged.
    pub async fn run_cloud(&self, link: CloudLink) -> Result<()> {
        let client = Client::new(&link, self.cloud_id())?;
        let mut state = Link::default();
        // The last failure warned about: each new kind of failure is shown once
        // (a refused credential on the first try too), repeats only in debug.
        let mut warned: Option<String> = None;
        loop {
            match self.sync_once(&client, &mut state).await {
                Ok(()) => warned = None,
                Err(error) => {
                    let error = error.to_string();
                    if warned.as_deref() == Some(error.as_str()) {
                        tracing::debug!(%error, "the cloud is out of reach");
                    } else {
                        tracing::warn!(%error, "the cloud is out of reach; retrying");
                        warned = Some(error);
                    }
                    state.online = false;
                }
            }
            tokio::select! {
                () = tokio::time::sleep(link.poll_interval) => {}
                () = self.logged().notified() => {}
            }
        }
    }

    /// Tells the cloud the lock goes offline (shutting down); best effort.
    pub async fn report_offline(&self, link: &CloudLink) -> Result<()> {
        let client = Client::new(link, self.cloud_id())?;
        client
            .report(LockEventKind::LockOffline, None, self.now())
            .await
            .map_err(|e| Error::Cloud(e.to_string()))
    }

    async fn sync_once(&self, client: &Client, link: &mut Link) -> std::result::Result<(), CallError> {
        if !link.online {
            client.report(LockEventKind::LockOnline, None, self.now()).await?;
            tracing::info!("connected to the cloud");
            link.online = true;
        }
        self.flush_events(client).await?;
        let codes = client.codes().await?;
        for id in self.apply_cloud_codes(&codes, &mut link.refused) {
            match client.report(LockEventKind::CodeSet, Some(id), self.now()).await {
                Ok(()) | Err(CallError::Never(_)) => {}
                Err(error) => return Err(error),
            }
        }
        self.flush_events(client).await
    }

    /// Reports the logged events the cloud has not heard of, in order.
    async fn flush_events(&self, client: &Client) -> std::result::Result<(), CallError> {
        loop {
            let (cursor, batch) = {
                let inner = self.inner();
                let cursor = inner.state.cloud_cursor;
                (cursor, inner.events_after(cursor, 64))
            };
            let Some(last) = batch.last().map(|event| event.seq) else {
                return Ok(());
            };
            for event in batch {
                if let Some((kind, code)) = reported(&event.kind) {
                    match client
                        .report(kind, Some(code), to_datetime(event.at_unix_ms))
                        .await
                    {
                        Ok(()) => {}
                        Err(CallError::Never(status)) => {
                            tracing::debug!(%code, status, "the cloud does not take this event")
                        }
                        Err(error) => {
                            self.save_cursor(event.seq.saturating_sub(1))?;
                            return Err(error);
                        }
                    }
                }
            }
            self.save_cursor(last.max(cursor))?;
        }
    }

    fn save_cursor(&self, seq: u64) -> std::result::Result<(), CallError> {
        let mut inner = self.inner();
        if inner.state.cloud_cursor >= seq {
            return Ok(());
        }
        inner
            .commit(|s| s.cloud_cursor = seq)
            .map_err(|e| CallError::Later(e.to_string()))
    }

    /// Makes the lock hold what the cloud lists: removes the cloud's codes it no
    /// longer lists, sets new and changed ones. Returns the codes the lock holds
    /// as listed that the cloud does not know are set (to report again).
    fn apply_cloud_codes(&self, views: &[CodeView], refused: &mut HashMap<[u8; 16], u64>) -> Vec<CodeId> {
        let mut inner = self.inner();
        let now = system_ms().saturating_add(inner.state.clock.offset_ms);
        let live: Vec<&CodeView> = views
            .iter()
            .filter(|view| view.status == CodeStatus::Active && view.lock_id == self.cloud_id())
            .collect();
        let listed: HashSet<[u8; 16]> = live.iter().map(|view| *view.id.as_bytes()).collect();
        // A phone removed these over the local route; they stay off the lock while
        // the cloud lists them, and are forgotten once it stops (the revoke arrived).
        let removed_by_owner: HashSet<[u8; 16]> = inner
            .state
            .removed_by_owner
            .iter()
            .map(|removed| removed.id)
            .collect();
        if removed_by_owner.iter().any(|id| !listed.contains(id))
            && let Err(error) =
                inner.commit(|s| s.removed_by_owner.retain(|removed| listed.contains(&removed.id)))
        {
            tracing::error!(%error, "could not forget codes the cloud no longer lists");
        }
        let live: Vec<&CodeView> = live
            .into_iter()
            .filter(|view| !removed_by_owner.contains(view.id.as_bytes()))
            .collect();
        let gone: Vec<[u8; 16]> = inner
            .state
            .codes
            .iter()
            .filter(|code| code.origin == Origin::Cloud && !listed.contains(&code.id))
            .map(|code| code.id)
            .collect();
        for id in gone {
            if let Err(error) = inner.remove_code(id, now) {
                tracing::error!(%error, "a code the cloud revoked could not be removed");
            }
        }
        let mut unacknowledged = Vec::new();
        for view in live {
            let id = *view.id.as_bytes();
            let wanted = LockCode {
                id,
                pin: view.pin.expose().to_owned(),
                schedule: to_wire(&view.schedule),
                max_uses: view.max_uses,
            };
            let held = inner.state.codes.iter().find(|code| code.id == id).map(|held| {
                let same = held.pin == wanted.pin
                    && held.schedule == wanted.schedule
                    && held.max_uses == wanted.max_uses
                    && held.allow_widening == view.allow_widening;
                (same, held.origin)
            });
            if let Some((true, origin)) = held {
                if origin != Origin::Cloud
                    && let Err(error) = inner.commit(|s| {
                        if let Some(code) = s.codes.iter_mut().find(|code| code.id == id) {
                            code.origin = Origin::Cloud;
                        }
                    })
                {
                    tracing::error!(%error, "could not note a code's origin");
                }
                if view.set_on_lock_at.is_none() {
                    unacknowledged.push(view.id);
                }
                continue;
            }
            if refused.get(&id) == Some(&view.version) {
                continue;
            }
            match inner.set_code(&wanted, view.allow_widening, Origin::Cloud, now) {
                Ok(Response::Done) => {
                    refused.remove(&id);
                    tracing::info!(code = %view.id, "set a code from the cloud");
                }
                Ok(Response::Refused(refusal)) => {
                    tracing::warn!(code = %view.id, refusal = %describe(&refusal), "refused a code from the cloud");
                    refused.insert(id, view.version);
                }
                Ok(_) => {}
                Err(error) => tracing::error!(%error, "a code from the cloud could not be saved"),
            }
        }
        // No wake-up for what this logged: `sync_once` reports it right after.
        // (Waking the loop here made it poll the cloud without pause.)
        drop(inner);
        unacknowledged
    }
}

fn describe(refusal: &Refusal) -> String {
    match refusal {
        Refusal::Full { capacity } => format!("the lock is full ({capacity} codes)"),
        Refusal::Duplicate { other } => format!("its PIN clashes with code {}", CodeId::from_bytes(*other)),
        Refusal::Invalid { reason } => reason.clone(),
        Refusal::NotFound => "not found".to_owned(),
        Refusal::ClockRefused { .. } => "clock refused".to_owned(),
        Refusal::Unsupported => "unsupported".to_owned(),
    }
}
