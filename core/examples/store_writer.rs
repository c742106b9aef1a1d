//! Writes codes into a store forever, for the crash test (`tests/crash.rs`), which
//! kills it with SIGKILL in the middle of its writes.
//!
//! Usage: `store_writer <data dir> <key file>`; the key file holds the 32-byte store
//! key, raw or as 64 hex digits. Uses the first lock of the store, adding one if there
//! is none, and prints each new code's id once its transaction has committed.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use chrono::{Duration, Utc};
use tessera_core::model::{LockCapabilities, PinLengths, Schedule};
use tessera_core::secure_store::STORE_KEY;
use tessera_core::{
    ClientConfig, CodeDraft, MemorySecureStore, NewLock, PinRequest, SecureStore, StoreKey, TesseraClient,
};
use zeroize::Zeroizing;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("store_writer: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args_os().skip(1);
    let (Some(data_dir), Some(key_file)) = (args.next(), args.next()) else {
        return Err("usage: store_writer <data dir> <key file>".to_owned());
    };
    let key = read_key(&PathBuf::from(key_file))?;
    let secure = MemorySecureStore::default();
    secure.put(STORE_KEY, key.as_bytes()).map_err(|e| e.to_string())?;
    let config = ClientConfig {
        data_dir: PathBuf::from(data_dir),
        ..ClientConfig::default()
    };
    let client = TesseraClient::open(config, Arc::new(secure)).map_err(|e| e.to_string())?;
    let lock = match client.locks().map_err(|e| e.to_string())?.into_iter().next() {
        Some(lock) => lock,
        None => client
            .add_lock(NewLock {
                name: "Crash test door".to_owned(),
                time_zone: "Europe/Berlin".to_owned(),
                capabilities: LockCapabilities {
                    pin_lengths: PinLengths { min: 8, max: 8 },
                    max_codes: u32::MAX,
                    ..LockCapabilities::default()
                },
            })
            .map_err(|e| e.to_string())?,
    };
    // Each code gets its own hour, so the PIN rules only ever compare it with a few others.
    let mut slot =
        i64::try_from(client.codes(lock.id).map_err(|e| e.to_string())?.len()).map_err(|e| e.to_string())?;
    let base = (Utc::now() + Duration::days(1))
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default();
    let stdout = std::io::stdout();
    loop {
        let start = base + Duration::hours(slot);
        let code = client
            .create_code(
                lock.id,
                CodeDraft {
                    label: format!("Guest {slot}"),
                    schedule: Schedule::Window {
                        start,
                        end: start + Duration::minutes(45),
                    },
                    pin: PinRequest::Generate { length: None },
                    max_uses: None,
                    allow_widening: false,
                },
            )
            .map_err(|e| e.to_string())?;
        // One write per line: the reader sees whole lines only.
        writeln!(stdout.lock(), "{}", code.code.id).map_err(|e| e.to_string())?;
        slot += 1;
    }
}

fn read_key(path: &std::path::Path) -> Result<StoreKey, String> {
    let bytes =
        Zeroizing::new(std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?);
    if bytes.len() == 32 {
        return StoreKey::from_slice(&bytes).map_err(|e| e.to_string());
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| "the key file is neither 32 bytes nor hex")?;
    let hex = text.trim();
    if hex.len() != 64 || !hex.is_ascii() {
        return Err("the key file is neither 32 bytes nor 64 hex digits".to_owned());
    }
    let mut key = Zeroizing::new([0u8; 32]);
    for (i, byte) in key.iter_mut().enumerate() {
        *byte =
            u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| "the key file has a non-hex digit")?;
    }
    Ok(StoreKey::from_bytes(*key))
}
