//! The `tessera` command with locks reached directly: real `tessera-lock serve`
//! processes on loopback ports (found by address: `--no-announce`, no multicast),
//! their keypads driven over the control socket.

#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use chrono::Utc;
use serde_json::Value;
use tessera_core::model::Tz;
use tessera_e2e::{Run, Tessera, workspace_bin};

const SETUP_CODE: &str = "12345678";
const ZONE: Tz = Tz::Europe__Berlin;

/// A real `tessera-lock serve` process, killed when dropped.
struct LockProcess {
    child: Option<Child>,
    state: PathBuf,
    control: PathBuf,
    address: String,
}

impl LockProcess {
    fn start(dir: &Path) -> Self {
        let mut lock = LockProcess {
            child: None,
            state: dir.join("lock-state"),
            control: dir.join("lock.sock"),
            address: "127.0.0.1:0".to_owned(),
        };
        lock.spawn();
        lock
    }

    /// Kills the process (a power cut) and starts it again on the same state
    /// and address.
    fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn spawn(&mut self) {
        let bin = workspace_bin("tessera-lock", "tessera-lock");
        let mut child = Command::new(&bin)
            .arg("serve")
            .arg("--state")
            .arg(&self.state)
            .args(["--bind", &self.address, "--no-announce", "--control"])
            .arg(&self.control)
            .args([
                "--setup-code",
                SETUP_CODE,
                "--name",
                "Front door",
                "--zone",
                ZONE.name(),
            ])
            .env_remove("TESSERA_SETUP_CODE")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
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
        let line = receiver
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("tessera-lock did not start"));
        self.address = line
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        self.child = Some(child);
    }

    fn tool(&self, args: &[&str]) -> Run {
        let bin = workspace_bin("tessera-lock", "tessera-lock");
        let output = Command::new(&bin)
            .arg(args[0])
            .arg("--control")
            .arg(&self.control)
            .args(&args[1..])
            .output()
            .unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Types `digits` on the keypad and presses Enter: `open`, `refused` or
    /// `locked out until ...`.
    fn keypad(&self, digits: &str) -> String {
        let run = self.tool(&["keypad", digits]);
        let result = run.stdout.trim().to_owned();
        assert_eq!(run.code, if result == "open" { 0 } else { 1 }, "keypad: {run:?}");
        result
    }

    /// Moves the lock's clock (a test hook of the reference lock).
    fn advance_clock(&self, seconds: i64) {
        let run = self.tool(&["clock", "--advance", &seconds.to_string()]);
        assert_eq!(run.code, 0, "clock: {run:?}");
    }
}

impl Drop for LockProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

fn setup() -> (tempfile::TempDir, LockProcess, Tessera) {
    let dir = tempfile::tempdir().unwrap();
    let lock = LockProcess::start(dir.path());
    let tessera = Tessera::new(&dir.path().join("phone"));
    (dir, lock, tessera)
}

fn pair(tessera: &Tessera, lock: &LockProcess) -> Value {
    tessera.json(&["lock", "pair", &lock.address, "--setup-code", SETUP_CODE])
}

/// A loopback address where nothing listens.
fn closed_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    drop(listener);
    address
}

/// `time` hours from now in the lock's zone, as `--from`/`--to` take it.
fn lock_time(hours: i64) -> String {
    (Utc::now() + chrono::Duration::hours(hours))
        .with_timezone(&ZONE)
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

#[test]
fn discovers_by_address_and_pairs_with_the_setup_code() {
    let (_dir, lock, tessera) = setup();
    let found = tessera.json(&["lock", "discover", "--address", &lock.address, "--no-mdns"]);
    let locks = found["locks"].as_array().unwrap();
    assert_eq!(locks.len(), 1, "{found}");
    assert_eq!(
        locks[0]["id"],
        Value::Null,
        "not paired: the lock is not identified"
    );
    assert_eq!(locks[0]["paired"], false);
    assert_eq!(locks[0]["routes"][0]["kind"], "network");
    assert_eq!(locks[0]["routes"][0]["address"], lock.address.as_str());

    // A wrong setup code: a clear refusal that gives nothing away and echoes nothing.
    let wrong = tessera.run(&["lock", "pair", &lock.address, "--setup-code", "87654321"]);
    assert_eq!(wrong.code, 1, "{wrong:?}");
    assert_eq!(
        wrong.stderr,
        "error: the lock refused to pair: wrong setup code, or too many attempts\n"
    );
    assert!(!wrong.stdout.contains("87654321"));
    let wrong = tessera.run(&[
        "--json",
        "lock",
        "pair",
        &lock.address,
        "--setup-code",
        "87654321",
    ]);
    assert_eq!(wrong.error_json()["error"]["code"], "pairing_refused");

    // No setup code and no terminal to ask on.
    let missing = tessera
        .command(&["lock", "pair", &lock.address])
        .env_remove("TESSERA_SETUP_CODE")
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&missing.stderr),
        "error: no setup code: pass --setup-code CODE or set TESSERA_SETUP_CODE\n"
    );

    // The right one, from the environment; it is never printed.
    let paired = tessera
        .command(&["lock", "pair", &lock.address])
        .env("TESSERA_SETUP_CODE", SETUP_CODE)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&paired.stdout);
    let stderr = String::from_utf8_lossy(&paired.stderr);
    assert_eq!(paired.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.starts_with(&format!(
            "Paired with \"Front door\" at {} (Europe/Berlin), id ",
            lock.address
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("Offline codes can be issued for it here"),
        "{stdout}"
    );
    assert!(!stdout.contains(SETUP_CODE) && !stderr.contains(SETUP_CODE));

    let locks = tessera.json(&["lock", "list"]);
    assert_eq!(locks[0]["name"], "Front door");
    assert_eq!(locks[0]["time_zone"], "Europe/Berlin");
    assert_eq!(locks[0]["capabilities"]["offline_codes"], true);
    let id = locks[0]["id"].as_str().unwrap().to_owned();

    // Discovery now knows which lock answers there.
    let found = tessera.json(&["lock", "discover", "--address", &lock.address, "--no-mdns"]);
    let locks = found["locks"].as_array().unwrap();
    assert_eq!(locks.len(), 1, "{found}");
    assert_eq!(locks[0]["id"], id.as_str());
    assert_eq!(locks[0]["name"], "Front door");
    assert_eq!(locks[0]["paired"], true);
    let text = tessera.ok(&["lock", "discover", "--address", &lock.address, "--no-mdns"]);
    assert!(text.stdout.starts_with("NAME"), "{}", text.stdout);
    assert!(
        text.stdout.contains(&format!(
            "Front door  {}  yes     lan {}",
            &id[id.len() - 8..],
            lock.address
        )),
        "{}",
        text.stdout
    );
}

#[test]
fn an_unreachable_address_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let tessera = Tessera::new(&dir.path().join("phone"));
    let address = closed_address();

    let pair = tessera.run(&["--json", "lock", "pair", &address, "--setup-code", SETUP_CODE]);
    assert_eq!(pair.code, 1);
    let error = &pair.error_json()["error"];
    assert_eq!(error["code"], "lock_unreachable");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!("the lock cannot be reached: {address}: ")),
        "{message}"
    );
    assert!(!pair.stderr.contains(SETUP_CODE));

    let found = tessera.json(&["lock", "discover", "--address", &address, "--no-mdns"]);
    assert_eq!(found["locks"], Value::Array(Vec::new()));
    assert_eq!(found["unreachable"][0], address.as_str());
    let text = tessera.ok(&["lock", "discover", "--address", &address, "--no-mdns"]);
    assert_eq!(
        text.stdout,
        format!("No locks found.\nNothing answered at {address}.\n")
    );
}

#[test]
fn a_window_code_goes_to_the_lock_directly_and_opens_it_inside_its_window() {
    let (_dir, mut lock, tessera) = setup();
    pair(&tessera, &lock);

    let code = tessera.json(&[
        "code",
        "create",
        "--lock",
        "Front door",
        "--label",
        "Gardener",
        "--from",
        &lock_time(-1),
        "--to",
        &lock_time(2),
    ]);
    assert_eq!(code["delivery"]["route"], "local", "{code}");
    assert_eq!(code["delivery"]["local"]["set"], 1);
    assert_eq!(code["sync"]["state"], "set_on_lock");
    let pin = code["pin"].as_str().unwrap().to_owned();

    // Inside its window the door opens.
    assert_eq!(lock.keypad(&pin), "open");
    // Three hours later the window is over.
    lock.advance_clock(3 * 3600);
    assert_eq!(lock.keypad(&pin), "refused");
    lock.advance_clock(-3 * 3600);

    let pushed = tessera.ok(&["lock", "push", "Front door"]);
    assert_eq!(
        pushed.stdout,
        "\"Front door\": Route: local; the lock acknowledged (0 set, 0 removed, 1 unchanged).\n"
    );

    let log = tessera.json(&["lock", "log", "Front door"]);
    let kinds: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["kind"].as_str().unwrap())
        .collect();
    for kind in ["paired", "code_set", "code_used", "entry_refused", "clock_set"] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }

    // A revoke goes the same way: the lock drops the code and refuses it.
    let id = code["id"].as_str().unwrap();
    let revoked = tessera.json(&["code", "revoke", id]);
    assert_eq!(revoked["delivery"]["route"], "local");
    assert_eq!(revoked["delivery"]["local"]["removed"], 1);
    assert_eq!(lock.keypad(&pin), "refused");

    let clock = tessera.json(&["lock", "clock", "Front door"]);
    assert!(clock["drift_ms"].is_i64(), "{clock}");

    // The lock is off: a new code waits on this device, and goes when it is back.
    lock.stop();
    let queued = tessera.json(&[
        "code",
        "create",
        "--lock",
        "Front door",
        "--label",
        "Painter",
        "--permanent",
    ]);
    assert_eq!(queued["delivery"]["route"], "queued", "{queued}");
    let reason = queued["delivery"]["local_error"].as_str().unwrap();
    assert!(reason.starts_with("the lock cannot be reached: "), "{reason}");
    assert_eq!(queued["sync"]["state"], "pending");
    lock.restart();
    let pushed = tessera.ok(&["lock", "push", "Front door"]);
    assert_eq!(
        pushed.stdout,
        "\"Front door\": Route: local; the lock acknowledged (1 set, 0 removed, 0 unchanged).\n"
    );
    let painter = tessera.json(&["code", "show", queued["id"].as_str().unwrap()]);
    assert_eq!(painter["sync"]["state"], "set_on_lock");
    assert_eq!(lock.keypad(painter["pin"].as_str().unwrap()), "open");
}

#[test]
fn a_code_for_an_unpaired_lock_is_queued() {
    let dir = tempfile::tempdir().unwrap();
    let tessera = Tessera::new(&dir.path().join("phone"));
    tessera.json(&["lock", "add", "--name", "Shed", "--tz", "Europe/Berlin"]);
    let code = tessera.ok(&[
        "code",
        "create",
        "--lock",
        "Shed",
        "--label",
        "Anna",
        "--permanent",
    ]);
    assert!(
        code.stdout.ends_with(
            "Route: queued until the lock or the cloud can be reached \
             (directly: not paired on this device; cloud: not signed in).\n"
        ),
        "{}",
        code.stdout
    );
}

#[test]
fn offline_codes_work_with_no_network_and_stop_after_a_rotation() {
    let (_dir, mut lock, tessera) = setup();
    pair(&tessera, &lock);

    // No cloud anywhere, and the lock is off too (a power cut): the phone still
    // makes codes, and says what they grant before the PIN.
    lock.stop();
    let text = tessera.ok(&[
        "code",
        "create",
        "--offline",
        "1d",
        "--lock",
        "Front door",
        "--label",
        "Dog sitter",
    ]);
    let lines: Vec<&str> = text.stdout.lines().collect();
    assert_eq!(
        lines[0], "Offline code \"Dog sitter\" for Front door: 1d (1 day from the start)",
        "{}",
        text.stdout
    );
    let position = |field: &str| {
        lines
            .iter()
            .position(|line| line.trim_start().starts_with(field))
            .unwrap_or_else(|| panic!("no {field} line in {}", text.stdout))
    };
    let pin_line = position("PIN ");
    for field in ["starts ", "ends ", "first use ", "quota "] {
        assert!(
            position(field) < pin_line,
            "{field} comes before the PIN:\n{}",
            text.stdout
        );
    }
    assert!(lines[position("quota ")].contains("3 more codes left for this start hour and class"));
    let day_pin = lines[pin_line]
        .trim_start()
        .trim_start_matches("PIN")
        .trim()
        .to_owned();
    assert_eq!(day_pin.len(), 10, "{}", text.stdout);

    let code = tessera.json(&[
        "code",
        "create",
        "--offline",
        "4h",
        "--lock",
        "Front door",
        "--label",
        "Plumber",
    ]);
    assert_eq!(code["class"], "4h");
    assert_eq!(code["remaining"], 3);
    assert_eq!(code["time_zone"], "Europe/Berlin");
    assert_eq!(code["epoch"], 0);
    for field in [
        "start",
        "end",
        "first_use_by",
        "start_local",
        "first_use_by_local",
    ] {
        assert!(!code[field].is_null(), "{field} in {code}");
    }
    let pin = code["pin"].as_str().unwrap().to_owned();
    assert_eq!(pin.len(), 10);

    // Later starts move to a whole hour, and say so.
    let tomorrow = (Utc::now() + chrono::Duration::days(1))
        .with_timezone(&ZONE)
        .format("%Y-%m-%d 09:30")
        .to_string();
    let later = tessera.json(&[
        "code",
        "create",
        "--offline",
        "one-time",
        "--lock",
        "Front door",
        "--label",
        "Courier",
        "--start",
        &tomorrow,
    ]);
    assert_eq!(later["adjusted"], true);
    assert!(
        later["start_local"]["local"]
            .as_str()
            .unwrap()
            .ends_with("T10:00:00"),
        "{later}"
    );

    // The lock is back (same state, same address): both codes open it.
    lock.restart();
    assert_eq!(lock.keypad(&pin), "open");
    assert_eq!(lock.keypad(&day_pin), "open");

    let list = tessera.json(&["code", "offline-list", "Front door"]);
    assert_eq!(list.as_array().unwrap().len(), 3);
    assert!(list[0].get("pin").is_none(), "PINs only when asked for");

    // Rotating the epoch revokes every offline code issued before.
    let rotated = tessera.json(&["lock", "rotate-offline", "Front door"]);
    assert_eq!(rotated["epoch"], 1);
    assert_eq!(lock.keypad(&pin), "refused");
    let list = tessera.json(&["code", "offline-list", "Front door", "--show-pins"]);
    for code in list.as_array().unwrap() {
        assert_eq!(code["state"], "revoked", "{code}");
        assert_eq!(code["pin"], Value::Null);
    }

    let log = tessera.json(&["lock", "log", "Front door"]);
    let kinds: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"offline_code_used"), "{kinds:?}");
    assert!(kinds.contains(&"epoch_rotated"), "{kinds:?}");
}

#[test]
fn offline_codes_need_a_known_class_and_a_paired_lock() {
    let dir = tempfile::tempdir().unwrap();
    let tessera = Tessera::new(&dir.path().join("phone"));
    let shed = tessera.json(&["lock", "add", "--name", "Shed", "--tz", "Europe/Berlin"]);

    let unknown = tessera.run(&[
        "code",
        "create",
        "--offline",
        "3h",
        "--lock",
        "Shed",
        "--label",
        "Anna",
    ]);
    assert_eq!(unknown.code, 2);
    assert_eq!(
        unknown.stderr,
        "error: \"3h\" is not a class of offline code; use one of: one-time, 1h, 2h, 4h, 8h, \
         12h, 1d, 2d, 3d, 1w, 2w, daily-4h, daily-8h, weekdays, weekends\n"
    );
    let unknown = tessera.run(&[
        "--json",
        "code",
        "create",
        "--offline",
        "3h",
        "--lock",
        "Shed",
        "--label",
        "Anna",
    ]);
    assert_eq!(unknown.error_json()["error"]["code"], "unknown_offline_class");

    let unpaired = tessera.run(&[
        "--json",
        "code",
        "create",
        "--offline",
        "1d",
        "--lock",
        "Shed",
        "--label",
        "Anna",
    ]);
    assert_eq!(unpaired.code, 1);
    let error = &unpaired.error_json()["error"];
    assert_eq!(error["code"], "offline_codes_unavailable");
    assert_eq!(
        error["message"],
        format!(
            "no offline-code secret for lock {}; pair with the lock first",
            shed["id"].as_str().unwrap()
        )
    );

    // Offline codes take no schedule of their own.
    let both = tessera.run(&[
        "code",
        "create",
        "--offline",
        "1d",
        "--permanent",
        "--lock",
        "Shed",
        "--label",
        "Anna",
    ]);
    assert_eq!(both.code, 2, "{both:?}");

    // The local commands say the lock is not paired.
    let log = tessera.run(&["lock", "log", "Shed"]);
    assert_eq!(log.code, 1);
    assert_eq!(
        log.stderr,
        format!(
            "error: this device is not paired with lock {}; pair with its setup code\n",
            shed["id"].as_str().unwrap()
        )
    );
}

#[test]
fn the_demo_pairs_with_a_lock_and_uses_its_keypad_and_an_offline_code() {
    let dir = tempfile::tempdir().unwrap();
    let tessera = Tessera::new(&dir.path().join("unused"));
    let demo = tessera.ok(&["demo"]);
    let out = &demo.stdout;
    for line in [
        "phone $ tessera lock discover --address 127.0.0.1:",
        "phone $ tessera lock pair 127.0.0.1:",
        " --setup-code <the code on the label>\n",
        "Paired with \"Garden gate\" at 127.0.0.1:",
        "Route: local; the lock acknowledged (1 set, 0 removed, 0 unchanged).\n",
        "Garden gate  ",
        "gate  [clock moved 3 hours ahead]",
        "phone $ tessera code create --offline 4h --lock 'Garden gate' --label 'Dog sitter'\n",
        "Offline code \"Dog sitter\" for Garden gate: 4h (4 hours from the start)\n",
        "phone $ tessera lock rotate-offline 'Garden gate'\n",
        "Rotated \"Garden gate\" to offline epoch 1",
        "Summary: the gate's keypad opened 2 times",
    ] {
        assert!(out.contains(line), "the demo lacks {line:?}:\n{out}");
    }
    // Opens inside the window, refused outside; the offline code opens, then is refused.
    let results: Vec<&str> = out.lines().filter_map(|line| line.strip_prefix("=> ")).collect();
    assert_eq!(results, ["open", "refused", "open", "refused"], "{out}");
}
