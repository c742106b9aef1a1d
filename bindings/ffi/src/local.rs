//! Locks reached directly, on the local network or over the app's Bluetooth:
//! discovery, pairing with the setup code printed on the lock, the route a change
//! takes to a lock (local, cloud or queued), the lock's log, its clock and the
//! offline-code epoch.

use std::sync::Arc;
use std::time::Duration;

use tessera_core::model::{CodeId, LockId};
use tessera_core::{LockActivity as CoreActivity, offline::OfflineClass as CoreClass};
use uuid::Uuid;

use crate::ble::{BleTransport, PlatformBle};
use crate::types::{Lock, OfflineClass, SyncReport, Timestamp};
use crate::{TesseraClient, TesseraError, runtime};

/// The longest discovery a call may ask for.
const MAX_DISCOVERY_MS: u64 = 60_000;

/// What discovery looks for.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DiscoveryOptions {
    /// How long to listen for announcements and scan (at most a minute).
    #[uniffi(default = 3000)]
    pub timeout_ms: u64,
    /// Browse the local network (mDNS / DNS-SD).
    #[uniffi(default = true)]
    pub mdns: bool,
    /// Scan with the app's Bluetooth, if one was set (`set_ble_transport`).
    #[uniffi(default = true)]
    pub bluetooth: bool,
    /// `host:port` addresses to try as well: the fallback where multicast does not work.
    #[uniffi(default = [])]
    pub addresses: Vec<String>,
}

/// One way to reach a lock.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum LockRoute {
    /// Through the cloud (which relays to Wi-Fi locks).
    Cloud,
    /// On the local network; `announced` when it was heard over mDNS.
    Network {
        address: String,
        announced: bool,
    },
    Bluetooth {
        device_id: String,
    },
}

impl From<tessera_core::LockRoute> for LockRoute {
    fn from(route: tessera_core::LockRoute) -> Self {
        match route {
            tessera_core::LockRoute::Cloud => LockRoute::Cloud,
            tessera_core::LockRoute::Network { address, announced } => {
                LockRoute::Network { address, announced }
            }
            tessera_core::LockRoute::Bluetooth { device } => LockRoute::Bluetooth { device_id: device },
        }
    }
}

/// A lock discovery found, with every route to it: a lock known from the cloud and
/// found on the local network is one lock with two routes.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DiscoveredLock {
    /// None: something answered (at an address given, or over Bluetooth), but this
    /// device is not paired with it and cannot tell which lock it is.
    pub lock_id: Option<Uuid>,
    pub name: Option<String>,
    /// In this device's list of locks (added here, paired, or from the cloud).
    pub known: bool,
    /// This device holds a pairing key for it.
    pub paired: bool,
    pub routes: Vec<LockRoute>,
}

/// What discovery found.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Discovery {
    pub locks: Vec<DiscoveredLock>,
    /// Addresses given where nothing answered.
    pub unreachable: Vec<String>,
    /// Why browsing the local network failed, when it did (the rest was still found).
    pub mdns_error: Option<String>,
    /// Why the Bluetooth scan failed, when it did.
    pub bluetooth_error: Option<String>,
}

impl From<tessera_core::Discovery> for Discovery {
    fn from(discovery: tessera_core::Discovery) -> Self {
        Discovery {
            locks: discovery
                .locks
                .into_iter()
                .map(|lock| DiscoveredLock {
                    lock_id: lock.lock_id.map(|id| *id.as_uuid()),
                    name: lock.name,
                    known: lock.known,
                    paired: lock.paired,
                    routes: lock.routes.into_iter().map(Into::into).collect(),
                })
                .collect(),
            unreachable: discovery.unreachable,
            mdns_error: discovery.mdns_error,
            bluetooth_error: discovery.bluetooth_error,
        }
    }
}

/// What a lock says about itself.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LockInfo {
    pub lock_id: Uuid,
    pub name: String,
    /// IANA zone the lock keeps its schedules in.
    pub time_zone: String,
    /// The lock's clock when it answered.
    pub clock: Timestamp,
    /// The offline-code epoch: rotating it revokes every earlier offline code.
    pub epoch: u32,
    /// Codes it holds, and how many it can.
    pub codes: u32,
    pub capacity: u32,
    pub min_pin_length: u8,
    pub max_pin_length: u8,
    /// Digits of its offline codes.
    pub offline_digits: u8,
    pub locked: bool,
}

impl From<tessera_core::local::LockInfo> for LockInfo {
    fn from(info: tessera_core::local::LockInfo) -> Self {
        LockInfo {
            lock_id: *LockId::from_bytes(info.lock_id).as_uuid(),
            name: info.name,
            time_zone: info.time_zone,
            clock: instant(info.clock_unix_ms),
            epoch: info.epoch,
            codes: info.codes,
            capacity: info.capacity,
            min_pin_length: info.pin_digits_min,
            max_pin_length: info.pin_digits_max,
            offline_digits: info.offline_digits,
            locked: info.locked,
        }
    }
}

/// A lock this device just paired with.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PairedLock {
    /// The lock in this device's list, under the lock's own id.
    pub lock: Lock,
    pub info: LockInfo,
    /// The lock was new here (not known from the cloud or an earlier pairing).
    pub added: bool,
    /// This device can issue offline codes for it now.
    pub offline_codes: bool,
    /// The lock's clock was off and was set to this device's.
    pub clock_set: bool,
}

impl From<tessera_core::PairedLock> for PairedLock {
    fn from(paired: tessera_core::PairedLock) -> Self {
        PairedLock {
            lock: paired.lock.into(),
            info: paired.info.into(),
            added: paired.added,
            offline_codes: paired.offline_codes,
            clock_set: paired.clock_set,
        }
    }
}

/// How this device reaches a paired lock directly.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LocalRoute {
    pub lock_id: Uuid,
    /// `host:port` on the local network, if it was reached there.
    pub address: Option<String>,
    /// The platform's id of the lock as a Bluetooth device, if paired over Bluetooth.
    pub ble_device: Option<String>,
    pub paired_at: Timestamp,
    /// When the lock last answered over this route.
    pub last_reached_at: Option<Timestamp>,
}

/// Which way changes went to a lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DeliveryRoute {
    /// Straight to the lock, which acknowledged them.
    Local,
    /// To the cloud, which relays them to the lock (Wi-Fi locks).
    Cloud,
    /// Nowhere yet: they wait on this device until a route is up.
    Queued,
}

/// A code the lock refused to hold, with its reason.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RefusedCode {
    pub code_id: Uuid,
    pub reason: String,
}

/// What a push to the lock over its local route did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PushReport {
    /// Codes the lock now holds that it did not (or held in another version).
    pub set: u32,
    /// Revoked or expired codes the lock dropped.
    pub removed: u32,
    /// Codes the lock already held as they are.
    pub unchanged: u32,
    pub refused: Vec<RefusedCode>,
    /// Codes on the lock this device does not know (set by another phone); left alone.
    pub unknown_on_lock: u32,
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl From<tessera_core::local::PushReport> for PushReport {
    fn from(report: tessera_core::local::PushReport) -> Self {
        PushReport {
            set: count(report.set),
            removed: count(report.removed),
            unchanged: count(report.unchanged),
            refused: report
                .refused
                .into_iter()
                .map(|(code, reason)| RefusedCode {
                    code_id: *code.as_uuid(),
                    reason,
                })
                .collect(),
            unknown_on_lock: count(report.unknown_on_lock),
        }
    }
}

/// What became of a lock's pending changes. Each code's `sync` says when the lock
/// holds it ("set on lock" only after the lock acknowledged it).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Delivery {
    pub route: DeliveryRoute,
    /// What the local push did, when the lock was reached.
    pub local: Option<PushReport>,
    /// Why the local route was not taken (not paired here, unreachable ...).
    pub local_error: Option<String>,
    /// What the cloud sync did, when signed in and reached.
    pub cloud: Option<SyncReport>,
    pub cloud_error: Option<String>,
}

impl From<tessera_core::Delivery> for Delivery {
    fn from(delivery: tessera_core::Delivery) -> Self {
        Delivery {
            route: match delivery.route {
                tessera_core::Route::Local => DeliveryRoute::Local,
                tessera_core::Route::Cloud => DeliveryRoute::Cloud,
                tessera_core::Route::Queued => DeliveryRoute::Queued,
            },
            local: delivery.local.map(Into::into),
            local_error: delivery.local_error,
            cloud: delivery.cloud.map(Into::into),
            cloud_error: delivery.cloud_error,
        }
    }
}

/// Something a lock recorded.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum LockActivity {
    /// A code opened the door.
    CodeUsed {
        code_id: Uuid,
    },
    /// An offline code opened the door (`offline_class` is None for a class this build
    /// does not know).
    OfflineCodeUsed {
        start_hour: u32,
        offline_class: Option<OfflineClass>,
        slot: u8,
    },
    /// A wrong code, or a right one during a lockout.
    EntryRefused,
    /// Too many wrong codes: the keypad refuses everything until `until`.
    LockedOut {
        until: Timestamp,
    },
    CodeSet {
        code_id: Uuid,
    },
    CodeRemoved {
        code_id: Uuid,
    },
    /// The lock's clock moved from `before` to `after`.
    ClockSet {
        before: Timestamp,
        after: Timestamp,
    },
    /// Every offline code issued before was revoked.
    EpochRotated {
        epoch: u32,
    },
    /// A phone paired (its id, hex).
    Paired {
        phone: String,
    },
    /// Someone tried to pair with a wrong setup code.
    PairingFailed,
    Locked,
    Unlocked,
}

impl From<CoreActivity> for LockActivity {
    fn from(activity: CoreActivity) -> Self {
        let id = |code: CodeId| *code.as_uuid();
        match activity {
            CoreActivity::CodeUsed { code } => LockActivity::CodeUsed { code_id: id(code) },
            CoreActivity::OfflineCodeUsed {
                start_hour,
                class,
                slot,
            } => LockActivity::OfflineCodeUsed {
                start_hour,
                offline_class: CoreClass::from_code(class).map(Into::into),
                slot,
            },
            CoreActivity::EntryRefused => LockActivity::EntryRefused,
            CoreActivity::LockedOut { until } => LockActivity::LockedOut { until },
            CoreActivity::CodeSet { code } => LockActivity::CodeSet { code_id: id(code) },
            CoreActivity::CodeRemoved { code } => LockActivity::CodeRemoved { code_id: id(code) },
            CoreActivity::ClockSet { from, to } => LockActivity::ClockSet {
                before: from,
                after: to,
            },
            CoreActivity::EpochRotated { epoch } => LockActivity::EpochRotated { epoch },
            CoreActivity::Paired { phone } => LockActivity::Paired { phone },
            CoreActivity::PairingFailed => LockActivity::PairingFailed,
            CoreActivity::Locked => LockActivity::Locked,
            CoreActivity::Unlocked => LockActivity::Unlocked,
        }
    }
}

/// One entry of a lock's log.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LockLogEntry {
    /// The lock's sequence number: a lock's entries are ordered by it.
    pub seq: u64,
    /// When it happened, by the lock's clock.
    pub at: Timestamp,
    pub activity: LockActivity,
}

impl From<tessera_core::LockLogEntry> for LockLogEntry {
    fn from(entry: tessera_core::LockLogEntry) -> Self {
        LockLogEntry {
            seq: entry.seq,
            at: entry.at,
            activity: entry.activity.into(),
        }
    }
}

/// The lock's clock before and after a sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct ClockSync {
    pub lock_clock_before: Timestamp,
    pub set_to: Timestamp,
    /// Lock minus phone, in milliseconds, before the sync.
    pub drift_ms: i64,
}

fn instant(unix_ms: i64) -> Timestamp {
    chrono::DateTime::from_timestamp_millis(unix_ms).unwrap_or_default()
}

fn lock(id: Uuid) -> LockId {
    LockId::from_uuid(id)
}

fn required(field: &str, value: &str) -> Result<(), TesseraError> {
    if value.trim().is_empty() {
        return Err(TesseraError::input(field, "must not be empty"));
    }
    Ok(())
}

#[uniffi::export]
impl TesseraClient {
    /// Sets (or, with None, removes) the app's Bluetooth, for discovery and for
    /// locks paired over Bluetooth.
    pub fn set_ble_transport(&self, transport: Option<Arc<dyn BleTransport>>) {
        self.core().set_ble_transport(
            transport.map(|transport| {
                Arc::new(PlatformBle(transport)) as Arc<dyn tessera_core::local::BleTransport>
            }),
        );
    }

    /// Finds locks: those in this device's list (with the cloud route where the
    /// cloud has them), those announcing themselves on the local network, those the
    /// app's Bluetooth finds, and whatever answers at the given addresses; one entry
    /// per lock.
    pub async fn discover_locks(&self, options: DiscoveryOptions) -> Result<Discovery, TesseraError> {
        if options.timeout_ms > MAX_DISCOVERY_MS {
            return Err(TesseraError::input(
                "timeout_ms",
                format!("at most {MAX_DISCOVERY_MS} ms"),
            ));
        }
        if options.addresses.iter().any(|address| address.trim().is_empty()) {
            return Err(TesseraError::input("addresses", "an address is empty"));
        }
        let options = tessera_core::DiscoveryOptions {
            timeout: Duration::from_millis(options.timeout_ms),
            mdns: options.mdns,
            bluetooth: options.bluetooth,
            addresses: options.addresses,
        };
        let inner = self.core();
        runtime::run(async move { Ok(inner.discover_locks(options).await?.into()) }).await
    }

    /// Pairs with the lock at `address` (`host:port`) using the setup code printed
    /// on it; the lock joins this device's list under its own id. A wrong setup
    /// code fails with `PairingRefused` (also when the lock limits attempts).
    pub async fn pair_lock(&self, address: String, setup_code: String) -> Result<PairedLock, TesseraError> {
        required("address", &address)?;
        required("setup_code", &setup_code)?;
        let setup_code = zeroize::Zeroizing::new(setup_code);
        let inner = self.core();
        runtime::run(async move { Ok(inner.pair_lock(&address, &setup_code).await?.into()) }).await
    }

    /// Pairs with a lock over the app's Bluetooth (`device_id` from a scan).
    pub async fn pair_lock_ble(
        &self,
        device_id: String,
        setup_code: String,
    ) -> Result<PairedLock, TesseraError> {
        required("device_id", &device_id)?;
        required("setup_code", &setup_code)?;
        let setup_code = zeroize::Zeroizing::new(setup_code);
        let inner = self.core();
        runtime::run(async move { Ok(inner.pair_lock_ble(&device_id, &setup_code).await?.into()) }).await
    }

    /// How this device reaches the lock directly; None when not paired here.
    pub fn local_route(&self, lock_id: Uuid) -> Result<Option<LocalRoute>, TesseraError> {
        let route = self.core().local_route(lock(lock_id))?;
        Ok(route.map(|route| LocalRoute {
            lock_id: *route.lock_id.as_uuid(),
            address: route.address,
            ble_device: route.ble_device,
            paired_at: route.paired_at,
            last_reached_at: route.last_reached_at,
        }))
    }

    /// What the lock says about itself, over its local route.
    pub async fn lock_info(&self, lock_id: Uuid) -> Result<LockInfo, TesseraError> {
        let inner = self.core();
        runtime::run(async move { Ok(inner.lock_info(lock(lock_id)).await?.into()) }).await
    }

    /// Makes the lock hold exactly this device's live codes for it, over its local
    /// route; each code it acknowledges becomes "set on lock".
    pub async fn push_to_lock(&self, lock_id: Uuid) -> Result<PushReport, TesseraError> {
        let inner = self.core();
        runtime::run(async move { Ok(inner.push_to_lock(lock(lock_id)).await?.into()) }).await
    }

    /// Sends the lock's pending changes the best way there is: over the local route
    /// when the lock answers there, else through the cloud, else they stay queued.
    /// Fails only for an unknown lock; the result says which route was taken.
    pub async fn deliver(&self, lock_id: Uuid) -> Result<Delivery, TesseraError> {
        let inner = self.core();
        runtime::run(async move { Ok(inner.deliver(lock(lock_id)).await?.into()) }).await
    }

    /// Reads the lock's new log entries over its local route, keeps them, and
    /// returns them oldest first.
    pub async fn read_lock_events(&self, lock_id: Uuid) -> Result<Vec<LockLogEntry>, TesseraError> {
        let inner = self.core();
        runtime::run(async move {
            Ok(inner
                .read_lock_events(lock(lock_id))
                .await?
                .into_iter()
                .map(Into::into)
                .collect())
        })
        .await
    }

    /// The lock's log as read so far (no connection), newest first, at most `limit`.
    pub fn lock_log(&self, lock_id: Uuid, limit: u32) -> Result<Vec<LockLogEntry>, TesseraError> {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        Ok(self
            .core()
            .lock_log(lock(lock_id), limit)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Sets the lock's clock to this device's, over its local route.
    pub async fn sync_lock_clock(&self, lock_id: Uuid) -> Result<ClockSync, TesseraError> {
        let inner = self.core();
        runtime::run(async move {
            let sync = inner.sync_lock_clock(lock(lock_id)).await?;
            Ok(ClockSync {
                lock_clock_before: sync.lock_clock_before,
                set_to: sync.set_to,
                drift_ms: sync.drift_ms,
            })
        })
        .await
    }

    /// Revokes every offline code issued for the lock so far, by any device: the
    /// lock moves to a new epoch. Returns the new epoch.
    pub async fn rotate_offline_epoch(&self, lock_id: Uuid) -> Result<u32, TesseraError> {
        let inner = self.core();
        runtime::run(async move { Ok(inner.rotate_offline_epoch(lock(lock_id)).await?) }).await
    }

    /// Fetches the lock's offline secret again (after another device rotated the
    /// epoch). Returns the lock's epoch.
    pub async fn refresh_offline_secret(&self, lock_id: Uuid) -> Result<u32, TesseraError> {
        let inner = self.core();
        runtime::run(async move { Ok(inner.refresh_offline_secret(lock(lock_id)).await?) }).await
    }
}
