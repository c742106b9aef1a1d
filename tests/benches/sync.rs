//! Sync over loopback against an embedded cloud (a real server on a real socket):
//! the initial sync of 50 locks x 200 codes = 10,000 codes into a fresh device, and
//! an incremental sync that brings 10 changes among those 10,000.
//!
//! `cargo bench -p tessera-e2e --bench sync` prints the medians; under `cargo test`
//! it runs once on a small account as a smoke test.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A benchmark: a failure aborts it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tessera_cloud::{CloudConfig, CloudKey, DbLocation};
use tessera_core::api::Secret;
use tessera_core::model::{LockCapabilities, Schedule};
use tessera_core::{
    ClientConfig, CodeChanges, CodeDraft, MemorySecureStore, NewLock, PinRequest, TesseraClient,
};

const EMAIL: &str = "bench@example.com";
const PASSWORD: &str = "a long enough password";

struct Size {
    locks: usize,
    codes_per_lock: usize,
    samples: usize,
}

fn device(dir: &std::path::Path, name: &str) -> TesseraClient {
    let config = ClientConfig {
        data_dir: dir.join(name),
        ..ClientConfig::default()
    };
    TesseraClient::open(config, Arc::new(MemorySecureStore::default())).unwrap()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::main]
async fn main() {
    let full = std::env::args().any(|arg| arg == "--bench");
    let size = if full {
        Size {
            locks: 50,
            codes_per_lock: 200,
            samples: 7,
        }
    } else {
        Size {
            locks: 2,
            codes_per_lock: 5,
            samples: 1,
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let config = CloudConfig::new(
        DbLocation::File(dir.path().join("cloud.db")),
        CloudKey::generate().unwrap(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cloud = tessera_cloud::start(config, listener).await.unwrap();
    let url = cloud.url();

    // The owner's phone makes the locks and codes offline, then pushes them.
    let owner = device(dir.path(), "owner");
    owner
        .sign_up(&url, EMAIL, Secret::new(PASSWORD), None)
        .await
        .unwrap();
    let started = Instant::now();
    let mut codes = Vec::new();
    for l in 0..size.locks {
        let lock = owner
            .add_lock(NewLock {
                name: format!("Door {l}"),
                time_zone: "Europe/Berlin".to_owned(),
                capabilities: LockCapabilities {
                    max_codes: 1_000,
                    ..LockCapabilities::default()
                },
            })
            .unwrap();
        for c in 0..size.codes_per_lock {
            let draft = CodeDraft {
                label: format!("Guest {c}"),
                schedule: Schedule::Permanent,
                allow_widening: false,
                max_uses: None,
                pin: PinRequest::Generate { length: Some(8) },
            };
            codes.push(owner.create_code(lock.id, draft).unwrap().code.id);
        }
    }
    let pushed = owner.sync().await.unwrap();
    let total = size.locks * size.codes_per_lock;
    assert_eq!(pushed.pushed, size.locks + total);
    println!(
        "seeded {} locks x {} codes = {total} codes in {:.1?}",
        size.locks,
        size.codes_per_lock,
        started.elapsed()
    );

    let mut initial = Vec::new();
    for sample in 0..size.samples {
        let phone = device(dir.path(), &format!("phone-{sample}"));
        phone
            .log_in(&url, EMAIL, Secret::new(PASSWORD), None)
            .await
            .unwrap();
        let started = Instant::now();
        phone.sync().await.unwrap();
        initial.push(started.elapsed());
        let locks = phone.locks().unwrap();
        let synced: usize = locks.iter().map(|lock| phone.codes(lock.id).unwrap().len()).sum();
        assert_eq!(
            (locks.len(), synced),
            (size.locks, total),
            "the initial sync brings every lock and code"
        );
    }

    let phone = device(dir.path(), "incremental");
    phone
        .log_in(&url, EMAIL, Secret::new(PASSWORD), None)
        .await
        .unwrap();
    phone.sync().await.unwrap();
    let mut incremental = Vec::new();
    for round in 0..size.samples.max(3) * 3 {
        for i in 0..10 {
            let id = codes[(round * 10 + i) % codes.len()];
            let changes = CodeChanges {
                label: Some(format!("Guest {round}.{i}")),
                ..CodeChanges::default()
            };
            owner.update_code(id, changes).unwrap();
        }
        owner.sync().await.unwrap();
        let started = Instant::now();
        let report = phone.sync().await.unwrap();
        incremental.push(started.elapsed());
        assert_eq!(
            report.pulled,
            10.min(total),
            "an incremental sync brings just the changes"
        );
    }

    println!(
        "initial sync of {total} codes:          median {:>8.1?} over {} fresh devices (target <= 1.5 s)",
        median(initial),
        size.samples
    );
    println!(
        "incremental sync, 10 changes in {total}:  median {:>8.1?} over {} rounds (target <= 30 ms)",
        median(incremental.clone()),
        incremental.len()
    );
    cloud.shutdown().await.unwrap();
}
