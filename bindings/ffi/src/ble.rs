//! Bluetooth, provided by the app: the platform owns the radio (CoreBluetooth, the
//! Android GATT stack), the core runs the lock protocol over it. The app implements
//! [`BleTransport`]; what the lock notifies it hands to the [`BleInbox`] it got at
//! `connect`.

use std::sync::Arc;
use std::time::Duration;

use tessera_core::local as core_ble;
use uuid::Uuid;

/// A lock found by a Bluetooth scan.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BleDevice {
    /// The platform's id of the device (a MAC address on Android, a UUID on iOS).
    pub id: String,
    /// The advertised name, if any.
    #[uniffi(default = None)]
    pub name: Option<String>,
    /// The lock's id, when its advertisement carries it (its 16 bytes of service
    /// data, read as a UUID).
    #[uniffi(default = None)]
    pub lock_id: Option<Uuid>,
    #[uniffi(default = None)]
    pub rssi: Option<i16>,
}

/// Bluetooth failed (radio off, no permission, the device went away ...).
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum BleError {
    #[error("{reason}")]
    Failed { reason: String },
}

/// Whatever else the platform threw becomes a Bluetooth failure.
impl From<uniffi::UnexpectedUniFFICallbackError> for BleError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> Self {
        BleError::Failed { reason: error.reason }
    }
}

/// The platform's Bluetooth, as the app implements it on its GATT stack: one
/// characteristic to write to, one that notifies. Tessera calls it off the UI
/// thread and off its async threads, so calls may block; it must be thread-safe.
#[uniffi::export(foreign)]
pub trait BleTransport: Send + Sync {
    /// Locks advertising the Tessera service, found within `timeout_ms`.
    fn scan(&self, timeout_ms: u64) -> Result<Vec<BleDevice>, BleError>;
    /// Connects to a device and subscribes to its notifications, which the app
    /// hands to `inbox` (in order, from any thread); returns the longest write the
    /// link takes (ATT MTU - 3).
    fn connect(&self, device_id: String, inbox: Arc<BleInbox>) -> Result<u32, BleError>;
    /// Writes bytes to the lock (at most the length `connect` returned).
    fn write(&self, device_id: String, bytes: Vec<u8>) -> Result<(), BleError>;
    /// Disconnects; Tessera calls it when it is done with the lock. A failure is
    /// ignored.
    fn disconnect(&self, device_id: String) -> Result<(), BleError>;
}

/// Where the app delivers what a connected lock notifies. Safe from any thread.
#[derive(Debug, uniffi::Object)]
pub struct BleInbox(core_ble::BleInbox);

#[uniffi::export]
impl BleInbox {
    /// Bytes the lock notified, in the order they arrived.
    pub fn deliver(&self, bytes: Vec<u8>) {
        self.0.deliver(bytes);
    }

    /// The link dropped: the session with the lock ends.
    pub fn closed(&self) {
        self.0.closed();
    }
}

/// The app's Bluetooth, as tessera-core's trait.
pub(crate) struct PlatformBle(pub(crate) Arc<dyn BleTransport>);

impl std::fmt::Debug for PlatformBle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlatformBle")
    }
}

fn into_core(error: BleError) -> core_ble::BleError {
    core_ble::BleError {
        reason: error.to_string(),
    }
}

impl core_ble::BleTransport for PlatformBle {
    fn scan(&self, timeout: Duration) -> Result<Vec<core_ble::BleDevice>, core_ble::BleError> {
        let timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        let devices = self.0.scan(timeout_ms).map_err(into_core)?;
        Ok(devices
            .into_iter()
            .map(|device| core_ble::BleDevice {
                id: device.id,
                name: device.name,
                lock_id: device.lock_id.map(|id| *id.as_bytes()),
                rssi: device.rssi,
            })
            .collect())
    }

    fn connect(&self, device_id: &str, inbox: core_ble::BleInbox) -> Result<u32, core_ble::BleError> {
        self.0
            .connect(device_id.to_owned(), Arc::new(BleInbox(inbox)))
            .map_err(into_core)
    }

    fn write(&self, device_id: &str, bytes: &[u8]) -> Result<(), core_ble::BleError> {
        self.0
            .write(device_id.to_owned(), bytes.to_vec())
            .map_err(into_core)
    }

    fn disconnect(&self, device_id: &str) {
        if let Err(error) = self.0.disconnect(device_id.to_owned()) {
            tracing::warn!(%error, "the app's Bluetooth failed to disconnect");
        }
    }
}
