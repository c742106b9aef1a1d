//! kill -9 at any moment: a real `tessera-lock` process is SIGKILLed at a random
//! point of a burst of state-changing operations (codes set and removed over the
//! protocol, codes used on the keypad), again and again on the same state
//! directory. Every time, the lock starts again, and every change it
//! acknowledged before the kill is there.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::Duration;

use rand::RngExt;
use support::{LockProcess, Session, phone};
use tessera_protocol::wire::{EventKind, LockCode, Request, Response, WireSchedule};

const ROUNDS: usize = 30;

type Id = [u8; 16];

/// What the test knows about the lock's codes.
#[derive(Default)]
struct Known {
    /// Set (acknowledged) and not removed: must be there. The PIN.
    present: BTreeMap<Id, String>,
    /// Present and never entered: the keypad opens with them (each opens once).
    fresh: BTreeSet<Id>,
    /// Removed (acknowledged): must not be there.
    removed: BTreeSet<Id>,
    /// Used on the keypad (acknowledged): must not open again.
    used: BTreeMap<Id, String>,
    /// In flight at the kill: either way.
    uncertain: BTreeMap<Id, String>,
    /// The latest time the owner set (acknowledged): the clock is at least that.
    clock_ms: i64,
    next: u32,
}

/// What this round acknowledged, to find in the lock's event log.
#[derive(Default)]
struct Acknowledged {
    set: Vec<Id>,
    removed: Vec<Id>,
    used: Vec<Id>,
}

fn id(n: u32) -> Id {
    let mut id = [0xc0; 16];
    id[..4].copy_from_slice(&n.to_be_bytes());
    id
}

fn burst(lock: &LockProcess, session: &mut Session, known: &mut Known, done: &mut Acknowledged) {
    let mut rng = rand::rng();
    loop {
        let choice = rng.random_range(0..11);
        if choice == 10 {
            // The owner sets the clock a little ahead: it must not come back.
            let Ok(Response::Info(info)) = session.request(Request::GetInfo) else {
                return;
            };
            let unix_ms = info.clock_unix_ms + 60_000;
            match session.request(Request::SetClock { unix_ms }) {
                Ok(Response::Done) => known.clock_ms = unix_ms,
                Ok(other) => panic!("{other:?}"),
                Err(_) => return,
            }
        } else if choice < 2 && !known.fresh.is_empty() {
            // Someone uses a code on the keypad (a code that opens once).
            let pick = rng.random_range(0..known.fresh.len());
            let code = *known.fresh.iter().nth(pick).unwrap();
            let pin = known.present[&code].clone();
            let answer = lock.keypad(&pin);
            if answer == "open" {
                known.fresh.remove(&code);
                known.used.insert(code, pin);
                done.used.push(code);
            } else if answer.starts_with("stderr:") {
                // The lock died under the entry: it may or may not have opened.
                known.fresh.remove(&code);
                return;
            } else {
                // Entries cut short by earlier kills count as wrong (on purpose):
                // enough of them lock the keypad out. Anything else is a bug.
                assert!(answer.starts_with("locked out until"), "{answer}");
            }
        } else if (choice < 4 || known.present.len() > 120) && !known.present.is_empty() {
            let pick = rng.random_range(0..known.present.len());
            let code = *known.present.keys().nth(pick).unwrap();
            match session.request(Request::RemoveCode { id: code }) {
                Ok(Response::Done) => {
                    let pin = known.present.remove(&code).unwrap();
                    known.fresh.remove(&code);
                    known.used.remove(&code);
                    known.removed.insert(code);
                    done.removed.push(code);
                    drop(pin);
                }
                Ok(other) => panic!("removing a code the lock holds: {other:?}"),
                Err(_) => {
                    let pin = known.present.remove(&code).unwrap();
                    known.fresh.remove(&code);
                    known.used.remove(&code);
                    known.uncertain.insert(code, pin);
                    return;
                }
            }
        } else {
            known.next += 1;
            let code = id(known.next);
            let pin = format!("{:08}", rng.random_range(0..100_000_000u32));
            let request = Request::SetCode(LockCode {
                id: code,
                pin: pin.clone(),
                schedule: WireSchedule::Permanent,
                max_uses: Some(1),
            });
            match session.request(request) {
                Ok(Response::Done) => {
                    known.present.insert(code, pin);
                    known.fresh.insert(code);
                    done.set.push(code);
                }
                // A weak PIN, or one another code has: not set.
                Ok(Response::Refused(_)) => {}
                Ok(other) => panic!("{other:?}"),
                Err(_) => {
                    known.uncertain.insert(code, pin);
                    return;
                }
            }
        }
    }
}

/// After a restart: the lock works, holds what it acknowledged, and logged it.
fn check(lock: &LockProcess, session: &mut Session, known: &mut Known, done: &Acknowledged, after_seq: u64) {
    let status = lock.status();
    let clock: chrono::DateTime<chrono::Utc> = status["clock"].as_str().unwrap().parse().unwrap();
    assert!(clock.timestamp_millis() >= known.clock_ms, "the clock went back");
    let Ok(Response::Codes(listed)) = session.request(Request::ListCodes) else {
        panic!("no code list")
    };
    let listed: BTreeMap<Id, String> = listed.into_iter().map(|code| (code.id, code.pin)).collect();
    assert_eq!(status["codes"], listed.len());
    for (code, pin) in &known.present {
        assert_eq!(listed.get(code), Some(pin), "an acknowledged code is gone");
    }
    for code in &known.removed {
        assert!(!listed.contains_key(code), "an acknowledged removal is undone");
    }
    for code in listed.keys() {
        assert!(
            known.present.contains_key(code) || known.uncertain.contains_key(code),
            "a code nobody set"
        );
    }
    // What was in flight has landed one way or the other; it is no longer fresh.
    for (code, pin) in std::mem::take(&mut known.uncertain) {
        if listed.get(&code) == Some(&pin) {
            known.present.insert(code, pin);
        } else {
            known.removed.insert(code);
        }
    }

    let mut events = Vec::new();
    let mut after = after_seq;
    loop {
        let Ok(Response::Events(page)) = session.request(Request::ReadEvents { after, limit: 256 }) else {
            panic!("no events")
        };
        let Some(last) = page.last() else { break };
        after = last.seq;
        events.extend(page.into_iter().map(|event| event.kind));
    }
    for code in &done.set {
        assert!(
            events.contains(&EventKind::CodeSet { id: *code }),
            "a set code is not in the log"
        );
    }
    for code in &done.removed {
        assert!(events.contains(&EventKind::CodeRemoved { id: *code }));
    }
    for code in &done.used {
        assert!(
            events.contains(&EventKind::CodeUsed { id: *code }),
            "a use is not in the log"
        );
    }
}

#[test]
fn kill_9_mid_burst_loses_nothing_acknowledged() {
    let mut lock = LockProcess::start();
    let key = lock.pair(phone(1));
    let mut known = Known::default();
    let mut rng = rand::rng();
    let mut acknowledged_ops = 0;
    for round in 0..ROUNDS {
        let after_seq = lock.status()["last_event_seq"].as_u64().unwrap();
        let pid = lock.pid().to_string();
        let delay = Duration::from_millis(rng.random_range(5..250));
        let killer = std::thread::spawn(move || {
            std::thread::sleep(delay);
            Command::new("kill").args(["-KILL", &pid]).status().unwrap()
        });
        let mut done = Acknowledged::default();
        if let Ok(mut session) = Session::open(lock.addr, phone(1), key.clone()) {
            burst(&lock, &mut session, &mut known, &mut done);
        }
        assert!(killer.join().unwrap().success());
        let status = lock.wait_killed();
        assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9));
        acknowledged_ops += done.set.len() + done.removed.len() + done.used.len();

        if round % 3 == 0 {
            // What a kill in the middle of writing leaves: a half-written temporary file.
            std::fs::write(lock.state_dir().join("state.json.tmp"), b"{\"format\":1,\"lock_").unwrap();
        }
        lock.restart();
        let mut session = lock.session(phone(1), &key);
        check(&lock, &mut session, &mut known, &done, after_seq);
    }
    eprintln!(
        "{ROUNDS} rounds, {acknowledged_ops} acknowledged changes, {} codes held, {} used, {} removed",
        known.present.len(),
        known.used.len(),
        known.removed.len()
    );
    // Enough happened for the test to mean something.
    assert!(
        acknowledged_ops >= ROUNDS,
        "only {acknowledged_ops} acknowledged changes"
    );
    assert!(!known.used.is_empty() && !known.removed.is_empty());

    // A code that opened before a kill does not open again.
    for pin in known.used.values().take(3) {
        assert_ne!(lock.keypad(pin), "open");
    }
    // No temporary file is left behind once the lock runs.
    assert!(!lock.state_dir().join("state.json.tmp").exists());
}

#[test]
fn one_process_per_state_directory_and_a_damaged_state_is_named_not_guessed() {
    let mut lock = LockProcess::start();
    let id = lock.status()["id"].as_str().unwrap().to_owned();
    let dir = lock.state_dir();

    // A second process on the same directory is turned away.
    let (status, stderr) = lock.serve_fails();
    assert_eq!(status.code(), Some(2));
    assert_eq!(
        stderr.trim(),
        format!(
            "tessera-lock: another tessera-lock process uses {}",
            dir.display()
        )
    );
    assert_eq!(lock.status()["id"], id.as_str(), "the first one is unharmed");

    // A state file damaged by something other than the lock (the lock's own
    // writes are atomic): the lock refuses to start rather than start as a new
    // lock, and says where, never what (the file holds secrets).
    lock.kill9();
    let state = dir.join(tessera_lock::STATE_FILE);
    let mut bytes = std::fs::read(&state).unwrap();
    let keep = bytes.len() / 2;
    bytes.truncate(keep);
    std::fs::write(&state, &bytes).unwrap();
    let (status, stderr) = lock.serve_fails();
    assert_eq!(status.code(), Some(2));
    let expected = format!(
        "tessera-lock: the state file {} is unreadable: Eof at line 1 column {keep}",
        state.display()
    );
    assert_eq!(stderr.trim(), expected);
    assert!(!stderr.contains(&id));
}
