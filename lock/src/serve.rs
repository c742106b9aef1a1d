//! Serving the local protocol: one `LockConnection` (tessera-protocol's sans-IO
//! state machine) per connection, driven by tokio with the connection's
//! deadlines. The lock decides what the protocol leaves to its host: pairing
//! attempts, keys, and the answers to requests.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use tessera_protocol::{LockConnection, LockEvent};

use crate::hex;
use crate::lock::LockHandle;
use crate::policy;

impl LockHandle {
    /// Serves phones on `listener` until the future is dropped (or accepting
    /// fails for good). Each connection runs in its own task.
    pub async fn serve(&self, listener: TcpListener) -> io::Result<()> {
        let slots = Arc::new(Semaphore::new(policy::MAX_CONNECTIONS));
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                // Out of descriptors, a connection reset before it was taken ...: wait, go on.
                Err(error) if is_transient(&error) => {
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
                Err(error) => return Err(error),
            };
            let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
                tracing::warn!(%peer, "too many connections: closing a new one");
                continue;
            };
            let _ = stream.set_nodelay(true);
            let lock = self.clone();
            tokio::spawn(async move {
                tracing::debug!(%peer, "connection");
                lock.serve_connection(stream).await;
                drop(slot);
            });
        }
    }

    /// Runs the protocol on one connection (TCP, or any byte stream) until it ends.
    pub async fn serve_connection<S: AsyncRead + AsyncWrite>(&self, stream: S) {
        let (mut reader, mut writer) = tokio::io::split(stream);
        let start = Instant::now();
        let ms = || u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
        let mut connection = LockConnection::new(self.id(), ms());
        let mut buffer = vec![0u8; 4096];
        let mut idle_until = Instant::now() + policy::IDLE_TIMEOUT;
        loop {
            while let Some(event) = connection.poll_event() {
                self.handle_event(&mut connection, event);
            }
            let mut broken = false;
            while let Some(bytes) = connection.poll_transmit() {
                if !broken && writer.write_all(&bytes).await.is_err() {
                    broken = true;
                }
            }
            if broken {
                connection.handle_close();
                continue;
            }
            if connection.is_closed() {
                break;
            }
            let deadline = connection.next_deadline().map_or(idle_until, |at| {
                (start + Duration::from_millis(at)).min(idle_until)
            });
            tokio::select! {
                read = reader.read(&mut buffer) => match read {
                    Ok(0) | Err(_) => connection.handle_close(),
                    Ok(n) => {
                        idle_until = Instant::now() + policy::IDLE_TIMEOUT;
                        connection.handle_input(&buffer[..n], ms());
                    }
                },
                () = tokio::time::sleep_until(deadline) => {
                    connection.handle_timeout(ms());
                    if Instant::now() >= idle_until {
                        connection.handle_close();
                    }
                }
            }
        }
        let _ = writer.shutdown().await;
    }

    /// Acts on one event of a connection: what a lock's firmware does for each.
    pub fn handle_event(&self, connection: &mut LockConnection, event: LockEvent) {
        match event {
            LockEvent::PairingRequested { phone_id } => {
                if self.pairing_requested(phone_id) {
                    connection.accept_pairing(self.setup_code().normalized(), &mut rand::rng());
                } else {
                    tracing::info!(phone = %hex::encode(&phone_id), "pairing refused: too many attempts");
                    connection.refuse_pairing();
                }
            }
            LockEvent::PairingFailed { phone_id } => self.pairing_failed(phone_id),
            LockEvent::Paired { phone_id, key } => self.paired(phone_id, &key),
            LockEvent::KeyNeeded { phone_id } => {
                let key = self.key_of(phone_id);
                if key.is_none() {
                    tracing::info!(phone = %hex::encode(&phone_id), "a phone this lock does not know");
                }
                connection.provide_key(key, &mut rand::rng());
            }
            LockEvent::Ready { phone_id } => {
                tracing::debug!(phone = %hex::encode(&phone_id), "session up");
            }
            LockEvent::Request { id, request } => {
                let Some(phone) = connection.phone() else {
                    return;
                };
                let response = self.request(phone, request);
                connection.respond(id, response);
            }
            LockEvent::Failed(error) => tracing::debug!(%error, "connection over"),
        }
    }
}

fn is_transient(error: &io::Error) -> bool {
    use io::ErrorKind::*;
    matches!(
        error.kind(),
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock | TimedOut
    ) || error.raw_os_error().is_some_and(|code| code == 23 || code == 24)
}
