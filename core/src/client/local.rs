//! Locks reached directly: discovery, pairing, the route a change takes to a lock
//! (local when reachable, else the cloud, else queued), the lock's log, its clock,
//! and the offline-code epoch.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tessera_model::lock::{parse_time_zone, validate_lock_name};
use tessera_model::{Granularity, Keypad, Lock, LockCapabilities, LockId, PinLengths, ScheduleKind};

use super::{TesseraClient, now};
use crate::local::{self, BleLink, BleTransport, Link, LocalLock, LockInfo, PushReport, TcpTransport};
use crate::store::{LocalRoute, LockLogEntry, Operation};
use crate::sync::SyncReport;
use crate::{Error, Result};

/// Events read per request.
const EVENT_PAGE: u16 = 200;
/// A lock clock off by more than this is set when pairing.
const CLOCK_SET_AT_PAIRING_MS: i64 = 60_000;

/// What to look for.
#[derive(Debug, Clone)]
pub struct DiscoveryOptions {
    /// How long to listen for announcements and scan.
    pub timeout: Duration,
    /// Browse the local network (mDNS / DNS-SD).
    pub mdns: bool,
    /// Scan with the app's Bluetooth transport, if one is set.
    pub bluetooth: bool,
    /// `host:port` addresses to try as well: the fallback where multicast does not work.
    pub addresses: Vec<String>,
}

impl Default for DiscoveryOptions {
    fn default() -> Self {
        DiscoveryOptions {
            timeout: Duration::from_secs(3),
            mdns: true,
            bluetooth: true,
            addresses: Vec::new(),
        }
    }
}

/// One way to reach a lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockRoute {
    /// Through the cloud (which relays to Wi-Fi locks).
    Cloud,
    /// On the local network; `announced` when it was heard over mDNS.
    Network {
        address: String,
        announced: bool,
    },
    Bluetooth {
        device: String,
    },
}

/// A lock found by discovery, with every route to it: a lock known from the cloud
/// and found on the local network is one lock with two routes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveredLock {
    /// `None`: something answered at an address given by hand, but this device is not
    /// paired with it and cannot tell which lock it is.
    pub lock_id: Option<LockId>,
    pub name: Option<String>,
    /// In this device's list of locks (added here, paired, or from the cloud).
    pub known: bool,
    /// This device holds a pairing key for it.
    pub paired: bool,
    pub routes: Vec<LockRoute>,
}

/// What discovery found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    pub locks: Vec<DiscoveredLock>,
    /// Addresses given by hand where nothing answered.
    pub unreachable: Vec<String>,
    /// Why browsing the local network failed, if it did; the other ways still ran.
    pub mdns_error: Option<String>,
    /// Why the Bluetooth scan failed (Bluetooth off, no permission ...), if it did;
    /// the other ways still ran.
    pub bluetooth_error: Option<String>,
}

/// A lock this device just paired with.
#[derive(Debug, Clone)]
pub struct PairedLock {
    /// The lock in the store, under the lock's own id.
    pub lock: Lock,
    pub info: LockInfo,
    /// The lock was new here (not known from the cloud or an earlier pairing).
    pub added: bool,
    /// Whether this device can issue offline codes for it now.
    pub offline_codes: bool,
    /// The lock's clock was off and was set.
    pub clock_set: bool,
}

/// Which way a change went to a lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Straight to the lock, which acknowledged it.
    Local,
    /// To the cloud, which relays it to the lock (Wi-Fi locks).
    Cloud,
    /// Nowhere yet: it waits on this device until a route is up.
    Queued,
}

impl Route {
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Local => "local",
            Route::Cloud => "cloud",
            Route::Queued => "queued",
        }
    }
}

/// What became of the changes for one lock.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub route: Route,
    /// What the local push did, when the lock was reached.
    pub local: Option<PushReport>,
    /// Why the local route was not taken (no pairing, unreachable ...).
    pub local_error: Option<String>,
    /// What the cloud sync did, when signed in and reached.
    pub cloud: Option<SyncReport>,
    pub cloud_error: Option<String>,
}

/// The lock's clock before and after a sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockSync {
    pub lock_clock_before: DateTime<Utc>,
    pub set_to: DateTime<Utc>,
    /// Lock minus phone, in milliseconds, before the sync.
    pub drift_ms: i64,
}

impl TesseraClient {
    /// Sets (or, with `None`, removes) the app's Bluetooth, for discovery and locks
    /// paired over Bluetooth.
    pub fn set_ble_transport(&self, transport: Option<Arc<dyn BleTransport>>) {
        match self.ble.write() {
            Ok(mut guard) => *guard = transport,
            Err(poisoned) => *poisoned.into_inner() = transport,
        }
    }

    fn ble_transport(&self) -> Option<Arc<dyn BleTransport>> {
        self.ble
            .read()
            .map_or_else(|poisoned| poisoned.into_inner().clone(), |guard| guard.clone())
    }

    /// This device's id towards locks (made once).
    pub fn phone_id(&self) -> Result<[u8; 16]> {
        self.store.write(local::phone_id)
    }

    /// Finds locks: those in the store (with the cloud route where the cloud has
    /// them), those announcing themselves on the local network, those the app's
    /// Bluetooth finds, and whatever answers at the given addresses; merged by id.
    pub async fn discover_locks(&self, options: DiscoveryOptions) -> Result<Discovery> {
        let (locks, cloud, routes) = self
            .store
            .read(|db| Ok((db.locks()?, db.locks_known_to_cloud()?, db.local_routes()?)))?;
        let mut found: BTreeMap<LockId, DiscoveredLock> = BTreeMap::new();
        let paired =
            |id: LockId| -> Result<bool> { Ok(local::pairing_key(self.secure.as_ref(), id)?.is_some()) };
        for lock in &locks {
            let mut entry = DiscoveredLock {
                lock_id: Some(lock.id),
                name: Some(lock.name.clone()),
                known: true,
                paired: paired(lock.id)?,
                routes: Vec::new(),
            };
            if cloud.contains(&lock.id) {
                entry.routes.push(LockRoute::Cloud);
            }
            found.insert(lock.id, entry);
        }
        let add_route = |found: &mut BTreeMap<LockId, DiscoveredLock>,
                         id: LockId,
                         name: Option<String>,
                         route: LockRoute|
         -> Result<()> {
            let entry = match found.entry(id) {
                std::collections::btree_map::Entry::Occupied(entry) => entry.into_mut(),
                std::collections::btree_map::Entry::Vacant(slot) => slot.insert(DiscoveredLock {
                    lock_id: Some(id),
                    name: None,
                    known: false,
                    paired: paired(id)?,
                    routes: Vec::new(),
                }),
            };
            if entry.name.is_none() {
                entry.name = name.filter(|name| !name.is_empty());
            }
            let same = |existing: &LockRoute| match (existing, &route) {
                (LockRoute::Network { address: a, .. }, LockRoute::Network { address: b, .. }) => a == b,
                (a, b) => a == b,
            };
            if !entry.routes.iter().any(same) {
                entry.routes.push(route);
            }
            Ok(())
        };

        let bluetooth = self.ble_transport().filter(|_| options.bluetooth);
        let (announced, scanned) = tokio::join!(
            async {
                if options.mdns {
                    local::browse(options.timeout).await
                } else {
                    Ok(Vec::new())
                }
            },
            async {
                match bluetooth {
                    Some(transport) => local::ble_scan(transport, options.timeout).await,
                    None => Ok(Vec::new()),
                }
            }
        );
        // One way failing (Bluetooth off, multicast filtered) must not hide what the others find.
        let (announced, mdns_error) = match announced {
            Ok(announced) => (announced, None),
            Err(error) => {
                tracing::info!(%error, "browsing the local network failed");
                (Vec::new(), Some(error.to_string()))
            }
        };
        let (scanned, bluetooth_error) = match scanned {
            Ok(scanned) => (scanned, None),
            Err(error) => {
                tracing::info!(%error, "the Bluetooth scan failed");
                (Vec::new(), Some(error.to_string()))
            }
        };
        for lock in announced {
            let id = LockId::from_bytes(lock.lock_id);
            for address in &lock.addresses {
                add_route(
                    &mut found,
                    id,
                    Some(lock.name.clone()),
                    LockRoute::Network {
                        address: address.to_string(),
                        announced: true,
                    },
                )?;
            }
            // A paired lock that moved: its new address becomes its route.
            if let (Some(route), Some(address)) =
                (routes.iter().find(|r| r.lock_id == id), lock.addresses.first())
                && route.address.as_deref() != Some(address.to_string().as_str())
            {
                let address = address.to_string();
                self.store
                    .write(|db| db.local_route_reached(id, Some(&address), now()))?;
            }
        }
        let mut unidentified = Vec::new();
        for device in scanned {
            let by_device = routes
                .iter()
                .find(|route| route.ble_device.as_deref() == Some(device.id.as_str()));
            let id = device
                .lock_id
                .map(LockId::from_bytes)
                .or(by_device.map(|route| route.lock_id));
            match id {
                Some(id) => add_route(
                    &mut found,
                    id,
                    device.name.clone(),
                    LockRoute::Bluetooth { device: device.id },
                )?,
                None => unidentified.push(DiscoveredLock {
                    lock_id: None,
                    name: device.name.clone(),
                    known: false,
                    paired: false,
                    routes: vec![LockRoute::Bluetooth { device: device.id }],
                }),
            }
        }
        // Paired locks not heard over mDNS: their last address, if it still answers.
        for route in &routes {
            let Some(address) = &route.address else { continue };
            let heard = found.get(&route.lock_id).is_some_and(|entry| {
                entry
                    .routes
                    .iter()
                    .any(|r| matches!(r, LockRoute::Network { .. }))
            });
            if !heard && !options.addresses.contains(address) && probe(address).await {
                add_route(
                    &mut found,
                    route.lock_id,
                    None,
                    LockRoute::Network {
                        address: address.clone(),
                        announced: false,
                    },
                )?;
            }
        }
        let mut unreachable = Vec::new();
        for address in &options.addresses {
            if !probe(address).await {
                unreachable.push(address.clone());
                continue;
            }
            let route = LockRoute::Network {
                address: address.clone(),
                announced: false,
            };
            match self.identify(address, &routes).await {
                Some(id) => add_route(&mut found, id, None, route)?,
                None => unidentified.push(DiscoveredLock {
                    lock_id: None,
                    name: None,
                    known: false,
                    paired: false,
                    routes: vec![route],
                }),
            }
        }
        let mut locks: Vec<DiscoveredLock> = found.into_values().collect();
        locks.extend(unidentified);
        Ok(Discovery {
            locks,
            unreachable,
            mdns_error,
            bluetooth_error,
        })
    }

    /// Which paired lock answers at `address`, tried with each pairing key (the one
    /// last seen there first).
    async fn identify(&self, address: &str, routes: &[LocalRoute]) -> Option<LockId> {
        let phone = self.phone_id().ok()?;
        let mut candidates: Vec<&LocalRoute> = routes.iter().collect();
        candidates.sort_by_key(|route| route.address.as_deref() != Some(address));
        for route in candidates {
            let Ok(Some(key)) = local::pairing_key(self.secure.as_ref(), route.lock_id) else {
                continue;
            };
            let Ok(transport) = TcpTransport::connect(address).await else {
                return None;
            };
            if LocalLock::resume(transport, phone, key, Some(*route.lock_id.as_bytes()))
                .await
                .is_ok()
            {
                let _ = self
                    .store
                    .write(|db| db.local_route_reached(route.lock_id, Some(address), now()));
                return Some(route.lock_id);
            }
        }
        None
    }

    /// Pairs with the lock at `address` (`host:port`) using the setup code printed on
    /// it. The pairing key and the offline secret go to the secure store; the lock
    /// is added under its own id, or, known already (from the cloud), gets the local
    /// route. A wrong setup code fails with [`Error::PairingRefused`].
    pub async fn pair_lock(&self, address: &str, setup_code: &str) -> Result<PairedLock> {
        check_setup_code(setup_code)?;
        let transport = TcpTransport::connect(address).await?;
        self.pair_over(Link::Tcp(transport), Some(address), None, setup_code)
            .await
    }

    /// Pairs with a lock over the app's Bluetooth (`device_id` from a scan).
    pub async fn pair_lock_ble(&self, device_id: &str, setup_code: &str) -> Result<PairedLock> {
        check_setup_code(setup_code)?;
        let transport = self.ble_transport().ok_or_else(no_bluetooth)?;
        let link = BleLink::connect(transport, device_id).await?;
        self.pair_over(Link::Ble(link), None, Some(device_id), setup_code)
            .await
    }

    async fn pair_over(
        &self,
        link: Link,
        address: Option<&str>,
        ble_device: Option<&str>,
        setup_code: &str,
    ) -> Result<PairedLock> {
        let phone = self.phone_id()?;
        let (mut session, key) = LocalLock::pair(link, phone, setup_code).await?;
        let lock_id = LockId::from_bytes(session.lock_id());
        // The lock keeps the pairing from now on: so must this device, whatever follows.
        local::save_pairing_key(self.secure.as_ref(), lock_id, &key)?;
        let info = session.info().await?;
        if info.lock_id != *lock_id.as_bytes() {
            return Err(Error::WrongLock);
        }
        let secret = match session.offline_secret().await {
            Ok(secret) => Some(secret),
            Err(Error::LockRefused { .. }) => None,
            Err(error) => return Err(error),
        };
        if let Some(secret) = &secret {
            local::save_offline_secret(self.secure.as_ref(), lock_id, secret)?;
        }
        let at = now();
        let drift = info.clock_unix_ms - at.timestamp_millis();
        let clock_set = drift.abs() > CLOCK_SET_AT_PAIRING_MS
            && match session.set_clock(now()).await {
                Ok(()) => true,
                Err(Error::ClockRefused { .. }) => false,
                Err(error) => return Err(error),
            };
        let new_lock = Lock {
            id: lock_id,
            name: validate_lock_name(&info.name)
                .unwrap_or_else(|_| format!("Lock {}", &local::hex(lock_id.as_bytes())[..8])),
            time_zone: parse_time_zone(&info.time_zone)?,
            capabilities: capabilities(&info, secret.is_some()),
        };
        let (lock, added) = self.write(|db| {
            let added = match db.lock(lock_id) {
                Ok(_) => false,
                Err(Error::NotFound { .. }) => {
                    db.insert_lock(&new_lock, at)?;
                    db.push_outbox(Operation::CreateLock, *lock_id.as_uuid(), &[], at)?;
                    true
                }
                Err(error) => return Err(error),
            };
            db.save_local_route(lock_id, address, ble_device, at)?;
            Ok((db.lock(lock_id)?, added))
        })?;
        tracing::info!(lock = %lock_id, added, "paired with a lock");
        Ok(PairedLock {
            lock,
            info,
            added,
            offline_codes: secret.is_some(),
            clock_set,
        })
    }

    /// The local route of a lock, if this device paired with it.
    pub fn local_route(&self, lock: LockId) -> Result<Option<LocalRoute>> {
        self.store.read(|db| db.local_route(lock))
    }

    /// Opens a session with a paired lock over its local route: the network
    /// address it was last reached at, else (absent or not answering) Bluetooth.
    pub async fn open_local(&self, lock: LockId) -> Result<LocalLock<Link>> {
        let route = self.local_route(lock)?.ok_or_else(|| not_paired(lock))?;
        self.open_route(&route).await
    }

    /// [`Self::open_local`] with the route already read.
    async fn open_route(&self, route: &LocalRoute) -> Result<LocalLock<Link>> {
        let lock = route.lock_id;
        let key = local::pairing_key(self.secure.as_ref(), lock)?.ok_or_else(|| not_paired(lock))?;
        let phone = self.phone_id()?;
        let link = match (&route.address, &route.ble_device, self.ble_transport()) {
            // The network first; not there (away from home, Wi-Fi off), Bluetooth if paired so.
            (Some(address), device, transport) => match TcpTransport::connect(address).await {
                Ok(tcp) => Link::Tcp(tcp),
                Err(error) => match (device, transport) {
                    (Some(device), Some(transport)) => {
                        tracing::info!(%lock, %error, "not reachable on the network; trying Bluetooth");
                        Link::Ble(BleLink::connect(transport, device).await?)
                    }
                    _ => return Err(error),
                },
            },
            (None, Some(device), Some(transport)) => Link::Ble(BleLink::connect(transport, device).await?),
            (None, Some(_), None) => return Err(no_bluetooth()),
            (None, None, _) => {
                return Err(Error::LockUnreachable {
                    reason: "no address or Bluetooth device known for it".to_owned(),
                });
            }
        };
        let session = LocalLock::resume(link, phone, key, Some(*lock.as_bytes()))
            .await
            .map_err(|error| match error {
                Error::NotPaired { .. } => not_paired(lock),
                other => other,
            })?;
        self.store.write(|db| db.local_route_reached(lock, None, now()))?;
        Ok(session)
    }

    /// What the lock says about itself, over the local route.
    pub async fn lock_info(&self, lock: LockId) -> Result<LockInfo> {
        self.open_local(lock).await?.info().await
    }

    /// Sets and removes codes on the lock over its local route until it holds
    /// exactly this device's live codes for it; each code it acknowledges becomes
    /// "set on lock".
    pub async fn push_to_lock(&self, lock: LockId) -> Result<PushReport> {
        let route = self.local_route(lock)?.ok_or_else(|| not_paired(lock))?;
        self.push_over(&route).await
    }

    async fn push_over(&self, route: &LocalRoute) -> Result<PushReport> {
        let mut session = self.open_route(route).await?;
        let report = local::push_codes(&self.store, &mut session, route.lock_id, now()).await;
        self.notify_changed();
        report
    }

    /// Sends the lock's pending changes the best way there is: over the local route
    /// when the lock answers there, else through the cloud, else they stay queued.
    /// When signed in, the cloud hears of them either way (for the owner's other
    /// devices). Never fails for want of a route; the result says which was taken.
    pub async fn deliver(&self, lock: LockId) -> Result<Delivery> {
        self.lock(lock)?;
        let mut delivery = Delivery {
            route: Route::Queued,
            local: None,
            local_error: None,
            cloud: None,
            cloud_error: None,
        };
        if let Some(route) = self.local_route(lock)? {
            match self.push_over(&route).await {
                Ok(report) => {
                    delivery.local = Some(report);
                    delivery.route = Route::Local;
                }
                Err(error) => {
                    tracing::info!(%lock, %error, "the local route is down");
                    delivery.local_error = Some(error.to_string());
                }
            }
        } else {
            delivery.local_error = Some("not paired on this device".to_owned());
        }
        // Local first: a revoke at the door takes effect at once, whatever the
        // internet does. (A Wi-Fi lock does not take back from the cloud a code a
        // phone removed, so the cloud hearing second is safe.)
        if self.account().is_some() {
            match self.try_sync().await {
                Ok(report) => {
                    delivery.cloud = Some(report);
                    if delivery.route == Route::Queued {
                        delivery.route = Route::Cloud;
                    }
                }
                Err(error) => delivery.cloud_error = Some(error.to_string()),
            }
        }
        Ok(delivery)
    }

    /// Reads the lock's new log entries over the local route, stores them, and
    /// returns them oldest first.
    pub async fn read_lock_events(&self, lock: LockId) -> Result<Vec<LockLogEntry>> {
        let route = self.local_route(lock)?.ok_or_else(|| not_paired(lock))?;
        let mut session = self.open_route(&route).await?;
        let mut after = route.events_after;
        let mut read = Vec::new();
        loop {
            let events = session.read_events(after, EVENT_PAGE).await?;
            let entries: Vec<LockLogEntry> = events.iter().map(local::log_entry).collect();
            self.store.write(|db| db.append_lock_log(lock, &entries))?;
            let full = events.len() >= usize::from(EVENT_PAGE);
            match entries.iter().map(|entry| entry.seq).max() {
                Some(last) if last > after => after = last,
                _ => break,
            }
            read.extend(entries);
            if !full {
                break;
            }
        }
        if !read.is_empty() {
            self.notify_changed();
        }
        Ok(read)
    }

    /// The lock's log as read so far, newest first.
    pub fn lock_log(&self, lock: LockId, limit: usize) -> Result<Vec<LockLogEntry>> {
        self.store.read(|db| {
            db.lock(lock)?;
            db.lock_log(lock, limit)
        })
    }

    /// Sets the lock's clock to this device's over the local route.
    pub async fn sync_lock_clock(&self, lock: LockId) -> Result<ClockSync> {
        let mut session = self.open_local(lock).await?;
        let info = session.info().await?;
        let at = now();
        session.set_clock(at).await?;
        Ok(ClockSync {
            lock_clock_before: DateTime::from_timestamp_millis(info.clock_unix_ms).unwrap_or_default(),
            set_to: at,
            drift_ms: info.clock_unix_ms - at.timestamp_millis(),
        })
    }

    /// Revokes every offline code issued for the lock so far (by any device): the
    /// lock moves to a new epoch, whose secret this device fetches. Returns it.
    pub async fn rotate_offline_epoch(&self, lock: LockId) -> Result<u32> {
        let mut session = self.open_local(lock).await?;
        session.rotate_epoch().await?;
        let secret = session.offline_secret().await?;
        local::save_offline_secret(self.secure.as_ref(), lock, &secret)?;
        tracing::info!(%lock, epoch = secret.epoch, "rotated the offline-code epoch");
        Ok(secret.epoch)
    }

    /// Fetches the lock's offline secret again (after another device rotated it).
    pub async fn refresh_offline_secret(&self, lock: LockId) -> Result<u32> {
        let mut session = self.open_local(lock).await?;
        let secret = session.offline_secret().await?;
        local::save_offline_secret(self.secure.as_ref(), lock, &secret)?;
        Ok(secret.epoch)
    }

    /// Deletes the store's data and the secrets of the locks paired here.
    pub(crate) fn wipe_local_data(&self) -> Result<()> {
        let routes = self.store.read(|db| db.local_routes())?;
        self.store.write(|db| db.wipe())?;
        for route in routes {
            local::forget(self.secure.as_ref(), route.lock_id)?;
        }
        Ok(())
    }
}

/// Whether something accepts connections at `address`.
async fn probe(address: &str) -> bool {
    TcpTransport::connect(address).await.is_ok()
}

/// A setup code is digits, perhaps grouped for reading; anything else would only
/// spend one of the lock's limited pairing attempts.
fn check_setup_code(setup_code: &str) -> Result<()> {
    let mut digits = setup_code.chars().filter(|c| *c != '-' && !c.is_whitespace());
    let count = setup_code.chars().filter(char::is_ascii_digit).count();
    if (4..=32).contains(&count) && digits.all(|c| c.is_ascii_digit()) {
        return Ok(());
    }
    Err(tessera_model::Error::InvalidInput {
        field: "setup_code",
        reason: "the setup code on the lock's label: 4 to 32 digits".to_owned(),
    }
    .into())
}

fn not_paired(lock: LockId) -> Error {
    Error::NotPaired {
        lock: lock.to_string(),
    }
}

fn no_bluetooth() -> Error {
    Error::Bluetooth {
        reason: "the app provided no Bluetooth transport".to_owned(),
    }
}

/// What a paired lock can hold, from what it says about itself.
fn capabilities(info: &LockInfo, offline_codes: bool) -> LockCapabilities {
    let defaults = LockCapabilities::default();
    let pin_lengths = PinLengths {
        min: info.pin_digits_min.max(1),
        max: info.pin_digits_max.max(info.pin_digits_min.max(1)),
    };
    let capabilities = LockCapabilities {
        pin_lengths,
        constraints: Vec::new(),
        keypad: Keypad::OneDigitPerButton,
        max_codes: info.capacity.max(1),
        schedule_kinds: ScheduleKind::ALL.to_vec(),
        granularity: Granularity::Minute,
        offline_codes,
    };
    if capabilities.validate().is_ok() {
        capabilities
    } else {
        LockCapabilities {
            offline_codes,
            ..defaults
        }
    }
}
