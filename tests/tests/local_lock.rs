//! Locks reached directly, end to end: real `tessera-lock` processes on loopback,
//! the phone a `TesseraClient` in this process. Discovery (mDNS and the manual
//! address), pairing, window / one-time / offline codes on the keypad, the route
//! a change takes, the cloud route of a Wi-Fi lock, and what must stay secret.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failed unwrap is a failed test.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use chrono::{DateTime, Days, NaiveDateTime, TimeZone, Utc};
use serde_json::{Value, json};
use tessera_core::api::Secret;
use tessera_core::local::{offline_secret_entry, pairing_key_entry};
use tessera_core::model::{LockId, Pin, Schedule, Tz};
use tessera_core::offline::{OfflineClass, OfflineRequest};
use tessera_core::{
    ClientConfig, CodeDraft, CodeSync, DiscoveryOptions, Error, LockRoute, MemorySecureStore, PinRequest,
    Route, SecureStore, TesseraClient,
};
use tessera_e2e::{Cloud, PASSWORD, workspace_bin};
use tessera_protocol::offline::SLOTS;

const SETUP_CODE: &str = "7305-1942";
const ZONE: &str = "Europe/Berlin";
/// How long anything may take before the test gives up on it.
const DEADLINE: Duration = Duration::from_secs(60);

/// A real `tessera-lock serve` process on loopback, killed when dropped. Its
/// stderr (the log) goes to a file, to check it for secrets.
struct LockProcess {
    dir: PathBuf,
    child: Option<Child>,
    port: u16,
    announce: bool,
    cloud: Option<(String, String)>,
}

impl LockProcess {
    fn start(dir: &Path, announce: bool) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let mut lock = LockProcess {
            dir: dir.to_owned(),
            child: None,
            port: 0,
            announce,
            cloud: None,
        };
        lock.spawn();
        lock
    }

    fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn control(&self) -> PathBuf {
        self.dir.join("control.sock")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default()
    }

    /// Kills the process (a power cut).
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port with the same state.
    fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// From now on a Wi-Fi lock of this cloud (restarts it).
    fn connect_cloud(&mut self, url: &str, device_token: &str) {
        self.cloud = Some((url.to_owned(), device_token.to_owned()));
        self.restart();
    }

    fn spawn(&mut self) {
        let bin = workspace_bin("tessera-lock", "tessera-lock");
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("stderr.log"))
            .unwrap();
        let mut command = Command::new(&bin);
        command
            .arg("serve")
            .arg("--state")
            .arg(self.dir.join("state"))
            .args(["--bind", &format!("127.0.0.1:{}", self.port)])
            .args(["--name", "Front door", "--zone", ZONE])
            .arg("--control")
            .arg(self.control())
            // Secrets through the environment, as the lock's help says, not argv.
            .env("TESSERA_SETUP_CODE", SETUP_CODE)
            .env("RUST_LOG", "debug")
            .stdout(Stdio::piped())
            .stderr(stderr);
        if !self.announce {
            command.arg("--no-announce");
        }
        if let Some((url, token)) = &self.cloud {
            command
                .args(["--cloud", url, "--cloud-poll-ms", "100"])
                .env("TESSERA_DEVICE_TOKEN", token);
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let stdout = child.stdout.take().unwrap();
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = sender.send(line);
            }
            for _ in lines {}
        });
        let line = receiver.recv_timeout(DEADLINE).unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("tessera-lock did not start:\n{}", self.log())
        });
        let address = line
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        self.port = address.rsplit(':').next().unwrap().parse().unwrap();
        self.child = Some(child);
    }

    /// `tessera-lock keypad --control SOCK DIGITS`: its stdout and whether the door opened.
    fn keypad(&self, digits: &str) -> (String, bool) {
        let output = Command::new(workspace_bin("tessera-lock", "tessera-lock"))
            .arg("keypad")
            .arg("--control")
            .arg(self.control())
            .arg(digits)
            .output()
            .unwrap();
        let code = output.status.code();
        assert!(matches!(code, Some(0 | 1)), "keypad failed: {output:?}");
        (
            String::from_utf8_lossy(&output.stdout).trim().to_owned(),
            code == Some(0),
        )
    }

    /// Moves the lock's clock (the test hook).
    fn set_clock(&self, to: DateTime<Utc>) {
        let output = Command::new(workspace_bin("tessera-lock", "tessera-lock"))
            .arg("clock")
            .arg("--control")
            .arg(self.control())
            .args(["--set", &to.to_rfc3339()])
            .output()
            .unwrap();
        assert!(output.status.success(), "clock failed: {output:?}");
    }

    fn status(&self) -> Value {
        let output = Command::new(workspace_bin("tessera-lock", "tessera-lock"))
            .arg("status")
            .arg("--control")
            .arg(self.control())
            .output()
            .unwrap();
        assert!(output.status.success(), "status failed: {output:?}");
        serde_json::from_slice(&output.stdout).unwrap()
    }

    fn lock_id(&self) -> LockId {
        self.status()["cloud_id"].as_str().unwrap().parse().unwrap()
    }
}

impl Drop for LockProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The phone, with its secure store at hand to look for its secrets elsewhere.
struct Phone {
    client: TesseraClient,
    secure: Arc<MemorySecureStore>,
    dir: PathBuf,
}

fn phone(dir: &Path) -> Phone {
    let secure = Arc::new(MemorySecureStore::default());
    let client = TesseraClient::open(
        ClientConfig {
            data_dir: dir.join("phone"),
            ..ClientConfig::default()
        },
        secure.clone(),
    )
    .unwrap();
    Phone {
        client,
        secure,
        dir: dir.join("phone"),
    }
}

impl std::ops::Deref for Phone {
    type Target = TesseraClient;
    fn deref(&self) -> &TesseraClient {
        &self.client
    }
}

impl Phone {
    /// Nothing secret is in the phone's database files: no PIN, no setup code, no
    /// pairing key, no offline secret, in any spelling.
    fn assert_no_secrets_on_disk(&self, lock: LockId, pins: &[&str]) {
        let key = self.secure.get(&pairing_key_entry(lock)).unwrap().unwrap();
        let offline = self.secure.get(&offline_secret_entry(lock)).unwrap().unwrap();
        let root = &offline[1..33];
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&self.dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                files.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
        assert!(files.iter().any(|(path, _)| path.ends_with("tessera.db")));
        for (path, bytes) in &files {
            let name = path.display();
            for pin in pins.iter().chain(&["73051942"]) {
                assert!(!contains(bytes, pin.as_bytes()), "PIN {pin} in {name}");
            }
            for secret in [&key[..], root] {
                assert!(!contains(bytes, secret), "a key in {name}");
                assert!(
                    !contains(bytes, tessera_core::local::hex(secret).as_bytes()),
                    "a key (hex) in {name}"
                );
            }
        }
    }
}

/// A lock process (no mDNS) and a phone paired with it.
async fn paired_lock(dir: &Path) -> (LockProcess, Phone, LockId) {
    let lock = blocking(|| LockProcess::start(&dir.join("lock"), false));
    let phone = phone(dir);
    let lock_id = phone
        .pair_lock(&lock.address(), SETUP_CODE)
        .await
        .unwrap()
        .lock
        .id;
    (lock, phone, lock_id)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

/// The lock's log never shows a PIN or the setup code.
fn assert_log_clean(lock: &LockProcess, secrets: &[&str]) {
    let log = lock.log();
    assert!(log.contains("lock ready"), "no log at all?\n{log}");
    for secret in secrets.iter().chain(&[SETUP_CODE, "73051942"]) {
        assert!(!log.contains(secret), "{secret} in the lock's log:\n{log}");
    }
}

/// Waits for `check`, polling; fails at the deadline with `what`.
async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

fn code(label: &str, pin: &str, schedule: Schedule) -> CodeDraft {
    CodeDraft {
        label: label.to_owned(),
        schedule,
        allow_widening: false,
        max_uses: None,
        pin: PinRequest::Chosen(Pin::parse(pin).unwrap()),
    }
}

/// A wall time in the lock's zone, as an instant.
fn berlin(local: NaiveDateTime) -> DateTime<Utc> {
    zone()
        .from_local_datetime(&local)
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

fn berlin_now() -> NaiveDateTime {
    Utc::now().with_timezone(&zone()).naive_local()
}

fn zone() -> Tz {
    ZONE.parse().unwrap()
}

fn set_on_lock(phone: &TesseraClient, code: tessera_core::model::CodeId) -> bool {
    matches!(phone.code(code).unwrap().sync, CodeSync::SetOnLock { .. })
}

fn mdns_only() -> DiscoveryOptions {
    DiscoveryOptions {
        timeout: Duration::from_secs(3),
        mdns: true,
        bluetooth: false,
        addresses: Vec::new(),
    }
}

/// An owner's account on `cloud`; returns the owner's access token for plain HTTP.
async fn sign_up(phone: &TesseraClient, cloud: &Cloud, email: &str) -> String {
    phone
        .sign_up(&cloud.url(), email, Secret::new(PASSWORD), None)
        .await
        .unwrap();
    let login = json!({ "email": email, "password": PASSWORD });
    let (status, tokens) = blocking(|| {
        tessera_e2e::http(
            "POST",
            &format!("{}/v1/sessions", cloud.url()),
            None,
            Some(&login),
        )
    });
    assert_eq!(status, 200, "{tokens}");
    tokens["access_token"].as_str().unwrap().to_owned()
}

fn lock_entry(found: &tessera_core::Discovery, id: LockId) -> Vec<tessera_core::DiscoveredLock> {
    found
        .locks
        .iter()
        .filter(|lock| lock.lock_id == Some(id))
        .cloned()
        .collect()
}

/// mDNS works on this machine's loopback (in the container, with no MULTICAST flag
/// on `lo`): mdns-sd joins 224.0.0.251 on `lo`, and a lock bound to 127.0.0.1
/// announces on `lo` only, so these tests run in the host's network namespace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_by_mdns_by_address_and_one_lock_with_two_routes() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = blocking(|| Cloud::start(dir.path(), &[]));
    let announced = blocking(|| LockProcess::start(&dir.path().join("announced"), true));
    let mut quiet = blocking(|| LockProcess::start(&dir.path().join("quiet"), false));
    let (announced_id, quiet_id) = blocking(|| (announced.lock_id(), quiet.lock_id()));
    let phone = phone(dir.path());
    sign_up(&phone, &cloud, "discovery@example.com").await;

    // Heard over mDNS (other locks on this machine may announce too: look for ours).
    let found = eventually("the announcement", async || {
        let found = phone.discover_locks(mdns_only()).await.unwrap();
        let ours = lock_entry(&found, announced_id);
        (!ours.is_empty()).then_some(ours)
    })
    .await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].name.as_deref(), Some("Front door"));
    assert!(!found[0].known && !found[0].paired);
    assert_eq!(
        found[0].routes,
        vec![LockRoute::Network {
            address: announced.address(),
            announced: true
        }]
    );
    let found = phone.discover_locks(mdns_only()).await.unwrap();
    assert!(
        lock_entry(&found, quiet_id).is_empty(),
        "it does not announce: {found:?}"
    );

    // The manual address: something answers there, but which lock it is only a
    // paired phone can tell; nothing answers at the other address.
    let by_address = |addresses: Vec<String>| DiscoveryOptions {
        timeout: Duration::from_millis(100),
        mdns: false,
        bluetooth: false,
        addresses,
    };
    let found = phone
        .discover_locks(by_address(vec![quiet.address(), "127.0.0.1:1".to_owned()]))
        .await
        .unwrap();
    assert_eq!(found.unreachable, vec!["127.0.0.1:1".to_owned()]);
    assert_eq!(found.locks.len(), 1, "{found:?}");
    assert_eq!(found.locks[0].lock_id, None);
    assert_eq!(
        found.locks[0].routes,
        vec![LockRoute::Network {
            address: quiet.address(),
            announced: false
        }]
    );
    let paired = phone.pair_lock(&quiet.address(), SETUP_CODE).await.unwrap();
    assert_eq!(paired.lock.id, quiet_id);
    let found = phone
        .discover_locks(by_address(vec![quiet.address()]))
        .await
        .unwrap();
    assert_eq!(found.locks.len(), 1, "{found:?}");
    assert_eq!(found.locks[0].lock_id, Some(quiet_id));
    assert!(found.locks[0].known && found.locks[0].paired);
    assert_eq!(
        found.locks[0].routes,
        vec![LockRoute::Network {
            address: quiet.address(),
            announced: false
        }]
    );

    // Paired and in the cloud: heard on the LAN, it is one lock with two routes.
    phone.pair_lock(&announced.address(), SETUP_CODE).await.unwrap();
    phone.sync().await.unwrap();
    let found = eventually("the announcement again", async || {
        let found = phone.discover_locks(mdns_only()).await.unwrap();
        let heard = lock_entry(&found, announced_id).iter().any(|lock| {
            lock.routes
                .iter()
                .any(|r| matches!(r, LockRoute::Network { announced: true, .. }))
        });
        heard.then_some(found)
    })
    .await;
    let ours = lock_entry(&found, announced_id);
    assert_eq!(ours.len(), 1, "{found:?}");
    assert!(ours[0].known && ours[0].paired);
    assert_eq!(
        ours[0].routes,
        vec![
            LockRoute::Cloud,
            LockRoute::Network {
                address: announced.address(),
                announced: true
            }
        ]
    );
    // The quiet one, not announcing: its last address still answers.
    let quiet_entry = lock_entry(&found, quiet_id);
    assert_eq!(quiet_entry.len(), 1, "{found:?}");
    assert_eq!(
        quiet_entry[0].routes,
        vec![
            LockRoute::Cloud,
            LockRoute::Network {
                address: quiet.address(),
                announced: false
            }
        ]
    );

    // The quiet lock moves (a new port, announcing now): heard over mDNS, its new
    // address becomes its route.
    let old_address = quiet.address();
    blocking(|| {
        quiet.stop();
        quiet.port = 0;
        quiet.announce = true;
        quiet.restart();
    });
    assert_ne!(quiet.address(), old_address);
    eventually("the moved lock", async || {
        let found = phone.discover_locks(mdns_only()).await.unwrap();
        let ours = lock_entry(&found, quiet_id);
        (ours.len() == 1
            && ours[0].routes.contains(&LockRoute::Network {
                address: quiet.address(),
                announced: true,
            }))
        .then_some(())
    })
    .await;
    let route = phone.local_route(quiet_id).unwrap().unwrap();
    assert_eq!(route.address, Some(quiet.address()));
    assert_eq!(
        phone.lock_info(quiet_id).await.unwrap().lock_id,
        *quiet_id.as_bytes()
    );

    assert_log_clean(&announced, &[]);
    assert_log_clean(&quiet, &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pairing_takes_the_setup_code_and_refuses_a_wrong_one() {
    let dir = tempfile::tempdir().unwrap();
    let lock = blocking(|| LockProcess::start(&dir.path().join("lock"), false));
    let lock_id = blocking(|| lock.lock_id());
    let phone = phone(dir.path());

    let error = phone.pair_lock(&lock.address(), "7305-1943").await.unwrap_err();
    assert!(matches!(error, Error::PairingRefused), "{error:?}");
    assert_eq!(blocking(|| lock.status())["paired_phones"], 0);
    assert!(phone.locks().unwrap().is_empty());
    assert_eq!(phone.local_route(lock_id).unwrap(), None);

    let error = phone.pair_lock("127.0.0.1:1", SETUP_CODE).await.unwrap_err();
    assert!(matches!(error, Error::LockUnreachable { .. }), "{error:?}");

    // Not a setup code at all: refused here, without spending one of the lock's
    // pairing attempts.
    for malformed in ["", "  ", "12", "7305-19a3"] {
        let error = phone.pair_lock(&lock.address(), malformed).await.unwrap_err();
        assert!(
            matches!(
                error,
                Error::Domain(tessera_core::model::Error::InvalidInput {
                    field: "setup_code",
                    ..
                })
            ),
            "{malformed:?}: {error:?}"
        );
    }
    // (Had they reached the lock, with the wrong code above they would make five
    // failures, and the pairing below would be blocked.)

    // A lock whose clock fell behind (a battery change): pairing sets it.
    blocking(|| lock.set_clock(Utc::now() - chrono::Duration::days(30)));
    // As the label prints it, or without the separator: the same code.
    let paired = phone.pair_lock(&lock.address(), SETUP_CODE).await.unwrap();
    assert!(paired.clock_set);
    let clock = |lock: &LockProcess| -> DateTime<Utc> {
        blocking(|| lock.status())["clock"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!((clock(&lock) - Utc::now()).abs() < chrono::Duration::minutes(5));
    assert_eq!(paired.lock.id, lock_id);
    assert_eq!(paired.lock.name, "Front door");
    assert_eq!(paired.lock.time_zone.name(), ZONE);
    assert_eq!(paired.info.lock_id, *lock_id.as_bytes());
    assert!(paired.added && paired.offline_codes);
    assert_eq!(blocking(|| lock.status())["paired_phones"], 1);
    let route = phone.local_route(lock_id).unwrap().unwrap();
    assert_eq!(route.address, Some(lock.address()));
    let again = phone.pair_lock(&lock.address(), "73051942").await.unwrap();
    assert!(!again.added);
    assert_eq!(phone.locks().unwrap().len(), 1);
    assert!(!again.clock_set, "the clock was right");
    assert_eq!(phone.lock_info(lock_id).await.unwrap().name, "Front door");

    // Syncing the clock: forward is fine; back by more than the tolerance, the lock refuses.
    blocking(|| lock.set_clock(Utc::now() - chrono::Duration::hours(1)));
    let synced = phone.sync_lock_clock(lock_id).await.unwrap();
    assert!(synced.drift_ms < -50 * 60 * 1000, "{synced:?}");
    assert!((clock(&lock) - Utc::now()).abs() < chrono::Duration::minutes(5));
    let ahead = Utc::now() + chrono::Duration::hours(1);
    blocking(|| lock.set_clock(ahead));
    match phone.sync_lock_clock(lock_id).await.unwrap_err() {
        Error::ClockRefused { lock_clock } => assert!(lock_clock >= ahead, "{lock_clock}"),
        other => panic!("expected clock_refused, got {other:?}"),
    }
    assert!(clock(&lock) >= ahead);
    let events = phone.read_lock_events(lock_id).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.activity.kind()).collect();
    // Three by the test hook, one when pairing, one by the sync; none for the refusal.
    assert_eq!(
        kinds.iter().filter(|k| **k == "clock_set").count(),
        5,
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&"pairing_failed") && kinds.contains(&"paired"),
        "{kinds:?}"
    );
    assert_eq!(
        phone.read_lock_events(lock_id).await.unwrap(),
        Vec::new(),
        "read already"
    );
    assert_eq!(phone.lock_log(lock_id, 100).unwrap().len(), events.len());

    phone.assert_no_secrets_on_disk(lock_id, &[]);
    assert_log_clean(&lock, &["7305-1943", "73051943"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_stops_taking_pairing_attempts_after_too_many_wrong_codes() {
    let dir = tempfile::tempdir().unwrap();
    let lock = blocking(|| LockProcess::start(&dir.path().join("lock"), false));
    let phone = phone(dir.path());
    for wrong in ["00000000", "11111111", "22222222", "33333333", "44444444"] {
        let error = phone.pair_lock(&lock.address(), wrong).await.unwrap_err();
        assert!(matches!(error, Error::PairingRefused), "{error:?}");
    }
    // The right code now fails the same way: a guesser learns nothing.
    let error = phone.pair_lock(&lock.address(), SETUP_CODE).await.unwrap_err();
    assert!(matches!(error, Error::PairingRefused), "{error:?}");
    let status = blocking(|| lock.status());
    assert_eq!(status["paired_phones"], 0);
    assert!(status["pairing_blocked_until"].is_string(), "{status}");
    assert!(phone.locks().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_code_is_set_on_lock_after_the_ack_and_opens_inside_its_window() {
    let dir = tempfile::tempdir().unwrap();
    let (mut lock, phone, lock_id) = paired_lock(dir.path()).await;

    // Tomorrow 09:00-17:00 at the lock.
    let tomorrow = berlin_now().date().checked_add_days(Days::new(1)).unwrap();
    let at = |h: u32, m: u32| tomorrow.and_hms_opt(h, m, 0).unwrap();
    let window = Schedule::Window {
        start: at(9, 0),
        end: at(17, 0),
    };

    // The lock is off: the code waits on the phone, not "set on lock".
    blocking(|| lock.stop());
    let created = phone
        .create_code(lock_id, code("Cleaner", "48291657", window))
        .unwrap();
    let id = created.code.id;
    let delivery = phone.deliver(lock_id).await.unwrap();
    assert_eq!(delivery.route, Route::Queued);
    assert!(delivery.local.is_none() && delivery.cloud.is_none());
    assert!(delivery.local_error.is_some(), "{delivery:?}");
    assert_eq!(phone.code(id).unwrap().sync, CodeSync::Pending);

    // Back on: delivered locally, and "set on lock" once the lock said so.
    blocking(|| lock.restart());
    let delivery = phone.deliver(lock_id).await.unwrap();
    assert_eq!(delivery.route, Route::Local, "{delivery:?}");
    let report = delivery.local.unwrap();
    assert_eq!((report.set, report.removed, report.unchanged), (1, 0, 0));
    assert!(set_on_lock(&phone, id));
    assert_eq!(blocking(|| lock.status())["codes"], 1);

    blocking(|| {
        lock.set_clock(berlin(at(8, 30)));
        assert_eq!(lock.keypad("48291657"), ("refused".to_owned(), false));
        lock.set_clock(berlin(at(10, 0)));
        assert_eq!(lock.keypad("48291657"), ("open".to_owned(), true));
    });

    // A change is not "set on lock" until the lock has it.
    let changes = tessera_core::CodeChanges {
        label: Some("Cleaner (Mondays)".to_owned()),
        pin: Some(PinRequest::Chosen(Pin::parse("58203947").unwrap())),
        ..Default::default()
    };
    phone.update_code(id, changes).unwrap();
    assert!(!set_on_lock(&phone, id));
    let delivery = phone.deliver(lock_id).await.unwrap();
    assert_eq!(delivery.route, Route::Local);
    assert!(set_on_lock(&phone, id), "{delivery:?}");
    blocking(|| {
        lock.set_clock(berlin(at(11, 0)));
        assert_eq!(lock.keypad("48291657"), ("refused".to_owned(), false));
        assert_eq!(lock.keypad("58203947"), ("open".to_owned(), true));
        lock.set_clock(berlin(at(17, 30)));
        assert_eq!(lock.keypad("58203947"), ("refused".to_owned(), false));
    });

    // A new label is the phone's business: the lock holds the code as it was.
    let relabel = tessera_core::CodeChanges {
        label: Some("Cleaner".to_owned()),
        ..Default::default()
    };
    phone.update_code(id, relabel).unwrap();
    let report = phone.deliver(lock_id).await.unwrap().local.unwrap();
    assert_eq!((report.set, report.unchanged), (0, 1), "{report:?}");
    assert!(set_on_lock(&phone, id));
    // Once the window is over at the lock, a change it refuses shows why.
    let shorter = tessera_core::CodeChanges {
        schedule: Some(Schedule::Window {
            start: at(9, 0),
            end: at(17, 15),
        }),
        ..Default::default()
    };
    phone.update_code(id, shorter).unwrap();
    let report = phone.deliver(lock_id).await.unwrap().local.unwrap();
    assert_eq!(report.refused.len(), 1, "{report:?}");
    match phone.code(id).unwrap().sync {
        CodeSync::Failed { reason } => assert!(reason.contains("ended"), "{reason}"),
        other => panic!("expected a refusal, got {other:?}"),
    }

    phone.assert_no_secrets_on_disk(lock_id, &["48291657", "58203947"]);
    assert_log_clean(&lock, &["48291657", "58203947"]);
}

/// Every kind of schedule means on the lock what it means on the phone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weekly_and_expiring_codes_keep_their_schedules_on_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let (lock, phone, lock_id) = paired_lock(dir.path()).await;
    let tomorrow = berlin_now().date().checked_add_days(Days::new(1)).unwrap();
    let day = |n: u64| tomorrow.checked_add_days(Days::new(n)).unwrap();
    let mut days = tessera_core::model::Weekdays::default();
    days.insert(chrono::Datelike::weekday(&tomorrow));
    let weekly = Schedule::Weekly {
        days,
        start_time: chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        end_time: chrono::NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
        first_date: tomorrow,
        last_date: day(14),
    };
    let expiring = Schedule::ExpiringAfterFirstUse {
        minutes: 60,
        start: tomorrow.and_hms_opt(0, 0, 0).unwrap(),
        end: day(3).and_hms_opt(0, 0, 0).unwrap(),
    };
    let weekly = phone
        .create_code(lock_id, code("Cleaner", "48291657", weekly))
        .unwrap();
    let expiring = phone
        .create_code(lock_id, code("Guest", "63920571", expiring))
        .unwrap();
    let report = phone.deliver(lock_id).await.unwrap().local.unwrap();
    assert_eq!(report.set, 2, "{report:?}");
    assert!(set_on_lock(&phone, weekly.code.id) && set_on_lock(&phone, expiring.code.id));

    let at = |date: chrono::NaiveDate, h: u32, m: u32| berlin(date.and_hms_opt(h, m, 0).unwrap());
    blocking(|| {
        let enter = |when: DateTime<Utc>, pin: &str| {
            lock.set_clock(when);
            lock.keypad(pin).1
        };
        assert!(!enter(at(tomorrow, 8, 30), "48291657"), "before the hours");
        assert!(enter(at(tomorrow, 10, 0), "48291657"));
        // The first use starts the hour of the expiring code.
        assert!(enter(at(tomorrow, 10, 5), "63920571"));
        assert!(enter(at(tomorrow, 10, 50), "63920571"));
        assert!(!enter(at(tomorrow, 11, 30), "63920571"), "its hour is over");
        assert!(
            enter(at(tomorrow, 11, 30), "48291657"),
            "a right code resets the count"
        );
        assert!(!enter(at(tomorrow, 17, 30), "48291657"), "after the hours");
        assert!(!enter(at(day(1), 10, 0), "48291657"), "another weekday");
        assert!(
            enter(at(day(7), 10, 0), "48291657"),
            "the same weekday a week later"
        );
    });
    assert_log_clean(&lock, &["48291657", "63920571"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_time_code_is_refused_the_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let (mut lock, phone, lock_id) = paired_lock(dir.path()).await;
    let now = berlin_now();
    let start = now.date().and_hms_opt(0, 0, 0).unwrap();
    let end = now
        .date()
        .checked_add_days(Days::new(2))
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let created = phone
        .create_code(
            lock_id,
            code("Courier", "63920571", Schedule::OneTime { start, end }),
        )
        .unwrap();
    assert_eq!(phone.deliver(lock_id).await.unwrap().route, Route::Local);
    assert!(set_on_lock(&phone, created.code.id));
    blocking(|| {
        assert_eq!(lock.keypad("63920571"), ("open".to_owned(), true));
        assert_eq!(lock.keypad("63920571"), ("refused".to_owned(), false));
    });
    // Its log says so, read over the local route.
    let events = phone.read_lock_events(lock_id).await.unwrap();
    let used: Vec<_> = events
        .iter()
        .filter(|e| {
            e.activity
                == tessera_core::LockActivity::CodeUsed {
                    code: created.code.id,
                }
        })
        .collect();
    assert_eq!(used.len(), 1, "{events:?}");
    assert_eq!(events.last().map(|e| e.activity.kind()), Some("entry_refused"));
    assert_eq!(
        phone.read_lock_events(lock_id).await.unwrap(),
        Vec::new(),
        "read already"
    );

    // The lock was reset to its factory state: this phone must pair again.
    blocking(|| {
        lock.stop();
        std::fs::remove_dir_all(lock.dir.join("state")).unwrap();
        lock.restart();
    });
    let error = phone.push_to_lock(lock_id).await.unwrap_err();
    match &error {
        Error::NotPaired { lock } => assert_eq!(lock, &lock_id.to_string()),
        other => panic!("expected not_paired, got {other:?}"),
    }
    let delivery = phone.deliver(lock_id).await.unwrap();
    assert_eq!(delivery.route, Route::Queued);
    assert_eq!(delivery.local_error, Some(error.to_string()));

    phone.assert_no_secrets_on_disk(lock_id, &["63920571"]);
    assert_log_clean(&lock, &["63920571"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_codes_need_no_network_and_die_with_the_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let (mut lock, phone, lock_id) = paired_lock(dir.path()).await;

    // No network at all: the lock is off and the phone has no account.
    blocking(|| lock.stop());
    // The current hour at the lock (a start already past starts at its hour).
    let before = Utc::now();
    let hour = before.with_timezone(&zone()).naive_local();
    let hour = hour
        .date()
        .and_hms_opt(chrono::Timelike::hour(&hour), 0, 0)
        .unwrap();
    let request = |class, label: &str| OfflineRequest {
        class,
        start: Some(hour),
        label: label.to_owned(),
    };
    let first = phone
        .issue_offline_code(lock_id, request(OfflineClass::Hours4, "Courier"))
        .unwrap();
    let second = phone
        .issue_offline_code(lock_id, request(OfflineClass::Hours4, "Plumber"))
        .unwrap();
    let week = phone
        .issue_offline_code(lock_id, request(OfflineClass::Week1, "Guest"))
        .unwrap();
    let once = phone
        .issue_offline_code(lock_id, request(OfflineClass::OneTime, "Delivery"))
        .unwrap();
    for issued in [&first, &second, &week, &once] {
        assert_eq!(issued.pin.expose().len(), 10);
        assert!(issued.pin.expose().bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(issued.epoch, 0);
        // Starts at the current hour: usable now.
        assert_eq!(issued.start, berlin(hour));
        assert!(!issued.adjusted);
        assert!(issued.first_use_by > Utc::now());
        assert!(!format!("{issued:?}").contains(issued.pin.expose()));
    }
    // A 4-hour code must be used within its 4 hours; a week's within a day.
    assert_eq!(first.end, first.start + chrono::Duration::hours(4));
    assert_eq!(first.first_use_by, first.end);
    assert_eq!(week.end, week.start + chrono::Duration::days(7));
    assert_eq!(week.first_use_by, week.start + chrono::Duration::hours(24));
    assert_eq!(once.first_use_by, once.start + chrono::Duration::hours(6));
    // The same hour and class: another slot, one fewer left.
    assert_eq!(second.start_hour, first.start_hour);
    assert_ne!(second.slot, first.slot);
    assert_ne!(second.pin.expose(), first.pin.expose());
    assert!(first.remaining < SLOTS);
    assert_eq!(second.remaining, first.remaining - 1);
    // Until the hour's codes of that class run out.
    let mut more = Vec::new();
    let exhausted = loop {
        match phone.issue_offline_code(lock_id, request(OfflineClass::Hours4, "More")) {
            Ok(code) => {
                assert_eq!(
                    code.remaining,
                    second.remaining - 1 - u8::try_from(more.len()).unwrap()
                );
                more.push(code);
            }
            Err(error) => break error,
        }
    };
    assert_eq!(more.len(), usize::from(second.remaining));
    assert!(
        matches!(exhausted, Error::OfflineQuotaExhausted { slots: SLOTS }),
        "{exhausted:?}"
    );
    // A lock this phone never paired with: no secret, no offline codes.
    let by_hand = phone
        .add_lock(tessera_core::NewLock {
            name: "Shed".to_owned(),
            time_zone: ZONE.to_owned(),
            capabilities: tessera_core::model::LockCapabilities::default(),
        })
        .unwrap();
    let error = phone
        .issue_offline_code(by_hand.id, request(OfflineClass::Hours4, "Nobody"))
        .unwrap_err();
    assert!(
        matches!(error, Error::OfflineCodesUnavailable { .. }),
        "{error:?}"
    );

    blocking(|| {
        lock.restart();
        assert_eq!(lock.keypad(first.pin.expose()), ("open".to_owned(), true));
        assert_eq!(lock.keypad(second.pin.expose()), ("open".to_owned(), true));
        assert_eq!(lock.keypad(once.pin.expose()), ("open".to_owned(), true));
        assert_eq!(lock.keypad(once.pin.expose()), ("refused".to_owned(), false));
    });

    // The lock's log names which offline code opened, never its digits.
    let events = phone.read_lock_events(lock_id).await.unwrap();
    for used in [&first, &second, &once] {
        let entry = tessera_core::LockActivity::OfflineCodeUsed {
            start_hour: used.start_hour,
            class: used.class.code(),
            slot: used.slot,
        };
        let count = events.iter().filter(|e| e.activity == entry).count();
        assert_eq!(count, 1, "{entry:?} in {events:?}");
    }

    let epoch = phone.rotate_offline_epoch(lock_id).await.unwrap();
    assert_eq!(epoch, 1);
    assert_eq!(blocking(|| lock.status())["epoch"], 1);
    let fresh = phone
        .issue_offline_code(lock_id, request(OfflineClass::Hours4, "After"))
        .unwrap();
    assert_eq!(fresh.epoch, 1);
    blocking(|| {
        assert_eq!(lock.keypad(first.pin.expose()), ("refused".to_owned(), false));
        assert_eq!(lock.keypad(week.pin.expose()), ("refused".to_owned(), false));
        assert_eq!(lock.keypad(fresh.pin.expose()), ("open".to_owned(), true));
    });
    // The phone shows old codes without their (revoked) PINs.
    let listed = phone.offline_codes(lock_id).unwrap();
    assert_eq!(listed.len(), 5 + more.len());
    for (issued, pin) in &listed {
        assert_eq!(pin.is_some(), issued.epoch == 1, "{issued:?}");
    }

    let pins: Vec<String> = [&first, &second, &week, &once, &fresh]
        .into_iter()
        .chain(&more)
        .map(|code| code.pin.expose().to_owned())
        .collect();
    let pins: Vec<&str> = pins.iter().map(String::as_str).collect();
    phone.assert_no_secrets_on_disk(lock_id, &pins);
    assert_log_clean(&lock, &pins);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cloud_route_sets_a_code_on_a_wifi_lock_and_its_use_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = blocking(|| Cloud::start(dir.path(), &[]));
    let mut lock = blocking(|| LockProcess::start(&dir.path().join("lock"), false));
    let phone = phone(dir.path());
    let owner = sign_up(&phone, &cloud, "wifi@example.com").await;
    let lock_id = phone
        .pair_lock(&lock.address(), SETUP_CODE)
        .await
        .unwrap()
        .lock
        .id;
    phone.sync().await.unwrap();

    // The owner issues the lock's device credential; the lock goes on Wi-Fi.
    let url = format!("{}/v1/locks/{lock_id}/device-credentials", cloud.url());
    let (status, credential) = blocking(|| tessera_e2e::http("POST", &url, Some(&owner), Some(&json!({}))));
    assert_eq!(status, 201, "{credential}");
    let device_token = credential["device_token"].as_str().unwrap().to_owned();
    blocking(|| lock.connect_cloud(&cloud.url(), &device_token));

    // A code goes to the cloud only (sync, not the local route); the lock takes it from there.
    let created = phone
        .create_code(lock_id, code("Nanny", "58203947", Schedule::Permanent))
        .unwrap();
    let id = created.code.id;
    phone.sync().await.unwrap();
    assert!(!set_on_lock(&phone, id));
    eventually("the lock to hold the code", async || {
        (blocking(|| lock.status())["codes"] == 1).then_some(())
    })
    .await;
    eventually("the code to show as set on the lock", async || {
        phone.sync().await.unwrap();
        set_on_lock(&phone, id).then_some(())
    })
    .await;

    blocking(|| assert_eq!(lock.keypad("58203947"), ("open".to_owned(), true)));
    eventually("the phone to see the code used", async || {
        phone.sync().await.unwrap();
        let events = phone.events(lock_id, 50).unwrap();
        events
            .iter()
            .any(|e| e.kind == tessera_core::api::LockEventKind::CodeUsed && e.code_id == Some(id))
            .then_some(())
    })
    .await;

    // Signed in with the lock off: the change goes to the cloud and waits there.
    blocking(|| lock.stop());
    let second = phone
        .create_code(lock_id, code("Gardener", "71640385", Schedule::Permanent))
        .unwrap();
    let delivery = phone.deliver(lock_id).await.unwrap();
    assert_eq!(delivery.route, Route::Cloud, "{delivery:?}");
    assert!(delivery.local_error.is_some() && delivery.cloud.is_some());
    assert!(!set_on_lock(&phone, second.code.id));
    // Back on: the local route is taken again.
    blocking(|| lock.restart());
    let delivery = phone.deliver(lock_id).await.unwrap();
    assert_eq!(delivery.route, Route::Local, "{delivery:?}");
    assert!(set_on_lock(&phone, second.code.id));
    blocking(|| assert_eq!(lock.keypad("71640385"), ("open".to_owned(), true)));

    // Revoked, delivered locally: the lock's cloud poll must not bring it back.
    phone.revoke_code(id).unwrap();
    let delivery = phone.deliver(lock_id).await.unwrap();
    assert_eq!(delivery.route, Route::Local, "{delivery:?}");
    // Removed by the local route, or already by the lock's poll of the cloud,
    // which heard first.
    assert!(delivery.local.as_ref().unwrap().removed <= 1, "{delivery:?}");
    assert_eq!(blocking(|| lock.status())["codes"], 1, "only the gardener's");
    // A marker sent through the cloud afterwards: once the lock has it, it polled since.
    phone
        .create_code(lock_id, code("Marker", "30582719", Schedule::Permanent))
        .unwrap();
    phone.sync().await.unwrap();
    eventually("the lock to poll again", async || {
        (blocking(|| lock.status())["codes"] == 2).then_some(())
    })
    .await;
    blocking(|| assert_eq!(lock.keypad("58203947"), ("refused".to_owned(), false)));
    let events = phone.read_lock_events(lock_id).await.unwrap();
    let of_first: Vec<&str> = events
        .iter()
        .filter(|e| {
            matches!(&e.activity,
                tessera_core::LockActivity::CodeSet { code } | tessera_core::LockActivity::CodeRemoved { code }
                if *code == id)
        })
        .map(|e| e.activity.kind())
        .collect();
    assert_eq!(of_first.last(), Some(&"code_removed"), "{of_first:?}");
    assert_eq!(
        of_first.iter().filter(|kind| **kind == "code_removed").count(),
        1,
        "removed once, never set again: {of_first:?}"
    );

    phone.assert_no_secrets_on_disk(lock_id, &["58203947", "71640385"]);
    assert_log_clean(&lock, &["58203947", "71640385", "30582719", &device_token]);
}
