//! Bluetooth: the core runs the local protocol over the app's `BleTransport`. Here
//! the "app" is an in-memory transport whose device is a real, in-process
//! tessera-lock (`LockHandle::serve_connection` over a `tokio::io::duplex` pipe),
//! with the small MTU of BLE 4.0 so every frame is cut into chunks both ways.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failed unwrap is a failed test.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tessera_core::local::{BleDevice, BleError, BleInbox, BleTransport};
use tessera_core::model::{LockId, Pin, Schedule};
use tessera_core::{
    ClientConfig, CodeDraft, CodeSync, DiscoveryOptions, Error, LockActivity, LockRoute, MemorySecureStore,
    PinRequest, TesseraClient,
};
use tessera_lock::{KeypadResult, Lock, LockConfig, Opener, SetupCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Handle;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

const DEVICE: &str = "C0:FF:EE:00:00:01";
const SETUP_CODE: &str = "4829-1305";
/// BLE 4.0's smallest ATT MTU (23) minus 3.
const MTU: u32 = 20;
/// No call may take longer: a hang fails the test instead of stalling it.
const HANG: Duration = Duration::from_secs(60);

/// What the fake radio does wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    /// `connect` fails (the device went out of range).
    RefuseConnect,
    /// After this many writes the link drops: the inbox hears `closed`, and
    /// later writes fail.
    DropAfterWrites(usize),
    /// Writes fail with a platform error once this many went through.
    FailWritesAfter(usize),
    /// Connects, takes writes, never notifies anything.
    Silent,
    /// The app's code panics on a write.
    PanicOnWrite,
    /// Scanning fails (Bluetooth is off).
    ScanFails,
    /// The app's `scan`, `connect` or `write` never returns (until the test lets it).
    HangScan,
    HangConnect,
    HangWrite,
}

struct Connection {
    to_lock: mpsc::UnboundedSender<Vec<u8>>,
    inbox: BleInbox,
    tasks: Vec<JoinHandle<()>>,
    /// Keeps a silent device's end of the pipe open.
    _silent_end: Option<tokio::io::DuplexStream>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// The app's Bluetooth, in memory: one device, which is the lock.
struct MemoryBle {
    runtime: Handle,
    lock: Lock,
    fault: Mutex<Fault>,
    connection: Mutex<Option<Connection>>,
    connects: AtomicUsize,
    disconnects: AtomicUsize,
    writes: Mutex<Vec<usize>>,
}

impl MemoryBle {
    fn new(lock: Lock) -> Arc<Self> {
        Arc::new(MemoryBle {
            runtime: Handle::current(),
            lock,
            fault: Mutex::new(Fault::None),
            connection: Mutex::new(None),
            connects: AtomicUsize::new(0),
            disconnects: AtomicUsize::new(0),
            writes: Mutex::new(Vec::new()),
        })
    }

    fn set_fault(&self, fault: Fault) {
        *self.fault.lock().unwrap() = fault;
        self.writes.lock().unwrap().clear();
    }

    fn fault(&self) -> Fault {
        *self.fault.lock().unwrap()
    }

    /// Blocks the calling (blocking-pool) thread while the fault is `fault`.
    fn hang_while(&self, fault: Fault) {
        while self.fault() == fault {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn connected(&self) -> bool {
        self.connection.lock().unwrap().is_some()
    }
}

impl BleTransport for MemoryBle {
    fn scan(&self, _timeout: Duration) -> Result<Vec<BleDevice>, BleError> {
        self.hang_while(Fault::HangScan);
        if self.fault() == Fault::ScanFails {
            return Err(BleError {
                reason: "Bluetooth is off".to_owned(),
            });
        }
        Ok(vec![BleDevice {
            id: DEVICE.to_owned(),
            name: Some(self.lock.info().name),
            lock_id: Some(self.lock.id()),
            rssi: Some(-61),
        }])
    }

    fn connect(&self, device_id: &str, inbox: BleInbox) -> Result<u32, BleError> {
        if device_id != DEVICE {
            return Err(BleError {
                reason: format!("no device {device_id}"),
            });
        }
        if self.fault() == Fault::HangConnect {
            self.hang_while(Fault::HangConnect);
            return Err(BleError {
                reason: "cancelled".to_owned(),
            });
        }
        if self.fault() == Fault::RefuseConnect {
            return Err(BleError {
                reason: "the device is out of range".to_owned(),
            });
        }
        self.connects.fetch_add(1, Ordering::SeqCst);
        let (phone_end, lock_end) = tokio::io::duplex(4096);
        let mut tasks = Vec::new();
        let silent_end = if self.fault() == Fault::Silent {
            Some(lock_end)
        } else {
            let lock = self.lock.clone();
            tasks.push(
                self.runtime
                    .spawn(async move { lock.serve_connection(lock_end).await }),
            );
            None
        };
        let (mut reader, mut writer) = tokio::io::split(phone_end);
        // Notifications: at most one MTU each, in order.
        let notify = inbox.clone();
        tasks.push(self.runtime.spawn(async move {
            let mut buffer = vec![0u8; 4096];
            loop {
                match reader.read(&mut buffer).await {
                    Ok(0) | Err(_) => {
                        notify.closed();
                        return;
                    }
                    Ok(n) => {
                        for chunk in buffer[..n].chunks(MTU as usize) {
                            notify.deliver(chunk.to_vec());
                        }
                    }
                }
            }
        }));
        let (to_lock, mut from_phone) = mpsc::unbounded_channel::<Vec<u8>>();
        tasks.push(self.runtime.spawn(async move {
            while let Some(bytes) = from_phone.recv().await {
                if writer.write_all(&bytes).await.is_err() {
                    return;
                }
            }
        }));
        *self.connection.lock().unwrap() = Some(Connection {
            to_lock,
            inbox,
            tasks,
            _silent_end: silent_end,
        });
        Ok(MTU)
    }

    fn write(&self, device_id: &str, bytes: &[u8]) -> Result<(), BleError> {
        assert_eq!(device_id, DEVICE);
        assert!(bytes.len() <= MTU as usize, "a write of {} bytes", bytes.len());
        self.hang_while(Fault::HangWrite);
        if self.fault() == Fault::PanicOnWrite {
            panic!("the app's GATT stack panicked");
        }
        let written = {
            let mut writes = self.writes.lock().unwrap();
            writes.push(bytes.len());
            writes.len()
        };
        let mut connection = self.connection.lock().unwrap();
        match self.fault() {
            Fault::FailWritesAfter(n) if written > n => {
                return Err(BleError {
                    reason: "GATT write failed: status 133".to_owned(),
                });
            }
            Fault::DropAfterWrites(n) if written > n => {
                if let Some(dropped) = connection.take() {
                    dropped.inbox.closed();
                }
                return Err(BleError {
                    reason: "the device disconnected".to_owned(),
                });
            }
            _ => {}
        }
        let Some(connection) = connection.as_ref() else {
            return Err(BleError {
                reason: "not connected".to_owned(),
            });
        };
        let _ = connection.to_lock.send(bytes.to_vec());
        if let Fault::DropAfterWrites(n) = self.fault()
            && written == n
        {
            // The link drops right after this write went out.
            connection.inbox.closed();
        }
        Ok(())
    }

    fn disconnect(&self, device_id: &str) {
        assert_eq!(device_id, DEVICE);
        self.disconnects.fetch_add(1, Ordering::SeqCst);
        self.connection.lock().unwrap().take();
    }
}

struct Setup {
    _dir: tempfile::TempDir,
    lock: Lock,
    ble: Arc<MemoryBle>,
    phone: TesseraClient,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let mut config = LockConfig::new(dir.path().join("lock"));
    config.name = Some("Back door".to_owned());
    config.time_zone = Some("Europe/Berlin".to_owned());
    config.setup_code = Some(SetupCode::parse(SETUP_CODE).unwrap());
    let lock = Lock::open(config).unwrap();
    let ble = MemoryBle::new(lock.clone());
    let phone = TesseraClient::open(
        ClientConfig {
            data_dir: dir.path().join("phone"),
            ..ClientConfig::default()
        },
        Arc::new(MemorySecureStore::default()),
    )
    .unwrap();
    phone.set_ble_transport(Some(ble.clone()));
    Setup {
        _dir: dir,
        lock,
        ble,
        phone,
    }
}

async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(HANG, future)
        .await
        .unwrap_or_else(|_| panic!("{what} hung"))
}

/// The core hangs up once done with the lock (off its async threads, so soon
/// rather than at once): every connect has its disconnect.
async fn disconnected(ble: &MemoryBle) {
    let deadline = tokio::time::Instant::now() + HANG;
    while ble.connected() || ble.connects.load(Ordering::SeqCst) > ble.disconnects.load(Ordering::SeqCst) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the core never disconnected"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn bluetooth_only() -> DiscoveryOptions {
    DiscoveryOptions {
        timeout: Duration::from_millis(200),
        mdns: false,
        bluetooth: true,
        addresses: Vec::new(),
    }
}

fn permanent(label: &str, pin: &str) -> CodeDraft {
    CodeDraft {
        label: label.to_owned(),
        schedule: Schedule::Permanent,
        allow_widening: false,
        max_uses: None,
        pin: PinRequest::Chosen(Pin::parse(pin).unwrap()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scanned_lock_pairs_over_bluetooth_and_takes_a_code() {
    let Setup {
        _dir,
        lock,
        ble,
        phone,
    } = setup();
    let lock_id = LockId::from_bytes(lock.id());

    let found = within("scanning", phone.discover_locks(bluetooth_only()))
        .await
        .unwrap();
    assert_eq!(found.unreachable, Vec::<String>::new());
    assert_eq!(found.locks.len(), 1, "{found:?}");
    let seen = &found.locks[0];
    assert_eq!(seen.lock_id, Some(lock_id));
    assert_eq!(seen.name.as_deref(), Some("Back door"));
    assert!(!seen.known && !seen.paired);
    assert_eq!(
        seen.routes,
        vec![LockRoute::Bluetooth {
            device: DEVICE.to_owned()
        }]
    );

    // The label prints the code with a separator; the owner types it as printed.
    let paired = within("pairing", phone.pair_lock_ble(DEVICE, SETUP_CODE))
        .await
        .unwrap();
    assert_eq!(paired.lock.id, lock_id);
    assert_eq!(paired.lock.name, "Back door");
    assert_eq!(paired.lock.time_zone.name(), "Europe/Berlin");
    assert!(paired.added);
    assert!(paired.offline_codes);
    assert_eq!(paired.info.lock_id, lock.id());
    assert_eq!(lock.status().paired_phones, 1);
    let route = phone.local_route(lock_id).unwrap().unwrap();
    assert_eq!(route.ble_device.as_deref(), Some(DEVICE));
    assert_eq!(route.address, None);
    // Every frame went out in writes of at most one MTU, some of them cut.
    assert!(ble.writes.lock().unwrap().iter().all(|n| *n <= MTU as usize));
    disconnected(&ble).await;

    let code = phone
        .create_code(lock_id, permanent("Cleaner", "48291657"))
        .unwrap();
    assert_eq!(code.sync, CodeSync::Pending);
    assert_eq!(lock.enter("48291657").unwrap(), KeypadResult::Refused);
    let report = within("pushing", phone.push_to_lock(lock_id)).await.unwrap();
    assert_eq!((report.set, report.removed, report.unchanged), (1, 0, 0));
    assert!(report.refused.is_empty());
    assert!(matches!(
        phone.code(code.code.id).unwrap().sync,
        CodeSync::SetOnLock { .. }
    ));
    assert_eq!(lock.status().codes, 1);
    assert_eq!(
        lock.enter("48291657").unwrap(),
        KeypadResult::Open {
            by: Opener::Code(*code.code.id.as_bytes())
        }
    );
    // Pushing again changes nothing.
    let again = within("pushing", phone.push_to_lock(lock_id)).await.unwrap();
    assert_eq!((again.set, again.removed, again.unchanged), (0, 0, 1));

    // What the lock recorded comes back over Bluetooth too.
    let events = within("reading the log", phone.read_lock_events(lock_id))
        .await
        .unwrap();
    let kinds: Vec<&str> = events.iter().map(|event| event.activity.kind()).collect();
    assert!(kinds.contains(&"paired"), "{kinds:?}");
    assert!(set_then_used(&events, code.code.id), "{kinds:?}");

    // Known and paired now, still one lock with its Bluetooth route.
    let found = within("scanning", phone.discover_locks(bluetooth_only()))
        .await
        .unwrap();
    assert_eq!(found.locks.len(), 1, "{found:?}");
    assert_eq!(found.locks[0].lock_id, Some(lock_id));
    assert!(found.locks[0].known && found.locks[0].paired);
    disconnected(&ble).await;
}

/// The log shows the code set, then used.
fn set_then_used(events: &[tessera_core::LockLogEntry], code: tessera_core::model::CodeId) -> bool {
    let set = events
        .iter()
        .position(|e| e.activity == LockActivity::CodeSet { code });
    let used = events
        .iter()
        .position(|e| e.activity == LockActivity::CodeUsed { code });
    matches!((set, used), (Some(set), Some(used)) if set < used)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_setup_code_is_refused_over_bluetooth() {
    let Setup {
        _dir,
        lock,
        ble,
        phone,
    } = setup();
    let error = within("pairing", phone.pair_lock_ble(DEVICE, "4829-1306"))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::PairingRefused), "{error:?}");
    assert_eq!(error.code(), "pairing_refused");
    assert_eq!(lock.status().paired_phones, 0);
    assert!(phone.locks().unwrap().is_empty());
    assert_eq!(phone.local_route(LockId::from_bytes(lock.id())).unwrap(), None);
    disconnected(&ble).await;
    // The right one still works.
    let paired = within("pairing", phone.pair_lock_ble(DEVICE, "48291305"))
        .await
        .unwrap();
    assert_eq!(paired.lock.id, LockId::from_bytes(lock.id()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_radio_gives_typed_errors_not_hangs_or_panics() {
    let Setup {
        _dir,
        lock,
        ble,
        phone,
    } = setup();
    let unreachable = |error: Error, expected: &str| match error {
        Error::LockUnreachable { reason } => assert!(reason.contains(expected), "{reason}"),
        other => panic!("expected lock_unreachable ({expected}), got {other:?}"),
    };

    // No such device; a device out of range.
    let error = within("pairing", phone.pair_lock_ble("AA:AA:AA:AA:AA:AA", SETUP_CODE))
        .await
        .unwrap_err();
    unreachable(error, "no device AA:AA:AA:AA:AA:AA");
    ble.set_fault(Fault::RefuseConnect);
    let error = within("pairing", phone.pair_lock_ble(DEVICE, SETUP_CODE))
        .await
        .unwrap_err();
    unreachable(error, "out of range");

    // The link drops right after the first write (mid-handshake): the core hears it closed.
    ble.set_fault(Fault::DropAfterWrites(1));
    let error = within("pairing", phone.pair_lock_ble(DEVICE, SETUP_CODE))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "lock_unreachable", "{error:?}");
    // The link drops during a write, which fails.
    ble.set_fault(Fault::DropAfterWrites(0));
    let error = within("pairing", phone.pair_lock_ble(DEVICE, SETUP_CODE))
        .await
        .unwrap_err();
    unreachable(error, "the device disconnected");
    assert_eq!(lock.status().paired_phones, 0);

    // Pair, then the radio fails in the middle of a push: the code is not "set on lock".
    ble.set_fault(Fault::None);
    let lock_id = within("pairing", phone.pair_lock_ble(DEVICE, SETUP_CODE))
        .await
        .unwrap()
        .lock
        .id;
    let code = phone
        .create_code(lock_id, permanent("Cleaner", "48291657"))
        .unwrap();
    ble.set_fault(Fault::FailWritesAfter(3));
    let error = within("pushing", phone.push_to_lock(lock_id)).await.unwrap_err();
    unreachable(error, "GATT write failed: status 133");
    assert_eq!(phone.code(code.code.id).unwrap().sync, CodeSync::Pending);
    // deliver() takes no route then, and says why.
    let delivery = within("delivering", phone.deliver(lock_id)).await.unwrap();
    assert_eq!(delivery.route, tessera_core::Route::Queued);
    assert!(
        delivery
            .local_error
            .as_deref()
            .is_some_and(|reason| reason.contains("GATT write failed")),
        "{delivery:?}"
    );

    // The app's code panics: an error, and the core goes on.
    ble.set_fault(Fault::PanicOnWrite);
    let error = within("pushing", phone.push_to_lock(lock_id)).await.unwrap_err();
    assert_eq!(error.code(), "bluetooth", "{error:?}");

    // A device that never answers: the protocol's handshake deadline ends it.
    ble.set_fault(Fault::Silent);
    let error = within("pushing", phone.push_to_lock(lock_id)).await.unwrap_err();
    unreachable(error, "did not answer in time");

    // The app's calls never return: the core gives up on them, with typed errors.
    ble.set_fault(Fault::HangConnect);
    let error = within("pushing", phone.push_to_lock(lock_id)).await.unwrap_err();
    unreachable(error, "did not connect within 15 s");
    ble.set_fault(Fault::HangWrite);
    let error = within("pushing", phone.push_to_lock(lock_id)).await.unwrap_err();
    unreachable(error, "did not answer in time");
    ble.set_fault(Fault::HangScan);
    let found = within("scanning", phone.discover_locks(bluetooth_only()))
        .await
        .unwrap();
    assert_eq!(
        found.bluetooth_error.as_deref(),
        Some("Bluetooth: the Bluetooth scan did not end")
    );
    assert_eq!(found.locks.len(), 1, "what it knows is still listed: {found:?}");

    // The radio is fine again: the code gets there.
    ble.set_fault(Fault::None);
    within("pushing", phone.push_to_lock(lock_id)).await.unwrap();
    assert!(matches!(
        phone.code(code.code.id).unwrap().sync,
        CodeSync::SetOnLock { .. }
    ));
    assert!(lock.enter("48291657").unwrap().is_open());
    disconnected(&ble).await;

    // Without a transport, Bluetooth is simply not there.
    phone.set_ble_transport(None);
    let error = within("pushing", phone.push_to_lock(lock_id)).await.unwrap_err();
    assert!(matches!(error, Error::Bluetooth { .. }), "{error:?}");
    let error = within("pairing", phone.pair_lock_ble(DEVICE, SETUP_CODE))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Bluetooth { .. }), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bluetooth_steps_in_when_the_network_does_not_answer() {
    let Setup {
        _dir,
        lock,
        ble,
        phone,
    } = setup();
    let lock_id = LockId::from_bytes(lock.id());
    // The lock on the local network too.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let serving = {
        let lock = lock.clone();
        tokio::spawn(async move { lock.serve(listener).await })
    };
    within("pairing", phone.pair_lock(&address, SETUP_CODE))
        .await
        .unwrap();
    within("pairing", phone.pair_lock_ble(DEVICE, SETUP_CODE))
        .await
        .unwrap();
    let route = phone.local_route(lock_id).unwrap().unwrap();
    assert_eq!(route.address.as_deref(), Some(address.as_str()));
    assert_eq!(route.ble_device.as_deref(), Some(DEVICE));

    // On the network, the network is used.
    let code = phone
        .create_code(lock_id, permanent("Cleaner", "48291657"))
        .unwrap();
    let connects = ble.connects.load(Ordering::SeqCst);
    within("pushing", phone.push_to_lock(lock_id)).await.unwrap();
    assert_eq!(
        ble.connects.load(Ordering::SeqCst),
        connects,
        "Bluetooth was not needed"
    );
    assert!(lock.enter("48291657").unwrap().is_open());

    // The network is gone (the phone left home): Bluetooth takes over.
    serving.abort();
    let _ = serving.await;
    phone.revoke_code(code.code.id).unwrap();
    let delivery = within("delivering", phone.deliver(lock_id)).await.unwrap();
    assert_eq!(delivery.route, tessera_core::Route::Local, "{delivery:?}");
    assert_eq!(delivery.local.unwrap().removed, 1);
    assert_eq!(ble.connects.load(Ordering::SeqCst), connects + 1);
    assert_eq!(lock.enter("48291657").unwrap(), KeypadResult::Refused);
    disconnected(&ble).await;

    // Bluetooth off: discovery still lists what it knows, and says why it found nothing more.
    ble.set_fault(Fault::ScanFails);
    let found = within("scanning", phone.discover_locks(bluetooth_only()))
        .await
        .unwrap();
    assert_eq!(
        found.bluetooth_error.as_deref(),
        Some("Bluetooth: Bluetooth is off")
    );
    assert_eq!(found.mdns_error, None);
    assert_eq!(found.locks.len(), 1, "{found:?}");
    assert_eq!(found.locks[0].lock_id, Some(lock_id));
    assert!(found.locks[0].known && found.locks[0].paired);
}
