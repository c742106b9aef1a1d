//! The facade the apps (through the FFI) and the CLI call. One object per signed-in
//! phone; every owner action goes through it.

use std::path::{Path, PathBuf};

use chrono::{DateTime, SubsecRound, Utc};
use tessera_model::code::{validate_label, validate_max_uses};
use tessera_model::lock::{parse_time_zone, validate_lock_name};
use tessera_model::{
    AccessCode, CodeId, CodeStatus, CompileOptions, EffectiveSchedule, Lock, LockCapabilities, LockId, Pin,
    PinRules, Schedule, ScheduleKind, TakenPin,
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

/// How the PIN of a new code is chosen.
#[derive(Debug, Clone)]
pub enum PinChoice {
    /// Drawn at random from every PIN the lock and its other codes allow;
    /// `None` takes the lock's default length.
    Generate { length: Option<u8> },
    /// The owner's own digits, checked against the same rules.
    Chosen(Pin),
}

/// A code the owner creates.
#[derive(Debug, Clone)]
pub struct CodeRequest {
    pub label: String,
    pub schedule: Schedule,
    pub pin: PinChoice,
    pub max_uses: Option<u32>,
    /// Let rounding to the lock's granularity grant more time than asked for.
    pub allow_widening: bool,
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
    pub fn create_code(&self, lock_id: LockId, request: CodeRequest) -> Result<AccessCode> {
        let label = validate_label(&request.label)?;
        validate_max_uses(request.max_uses)?;
        let options = CompileOptions {
            allow_widening: request.allow_widening,
        };
        let now = now();
        self.store.write(|db| {
            let lock = db.lock(lock_id)?;
            let effective = EffectiveSchedule::compile(&request.schedule, &lock, options)?;
            if effective.has_ended_by(now) {
                return Err(tessera_model::Error::InvalidSchedule {
                    reason: "the window has already ended".to_owned(),
                }
                .into());
            }
            lock.capabilities
                .check_capacity(db.count_live_codes(lock_id, now)?)?;
            let pin = {
                let neighbours = live_neighbours(db, &lock, &effective, now)?;
                let rules = PinRules::new(
                    &lock.capabilities,
                    neighbours.iter().map(|code| TakenPin {
                        code: code.id,
                        pin: &code.pin,
                    }),
                );
                match request.pin {
                    PinChoice::Generate { length } => rules.generate(
                        length.unwrap_or(lock.capabilities.default_pin_length()),
                        &mut rand::rng(),
                    )?,
                    PinChoice::Chosen(pin) => {
                        rules.check(&pin)?;
                        pin
                    }
                }
            };
            let code = AccessCode {
                id: CodeId::new(),
                lock_id,
                label,
                pin,
                schedule: request.schedule,
                allow_widening: request.allow_widening,
                max_uses: request.max_uses,
                status: CodeStatus::Active,
                created_at: now,
                updated_at: now,
                version: 1,
            };
            db.insert_code(&code, &effective)?;
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

/// The lock's live codes whose schedules can be active at the same time as `new`.
fn live_neighbours(
    db: &crate::store::Db,
    lock: &Lock,
    new: &EffectiveSchedule,
    now: DateTime<Utc>,
) -> Result<Vec<AccessCode>> {
    let (from, until) = new.bounds();
    let from = from.map_or(now, |from| from.max(now));
    let mut neighbours = Vec::new();
    for code in db.live_codes_between(lock.id, from, until)? {
        if needs_compiled_check(new.kind, code.schedule.kind()) {
            let theirs = EffectiveSchedule::compile(&code.schedule, lock, code.compile_options())?;
            if !theirs.may_overlap(new) {
                continue;
            }
        }
        neighbours.push(code);
    }
    Ok(neighbours)
}

/// Whether the store's first-to-last span test leaves doubt about two codes
/// overlapping. It is exact when each grants one unbroken span (permanent, window,
/// one-time, expiring after first use) and when either is permanent (it meets every
/// occurrence of the other); only weekly schedules have gaps that need the compiled
/// schedules compared.
fn needs_compiled_check(new: ScheduleKind, theirs: ScheduleKind) -> bool {
    let weekly = new == ScheduleKind::Weekly || theirs == ScheduleKind::Weekly;
    let permanent = new == ScheduleKind::Permanent || theirs == ScheduleKind::Permanent;
    weekly && !permanent
}
