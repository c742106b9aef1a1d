//! Helpers shared by the integration tests of tessera-core.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use chrono::{Days, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use tessera_core::model::{AccessCode, Lock, LockCapabilities, Pin, Schedule};
use tessera_core::secure_store::STORE_KEY;
use tessera_core::{
    ClientConfig, CodeDraft, MemorySecureStore, NewLock, PinRequest, SecureStore, StoreKey, TesseraClient,
};

/// Key bytes unlikely to appear anywhere by chance.
pub const KEY_BYTES: [u8; 32] = [
    0xa5, 0x3c, 0x96, 0x0f, 0x71, 0xe2, 0x4b, 0xd8, 0x19, 0x6a, 0xc3, 0x5e, 0x87, 0x20, 0xfb, 0x34, 0x9d,
    0x42, 0xb6, 0x0b, 0xe9, 0x58, 0x13, 0xcf, 0x7a, 0x26, 0x81, 0xd4, 0x3f, 0x6c, 0xa0, 0x55,
];

pub fn key() -> StoreKey {
    StoreKey::from_bytes(KEY_BYTES)
}

pub fn other_key() -> StoreKey {
    let mut bytes = KEY_BYTES;
    bytes[31] ^= 1;
    StoreKey::from_bytes(bytes)
}

/// A secure store holding `key` as the store key, as a platform keychain would.
pub fn secure_with(key: &StoreKey) -> Arc<dyn SecureStore> {
    let secure = MemorySecureStore::default();
    secure.put(STORE_KEY, key.as_bytes()).unwrap();
    Arc::new(secure)
}

pub fn open_with(dir: &Path, key: &StoreKey) -> tessera_core::Result<TesseraClient> {
    let config = ClientConfig {
        data_dir: dir.to_owned(),
        ..ClientConfig::default()
    };
    TesseraClient::open(config, secure_with(key))
}

pub fn open(dir: &Path) -> TesseraClient {
    open_with(dir, &key()).unwrap()
}

pub fn new_lock(name: &str, capabilities: LockCapabilities) -> NewLock {
    NewLock {
        name: name.to_owned(),
        time_zone: "Europe/Berlin".to_owned(),
        capabilities,
    }
}

pub fn add_lock(client: &TesseraClient, capabilities: LockCapabilities) -> Lock {
    client.add_lock(new_lock("Front door", capabilities)).unwrap()
}

/// Local date `days` from today (today in UTC; the lock's zone is at most a day off).
pub fn day(days: i64) -> NaiveDate {
    let today = Utc::now().date_naive();
    if days >= 0 {
        today + Days::new(days.unsigned_abs())
    } else {
        today - Days::new(days.unsigned_abs())
    }
}

pub fn time(hour: u32, minute: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(hour, minute, 0).unwrap()
}

/// Local wall time `days` from today at `hour:minute`.
pub fn at(days: i64, hour: u32, minute: u32) -> NaiveDateTime {
    day(days).and_time(time(hour, minute))
}

/// A window of `hours` hours starting `days` from today at 10:00.
pub fn window(days: i64, hours: i64) -> Schedule {
    let start = at(days, 10, 0);
    Schedule::Window {
        start,
        end: start + chrono::Duration::hours(hours),
    }
}

pub fn pin(digits: &str) -> Pin {
    Pin::parse(digits).unwrap()
}

pub fn chosen(label: &str, schedule: Schedule, digits: &str) -> CodeDraft {
    CodeDraft {
        label: label.to_owned(),
        schedule,
        pin: PinRequest::Chosen(pin(digits)),
        max_uses: None,
        allow_widening: false,
    }
}

pub fn generated(label: &str, schedule: Schedule) -> CodeDraft {
    CodeDraft {
        label: label.to_owned(),
        schedule,
        pin: PinRequest::Generate { length: None },
        max_uses: None,
        allow_widening: false,
    }
}

/// Every field of two codes, PINs compared by their digits.
pub fn assert_same_code(actual: &AccessCode, expected: &AccessCode) {
    assert_eq!(actual.id, expected.id);
    assert_eq!(actual.lock_id, expected.lock_id);
    assert_eq!(actual.label, expected.label);
    assert_eq!(
        actual.pin.expose(),
        expected.pin.expose(),
        "PIN of {}",
        expected.id
    );
    assert_eq!(actual.schedule, expected.schedule);
    assert_eq!(actual.allow_widening, expected.allow_widening);
    assert_eq!(actual.max_uses, expected.max_uses);
    assert_eq!(actual.status, expected.status);
    assert_eq!(actual.created_at, expected.created_at);
    assert_eq!(actual.updated_at, expected.updated_at);
    assert_eq!(actual.version, expected.version);
}

/// Every file in `dir` (not recursive) by name, with its bytes.
pub fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            (
                entry.file_name().to_string_lossy().into_owned(),
                std::fs::read(entry.path()).unwrap(),
            )
        })
        .collect()
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Deterministic garbage (xorshift64*), so a failing case can be replayed.
pub fn garbage(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}
