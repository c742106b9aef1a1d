//! The Rust baseline of the FFI benchmark: list the 1,000 codes of a lock through
//! `tessera_ffi::TesseraClient`, the same object and call the Kotlin, Swift and Python
//! benchmarks make through their bindings. No cloud needed.
//!
//!     cargo run --release -p tessera-ffi --example bench_list_codes [-- RUNS]
//!
//! Prints one line: `rust    list 1000 codes: median X.XXX ms (n=RUNS)`.

use std::collections::HashMap;
use std::error::Error;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tessera_ffi::{
    ClientConfig, CodeRequest, NewLock, PinChoice, Schedule, SecureStore, SecureStoreError, TesseraClient,
    default_lock_capabilities,
};

const CODES: usize = 1_000;
const WARM_UP: usize = 10;
const DEFAULT_RUNS: usize = 50;

/// The platform keychain, in memory: what the other languages' benchmarks implement too.
#[derive(Debug, Default)]
struct MemoryStore(Mutex<HashMap<String, Vec<u8>>>);

impl MemoryStore {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<u8>>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl SecureStore for MemoryStore {
    fn get(&self, key: String) -> Result<Option<Vec<u8>>, SecureStoreError> {
        Ok(self.entries().get(&key).cloned())
    }

    fn put(&self, key: String, value: Vec<u8>) -> Result<(), SecureStoreError> {
        self.entries().insert(key, value);
        Ok(())
    }

    fn delete(&self, key: String) -> Result<(), SecureStoreError> {
        self.entries().remove(&key);
        Ok(())
    }
}

/// A fresh folder under the system's temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<Self> {
        let path = std::env::temp_dir().join(format!("tessera-bench-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&path)?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let runs = match std::env::args().nth(1) {
        Some(runs) => runs.parse()?,
        None => DEFAULT_RUNS,
    };
    let dir = TempDir::new()?;
    let config = ClientConfig {
        data_dir: dir.0.to_string_lossy().into_owned(),
        extra_root_certificates: Vec::new(),
        share_host: None,
    };
    let client = TesseraClient::new(config, Arc::new(MemoryStore::default()), None)?;
    let mut capabilities = default_lock_capabilities();
    capabilities.max_codes = 2_000;
    let lock = client.add_lock(NewLock {
        name: "Bench door".to_owned(),
        time_zone: "Europe/Berlin".to_owned(),
        capabilities,
    })?;
    for number in 0..CODES {
        client.create_code(
            lock.id,
            CodeRequest {
                label: format!("Guest {number}"),
                schedule: Schedule::Permanent,
                pin: PinChoice::Generate { length: Some(8) },
                max_uses: None,
                allow_widening: false,
            },
        )?;
    }

    for _ in 0..WARM_UP {
        let codes = client.codes(lock.id)?;
        if codes.len() != CODES {
            return Err(format!("listed {} codes, expected {CODES}", codes.len()).into());
        }
    }
    let mut millis = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let codes = client.codes(lock.id)?;
        millis.push(start.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(codes);
    }
    millis.sort_by(f64::total_cmp);
    let median = match runs {
        0 => return Err("RUNS must be at least 1".into()),
        n if n % 2 == 1 => millis[n / 2],
        n => (millis[n / 2 - 1] + millis[n / 2]) / 2.0,
    };
    println!("rust    list {CODES} codes: median {median:.3} ms (n={runs})");
    Ok(())
}
