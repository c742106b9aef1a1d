//! The offline store through its public API: secrets at rest, refusing files it must
//! not touch, the outbox, and round trips through close and reopen.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use chrono::Weekday;
use common::*;
use rusqlite::Connection;
use tessera_core::model::{self, CodeStatus, LockCapabilities, Schedule, Weekdays};
use tessera_core::store::{Operation, Store};
use tessera_core::{CodeDraft, Error, PinRequest, STORE_FILE, TesseraClient};

// ---------------------------------------------------------------- secrets at rest

#[test]
fn database_files_never_contain_a_pin_or_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let client = open(dir.path());
    let lock = add_lock(&client, LockCapabilities::default());
    let mut codes = vec![
        client
            .create_code(lock.id, chosen("Cleaner", Schedule::Permanent, "482916"))
            .unwrap(),
        client
            .create_code(lock.id, chosen("Plumber", window(3, 4), "90517364"))
            .unwrap(),
        client
            .create_code(lock.id, chosen("Neighbour", window(5, 2), "7305"))
            .unwrap(),
    ];
    for i in 0..12 {
        let mut request = generated("Guest", window(10 + i, 3));
        if i % 3 == 0 {
            request.pin = PinRequest::Generate { length: Some(8) };
        }
        codes.push(client.create_code(lock.id, request).unwrap());
    }
    // A revoked code's PIN is as secret as a live one's.
    client.revoke_code(codes[2].code.id).unwrap();
    let pins: Vec<String> = codes.iter().map(|c| c.code.pin.expose().to_owned()).collect();
    assert_eq!(&pins[..3], ["482916", "90517364", "7305"]);
    assert!(pins[3..].iter().all(|p| p.len() == 6 || p.len() == 8));

    let key_debug = format!("{:?}", key().as_bytes());
    let key_hex: String = KEY_BYTES.iter().map(|b| format!("{b:02x}")).collect();
    let assert_no_secret_in = |text: &str, what: &str| {
        for pin in &pins {
            assert!(!text.contains(pin.as_str()), "{what} shows PIN {pin}: {text}");
        }
        assert!(!text.contains(&key_debug), "{what} shows the key bytes");
        assert!(
            !text.to_lowercase().contains(&key_hex),
            "{what} shows the key in hex"
        );
    };
    for code in &codes {
        assert_no_secret_in(&format!("{code:?}"), "Debug of a code");
        assert_no_secret_in(&format!("{code:#?}"), "pretty Debug of a code");
    }
    assert_no_secret_in(
        &format!("{:?}", client.codes(lock.id).unwrap()),
        "Debug of the list",
    );
    assert_no_secret_in(&format!("{client:?}"), "Debug of the client");
    assert_no_secret_in(&format!("{client:#?}"), "pretty Debug of the client");
    assert_no_secret_in(&format!("{:?}", key()), "Debug of the key");

    let assert_files_clean = |moment: &str| {
        let files = snapshot(dir.path());
        assert!(files.contains_key(STORE_FILE), "{moment}: {:?}", files.keys());
        let all: Vec<u8> = files.values().flatten().copied().collect();
        // The search works: plaintext that is stored is found.
        assert!(
            contains(&all, b"Plumber"),
            "{moment}: the label is not in the files"
        );
        for pin in &pins {
            assert!(
                !contains(&all, pin.as_bytes()),
                "{moment}: PIN {pin} is in the files"
            );
        }
        assert!(!contains(&all, &KEY_BYTES), "{moment}: the key is in the files");
        assert!(
            !contains(&all, key_hex.as_bytes()),
            "{moment}: the hex key is in the files"
        );
        files.keys().cloned().collect::<Vec<_>>()
    };
    // While open, the recent writes sit in the WAL.
    let open_files = assert_files_clean("while open");
    assert!(open_files.iter().any(|f| f.ends_with("-wal")), "{open_files:?}");
    drop(client);
    let closed_files = assert_files_clean("after close");
    assert_eq!(
        closed_files,
        [STORE_FILE],
        "a clean close leaves no sidecar files"
    );

    // And the PINs are all there for the right key.
    let client = open(dir.path());
    for code in &codes {
        assert_eq!(
            client.code(code.code.id).unwrap().code.pin.expose(),
            code.code.pin.expose()
        );
    }
}

// ---------------------------------------------------------------- files the store must not touch

/// A data directory with a closed store holding a lock and a few codes.
fn closed_store() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let client = open(dir.path());
    let lock = add_lock(&client, LockCapabilities::default());
    client
        .create_code(lock.id, chosen("Cleaner", Schedule::Permanent, "482916"))
        .unwrap();
    client
        .create_code(lock.id, generated("Guest", window(2, 5)))
        .unwrap();
    drop(client);
    let path = dir.path().join(STORE_FILE);
    assert_eq!(snapshot(dir.path()).len(), 1);
    (dir, path)
}

/// Opens `dir` with `key` through both entry points and returns the errors, after
/// checking that the directory (every file's bytes, and no new sidecar) is as it was.
fn refused(dir: &Path, key: &tessera_core::StoreKey) -> (Error, Error) {
    let before = snapshot(dir);
    let via_client = open_with(dir, key).unwrap_err();
    assert_eq!(snapshot(dir), before, "TesseraClient::open changed the directory");
    let via_store = Store::open(&dir.join(STORE_FILE), key).unwrap_err();
    assert_eq!(snapshot(dir), before, "Store::open changed the directory");
    (via_client, via_store)
}

#[test]
fn a_wrong_key_is_refused_and_the_file_left_untouched() {
    let (dir, _) = closed_store();
    let (a, b) = refused(dir.path(), &other_key());
    assert!(matches!(a, Error::WrongKey), "{a:?}");
    assert!(matches!(b, Error::WrongKey), "{b:?}");
    // The right key still opens it, codes and all.
    let client = open(dir.path());
    let lock = client.locks().unwrap().remove(0);
    assert_eq!(client.codes(lock.id).unwrap().len(), 2);
}

fn assert_corrupt(error: Error, path: &Path) {
    match error {
        Error::CorruptDatabase { path: reported } => assert_eq!(reported, path),
        other => panic!("expected CorruptDatabase, got {other:?}"),
    }
}

#[test]
fn random_bytes_are_a_corrupt_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(STORE_FILE);
    for (len, seed) in [(8192, 1), (100, 2), (4096 * 3 + 17, 3), (1, 4)] {
        std::fs::write(&path, garbage(len, seed)).unwrap();
        let (a, b) = refused(dir.path(), &key());
        assert_corrupt(a, &path);
        assert_corrupt(b, &path);
    }
}

#[test]
fn a_store_with_a_garbage_header_page_is_a_corrupt_database() {
    let (dir, path) = closed_store();
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 4096, "{} bytes", bytes.len());
    assert_eq!(&bytes[..16], b"SQLite format 3\0");
    bytes[..4096].copy_from_slice(&garbage(4096, 42));
    std::fs::write(&path, &bytes).unwrap();
    let (a, b) = refused(dir.path(), &key());
    assert_corrupt(a, &path);
    assert_corrupt(b, &path);
}

#[test]
fn another_programs_database_is_foreign() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(STORE_FILE);
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
             INSERT INTO notes (body) VALUES ('buy milk'), ('call Anna');",
        )
        .unwrap();
    }
    let (a, b) = refused(dir.path(), &key());
    for error in [a, b] {
        match error {
            Error::ForeignDatabase { path: reported } => assert_eq!(reported, path),
            other => panic!("expected ForeignDatabase, got {other:?}"),
        }
    }
    let conn = Connection::open(&path).unwrap();
    let notes: i64 = conn
        .query_row("SELECT count(*) FROM notes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(notes, 2);
}

#[test]
fn a_store_from_a_newer_build_is_refused() {
    let (dir, path) = closed_store();
    {
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    assert_eq!(snapshot(dir.path()).len(), 1, "the raw connection left a sidecar");
    let (a, b) = refused(dir.path(), &key());
    for error in [a, b] {
        match error {
            Error::DatabaseTooNew { found, supported } => assert_eq!((found, supported), (99, 4)),
            other => panic!("expected DatabaseTooNew, got {other:?}"),
        }
    }
}

#[test]
fn a_missing_directory_and_file_are_created() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("a").join("b");
    let client = open(&data);
    assert_eq!(client.data_dir(), data);
    assert!(client.locks().unwrap().is_empty());
    assert!(data.join(STORE_FILE).is_file());
}

// ---------------------------------------------------------------- the outbox

#[test]
fn every_change_appends_to_the_outbox_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let client = open(dir.path());
    assert!(client.pending_mutations().unwrap().is_empty());
    let lock = add_lock(&client, LockCapabilities::default());
    let a = client
        .create_code(lock.id, chosen("Cleaner", Schedule::Permanent, "482916"))
        .unwrap();
    let b = client
        .create_code(lock.id, generated("Guest", window(1, 2)))
        .unwrap();
    let revoked = client.revoke_code(a.code.id).unwrap();
    // Revoking again changes nothing and records nothing.
    client.revoke_code(a.code.id).unwrap();

    let entries = client.pending_mutations().unwrap();
    let summary: Vec<(Operation, uuid::Uuid)> = entries.iter().map(|e| (e.operation, e.entity_id)).collect();
    assert_eq!(
        summary,
        [
            (Operation::CreateLock, *lock.id.as_uuid()),
            (Operation::CreateCode, *a.code.id.as_uuid()),
            (Operation::CreateCode, *b.code.id.as_uuid()),
            (Operation::RevokeCode, *a.code.id.as_uuid()),
        ]
    );
    assert!(entries.windows(2).all(|w| w[0].seq < w[1].seq), "{entries:?}");
    let mut ids: Vec<_> = entries.iter().map(|e| e.mutation_id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), entries.len(), "mutation ids are unique");
    assert_eq!(entries[1].created_at, a.code.created_at);
    assert_eq!(entries[2].created_at, b.code.created_at);
    assert_eq!(entries[3].created_at, revoked.code.updated_at);

    // The queue survives a restart unchanged.
    drop(client);
    assert_eq!(open(dir.path()).pending_mutations().unwrap(), entries);
}

#[test]
fn a_failed_create_leaves_neither_a_code_nor_an_outbox_entry() {
    let dir = tempfile::tempdir().unwrap();
    let client = open(dir.path());
    let lock = add_lock(
        &client,
        LockCapabilities {
            max_codes: 2,
            ..LockCapabilities::default()
        },
    );
    let first = client
        .create_code(lock.id, chosen("Cleaner", Schedule::Permanent, "482916"))
        .unwrap();
    let codes_before = client.codes(lock.id).unwrap().len();
    let outbox_before = client.pending_mutations().unwrap();
    assert_eq!((codes_before, outbox_before.len()), (1, 2));

    let failures = [
        (
            chosen("Weak", Schedule::Permanent, "1234"),
            model::Error::WeakPin {
                rule: model::WeakPinRule::Sequence,
            },
        ),
        (
            chosen("Clash", Schedule::Permanent, "482916"),
            model::Error::PinConflict {
                other_code: first.code.id,
            },
        ),
        (
            chosen("Prefix clash", window(1, 1), "4829"),
            model::Error::PinConflict {
                other_code: first.code.id,
            },
        ),
        (
            chosen("Ended", window(-5, 1), "735819"),
            model::Error::InvalidSchedule {
                reason: "the window has already ended".to_owned(),
            },
        ),
    ];
    for (request, expected) in failures {
        let label = request.label.clone();
        match client.create_code(lock.id, request) {
            Err(Error::Domain(error)) => assert_eq!(error, expected, "{label}"),
            other => panic!("{label}: {other:?}"),
        }
        assert_eq!(client.codes(lock.id).unwrap().len(), codes_before, "{label}");
        assert_eq!(client.pending_mutations().unwrap(), outbox_before, "{label}");
    }

    // Capacity: the second code fits, the third is refused and leaves no trace.
    client
        .create_code(lock.id, generated("Second", window(1, 1)))
        .unwrap();
    let outbox = client.pending_mutations().unwrap();
    let error = client
        .create_code(lock.id, generated("Third", window(1, 1)))
        .unwrap_err();
    assert!(
        matches!(error, Error::Domain(model::Error::CapacityExceeded { max: 2 })),
        "{error:?}"
    );
    assert_eq!(client.codes(lock.id).unwrap().len(), 2);
    assert_eq!(client.pending_mutations().unwrap(), outbox);
    assert_eq!(
        client.code(first.code.id).unwrap().code.status,
        CodeStatus::Active
    );
}

#[test]
fn a_write_that_fails_midway_rolls_back_the_code_and_its_outbox_entry() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join(STORE_FILE), &key()).unwrap();
    let lock = model::Lock::new("Door", "Europe/Berlin", LockCapabilities::default()).unwrap();
    let now = chrono::Utc::now();
    store.write(|db| db.insert_lock(&lock, now)).unwrap();
    let code = model::AccessCode {
        id: model::CodeId::new(),
        lock_id: lock.id,
        label: "Guest".to_owned(),
        pin: pin("482916"),
        schedule: Schedule::Permanent,
        allow_widening: false,
        max_uses: None,
        status: CodeStatus::Active,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let effective = model::EffectiveSchedule::compile(&code.schedule, &lock, code.compile_options()).unwrap();
    let result: Result<(), Error> = store.write(|db| {
        db.save_local_code(&code, &effective, None)?;
        db.push_outbox(Operation::CreateCode, *code.id.as_uuid(), &[], now)?;
        Err(Error::NotFound {
            what: "anything",
            id: "after both writes".to_owned(),
        })
    });
    assert!(matches!(result, Err(Error::NotFound { what: "anything", .. })));
    store
        .read(|db| {
            assert!(matches!(
                db.code(code.id),
                Err(Error::NotFound { what: "code", .. })
            ));
            assert!(db.codes_of_lock(lock.id)?.is_empty());
            assert!(db.outbox()?.is_empty());
            Ok(())
        })
        .unwrap();
}

// ---------------------------------------------------------------- round trips

#[test]
fn codes_of_every_kind_survive_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let client = open(dir.path());
    let lock = add_lock(&client, LockCapabilities::default());
    let weekdays = |days: &[Weekday]| days.iter().copied().collect::<Weekdays>();
    let requests = [
        (Schedule::Permanent, None, false),
        (window(2, 30), Some(40), true),
        (
            Schedule::Window {
                start: at(3, 9, 15) + chrono::Duration::seconds(30),
                end: at(3, 17, 45) + chrono::Duration::seconds(10),
            },
            None,
            true,
        ),
        (
            Schedule::OneTime {
                start: at(4, 8, 0),
                end: at(4, 20, 0),
            },
            Some(1),
            false,
        ),
        (
            Schedule::Weekly {
                days: weekdays(&[Weekday::Mon, Weekday::Wed, Weekday::Fri]),
                start_time: time(9, 0),
                end_time: time(17, 30),
                first_date: day(1),
                last_date: day(120),
            },
            Some(200),
            false,
        ),
        (
            // A night shift: ends the next morning.
            Schedule::Weekly {
                days: weekdays(&[Weekday::Sat, Weekday::Sun]),
                start_time: time(22, 0),
                end_time: time(6, 0),
                first_date: day(0),
                last_date: day(365),
            },
            None,
            true,
        ),
        (
            // Equal times: the whole day.
            Schedule::Weekly {
                days: Weekdays::EVERY_DAY,
                start_time: time(7, 0),
                end_time: time(7, 0),
                first_date: day(30),
                last_date: day(40),
            },
            Some(10_000),
            false,
        ),
        (
            Schedule::ExpiringAfterFirstUse {
                minutes: 90,
                start: at(6, 0, 0),
                end: at(13, 23, 59),
            },
            Some(3),
            true,
        ),
    ];
    let mut created = Vec::new();
    for (i, (schedule, max_uses, allow_widening)) in requests.into_iter().enumerate() {
        let request = CodeDraft {
            label: format!("Visitor {}", i + 1),
            schedule,
            pin: PinRequest::Generate {
                length: Some(4 + (i % 5) as u8),
            },
            max_uses,
            allow_widening,
        };
        created.push(client.create_code(lock.id, request).unwrap());
    }
    // A revoked code keeps its fields too (with its new status, time and version).
    let revoked = client.revoke_code(created[1].code.id).unwrap();
    assert_eq!(
        (revoked.code.status, revoked.code.version),
        (CodeStatus::Revoked, 2)
    );
    assert!(revoked.code.updated_at >= created[1].code.updated_at);
    created[1] = revoked;

    let check = |client: &TesseraClient| {
        let listed = client.codes(lock.id).unwrap();
        assert_eq!(listed.len(), created.len());
        for (listed, expected) in listed.iter().zip(&created) {
            assert_same_code(&listed.code, &expected.code);
            assert_same_code(&client.code(expected.code.id).unwrap().code, &expected.code);
        }
    };
    // What create_code returned is exactly what the store holds.
    check(&client);
    drop(client);
    let client = open(dir.path());
    check(&client);
    assert_eq!(client.lock(lock.id).unwrap(), lock);
    assert_eq!(client.locks().unwrap(), std::slice::from_ref(&lock));
    // Their kinds, for the record.
    let kinds: Vec<_> = client
        .codes(lock.id)
        .unwrap()
        .iter()
        .map(|c| c.code.schedule.kind())
        .collect();
    use model::ScheduleKind::*;
    assert_eq!(
        kinds,
        [
            Permanent,
            Window,
            Window,
            OneTime,
            Weekly,
            Weekly,
            Weekly,
            ExpiringAfterFirstUse
        ]
    );
}

#[test]
fn an_in_memory_store_works_like_a_file() {
    let store = Store::in_memory(&key()).unwrap();
    let lock = model::Lock::new("Door", "Asia/Kathmandu", LockCapabilities::default()).unwrap();
    store
        .write(|db| db.insert_lock(&lock, chrono::Utc::now()))
        .unwrap();
    assert_eq!(store.read(|db| db.locks()).unwrap(), [lock]);
}
