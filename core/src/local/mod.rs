//! Locks reached directly, on the local network or over Bluetooth: the transports,
//! the driver that runs the protocol's state machine over them, the session API,
//! what pairing leaves on the phone, discovery, and the local route for codes.
//! One module per job; the client facade ties them to the store.

mod ble;
mod discovery;
mod driver;
mod route;
mod secrets;
mod session;
mod transport;
mod wire;

pub use ble::{BLE_CONNECT_TIMEOUT, BleDevice, BleError, BleInbox, BleLink, BleTransport, scan as ble_scan};
pub use discovery::{Announced, SERVICE_TYPE, browse};
pub use route::{PushReport, push_codes};
pub use secrets::{offline_secret_entry, pairing_key_entry};
pub use session::LocalLock;
pub use tessera_protocol::PairingKey;
pub use tessera_protocol::wire::{LockCode, LockEvent, LockInfo, OfflineSecret};
pub use transport::{CONNECT_TIMEOUT, LocalTransport, TcpTransport};
pub use wire::{hex, parse_lock_id};

pub(crate) use secrets::{
    forget, offline_secret, pairing_key, phone_id, save_offline_secret, save_pairing_key,
};
pub(crate) use wire::log_entry;

use crate::Result;

/// The link to a lock the facade opens: the local network or Bluetooth.
#[derive(Debug)]
pub enum Link {
    Tcp(TcpTransport),
    Ble(BleLink),
}

impl LocalTransport for Link {
    async fn send(&mut self, bytes: &[u8]) -> Result<()> {
        match self {
            Link::Tcp(tcp) => tcp.send(bytes).await,
            Link::Ble(ble) => ble.send(bytes).await,
        }
    }

    async fn receive(&mut self) -> Result<Option<Vec<u8>>> {
        match self {
            Link::Tcp(tcp) => tcp.receive().await,
            Link::Ble(ble) => ble.receive().await,
        }
    }
}
