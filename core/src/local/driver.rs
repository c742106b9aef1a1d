//! Runs the phone's protocol state machine ([`ClientConnection`]) over a transport:
//! writes what it wants sent, feeds it what arrives, and wakes it at its deadlines.
//! The state machine keeps the protocol's own timeouts (handshake, request); the
//! driver only supplies the clock.

use tessera_protocol::{ClientConnection, ClientEvent, ProtocolError};
use tokio::time::Instant;

use super::transport::LocalTransport;
use crate::{Error, Result};

/// Which step the connection is at, for naming what went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Pairing,
    Resuming,
    Session,
}

pub(crate) struct Driver<T> {
    connection: ClientConnection,
    transport: T,
    started: Instant,
    phase: Phase,
}

impl<T> std::fmt::Debug for Driver<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("phase", &self.phase)
            .finish_non_exhaustive()
    }
}

impl<T: LocalTransport> Driver<T> {
    /// `make` builds the connection with the driver's clock (milliseconds from now).
    pub(crate) fn new(transport: T, phase: Phase, make: impl FnOnce(u64) -> ClientConnection) -> Self {
        Driver {
            connection: make(0),
            transport,
            started: Instant::now(),
            phase,
        }
    }

    /// Milliseconds since the driver started: the protocol's clock.
    pub(crate) fn now(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub(crate) fn set_phase(&mut self, phase: Phase) {
        self.phase = phase;
    }

    pub(crate) fn connection(&mut self) -> &mut ClientConnection {
        &mut self.connection
    }

    /// Moves bytes and time until `pick` takes an event (returning `Some`); a
    /// failure of the connection ends it with the matching error.
    pub(crate) async fn run_until<R>(
        &mut self,
        mut pick: impl FnMut(ClientEvent) -> Option<Result<R>>,
    ) -> Result<R> {
        loop {
            while let Some(bytes) = self.connection.poll_transmit() {
                // A transport that takes writes no more (a hung Bluetooth stack, a
                // peer that stopped reading) fails at the protocol's deadline.
                let deadline = self.deadline();
                let sent = tokio::select! {
                    sent = self.transport.send(&bytes) => Some(sent),
                    () = sleep_until(deadline) => None,
                };
                match sent {
                    Some(Ok(())) => {}
                    Some(Err(error)) => {
                        self.connection.handle_close();
                        return Err(error);
                    }
                    None => {
                        let now = self.now();
                        self.connection.handle_timeout(now);
                        self.connection.handle_close();
                        return Err(protocol_error(ProtocolError::Timeout, self.phase));
                    }
                }
            }
            while let Some(event) = self.connection.poll_event() {
                if let ClientEvent::Failed(error) = event {
                    return Err(protocol_error(error, self.phase));
                }
                if let Some(result) = pick(event) {
                    return result;
                }
            }
            if self.connection.is_closed() {
                return Err(protocol_error(ProtocolError::Closed, self.phase));
            }
            let deadline = self.deadline();
            tokio::select! {
                received = self.transport.receive() => match received {
                    Ok(Some(bytes)) => {
                        let now = self.now();
                        self.connection.handle_input(&bytes, now);
                    }
                    Ok(None) => self.connection.handle_close(),
                    Err(error) => {
                        self.connection.handle_close();
                        return Err(error);
                    }
                },
                () = sleep_until(deadline) => {
                    let now = self.now();
                    self.connection.handle_timeout(now);
                }
            }
        }
    }
}

impl<T> Driver<T> {
    /// The connection's next deadline as an instant.
    fn deadline(&self) -> Option<Instant> {
        self.connection
            .next_deadline()
            .map(|at| self.started + std::time::Duration::from_millis(at))
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// What a protocol failure means for the owner, depending on the step.
pub(crate) fn protocol_error(error: ProtocolError, phase: Phase) -> Error {
    match (error, phase) {
        (ProtocolError::Refused | ProtocolError::PairingFailed, Phase::Pairing) => Error::PairingRefused,
        (ProtocolError::Refused, Phase::Resuming) => Error::NotPaired {
            lock: "at this address".to_owned(),
        },
        (ProtocolError::Refused, Phase::Session) => Error::LockRefused {
            reason: "the lock closed the session".to_owned(),
        },
        (ProtocolError::WrongLock, _) => Error::WrongLock,
        (ProtocolError::Timeout, _) => Error::LockUnreachable {
            reason: "the lock did not answer in time".to_owned(),
        },
        (ProtocolError::Closed, _) => Error::LockUnreachable {
            reason: "the lock closed the connection".to_owned(),
        },
        (error, _) => Error::LocalProtocol {
            reason: error.to_string(),
        },
    }
}
