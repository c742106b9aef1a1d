//! Bluetooth Low Energy, provided by the app: the platform owns the radio, the
//! core runs the protocol over it. The app implements [`BleTransport`] on its GATT
//! stack (one characteristic to write to, one that notifies); what the lock
//! notifies, the app hands to the [`BleInbox`] it got at `connect`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::transport::LocalTransport;
use crate::{Error, Result};

/// A lock found by a Bluetooth scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BleDevice {
    /// The platform's id of the device (a MAC address on Android, a UUID on iOS).
    pub id: String,
    /// The advertised name, if any.
    pub name: Option<String>,
    /// The lock's id, when its advertisement carries it (service data).
    pub lock_id: Option<[u8; 16]>,
    pub rssi: Option<i16>,
}

/// Bluetooth failed; `reason` is the platform's explanation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct BleError {
    pub reason: String,
}

impl From<BleError> for Error {
    fn from(error: BleError) -> Self {
        Error::Bluetooth { reason: error.reason }
    }
}

/// The platform's Bluetooth, as the app implements it. Calls may block (the core
/// makes them off its async threads); implementations must be thread-safe.
pub trait BleTransport: Send + Sync {
    /// Locks advertising the Tessera service, found within `timeout`.
    fn scan(&self, timeout: Duration) -> std::result::Result<Vec<BleDevice>, BleError>;
    /// Connects to a device and subscribes to its notifications, which go to
    /// `inbox`; returns the longest write the link takes (ATT MTU - 3).
    fn connect(&self, device_id: &str, inbox: BleInbox) -> std::result::Result<u32, BleError>;
    /// Writes bytes to the lock (at most the length `connect` returned).
    fn write(&self, device_id: &str, bytes: &[u8]) -> std::result::Result<(), BleError>;
    /// Disconnects; the core calls it when it is done with the lock, and to cancel
    /// a `connect` it stopped waiting for.
    fn disconnect(&self, device_id: &str);
}

/// Where the app delivers what the lock notifies. Cheap to clone; safe from any thread.
#[derive(Debug, Clone)]
pub struct BleInbox(mpsc::UnboundedSender<Option<Vec<u8>>>);

impl BleInbox {
    /// Bytes the lock notified, in the order they arrived.
    pub fn deliver(&self, bytes: Vec<u8>) {
        let _ = self.0.send(Some(bytes));
    }

    /// The link dropped.
    pub fn closed(&self) {
        let _ = self.0.send(None);
    }
}

/// A connection to a lock over the app's Bluetooth.
pub struct BleLink {
    transport: Arc<dyn BleTransport>,
    device: String,
    max_write: usize,
    inbox: mpsc::UnboundedReceiver<Option<Vec<u8>>>,
}

impl std::fmt::Debug for BleLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BleLink")
            .field("device", &self.device)
            .field("max_write", &self.max_write)
            .finish_non_exhaustive()
    }
}

/// How long the app's `connect` may take before the core gives up on it (and asks
/// the app to `disconnect`, which cancels the attempt).
pub const BLE_CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long past its own timeout the app's `scan` may take.
const SCAN_GRACE: Duration = Duration::from_secs(5);

/// Scans with the app's Bluetooth, off the async threads. A scan that does not
/// end fails with [`Error::Bluetooth`] rather than holding discovery up.
pub async fn scan(transport: Arc<dyn BleTransport>, timeout: Duration) -> Result<Vec<BleDevice>> {
    let scanning = blocking(move || transport.scan(timeout).map_err(Error::from));
    tokio::time::timeout(timeout.saturating_add(SCAN_GRACE), scanning)
        .await
        .map_err(|_| Error::Bluetooth {
            reason: "the Bluetooth scan did not end".to_owned(),
        })?
}

impl BleLink {
    /// Connects to `device`; fails with [`Error::LockUnreachable`] when the app
    /// refuses or does not connect within [`BLE_CONNECT_TIMEOUT`].
    pub async fn connect(transport: Arc<dyn BleTransport>, device: &str) -> Result<Self> {
        let (sender, inbox) = mpsc::unbounded_channel();
        let (for_call, id) = (transport.clone(), device.to_owned());
        let connecting = blocking(move || {
            for_call
                .connect(&id, BleInbox(sender))
                .map_err(|e| Error::LockUnreachable { reason: e.reason })
        });
        let max_write = match tokio::time::timeout(BLE_CONNECT_TIMEOUT, connecting).await {
            Ok(connected) => connected?,
            Err(_) => {
                let (transport, device) = (transport.clone(), device.to_owned());
                drop(tokio::task::spawn_blocking(move || transport.disconnect(&device)));
                return Err(Error::LockUnreachable {
                    reason: format!(
                        "Bluetooth did not connect within {} s",
                        BLE_CONNECT_TIMEOUT.as_secs()
                    ),
                });
            }
        };
        Ok(BleLink {
            transport,
            device: device.to_owned(),
            // BLE 4.0's smallest ATT MTU leaves 20 bytes; nothing smaller is real.
            max_write: usize::try_from(max_write).unwrap_or(usize::MAX).max(20),
            inbox,
        })
    }

    pub fn device(&self) -> &str {
        &self.device
    }
}

impl LocalTransport for BleLink {
    async fn send(&mut self, bytes: &[u8]) -> Result<()> {
        for chunk in bytes.chunks(self.max_write) {
            let (transport, device, chunk) = (self.transport.clone(), self.device.clone(), chunk.to_vec());
            blocking(move || {
                transport
                    .write(&device, &chunk)
                    .map_err(|e| Error::LockUnreachable { reason: e.reason })
            })
            .await?;
        }
        Ok(())
    }

    async fn receive(&mut self) -> Result<Option<Vec<u8>>> {
        Ok(self.inbox.recv().await.flatten())
    }
}

impl Drop for BleLink {
    /// Disconnects before the link is gone (a connection made next must not be
    /// hung up by this one's late disconnect); on a multi-threaded runtime the
    /// worker's other tasks move elsewhere while the app's call blocks.
    fn drop(&mut self) {
        let multi_threaded = tokio::runtime::Handle::try_current()
            .is_ok_and(|runtime| runtime.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if multi_threaded {
            tokio::task::block_in_place(|| self.transport.disconnect(&self.device));
        } else {
            self.transport.disconnect(&self.device);
        }
    }
}

/// Runs a call into the app that may block, off the async threads.
async fn blocking<T: Send + 'static>(call: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(call)
        .await
        .map_err(|e| Error::Bluetooth {
            reason: format!("the Bluetooth call failed: {e}"),
        })?
}
