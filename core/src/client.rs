//! The facade the apps (through the FFI) and the CLI call. One object per signed-in
//! phone; every owner action goes through it.

use std::path::{Path, PathBuf};

use chrono::{DateTime, SubsecRound, Utc};
use tessera_model::lock::{parse_time_zone, validate_lock_name};
use tessera_model::{
    AccessCode, CodeDraft, CodeId, CodeStatus, CompileOptions, EffectiveSchedule, Lock, LockCapabilities,
    LockId, LockState, Schedule,
};

use crate::store::{Operation, OutboxEntry, Store, StoreKey};
use crate::{Error, Result};

/// File name of the store inside the data directory.
pub const STORE_FILE: &str = "tessera.db";

/// A lock the owner adds.
#[derive(Debug, Clone)]
pub struct NewLock {
    pub name: String,
    /// IANA zone name, e.g. `Europe/Berlin`.
    pub time_zone: String,
    pub capabilities: LockCapabilities,
}

/// The owner's side of Tessera on one device.
#[derive(Debug)]
pub struct TesseraClient {
    store: Store,
    data_dir: PathBuf,
}

impl TesseraClient {
    /// Opens (or creates) the client's data in `data_dir`; `key` seals the PINs.
    pub fn open(data_dir: &Path, key: &StoreKey) -> Result<Self> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| Error::storage(format!("cannot create {}: {e}", data_dir.display())))?;
        Ok(TesseraClient {
            store: Store::open(&data_dir.join(STORE_FILE), key)?,
            data_dir: data_dir.to_owned(),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn add_lock(&self, new: NewLock) -> Result<Lock> {
        let lock = Lock {
            id: LockId::new(),
            name: validate_lock_name(&new.name)?,
            time_zone: parse_time_zone(&new.time_zone)?,
            capabilities: new.capabilities,
        };
        lock.capabilities.validate()?;
        let now = now();
        self.store.write(|db| {
            db.insert_lock(&lock, now)?;
            db.push_outbox(Operation::CreateLock, *lock.id.as_uuid(), now)
        })?;
        Ok(lock)
    }

    pub fn locks(&self) -> Result<Vec<Lock>> {
        self.store.read(|db| db.locks())
    }

    pub fn lock(&self, id: LockId) -> Result<Lock> {
        self.store.read(|db| db.lock(id))
    }

    /// What `schedule` becomes on `lock`, without creating anything: the preview
    /// an owner sees before sharing.
    pub fn compile_schedule(
        &self,
        lock: LockId,
        schedule: &Schedule,
        options: CompileOptions,
    ) -> Result<EffectiveSchedule> {
        let lock = self.lock(lock)?;
        Ok(EffectiveSchedule::compile(schedule, &lock, options)?)
    }

    /// Creates a code: compiles its schedule for the lock, picks or checks its PIN
    /// against the lock's rules and the codes live at the same time, and stores it
    /// with its outbox entry. Works offline.
    pub fn create_code(&self, lock_id: LockId, draft: CodeDraft) -> Result<AccessCode> {
        let now = now();
        self.store.write(|db| {
            let lock = db.lock(lock_id)?;
            let schedule = draft.schedule.clone();
            let (allow_widening, max_uses) = (draft.allow_widening, draft.max_uses);
            let span =
                EffectiveSchedule::compile(&schedule, &lock, CompileOptions { allow_widening })?.bounds();
            let neighbours =
                db.live_codes_between(lock_id, span.0.map_or(now, |from| from.max(now)), span.1)?;
            let admitted = LockState {
                lock: &lock,
                live_codes: db.count_live_codes(lock_id, now)?,
                neighbours: &neighbours,
                now,
            }
            .admit(draft, &mut rand::rng())?;
            let code = AccessCode {
                id: CodeId::new(),
                lock_id,
                label: admitted.label,
                pin: admitted.pin,
                schedule,
                allow_widening,
                max_uses,
                status: CodeStatus::Active,
                created_at: now,
                updated_at: now,
                version: 1,
            };
            db.insert_code(&code, &admitted.effective)?;
            db.push_outbox(Operation::CreateCode, *code.id.as_uuid(), now)?;
            Ok(code)
        })
    }

    /// Every code of a lock, revoked and expired ones included, oldest first.
    pub fn codes(&self, lock: LockId) -> Result<Vec<AccessCode>> {
        self.store.read(|db| {
            db.lock(lock)?;
            db.codes_of_lock(lock)
        })
    }

    pub fn code(&self, id: CodeId) -> Result<AccessCode> {
        self.store.read(|db| db.code(id))
    }

    /// The code's schedule as its lock holds it.
    pub fn effective_schedule(&self, code: &AccessCode) -> Result<EffectiveSchedule> {
        let lock = self.lock(code.lock_id)?;
        Ok(EffectiveSchedule::compile(
            &code.schedule,
            &lock,
            code.compile_options(),
        )?)
    }

    /// Revokes a code: it stops opening the door once the lock hears of it.
    /// Revoking a revoked code changes nothing.
    pub fn revoke_code(&self, id: CodeId) -> Result<AccessCode> {
        let now = now();
        self.store.write(|db| {
            let code = db.code(id)?;
            if code.status == CodeStatus::Revoked {
                return Ok(code);
            }
            db.set_code_status(id, CodeStatus::Revoked, now)?;
            db.push_outbox(Operation::RevokeCode, *id.as_uuid(), now)?;
            db.code(id)
        })
    }

    /// Mutations made on this device that the cloud has not acknowledged yet.
    pub fn pending_mutations(&self) -> Result<Vec<OutboxEntry>> {
        self.store.read(|db| db.outbox())
    }
}

/// The current time at the store's precision (milliseconds): what a call returns
/// equals what reading it back later returns.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}
