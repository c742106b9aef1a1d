//! Crash safety: a writer killed with SIGKILL in the middle of its writes never
//! leaves a damaged store, a code without its outbox entry (or the reverse), or
//! loses a code it had reported as saved. And every state a crash can leave while
//! the store is being created and written still opens.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(unix)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::*;
use rusqlite::{Connection, OpenFlags};
use tessera_core::STORE_FILE;
use tessera_core::model::{CodeId, CodeStatus, LockCapabilities, Schedule};
use tessera_core::store::Operation;
use uuid::Uuid;

/// The `store_writer` example, built by `cargo test` next to the test binaries.
fn writer_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/crash-<hash> -> target/<profile>
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let binary = profile_dir
        .join("examples")
        .join(format!("store_writer{}", std::env::consts::EXE_SUFFIX));
    if !binary.exists() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = Command::new(cargo);
        build.args(["build", "--example", "store_writer", "-p", "tessera-core"]);
        if profile_dir.file_name().is_some_and(|name| name == "release") {
            build.arg("--release");
        }
        let status = build.current_dir(env!("CARGO_MANIFEST_DIR")).status().unwrap();
        assert!(status.success(), "building the store_writer example failed");
    }
    assert!(binary.exists(), "{} is missing", binary.display());
    binary
}

/// Kills the writer if the test fails half way, so it never outlives the test.
struct Writer(Child);

impl Drop for Writer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn write_key_file(dir: &Path) -> PathBuf {
    let path = dir.join("store.key.hex");
    let hex: String = KEY_BYTES.iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(&path, hex).unwrap();
    path
}

/// Runs the writer until it has reported `lines` codes, lets it run `extra` longer,
/// kills it with SIGKILL and returns every code id it reported.
fn run_and_kill(
    binary: &Path,
    data_dir: &Path,
    key_file: &Path,
    lines: usize,
    extra: Duration,
) -> Vec<CodeId> {
    let child = Command::new(binary)
        .arg(data_dir)
        .arg(key_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut writer = Writer(child);
    let stdout = writer.0.stdout.take().unwrap();
    let (sender, receiver) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).split(b'\n') {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let mut reported = Vec::new();
    while reported.len() < lines {
        match receiver.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => reported.push(line),
            Err(e) => {
                let _ = writer.0.kill();
                let mut stderr = String::new();
                writer
                    .0
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut stderr)
                    .unwrap();
                panic!(
                    "the writer stopped after {} lines ({e}): {stderr}",
                    reported.len()
                );
            }
        }
    }
    std::thread::sleep(extra);
    writer.0.kill().unwrap();
    let status = writer.0.wait().unwrap();
    assert_eq!(
        status.signal(),
        Some(9),
        "the writer was not killed but ended: {status:?}"
    );
    // Lines already in the pipe were committed before the kill too. `split` yields a
    // last piece without its newline if the kill cut a line short: only whole ids count.
    reader.join().unwrap();
    reported.extend(receiver.try_iter());
    reported
        .iter()
        .filter_map(|line| std::str::from_utf8(line).ok()?.parse::<CodeId>().ok())
        .collect()
}

#[test]
fn killing_the_writer_mid_write_loses_nothing_committed() {
    let binary = writer_binary();
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let key_file = write_key_file(dir.path());
    // (codes to wait for, then how much longer to let it write)
    let moments = [
        (1, Duration::ZERO),
        (5, Duration::from_micros(300)),
        (40, Duration::from_millis(3)),
        (120, Duration::from_micros(50)),
        (25, Duration::from_millis(20)),
    ];
    let mut reported = Vec::new();
    for (lines, extra) in moments {
        let ids = run_and_kill(&binary, &data_dir, &key_file, lines, extra);
        assert!(ids.len() >= lines, "{} ids for {lines} lines", ids.len());
        reported.extend(ids);
    }

    // Recover through the client, then check the file itself.
    let client = open(&data_dir);
    let locks = client.locks().unwrap();
    assert_eq!(locks.len(), 1);
    let codes = client.codes(locks[0].id).unwrap();
    let outbox = client.pending_mutations().unwrap();
    drop(client);

    let conn =
        Connection::open_with_flags(data_dir.join(STORE_FILE), OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let integrity: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(integrity, ["ok"]);
    let foreign_key_errors: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(foreign_key_errors, 0);
    drop(conn);

    // Committed work is never lost: every code the writer reported is there.
    let stored: BTreeSet<CodeId> = codes.iter().map(|c| c.code.id).collect();
    assert_eq!(stored.len(), codes.len());
    assert!(
        codes.len() >= reported.len(),
        "{} codes for {} reports",
        codes.len(),
        reported.len()
    );
    for id in &reported {
        assert!(stored.contains(id), "reported code {id} is missing");
    }
    assert!(codes.iter().all(|c| c.code.status == CodeStatus::Active));

    // Each code has exactly one create_code entry, and each entry its code.
    let mut per_entity: BTreeMap<(Uuid, &str), usize> = BTreeMap::new();
    for entry in &outbox {
        let op = match entry.operation {
            Operation::CreateLock => "lock",
            Operation::CreateCode => "code",
            Operation::RenameLock | Operation::UpdateCode | Operation::RevokeCode => "other",
        };
        *per_entity.entry((entry.entity_id, op)).or_default() += 1;
    }
    let expected: BTreeMap<(Uuid, &str), usize> = codes
        .iter()
        .map(|c| ((*c.code.id.as_uuid(), "code"), 1))
        .chain([((*locks[0].id.as_uuid(), "lock"), 1)])
        .collect();
    assert_eq!(per_entity, expected);
    assert!(outbox.windows(2).all(|w| w[0].seq < w[1].seq));
    eprintln!(
        "{} codes stored, {} reported by 5 killed writers",
        codes.len(),
        reported.len()
    );

    // The recovered store takes new writes.
    let client = open(&data_dir);
    client
        .create_code(locks[0].id, generated("After the crashes", Schedule::Permanent))
        .unwrap();
}

#[test]
fn killing_the_writer_while_it_creates_the_store_leaves_an_openable_directory() {
    let binary = writer_binary();
    let dir = tempfile::tempdir().unwrap();
    let key_file = write_key_file(dir.path());
    for (i, delay) in [0u64, 1, 2, 3, 5, 8, 13, 21].into_iter().enumerate() {
        let data_dir = dir.path().join(format!("data-{i}"));
        let mut writer = Writer(
            Command::new(&binary)
                .arg(&data_dir)
                .arg(&key_file)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        std::thread::sleep(Duration::from_millis(delay));
        writer.0.kill().unwrap();
        writer.0.wait().unwrap();
        let client =
            open_with(&data_dir, &key()).unwrap_or_else(|e| panic!("killed after {delay} ms: {e:?}"));
        assert!(client.locks().unwrap().len() <= 1);
    }
}

/// The commit points of a WAL file: the length of the file up to and including each
/// commit frame. Frames after the last commit are a transaction in progress.
fn wal_commits(wal: &[u8]) -> Vec<usize> {
    assert!(
        wal[..4] == [0x37, 0x7f, 0x06, 0x82] || wal[..4] == [0x37, 0x7f, 0x06, 0x83],
        "not a WAL file"
    );
    let page_size = u32::from_be_bytes(wal[8..12].try_into().unwrap()) as usize;
    let frame = 24 + page_size;
    let mut commits = Vec::new();
    let mut offset = 32;
    while offset + frame <= wal.len() {
        let db_size = u32::from_be_bytes(wal[offset + 4..offset + 8].try_into().unwrap());
        offset += frame;
        if db_size != 0 {
            commits.push(offset);
        }
    }
    commits
}

#[test]
fn every_state_a_crash_can_leave_opens_consistently() {
    // A session writes through a store that stays open, so its WAL holds every
    // transaction; each prefix of the WAL up to a commit is what a kill at that
    // moment leaves behind.
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live");
    let client = open(&live);
    let lock = add_lock(&client, LockCapabilities::default());
    let mut created = Vec::new();
    for i in 0..6 {
        created.push(
            client
                .create_code(lock.id, generated("Guest", window(i + 1, 2)))
                .unwrap(),
        );
    }
    client.revoke_code(created[2].code.id).unwrap();
    client.revoke_code(created[4].code.id).unwrap();

    let main = std::fs::read(live.join(STORE_FILE)).unwrap();
    let wal = std::fs::read(live.join(format!("{STORE_FILE}-wal"))).unwrap();
    let commits = wal_commits(&wal);
    // Creating the store, the lock, six codes, two revocations.
    assert!(commits.len() >= 9, "{} commits", commits.len());

    let mut seen_codes = Vec::new();
    for (k, end) in std::iter::once(0).chain(commits.iter().copied()).enumerate() {
        let copy = dir.path().join(format!("after-commit-{k}"));
        std::fs::create_dir(&copy).unwrap();
        std::fs::write(copy.join(STORE_FILE), &main).unwrap();
        if end > 0 {
            std::fs::write(copy.join(format!("{STORE_FILE}-wal")), &wal[..end]).unwrap();
        }
        let reopened = open_with(&copy, &key()).unwrap_or_else(|e| {
            panic!(
                "the state after commit {k} of {} does not open: {e:?}",
                commits.len()
            )
        });
        let locks = reopened.locks().unwrap();
        let outbox = reopened.pending_mutations().unwrap();
        let codes = match locks.as_slice() {
            [] => Vec::new(),
            [only] => {
                assert_eq!(only, &lock);
                reopened.codes(lock.id).unwrap()
            }
            more => panic!("{} locks", more.len()),
        };
        // Each code with exactly its outbox entries, whatever the moment.
        let mut expected = Vec::new();
        if !locks.is_empty() {
            expected.push((Operation::CreateLock, *lock.id.as_uuid()));
        }
        expected.extend(
            codes
                .iter()
                .map(|c| (Operation::CreateCode, *c.code.id.as_uuid())),
        );
        let mut revoked: Vec<_> = codes
            .iter()
            .filter(|c| c.code.status == CodeStatus::Revoked)
            .map(|c| (Operation::RevokeCode, *c.code.id.as_uuid()))
            .collect();
        // Revocations happened after all creations, in this order.
        revoked.sort_by_key(|(_, id)| created.iter().position(|c| c.code.id.as_uuid() == id));
        expected.extend(revoked);
        let actual: Vec<_> = outbox.iter().map(|e| (e.operation, e.entity_id)).collect();
        assert_eq!(actual, expected, "after commit {k}");
        for code in &codes {
            let original = created.iter().find(|c| c.code.id == code.code.id).unwrap();
            assert_eq!(code.code.pin.expose(), original.code.pin.expose());
        }
        seen_codes.push(codes.len());
    }
    // The prefixes walk through every intermediate state.
    assert_eq!(seen_codes.first(), Some(&0));
    assert_eq!(seen_codes.last(), Some(&6));
    assert!(seen_codes.windows(2).all(|w| w[0] <= w[1]));
    drop(client);
}
