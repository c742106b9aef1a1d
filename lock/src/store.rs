//! The lock's persistent state: one JSON file in the state directory, replaced
//! atomically on every change that matters (write a temporary file, fsync it,
//! rename it over the old one, fsync the directory). A crash at any point
//! leaves either the old state or the new one, never a mix; the directory is
//! held with an exclusive lock so two processes never share it.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tessera_model::Usage;
use tessera_protocol::offline::Header;
use tessera_protocol::wire::{self, WireSchedule};
use zeroize::{Zeroize, Zeroizing};

use crate::{Error, Result};

pub const STATE_FILE: &str = "state.json";
const TEMP_FILE: &str = "state.json.tmp";
/// Held (flock) by the running lock: a second process on the same state is refused.
const LOCK_FILE: &str = "state.lock";
/// The state file's format; bumped on incompatible changes.
pub const FORMAT: u32 = 1;

/// Everything the lock remembers. Holds secrets (the offline root, pairing keys,
/// PINs): no `Debug`, zeroized on drop, the file is 0600.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    pub format: u32,
    #[serde(with = "crate::hex::bytes")]
    pub lock_id: [u8; 16],
    pub name: String,
    pub time_zone: String,
    #[serde(with = "crate::hex::bytes")]
    pub offline_root: [u8; 32],
    pub epoch: u32,
    pub offline_digits: u8,
    pub pin_digits_min: u8,
    pub pin_digits_max: u8,
    pub capacity: u32,
    /// Offline codes remembered after their first use (one-time ones: used).
    pub offline_capacity: u32,
    pub phones: Vec<Phone>,
    pub codes: Vec<StoredCode>,
    /// Offline codes of the current epoch used at least once.
    pub offline_used: Vec<UsedOffline>,
    pub keypad: Backoff,
    pub pairing: Backoff,
    pub clock: ClockState,
    pub locked: bool,
    /// The event log, oldest first, at most `EVENT_LOG_LEN` entries.
    pub events: VecDeque<wire::LockEvent>,
    pub next_seq: u64,
    /// Events up to this sequence number have been reported to the cloud.
    pub cloud_cursor: u64,
    /// Codes a paired phone removed that the cloud may still list (the phone's
    /// revoke has not reached it yet): a Wi-Fi lock must not set them again.
    #[serde(default)]
    pub removed_by_owner: Vec<RemovedCode>,
}

/// A code a paired phone removed from the lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemovedCode {
    #[serde(with = "crate::hex::bytes")]
    pub id: [u8; 16],
}

impl Drop for State {
    fn drop(&mut self) {
        self.offline_root.zeroize();
    }
}

/// A paired phone and the key it was paired with.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phone {
    #[serde(with = "crate::hex::bytes")]
    pub id: [u8; 16],
    #[serde(with = "crate::hex::bytes")]
    pub key: [u8; 32],
    pub paired_at_ms: i64,
}

impl Drop for Phone {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

/// Where a code came from: a phone over the local protocol, or the cloud (a
/// Wi-Fi lock removes cloud codes the cloud no longer lists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Local,
    Cloud,
}

/// A code the lock holds, with how it has been used.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredCode {
    #[serde(with = "crate::hex::bytes")]
    pub id: [u8; 16],
    pub pin: String,
    pub schedule: WireSchedule,
    pub max_uses: Option<u32>,
    /// Compile with widening (codes from the cloud say so; the wire does not).
    pub allow_widening: bool,
    pub origin: Origin,
    pub usage: Usage,
}

impl Drop for StoredCode {
    fn drop(&mut self) {
        self.pin.zeroize();
    }
}

impl StoredCode {
    pub fn wire(&self) -> wire::LockCode {
        wire::LockCode {
            id: self.id,
            pin: self.pin.clone(),
            schedule: self.schedule.clone(),
            max_uses: self.max_uses,
        }
    }
}

/// An offline code after its first use.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsedOffline {
    pub header: Header,
    /// Lock time (Unix ms) of the first use.
    pub first_use_ms: i64,
    /// Kept at least until then (lock standard time, seconds): the code's end
    /// plus tolerance, so a one-time code can never be activated again.
    pub keep_until_std: i64,
}

/// Consecutive failures and the lockout they earned; persisted so that cutting
/// the power does not reset them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backoff {
    /// Failures since the last success (or, for pairing, since the last block).
    pub failures: u32,
    /// Lockouts earned since the last success; each one lasts twice the last.
    pub level: u32,
    /// Locked out until this lock time (Unix ms).
    pub until_ms: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockState {
    /// Lock time = system time + offset.
    pub offset_ms: i64,
    /// The latest lock time seen: the owner can set the clock back by the
    /// tolerance from here, not from a time already set back.
    pub high_water_ms: i64,
}

/// The state directory, held exclusively.
pub struct Store {
    dir: PathBuf,
    _held: File,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("dir", &self.dir).finish()
    }
}

impl Store {
    /// Opens (creating, 0700) the directory, takes its lock, and reads the state
    /// if there is one. A temporary file left by a crash is discarded.
    pub fn open(dir: &Path) -> Result<(Store, Option<State>)> {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(|e| Error::io(dir, e))?;
        let lock_path = dir.join(LOCK_FILE);
        let held = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&lock_path)
            .map_err(|e| Error::io(&lock_path, e))?;
        held.try_lock().map_err(|error| match error {
            fs::TryLockError::WouldBlock => Error::Busy { path: dir.to_owned() },
            fs::TryLockError::Error(e) => Error::io(&lock_path, e),
        })?;
        let temp = dir.join(TEMP_FILE);
        match fs::remove_file(&temp) {
            Ok(()) => tracing::warn!("discarded a state file left half-written by a crash"),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&temp, e)),
        }
        let store = Store {
            dir: dir.to_owned(),
            _held: held,
        };
        let state = store.read()?;
        Ok((store, state))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn read(&self) -> Result<Option<State>> {
        let path = self.dir.join(STATE_FILE);
        let bytes = match fs::read(&path) {
            Ok(bytes) => Zeroizing::new(bytes),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&path, e)),
        };
        let corrupt = |reason: String| Error::CorruptState {
            path: path.clone(),
            reason,
        };
        // Errors name the line and column, never the content (it holds secrets).
        let state: State = serde_json::from_slice(&bytes).map_err(|e| {
            corrupt(format!(
                "{:?} at line {} column {}",
                e.classify(),
                e.line(),
                e.column()
            ))
        })?;
        if state.format != FORMAT {
            return Err(corrupt(format!("format {} is not {FORMAT}", state.format)));
        }
        Ok(Some(state))
    }

    /// Replaces the state file atomically and durably.
    pub fn save(&self, state: &State) -> io::Result<()> {
        let bytes = Zeroizing::new(serde_json::to_vec(state).map_err(io::Error::other)?);
        let temp = self.dir.join(TEMP_FILE);
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o600)
            .open(&temp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, self.dir.join(STATE_FILE))?;
        File::open(&self.dir)?.sync_all()
    }

    /// Writes a small secret file (0600) atomically: the generated setup code.
    pub fn write_secret_file(&self, name: &str, contents: &str) -> Result<()> {
        let path = self.dir.join(name);
        let temp = self.dir.join(format!("{name}.tmp"));
        let write = || -> io::Result<()> {
            let mut file = OpenOptions::new()
                .create(true)
                .truncate(true)
                .write(true)
                .mode(0o600)
                .open(&temp)?;
            file.write_all(contents.as_bytes())?;
            file.write_all(b"\n")?;
            file.sync_all()?;
            fs::rename(&temp, &path)?;
            File::open(&self.dir)?.sync_all()
        };
        write().map_err(|e| Error::io(&path, e))
    }

    /// Reads a small secret file, if it exists.
    pub fn read_secret_file(&self, name: &str) -> Result<Option<Zeroizing<String>>> {
        let path = self.dir.join(name);
        match fs::read_to_string(&path) {
            Ok(text) => Ok(Some(Zeroizing::new(text))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(&path, e)),
        }
    }
}
