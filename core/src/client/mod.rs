//! The facade the apps (through the FFI) and the CLI call: one object per device,
//! every owner action goes through it. Local actions (`locks`, `codes` ...) work
//! offline and return at once; cloud actions (`account`) are async.

mod account;
mod local;
mod offline;
mod share;

pub use local::{
    ClockSync, Delivery, DiscoveredLock, Discovery, DiscoveryOptions, LockRoute, PairedLock, Route,
};
pub use share::{ShareRequest, Shared};

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, SubsecRound, Utc};
use tessera_api::LockEventView;
use tessera_model::lock::{parse_time_zone, validate_lock_name};
use tessera_model::{
    AccessCode, CodeDraft, CodeId, CodeStatus, CompileOptions, EffectiveSchedule, Lock, LockCapabilities,
    LockId, LockState, PinRequest, Schedule,
};
use tokio::sync::watch;

use crate::cloud::Session;
use crate::secure_store::{self, SecureStore};
use crate::store::{CodeField, CodeRecord, Db, Operation, OutboxEntry, Store};
use crate::sync::SyncEngine;
use crate::{Error, Result};

/// File name of the store inside the data directory.
pub const STORE_FILE: &str = "tessera.db";

/// Where and how the client keeps its data.
#[derive(Debug, Clone, Default)]
pub struct ClientConfig {
    pub data_dir: PathBuf,
    /// Extra trusted root certificates (DER) for a private cloud; the bundled
    /// public roots are always trusted.
    pub extra_root_certificates: Vec<Vec<u8>>,
    /// Where share links point (`https://share.example`); by default the signed-in cloud.
    pub share_host: Option<String>,
}

/// A lock the owner adds.
#[derive(Debug, Clone)]
pub struct NewLock {
    pub name: String,
    /// IANA zone name, e.g. `Europe/Berlin`.
    pub time_zone: String,
    pub capabilities: LockCapabilities,
}

/// Changes to a code; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct CodeChanges {
    pub label: Option<String>,
    /// A new PIN: the owner's digits, or a freshly generated one.
    pub pin: Option<PinRequest>,
    pub schedule: Option<Schedule>,
    pub allow_widening: Option<bool>,
    /// `Some(None)` removes the limit.
    pub max_uses: Option<Option<u32>>,
}

impl CodeChanges {
    fn fields(&self) -> Vec<CodeField> {
        [
            (self.label.is_some(), CodeField::Label),
            (self.pin.is_some(), CodeField::Pin),
            (self.schedule.is_some(), CodeField::Schedule),
            (self.allow_widening.is_some(), CodeField::AllowWidening),
            (self.max_uses.is_some(), CodeField::MaxUses),
        ]
        .into_iter()
        .filter_map(|(changed, field)| changed.then_some(field))
        .collect()
    }
}

/// The owner's side of Tessera on one device.
pub struct TesseraClient {
    store: Arc<Store>,
    secure: Arc<dyn SecureStore>,
    config: ClientConfig,
    session: RwLock<Option<Arc<Session>>>,
    sync: SyncEngine,
    /// Bumped whenever locks, codes or events change here, locally or by sync.
    changes: watch::Sender<u64>,
    /// The app's Bluetooth, if it provided one.
    ble: RwLock<Option<Arc<dyn crate::local::BleTransport>>>,
}

impl std::fmt::Debug for TesseraClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TesseraClient")
            .field("data_dir", &self.config.data_dir)
            .field("session", &self.current_session())
            .finish_non_exhaustive()
    }
}

impl TesseraClient {
    /// Opens (or creates) the client's data in `config.data_dir`. The key sealing the
    /// PINs and the session's tokens live in `secure`.
    pub fn open(config: ClientConfig, secure: Arc<dyn SecureStore>) -> Result<Self> {
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| Error::storage(format!("cannot create {}: {e}", config.data_dir.display())))?;
        let path = config.data_dir.join(STORE_FILE);
        let exists = path.try_exists().map_err(Error::storage)?;
        let key = secure_store::store_key(secure.as_ref(), exists)?;
        let store = Arc::new(Store::open(&path, &key)?);
        let session = Session::restore(secure.clone(), &config.extra_root_certificates)?.map(Arc::new);
        let sync = SyncEngine::new(store.clone(), session.is_some())?;
        Ok(TesseraClient {
            store,
            secure,
            config,
            session: RwLock::new(session),
            sync,
            changes: watch::Sender::new(0),
            ble: RwLock::new(None),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.config.data_dir
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
        self.write(|db| {
            db.insert_lock(&lock, now)?;
            db.push_outbox(Operation::CreateLock, *lock.id.as_uuid(), &[], now)
        })?;
        Ok(lock)
    }

    pub fn rename_lock(&self, id: LockId, name: &str) -> Result<Lock> {
        let name = validate_lock_name(name)?;
        let now = now();
        self.write(|db| {
            db.rename_lock(id, &name, now)?;
            db.push_outbox(Operation::RenameLock, *id.as_uuid(), &[], now)?;
            db.lock(id)
        })
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
    pub fn create_code(&self, lock_id: LockId, draft: CodeDraft) -> Result<CodeRecord> {
        let now = now();
        let id = CodeId::new();
        self.write(|db| {
            let lock = db.lock(lock_id)?;
            let (schedule, allow_widening, max_uses) =
                (draft.schedule.clone(), draft.allow_widening, draft.max_uses);
            let admitted = admit(db, &lock, None, draft, now)?;
            let code = AccessCode {
                id,
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
            db.save_local_code(&code, &admitted.effective, None)?;
            db.push_outbox(Operation::CreateCode, *id.as_uuid(), &[], now)?;
            db.code(id)
        })
    }

    /// Changes a code, checked by the same rules as a new one (against the other
    /// codes). Works offline; only the changed fields are pushed.
    pub fn update_code(&self, id: CodeId, changes: CodeChanges) -> Result<CodeRecord> {
        let now = now();
        let fields = changes.fields();
        if fields.is_empty() {
            return self.code(id);
        }
        self.write(|db| {
            let record = db.code(id)?;
            let current = record.code;
            if current.status == CodeStatus::Revoked {
                return Err(tessera_model::Error::InvalidInput {
                    field: "code",
                    reason: "a revoked code cannot change".to_owned(),
                }
                .into());
            }
            let lock = db.lock(current.lock_id)?;
            let draft = CodeDraft {
                label: changes.label.unwrap_or_else(|| current.label.clone()),
                schedule: changes.schedule.unwrap_or_else(|| current.schedule.clone()),
                allow_widening: changes.allow_widening.unwrap_or(current.allow_widening),
                max_uses: changes.max_uses.unwrap_or(current.max_uses),
                pin: changes
                    .pin
                    .unwrap_or_else(|| PinRequest::Chosen(current.pin.clone())),
            };
            let (schedule, allow_widening, max_uses) =
                (draft.schedule.clone(), draft.allow_widening, draft.max_uses);
            let admitted = admit(db, &lock, Some(id), draft, now)?;
            let code = AccessCode {
                label: admitted.label,
                pin: admitted.pin,
                schedule,
                allow_widening,
                max_uses,
                updated_at: now,
                version: current.version + 1,
                ..current
            };
            db.save_local_code(&code, &admitted.effective, record.server_version)?;
            let pending = db.outbox_for(*id.as_uuid())?;
            let create_pending = pending.iter().any(|e| e.operation == Operation::CreateCode);
            match (record.server_version, create_pending) {
                // The queued create will carry the new values.
                (None, true) => {}
                // The cloud refused the create: this edit is a new attempt.
                (None, false) => db.push_outbox(Operation::CreateCode, *id.as_uuid(), &[], now)?,
                (Some(_), _) => db.push_outbox(Operation::UpdateCode, *id.as_uuid(), &fields, now)?,
            }
            db.code(id)
        })
    }

    /// Every code of a lock with its sync state, revoked and expired ones included,
    /// oldest first.
    pub fn codes(&self, lock: LockId) -> Result<Vec<CodeRecord>> {
        self.store.read(|db| {
            db.lock(lock)?;
            db.codes_of_lock(lock)
        })
    }

    pub fn code(&self, id: CodeId) -> Result<CodeRecord> {
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
    pub fn revoke_code(&self, id: CodeId) -> Result<CodeRecord> {
        let now = now();
        self.write(|db| {
            let record = db.code(id)?;
            if record.code.status == CodeStatus::Revoked {
                return Ok(record);
            }
            db.set_code_status(id, CodeStatus::Revoked, now)?;
            db.set_code_sync(id, crate::store::CodeSync::Pending, record.server_version)?;
            db.push_outbox(Operation::RevokeCode, *id.as_uuid(), &[], now)?;
            db.code(id)
        })
    }

    /// What the lock reported (as the cloud relays it), newest first.
    pub fn events(&self, lock: LockId, limit: usize) -> Result<Vec<LockEventView>> {
        self.store.read(|db| {
            db.lock(lock)?;
            db.events_of_lock(lock, limit)
        })
    }

    /// Mutations made on this device that the cloud has not acknowledged yet.
    pub fn pending_mutations(&self) -> Result<Vec<OutboxEntry>> {
        self.store.read(|db| db.outbox())
    }

    /// A counter bumped whenever locks, codes or events change on this device, by
    /// the owner or by sync: what live lists listen to.
    pub fn watch_changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// A local write; listeners hear of it.
    fn write<T>(&self, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        let value = self.store.write(f)?;
        self.notify_changed();
        self.sync.refresh_pending();
        Ok(value)
    }

    fn notify_changed(&self) {
        self.changes.send_modify(|version| *version += 1);
    }

    fn current_session(&self) -> Option<Arc<Session>> {
        self.session
            .read()
            .map_or_else(|poisoned| poisoned.into_inner().clone(), |s| s.clone())
    }

    fn set_session(&self, session: Option<Arc<Session>>) {
        match self.session.write() {
            Ok(mut guard) => *guard = session,
            Err(poisoned) => *poisoned.into_inner() = session,
        }
    }
}

/// Admits a new or changed code (`changing`) to its lock.
fn admit(
    db: &Db,
    lock: &Lock,
    changing: Option<CodeId>,
    draft: CodeDraft,
    now: DateTime<Utc>,
) -> Result<tessera_model::Admitted> {
    let options = CompileOptions {
        allow_widening: draft.allow_widening,
    };
    let span = EffectiveSchedule::compile(&draft.schedule, lock, options)?.bounds();
    let mut neighbours = db.live_codes_between(lock.id, span.0.map_or(now, |from| from.max(now)), span.1)?;
    neighbours.retain(|code| Some(code.id) != changing);
    let mut live_codes = db.count_live_codes(lock.id, now)?;
    if let Some(id) = changing
        && db.code(id)?.code.status == CodeStatus::Active
    {
        live_codes = live_codes.saturating_sub(1);
    }
    Ok(LockState {
        lock,
        live_codes,
        neighbours: &neighbours,
        now,
    }
    .admit(draft, &mut rand::rng())?)
}

/// The current time at the store's precision (milliseconds): what a call returns
/// equals what reading it back later returns.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}
