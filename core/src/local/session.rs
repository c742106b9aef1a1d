//! A session with one lock over any transport: pairing (with the setup code printed
//! on the lock) or resuming (with the key pairing left), then requests, one at a
//! time. The low-level API the client facade builds on; it knows nothing of the store.

use chrono::{DateTime, Utc};
use tessera_protocol::wire::{
    CodeId, LockCode, LockEvent, LockInfo, OfflineSecret, Refusal, Request, Response,
};
use tessera_protocol::{ClientConnection, ClientEvent, PairingKey};

use super::driver::{Driver, Phase};
use super::transport::LocalTransport;
use crate::{Error, Result};

/// An open, authenticated and encrypted session with a lock.
pub struct LocalLock<T> {
    driver: Driver<T>,
    lock_id: [u8; 16],
}

impl<T> std::fmt::Debug for LocalLock<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalLock")
            .field("lock_id", &super::wire::hex(&self.lock_id))
            .finish_non_exhaustive()
    }
}

impl<T: LocalTransport> LocalLock<T> {
    /// Pairs with the lock using its setup code, and opens a session. The key is
    /// for the secure store. A wrong setup code fails with [`Error::PairingRefused`].
    /// The separators a label prints for reading (`-`, spaces) are not part of the
    /// code: `4829-1305` and `48291305` are the same, as on the lock.
    pub async fn pair(transport: T, phone_id: [u8; 16], setup_code: &str) -> Result<(Self, PairingKey)> {
        let setup_code = normalize_setup_code(setup_code);
        let mut driver = Driver::new(transport, Phase::Pairing, |now| {
            ClientConnection::pair(phone_id, &setup_code, now, &mut rand::rng())
        });
        let mut key = None;
        let lock_id = driver
            .run_until(|event| match event {
                ClientEvent::Paired { key: paired, .. } => {
                    key = Some(paired);
                    None
                }
                ClientEvent::Ready { lock_id } => Some(Ok(lock_id)),
                _ => None,
            })
            .await?;
        let key = key.ok_or_else(|| Error::LocalProtocol {
            reason: "the session opened without pairing".to_owned(),
        })?;
        driver.set_phase(Phase::Session);
        Ok((LocalLock { driver, lock_id }, key))
    }

    /// Opens a session with a paired lock. With `expected`, a lock answering with
    /// another id is refused ([`Error::WrongLock`]).
    pub async fn resume(
        transport: T,
        phone_id: [u8; 16],
        key: PairingKey,
        expected: Option<[u8; 16]>,
    ) -> Result<Self> {
        let mut driver = Driver::new(transport, Phase::Resuming, |now| {
            ClientConnection::resume(phone_id, key, expected, now, &mut rand::rng())
        });
        let lock_id = driver
            .run_until(|event| match event {
                ClientEvent::Ready { lock_id } => Some(Ok(lock_id)),
                _ => None,
            })
            .await?;
        driver.set_phase(Phase::Session);
        Ok(LocalLock { driver, lock_id })
    }

    /// The lock's own id.
    pub fn lock_id(&self) -> [u8; 16] {
        self.lock_id
    }

    pub async fn info(&mut self) -> Result<LockInfo> {
        match self.request(Request::GetInfo).await? {
            Response::Info(info) => Ok(info),
            other => Err(unexpected(&other)),
        }
    }

    /// Sets a code (or replaces the one with its id); `Ok` once the lock holds it.
    pub async fn set_code(&mut self, code: LockCode) -> Result<()> {
        self.done(Request::SetCode(code)).await
    }

    /// Removes a code; `false` when the lock did not hold it.
    pub async fn remove_code(&mut self, id: CodeId) -> Result<bool> {
        match self.request(Request::RemoveCode { id }).await? {
            Response::Done => Ok(true),
            Response::Refused(Refusal::NotFound) => Ok(false),
            Response::Refused(refusal) => Err(refused(refusal)),
            other => Err(unexpected(&other)),
        }
    }

    pub async fn list_codes(&mut self) -> Result<Vec<LockCode>> {
        match self.request(Request::ListCodes).await? {
            Response::Codes(codes) => Ok(codes),
            Response::Refused(refusal) => Err(refused(refusal)),
            other => Err(unexpected(&other)),
        }
    }

    /// Events with a sequence number above `after`, oldest first, at most `limit`.
    pub async fn read_events(&mut self, after: u64, limit: u16) -> Result<Vec<LockEvent>> {
        match self.request(Request::ReadEvents { after, limit }).await? {
            Response::Events(events) => Ok(events),
            Response::Refused(refusal) => Err(refused(refusal)),
            other => Err(unexpected(&other)),
        }
    }

    /// Sets the lock's clock; it refuses to go back further than its tolerance
    /// ([`Error::ClockRefused`]).
    pub async fn set_clock(&mut self, at: DateTime<Utc>) -> Result<()> {
        self.done(Request::SetClock {
            unix_ms: at.timestamp_millis(),
        })
        .await
    }

    /// Revokes every offline code issued so far; the lock's offline secret moves
    /// to a new epoch (read it again with [`Self::offline_secret`]).
    pub async fn rotate_epoch(&mut self) -> Result<()> {
        self.done(Request::RotateEpoch).await
    }

    /// What this phone needs to issue offline codes with no network.
    pub async fn offline_secret(&mut self) -> Result<OfflineSecret> {
        match self.request(Request::GetOfflineSecret).await? {
            Response::OfflineSecret(secret) => Ok(secret),
            Response::Refused(refusal) => Err(refused(refusal)),
            other => Err(unexpected(&other)),
        }
    }

    pub async fn lock(&mut self) -> Result<()> {
        self.done(Request::Lock).await
    }

    pub async fn unlock(&mut self) -> Result<()> {
        self.done(Request::Unlock).await
    }

    async fn done(&mut self, request: Request) -> Result<()> {
        match self.request(request).await? {
            Response::Done => Ok(()),
            Response::Refused(refusal) => Err(refused(refusal)),
            other => Err(unexpected(&other)),
        }
    }

    /// Sends a request and waits for its answer (the protocol's request timeout applies).
    pub async fn request(&mut self, request: Request) -> Result<Response> {
        let now = self.driver.now();
        let id = self
            .driver
            .connection()
            .send(request, now)
            .map_err(|error| super::driver::protocol_error(error, Phase::Session))?;
        self.driver
            .run_until(|event| match event {
                ClientEvent::Response {
                    id: answered,
                    response,
                } if answered == id => Some(Ok(response)),
                _ => None,
            })
            .await
    }
}

/// The setup code as the PAKE takes it: without `-` and whitespace (the lock
/// pairs with the same form).
fn normalize_setup_code(text: &str) -> zeroize::Zeroizing<String> {
    zeroize::Zeroizing::new(text.chars().filter(|c| *c != '-' && !c.is_whitespace()).collect())
}

/// A refusal as the owner reads it.
pub(crate) fn refused(refusal: Refusal) -> Error {
    let reason = match refusal {
        Refusal::ClockRefused { lock_unix_ms } => {
            return Error::ClockRefused {
                lock_clock: DateTime::from_timestamp_millis(lock_unix_ms).unwrap_or_default(),
            };
        }
        Refusal::Full { capacity } => format!("it holds at most {capacity} codes"),
        Refusal::Duplicate { .. } => {
            "another code on the lock has the same PIN (or one starts or ends the other)".to_owned()
        }
        Refusal::Invalid { reason } => format!("invalid code: {}", tessera_model::excerpt(&reason)),
        Refusal::NotFound => "no such code on the lock".to_owned(),
        Refusal::Unsupported => "the lock does not support this".to_owned(),
    };
    Error::LockRefused { reason }
}

fn unexpected(response: &Response) -> Error {
    let what = match response {
        Response::Info(_) => "its info",
        Response::Done => "done",
        Response::Codes(_) => "a code list",
        Response::Events(_) => "events",
        Response::OfflineSecret(_) => "an offline secret",
        Response::Refused(_) => "a refusal",
    };
    Error::LocalProtocol {
        reason: format!("the lock answered with {what}, which does not fit the request"),
    }
}
