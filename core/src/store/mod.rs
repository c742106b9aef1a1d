//! The offline store: one SQLite file (WAL) holding locks, codes with sealed PINs,
//! and the outbox. It is the source of truth on the phone; sync reconciles it.
//!
//! Opening never modifies a file that is not a Tessera store, that another key
//! sealed, or that a newer build wrote: it identifies the file first and fails
//! with a typed error.

mod cipher;
mod codes;
mod events;
mod local;
mod locks;
mod outbox;
mod schema;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, Transaction, TransactionBehavior};
use subtle::ConstantTimeEq;
use tessera_api::LockEventView;
use tessera_model::{AccessCode, CodeId, CodeStatus, EffectiveSchedule, Lock, LockId};

use crate::{Error, Result};
use cipher::PinCipher;
use codes::SyncMark;

pub use cipher::StoreKey;
pub use codes::{CodeRecord, CodeSync, Span};
pub use local::{IssuedOffline, LocalRoute, LockActivity, LockLogEntry};
pub use outbox::{CodeField, Operation, OutboxEntry};

const KEY_CHECK: &str = "key_check";
/// Meta key of this device's id towards locks (16 random bytes, made once).
pub const PHONE_ID: &str = "phone_id";

/// The phone's database. Cheap to share behind an `Arc`; calls are serialized.
pub struct Store {
    conn: Mutex<Connection>,
    cipher: PinCipher,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the store at `path`, creating it if there is no file, and brings its
    /// schema up to date.
    pub fn open(path: &Path, key: &StoreKey) -> Result<Self> {
        let exists = path.try_exists().map_err(Error::storage)?;
        if exists && !could_be_a_database(path)? {
            return Err(Error::CorruptDatabase {
                path: path.to_owned(),
            });
        }
        let flags = if exists {
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
        };
        let conn = Connection::open_with_flags(path, flags).map_err(|e| opening_error(e, path))?;
        Self::init(conn, key, path)
    }

    /// A store that lives in memory, for tests and previews.
    pub fn in_memory(key: &StoreKey) -> Result<Self> {
        let conn = Connection::open_in_memory()?;
        Self::init(conn, key, Path::new(":memory:"))
    }

    fn init(mut conn: Connection, key: &StoreKey, path: &Path) -> Result<Self> {
        let cipher = PinCipher::new(key);
        conn.busy_timeout(Duration::from_secs(5))?;
        let identity = Identity::read(&conn).map_err(|e| opening_error(e, path))?;
        match identity {
            Identity::Empty => {}
            Identity::Foreign => {
                return Err(Error::ForeignDatabase {
                    path: path.to_owned(),
                });
            }
            Identity::Tessera { schema } => {
                let supported = schema::LATEST;
                if schema > supported {
                    return Err(Error::DatabaseTooNew {
                        found: schema,
                        supported,
                    });
                }
                let check: Option<Vec<u8>> = conn
                    .query_row("SELECT value FROM meta WHERE key = ?1", [KEY_CHECK], |row| {
                        row.get(0)
                    })
                    .optional()
                    .map_err(|e| opening_error(e, path))?;
                cipher.verify_key_check(&check.unwrap_or_default())?;
            }
        }
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // WAL with NORMAL loses at most the last transactions on power loss, never consistency.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        let migrations = if identity == Identity::Empty {
            schema::migrations_for_new_store(cipher.key_check()?)
        } else {
            schema::migrations()
        };
        migrations
            .to_latest(&mut conn)
            .map_err(|e| Error::storage(format!("migrating the store failed: {e}")))?;
        Ok(Store {
            conn: Mutex::new(conn),
            cipher,
        })
    }

    /// Runs `f` on a consistent snapshot.
    pub fn read<T>(&self, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        let mut conn = self.lock_conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        let result = f(&Db {
            conn: &tx,
            cipher: &self.cipher,
        });
        tx.finish()?;
        result
    }

    /// Runs `f` in one write transaction: everything it writes lands, or nothing.
    pub fn write<T>(&self, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        let mut conn = self.lock_conn();
        let tx: Transaction = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&Db {
            conn: &tx,
            cipher: &self.cipher,
        })?;
        tx.commit()?;
        Ok(value)
    }

    fn lock_conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written: the
        // transaction rolls back on drop, so the connection is safe to reuse.
        self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The store's operations inside one transaction.
pub struct Db<'a> {
    conn: &'a Connection,
    cipher: &'a PinCipher,
}

impl std::fmt::Debug for Db<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").finish_non_exhaustive()
    }
}

impl Db<'_> {
    pub fn insert_lock(&self, lock: &Lock, now: DateTime<Utc>) -> Result<()> {
        locks::insert(self.conn, lock, now)
    }

    pub fn save_lock_from_cloud(&self, lock: &Lock, server_version: u64, now: DateTime<Utc>) -> Result<()> {
        locks::save_from_cloud(self.conn, lock, server_version, now)
    }

    pub fn rename_lock(&self, id: LockId, name: &str, now: DateTime<Utc>) -> Result<()> {
        locks::rename(self.conn, id, name, now)
    }

    /// Forgets a lock with its codes, events and pending changes.
    pub fn delete_lock(&self, id: LockId) -> Result<()> {
        for record in codes::of_lock(self.conn, self.cipher, id)? {
            outbox::remove_for(self.conn, *record.code.id.as_uuid())?;
        }
        outbox::remove_for(self.conn, *id.as_uuid())?;
        events::delete_of_lock(self.conn, id)?;
        local::delete_of_lock(self.conn, id)?;
        codes::delete_of_lock(self.conn, id)?;
        locks::delete(self.conn, id)
    }

    pub fn lock(&self, id: LockId) -> Result<Lock> {
        locks::get(self.conn, id)
    }

    pub fn locks(&self) -> Result<Vec<Lock>> {
        locks::all(self.conn)
    }

    /// Locks the cloud knows: the cloud route can reach them (when it relays to them).
    pub fn locks_known_to_cloud(&self) -> Result<Vec<LockId>> {
        locks::known_to_cloud(self.conn)
    }

    /// Stores a code made or changed on this device: pending until the cloud confirms.
    pub fn save_local_code(
        &self,
        code: &AccessCode,
        effective: &EffectiveSchedule,
        server_version: Option<u64>,
    ) -> Result<()> {
        let mark = SyncMark::pending(server_version);
        codes::save(self.conn, self.cipher, code, effective.bounds(), &mark)
    }

    /// Stores a code as it came from the cloud, merged with this device's pending
    /// edits; `span` is its first and last instant of access.
    pub fn save_code_from_cloud(
        &self,
        code: &AccessCode,
        span: Span,
        sync: CodeSync,
        server_version: u64,
    ) -> Result<()> {
        let mark = SyncMark {
            sync,
            server_version: Some(server_version),
        };
        codes::save(self.conn, self.cipher, code, span, &mark)
    }

    pub fn set_code_sync(&self, id: CodeId, sync: CodeSync, server_version: Option<u64>) -> Result<()> {
        codes::set_sync(self.conn, id, &SyncMark { sync, server_version })
    }

    /// A code with its sync state; "set on lock" when the lock confirmed, over the
    /// local route, that it holds this very version of the code.
    pub fn code(&self, id: CodeId) -> Result<CodeRecord> {
        let mut record = codes::get(self.conn, self.cipher, id)?;
        if let Some((fingerprint, at)) = local::confirmation(self.conn, record.code.lock_id, id)? {
            self.apply_confirmation(&mut record, &fingerprint, at);
        }
        Ok(record)
    }

    /// Every code of a lock, oldest first.
    pub fn codes_of_lock(&self, lock: LockId) -> Result<Vec<CodeRecord>> {
        let mut records = codes::of_lock(self.conn, self.cipher, lock)?;
        let confirmed = local::confirmations(self.conn, lock)?;
        if !confirmed.is_empty() {
            for record in &mut records {
                if let Some((fingerprint, at)) = confirmed.get(&record.code.id) {
                    self.apply_confirmation(record, fingerprint, *at);
                }
            }
        }
        Ok(records)
    }

    fn apply_confirmation(&self, record: &mut CodeRecord, fingerprint: &[u8], at: DateTime<Utc>) {
        let matches: bool = subtle_eq(&self.cipher.fingerprint(&record.code), fingerprint);
        if matches {
            record.sync = CodeSync::SetOnLock { at };
        }
    }

    /// The fingerprint of a code as a lock holds it (keyed; never the PIN).
    pub fn lock_fingerprint(&self, code: &AccessCode) -> Vec<u8> {
        self.cipher.fingerprint(code)
    }

    /// Records that `lock` confirmed it holds `code` as it is now (or, revoked, removed it).
    pub fn confirm_on_lock(&self, lock: LockId, code: &AccessCode, now: DateTime<Utc>) -> Result<()> {
        local::confirm(self.conn, lock, code.id, &self.cipher.fingerprint(code), now)
    }

    /// Forgets what `lock` confirmed about `code` (it no longer holds it).
    pub fn unconfirm_on_lock(&self, lock: LockId, code: CodeId) -> Result<()> {
        local::unconfirm(self.conn, lock, code)
    }

    /// Whether `lock` confirmed holding `code` exactly as it is now.
    pub fn lock_confirmed(&self, lock: LockId, code: &AccessCode) -> Result<bool> {
        Ok(local::confirmation(self.conn, lock, code.id)?
            .is_some_and(|(fingerprint, _)| subtle_eq(&self.cipher.fingerprint(code), &fingerprint)))
    }

    /// Adds (or refreshes) the local route of a lock after pairing.
    pub fn save_local_route(
        &self,
        lock: LockId,
        address: Option<&str>,
        ble_device: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        local::save_route(self.conn, lock, address, ble_device, now)
    }

    /// The lock answered over its local route (at `address`, when it moved).
    pub fn local_route_reached(&self, lock: LockId, address: Option<&str>, now: DateTime<Utc>) -> Result<()> {
        local::reached(self.conn, lock, address, now)
    }

    pub fn local_route(&self, lock: LockId) -> Result<Option<LocalRoute>> {
        local::route(self.conn, lock)
    }

    pub fn local_routes(&self) -> Result<Vec<LocalRoute>> {
        local::routes(self.conn)
    }

    /// Stores log entries read from a lock and moves its read cursor past them.
    pub fn append_lock_log(&self, lock: LockId, entries: &[LockLogEntry]) -> Result<()> {
        for entry in entries {
            local::log(self.conn, lock, entry)?;
        }
        if let Some(last) = entries.iter().map(|entry| entry.seq).max() {
            local::set_events_after(self.conn, lock, last)?;
        }
        Ok(())
    }

    /// The lock's log as read so far, newest first.
    pub fn lock_log(&self, lock: LockId, limit: usize) -> Result<Vec<LockLogEntry>> {
        local::log_of(self.conn, lock, limit)
    }

    pub fn record_offline_code(&self, issued: &IssuedOffline) -> Result<()> {
        local::record_offline(self.conn, issued)
    }

    /// Slots of a start hour and class already issued here.
    pub fn offline_slots_issued(
        &self,
        lock: LockId,
        epoch: u32,
        start_hour: u32,
        class: u8,
    ) -> Result<Vec<u8>> {
        local::offline_slots(self.conn, lock, epoch, start_hour, class)
    }

    pub fn offline_codes_of_lock(&self, lock: LockId) -> Result<Vec<IssuedOffline>> {
        local::offline_of(self.conn, lock)
    }

    /// Codes not revoked whose access has not ended by `now`.
    pub fn count_live_codes(&self, lock: LockId, now: DateTime<Utc>) -> Result<usize> {
        codes::count_live(self.conn, lock, now)
    }

    /// Live codes whose span of access meets `[from, until)` (`None`: unbounded).
    pub fn live_codes_between(
        &self,
        lock: LockId,
        from: DateTime<Utc>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<AccessCode>> {
        codes::live_between(self.conn, self.cipher, lock, from, until)
    }

    pub fn set_code_status(&self, id: CodeId, status: CodeStatus, now: DateTime<Utc>) -> Result<()> {
        codes::set_status(self.conn, id, status, now)
    }

    pub fn push_outbox(
        &self,
        operation: Operation,
        entity: uuid::Uuid,
        fields: &[CodeField],
        now: DateTime<Utc>,
    ) -> Result<()> {
        outbox::push(self.conn, operation, entity, fields, now)
    }

    /// Pending mutations, in the order they must be pushed.
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>> {
        outbox::pending(self.conn)
    }

    pub fn outbox_for(&self, entity: uuid::Uuid) -> Result<Vec<OutboxEntry>> {
        outbox::pending_for(self.conn, entity)
    }

    pub fn outbox_len(&self) -> Result<usize> {
        outbox::count(self.conn)
    }

    pub fn remove_outbox_entry(&self, seq: i64) -> Result<()> {
        outbox::remove(self.conn, seq)
    }

    pub fn remove_outbox_for(&self, entity: uuid::Uuid) -> Result<()> {
        outbox::remove_for(self.conn, entity)
    }

    pub fn insert_event(&self, event: &LockEventView) -> Result<()> {
        events::insert(self.conn, event)
    }

    pub fn events_of_lock(&self, lock: LockId, limit: usize) -> Result<Vec<LockEventView>> {
        events::of_lock(self.conn, lock, limit)
    }

    /// A small value the client keeps with the data (cursor, account, cloud address).
    pub fn meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
            .query_row([key], |row| row.get(0))
            .optional()?)
    }

    pub fn set_meta(&self, key: &str, value: &[u8]) -> Result<()> {
        self.conn
            .prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?
            .execute(rusqlite::params![key, value])?;
        Ok(())
    }

    pub fn delete_meta(&self, key: &str) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM meta WHERE key = ?1")?
            .execute([key])?;
        Ok(())
    }

    /// Deletes everything an account put here: locks (and their local routes, logs
    /// and offline codes), codes, events, pending changes, and every meta value but
    /// the key check and this device's phone id.
    pub fn wipe(&self) -> Result<()> {
        self.conn.execute_batch(&format!(
            "DELETE FROM outbox; DELETE FROM events; DELETE FROM lock_codes; DELETE FROM lock_log;
             DELETE FROM offline_codes; DELETE FROM local_locks; DELETE FROM codes; DELETE FROM locks;
             DELETE FROM meta WHERE key NOT IN ('{KEY_CHECK}', '{PHONE_ID}');"
        ))?;
        Ok(())
    }
}

/// What a file turned out to be, read without writing to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Identity {
    /// A new, empty database.
    Empty,
    Tessera {
        schema: i64,
    },
    Foreign,
}

impl Identity {
    fn read(conn: &Connection) -> rusqlite::Result<Self> {
        let application_id: i32 = conn.pragma_query_value(None, "application_id", |row| row.get(0))?;
        let schema: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
        let objects: i64 = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))?;
        Ok(match application_id {
            schema::APPLICATION_ID => Identity::Tessera { schema },
            0 if schema == 0 && objects == 0 => Identity::Empty,
            _ => Identity::Foreign,
        })
    }
}

/// SQLite takes a one-byte file for an empty database (its workaround for a macOS
/// file system writes the `S` of its header first): anything else that short is no
/// database, and must not be overwritten with a new store. Longer files SQLite
/// identifies itself.
fn could_be_a_database(path: &Path) -> Result<bool> {
    let length = std::fs::metadata(path).map_err(Error::storage)?.len();
    if length != 1 {
        return Ok(true);
    }
    let byte = std::fs::read(path).map_err(Error::storage)?;
    Ok(byte == b"S")
}

/// Constant-time comparison of two fingerprints.
fn subtle_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Maps errors met while identifying a file: SQLite calls a damaged or non-database
/// file "not a database" or "corrupt".
fn opening_error(error: rusqlite::Error, path: &Path) -> Error {
    match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => Error::CorruptDatabase {
            path: PathBuf::from(path),
        },
        _ => error.into(),
    }
}

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Self {
        match error.sqlite_error_code() {
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
                Error::storage("the database file is damaged")
            }
            _ => Error::storage(error),
        }
    }
}

pub(crate) fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub(crate) fn from_millis(ms: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| Error::storage(format!("timestamp {ms} out of range")))
}
