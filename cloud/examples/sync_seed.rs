//! Seeds a running cloud for the sync load benchmark (`cloud/bench/sync-load.sh`):
//! signs up an account, registers locks with codes through the API, then times
//! one full sync of everything. Prints shell assignments on stdout:
//! `TOKEN=...`, `HEAD_CURSOR=...`, `CHANGES=...`.
//!
//! `cargo run --release -p tessera-cloud --example sync_seed -- URL [LOCKS] [CODES_PER_LOCK]`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};
use tokio::sync::Semaphore;

const CONCURRENCY: usize = 8;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = args
        .first()
        .expect("usage: sync_seed URL [LOCKS] [CODES_PER_LOCK]")
        .clone();
    let locks: usize = args.get(1).map_or(50, |a| a.parse().expect("LOCKS"));
    let codes_per_lock: usize = args.get(2).map_or(200, |a| a.parse().expect("CODES_PER_LOCK"));
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();

    let email = format!("bench-{}@example.com", uuid::Uuid::now_v7());
    let tokens: Value = client
        .post(format!("{url}/v1/accounts"))
        .json(&json!({"email": email, "password": "benchmark password", "device_name": "load bench"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = tokens["access_token"].as_str().expect("signed up").to_owned();

    let started = Instant::now();
    let capabilities = serde_json::to_value(tessera_model::LockCapabilities::default()).unwrap();
    let mut lock_ids = Vec::new();
    for i in 0..locks {
        let id = uuid::Uuid::now_v7().to_string();
        let body = json!({"id": id, "name": format!("Lock {i}"), "time_zone": "Europe/Berlin", "capabilities": capabilities});
        let reply = client
            .post(format!("{url}/v1/locks"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 201);
        lock_ids.push(id);
    }
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let mut tasks = tokio::task::JoinSet::new();
    for (lock_index, lock) in lock_ids.iter().enumerate() {
        for code_index in 0..codes_per_lock {
            let (client, url, token, lock) = (client.clone(), url.clone(), token.clone(), lock.clone());
            let permits = permits.clone();
            tasks.spawn(async move {
                let _permit = permits.acquire().await.unwrap();
                create_code(
                    &client,
                    &url,
                    &token,
                    &lock,
                    (lock_index * codes_per_lock + code_index) as u64,
                )
                .await
            });
        }
    }
    let attempts: u64 = tasks.join_all().await.into_iter().sum();
    let codes = locks * codes_per_lock;
    eprintln!(
        "seeded {locks} locks x {codes_per_lock} codes = {codes} codes in {:.1} s ({} PINs refused and redrawn)",
        started.elapsed().as_secs_f64(),
        attempts - codes as u64
    );

    // One full sync, as a new phone would do it.
    let started = Instant::now();
    let (mut cursor, mut changes, mut pages) = (0u64, 0usize, 0usize);
    loop {
        let page: Value = client
            .get(format!("{url}/v1/sync?cursor={cursor}&limit=1000"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        changes += page["changes"].as_array().unwrap().len();
        cursor = page["cursor"].as_u64().unwrap();
        pages += 1;
        if page["has_more"] == false {
            break;
        }
    }
    eprintln!(
        "full sync: {changes} changes in {pages} pages of up to 1000, {:.0} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    println!("TOKEN={token}");
    println!("HEAD_CURSOR={cursor}");
    println!("CHANGES={changes}");
}

/// Creates one permanent code, drawing another PIN when one is weak or taken;
/// returns the number of attempts.
async fn create_code(client: &reqwest::Client, url: &str, token: &str, lock: &str, seed: u64) -> u64 {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1);
    for attempt in 1.. {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let pin = format!("{:08}", state % 100_000_000);
        let body = json!({"id": uuid::Uuid::now_v7(), "label": format!("Guest {seed}"), "pin": pin, "schedule": {"kind": "permanent"}});
        let reply = client
            .post(format!("{url}/v1/locks/{lock}/codes"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        match reply.status().as_u16() {
            201 => return attempt,
            422 => continue,
            status => panic!(
                "creating a code: {status} {}",
                reply.text().await.unwrap_or_default()
            ),
        }
    }
    unreachable!()
}
