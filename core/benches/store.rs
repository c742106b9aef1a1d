//! Store benchmarks on a file-backed store (real disk, WAL) in a temporary directory.
//!
//! - `list_1000_codes`: `TesseraClient::codes` on a lock with 1,000 codes of every
//!   schedule kind, PINs decrypted; next to it `raw_select_1000_codes`, the same rows
//!   and columns read with a plain SELECT on a second, read-only connection into Rust
//!   values (no decryption, no schedule parsing): the floor for listing.
//!   Targets: median <= 5 ms and <= 3x the raw SELECT.
//! - `create_code`: generate a PIN, check it against the lock's rules and live codes,
//!   persist it with its outbox entry, on that same lock with its 1,000 live codes.
//!   Target: median <= 2 ms. Each created code is revoked outside the timed part, so
//!   the lock keeps the same live codes throughout.
//!
//! After criterion's own report, prints the medians of a direct measurement of each
//! and the list/SELECT ratio.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Days, NaiveDateTime, Utc, Weekday};
use criterion::Criterion;
use rusqlite::{Connection, OpenFlags};
use tessera_core::model::{Lock, LockCapabilities, Schedule, Weekdays};
use tessera_core::secure_store::STORE_KEY;
use tessera_core::{
    ClientConfig, CodeDraft, MemorySecureStore, NewLock, PinRequest, STORE_FILE, SecureStore, StoreKey,
    TesseraClient,
};

const CODES: usize = 1_000;

struct Fixture {
    _dir: tempfile::TempDir,
    client: TesseraClient,
    raw: Connection,
    lock: Lock,
    created: std::cell::Cell<u64>,
}

/// Local wall time `days` from today at `hour:00`.
fn at(days: u64, hour: u32) -> NaiveDateTime {
    (Utc::now().date_naive() + Days::new(days))
        .and_hms_opt(hour, 0, 0)
        .unwrap()
}

/// The `i`-th code of the fixture: a realistic mix of every schedule kind.
fn schedule(i: usize) -> Schedule {
    let day = 1 + (i % 90) as u64;
    match i % 10 {
        0 => Schedule::Permanent,
        1..=4 => Schedule::Window {
            start: at(day, 10),
            end: at(day + 2, 11),
        },
        5 => Schedule::OneTime {
            start: at(day, 8),
            end: at(day, 20),
        },
        6 | 7 => Schedule::Weekly {
            days: [Weekday::Mon, Weekday::Wed, Weekday::Fri]
                .into_iter()
                .collect::<Weekdays>(),
            start_time: chrono::NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            end_time: chrono::NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
            first_date: at(day, 0).date(),
            last_date: at(day + 180, 0).date(),
        },
        _ => Schedule::ExpiringAfterFirstUse {
            minutes: 240,
            start: at(day, 0),
            end: at(day + 7, 0),
        },
    }
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let key = StoreKey::generate().unwrap();
        let secure = MemorySecureStore::default();
        secure.put(STORE_KEY, key.as_bytes()).unwrap();
        let config = ClientConfig {
            data_dir: dir.path().to_owned(),
            ..ClientConfig::default()
        };
        let client = TesseraClient::open(config, Arc::new(secure)).unwrap();
        let lock = client
            .add_lock(NewLock {
                name: "Bench door".to_owned(),
                time_zone: "Europe/Berlin".to_owned(),
                capabilities: LockCapabilities {
                    max_codes: 2_000,
                    ..LockCapabilities::default()
                },
            })
            .unwrap();
        let started = Instant::now();
        for i in 0..CODES {
            client
                .create_code(
                    lock.id,
                    CodeDraft {
                        label: format!("Guest {i}"),
                        schedule: schedule(i),
                        pin: PinRequest::Generate {
                            length: Some(6 + (i % 3) as u8),
                        },
                        max_uses: (i % 4 == 0).then_some(10),
                        allow_widening: i % 2 == 0,
                    },
                )
                .unwrap();
        }
        eprintln!("fixture: {CODES} codes created in {:.2?}", started.elapsed());
        let path: PathBuf = dir.path().join(STORE_FILE);
        let raw = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .unwrap();
        Fixture {
            _dir: dir,
            client,
            raw,
            lock,
            created: std::cell::Cell::new(0),
        }
    }

    fn list(&self) -> usize {
        let codes = self.client.codes(self.lock.id).unwrap();
        assert_eq!(codes.len(), CODES);
        black_box(codes).len()
    }

    fn raw_select(&self) -> usize {
        let mut statement = self
            .raw
            .prepare_cached(
                "SELECT id, lock_id, label, pin, schedule_kind, starts_local, ends_local, weekdays, \
                 daily_start, daily_end, first_date, last_date, first_use_minutes, allow_widening, \
                 max_uses, status, created_at, updated_at, version
                 FROM codes WHERE lock_id = ?1 ORDER BY id",
            )
            .unwrap();
        let rows: Vec<RawCode> = statement
            .query_map([self.lock.id.as_bytes()], |row| {
                Ok(RawCode {
                    id: row.get(0)?,
                    lock_id: row.get(1)?,
                    label: row.get(2)?,
                    sealed_pin: row.get(3)?,
                    schedule_kind: row.get(4)?,
                    starts_local: row.get(5)?,
                    ends_local: row.get(6)?,
                    weekdays: row.get(7)?,
                    daily_start: row.get(8)?,
                    daily_end: row.get(9)?,
                    first_date: row.get(10)?,
                    last_date: row.get(11)?,
                    first_use_minutes: row.get(12)?,
                    allow_widening: row.get(13)?,
                    max_uses: row.get(14)?,
                    status: row.get(15)?,
                    created_at: row.get(16)?,
                    updated_at: row.get(17)?,
                    version: row.get(18)?,
                })
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows.len(), CODES);
        black_box(rows).len()
    }

    /// Creates one code (timed) and revokes it (not timed); returns the creation time.
    fn create_and_revoke(&self, schedule: Schedule) -> Duration {
        let n = self.created.get();
        self.created.set(n + 1);
        let request = CodeDraft {
            label: format!("Bench {n}"),
            schedule,
            pin: PinRequest::Generate { length: None },
            max_uses: None,
            allow_widening: false,
        };
        let started = Instant::now();
        let code = self.client.create_code(self.lock.id, request).unwrap();
        let elapsed = started.elapsed();
        self.client.revoke_code(code.code.id).unwrap();
        elapsed
    }

    fn window(&self) -> Schedule {
        let day = 1 + self.created.get() % 90;
        Schedule::Window {
            start: at(day, 14),
            end: at(day, 18),
        }
    }
}

/// Every column `TesseraClient::codes` reads, as plain Rust values.
#[allow(dead_code)]
struct RawCode {
    id: [u8; 16],
    lock_id: [u8; 16],
    label: String,
    sealed_pin: Vec<u8>,
    schedule_kind: String,
    starts_local: Option<i64>,
    ends_local: Option<i64>,
    weekdays: Option<u8>,
    daily_start: Option<u32>,
    daily_end: Option<u32>,
    first_date: Option<i32>,
    last_date: Option<i32>,
    first_use_minutes: Option<u32>,
    allow_widening: bool,
    max_uses: Option<u32>,
    status: String,
    created_at: i64,
    updated_at: i64,
    version: i64,
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let fixture = Fixture::new();
    let mut criterion = Criterion::default().configure_from_args();
    // Under `--profile-time` or `--test`, criterion alone; no report of our own.
    let report = !std::env::args().any(|a| a == "--profile-time" || a == "--test");

    criterion.bench_function("list_1000_codes", |b| b.iter(|| fixture.list()));
    criterion.bench_function("raw_select_1000_codes", |b| b.iter(|| fixture.raw_select()));
    // A direct measurement, interleaved so both see the same machine state, and
    // before the create benchmarks add (revoked) codes to the lock.
    let (mut list, mut raw) = (Vec::new(), Vec::new());
    for _ in 0..if report { 300 } else { 0 } {
        let started = Instant::now();
        fixture.list();
        list.push(started.elapsed());
        let started = Instant::now();
        fixture.raw_select();
        raw.push(started.elapsed());
    }

    criterion.bench_function("create_code/window", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| fixture.create_and_revoke(fixture.window()))
                .sum()
        })
    });
    criterion.bench_function("create_code/permanent", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| fixture.create_and_revoke(Schedule::Permanent))
                .sum()
        })
    });
    criterion.final_summary();
    if !report {
        return;
    }
    let create: Vec<_> = (0..300)
        .map(|_| fixture.create_and_revoke(fixture.window()))
        .collect();
    let create_permanent: Vec<_> = (0..300)
        .map(|_| fixture.create_and_revoke(Schedule::Permanent))
        .collect();
    let (list, raw) = (median(list), median(raw));
    let (create, create_permanent) = (median(create), median(create_permanent));
    println!();
    println!(
        "list {CODES} codes (decrypted):  median {:.3} ms (target <= 5 ms)",
        ms(list)
    );
    println!("raw SELECT of the same rows:    median {:.3} ms", ms(raw));
    println!(
        "ratio list / raw SELECT:        {:.2}x (target <= 3x)",
        list.as_secs_f64() / raw.as_secs_f64()
    );
    println!(
        "create_code (window):           median {:.3} ms (target <= 2 ms)",
        ms(create)
    );
    println!(
        "create_code (permanent):        median {:.3} ms (target <= 2 ms)",
        ms(create_permanent)
    );
}
