//! The lock itself: its state, its clock, the keypad, pairing decisions and the
//! answers to a phone's requests. One mutex around everything; every change
//! that matters is saved (atomically, durably) before it takes effect or is
//! reported.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use subtle::ConstantTimeEq;
use tessera_model::code::{MAX_USES, validate_max_uses};
use tessera_model::lock::{parse_time_zone, validate_lock_name};
use tessera_model::{
    CodeId, CompileOptions, EffectiveSchedule, Granularity, Keypad, LockCapabilities, LockId, Pin,
    PinLengths, PinRules, ScheduleKind, TakenPin,
};
use tessera_protocol::PairingKey;
use tessera_protocol::offline::{
    self, Candidates, Header, OfflineClass, OfflineKey, TOLERANCE_SECONDS, hour_of, standard_time,
};
use tessera_protocol::wire::{
    self, EventKind, LockCode, LockInfo, OfflineSecret, Refusal, Request, Response, WireSchedule,
};
use tokio::sync::Notify;
use zeroize::Zeroizing;

use crate::policy::{self, doubling};
use crate::secret::SetupCode;
use crate::store::{
    self, Backoff, ClockState, Origin, Phone, RemovedCode, State, Store, StoredCode, UsedOffline,
};
use crate::{Error, Result, hex};
use tessera_protocol::schedule::from_wire;

const SETUP_CODE_FILE: &str = "setup-code";
/// 9999-12-31T23:59:59.999Z: the latest time the owner can set (RFC 3339 has
/// four-digit years; `status` and the keypad print the clock so).
const LATEST_CLOCK_MS: i64 = 253_402_300_799_999;

/// How to open (or create) a lock.
#[derive(Debug, Clone)]
pub struct LockConfig {
    /// Where the lock keeps its state (created, 0700).
    pub state_dir: PathBuf,
    /// The lock's name; on a lock that exists, renames it.
    pub name: Option<String>,
    /// IANA zone schedules are kept in; on a lock that exists, moves it.
    pub time_zone: Option<String>,
    /// The setup code on the label. Without one, the code in `DIR/setup-code`
    /// is used, or a new one is generated and written there (0600).
    pub setup_code: Option<SetupCode>,
    /// PIN lengths the keypad takes (a new lock only; default 4-8).
    pub pin_digits: Option<(u8, u8)>,
    /// Codes the lock holds (a new lock only; default 250).
    pub capacity: Option<u32>,
    /// Digits of offline codes (a new lock only; default 10).
    pub offline_digits: Option<u8>,
    /// Offline codes remembered after their first use (default 128).
    pub offline_capacity: Option<u32>,
}

impl LockConfig {
    pub fn new(state_dir: impl Into<PathBuf>) -> Self {
        LockConfig {
            state_dir: state_dir.into(),
            name: None,
            time_zone: None,
            setup_code: None,
            pin_digits: None,
            capacity: None,
            offline_digits: None,
            offline_capacity: None,
        }
    }
}

/// What the keypad did with an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum KeypadResult {
    /// The door opened.
    Open { by: Opener },
    /// Wrong code (or a right one outside its schedule).
    Refused,
    /// Too many wrong entries: every entry is refused until then, right or wrong.
    LockedOut { until: DateTime<Utc> },
}

impl KeypadResult {
    pub fn is_open(&self) -> bool {
        matches!(self, KeypadResult::Open { .. })
    }
}

/// What opened the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Opener {
    /// A stored code (its id, hex).
    Code(#[serde(serialize_with = "hex_id")] [u8; 16]),
    /// An offline code.
    Offline { start_hour: u32, class: u8, slot: u8 },
}

fn hex_id<S: serde::Serializer>(id: &[u8; 16], serializer: S) -> std::result::Result<S::Ok, S::Error> {
    serializer.serialize_str(&hex::encode(id))
}

/// The lock at a glance (the control socket's `status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// The lock id, hex.
    pub id: String,
    /// The lock id as the cloud spells it (a UUID).
    pub cloud_id: String,
    pub name: String,
    pub zone: String,
    pub clock: DateTime<Utc>,
    pub epoch: u32,
    pub codes: usize,
    pub capacity: u32,
    pub paired_phones: usize,
    pub lockout: LockoutStatus,
    pub pairing_blocked_until: Option<DateTime<Utc>>,
    pub locked: bool,
    pub offline_codes_remembered: usize,
    pub last_event_seq: u64,
    /// Events up to this sequence number have been reported to the cloud (a
    /// Wi-Fi lock; 0 otherwise).
    pub cloud_reported_seq: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockoutStatus {
    /// Wrong entries since the last right one.
    pub failures: u32,
    /// Locked out until then, if now.
    pub until: Option<DateTime<Utc>>,
}

/// A handle on a running lock; clones share it.
#[derive(Clone)]
pub struct LockHandle {
    shared: Arc<Shared>,
}

/// The lock; `Lock::open` gives a [`LockHandle`].
pub type Lock = LockHandle;

struct Shared {
    lock_id: [u8; 16],
    setup_code: SetupCode,
    inner: Mutex<Inner>,
    /// Woken when events are logged (the cloud link reports them).
    logged: Notify,
}

impl std::fmt::Debug for LockHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockHandle")
            .field("lock_id", &hex::encode(&self.shared.lock_id))
            .finish_non_exhaustive()
    }
}

impl LockHandle {
    /// Opens the lock in `config.state_dir`, creating it on first start (a fresh
    /// lock id and offline secret).
    pub fn open(config: LockConfig) -> Result<LockHandle> {
        let (store, state) = Store::open(&config.state_dir)?;
        let state = match state {
            Some(state) => update_existing(state, &config)?,
            None => new_state(&config)?,
        };
        let setup_code = match config.setup_code.clone() {
            Some(code) => code,
            None => match store.read_secret_file(SETUP_CODE_FILE)? {
                Some(text) => SetupCode::parse(&text)?,
                None => {
                    let code = SetupCode::generate()?;
                    store.write_secret_file(SETUP_CODE_FILE, code.expose())?;
                    code
                }
            },
        };
        let mut inner = Inner::new(store, state)?;
        // Saved at once: a new lock's id and secret exist before anyone sees them.
        inner.commit(|_| ())?;
        Ok(LockHandle {
            shared: Arc::new(Shared {
                lock_id: inner.state.lock_id,
                setup_code,
                inner: Mutex::new(inner),
                logged: Notify::new(),
            }),
        })
    }

    pub fn id(&self) -> [u8; 16] {
        self.shared.lock_id
    }

    /// The lock id in hex, as mDNS announces it.
    pub fn id_hex(&self) -> String {
        hex::encode(&self.shared.lock_id)
    }

    /// The lock id as the cloud knows the lock.
    pub fn cloud_id(&self) -> LockId {
        LockId::from_bytes(self.shared.lock_id)
    }

    /// The setup code printed on the lock's label (a secret).
    pub fn setup_code(&self) -> &SetupCode {
        &self.shared.setup_code
    }

    pub fn state_dir(&self) -> PathBuf {
        self.inner().store.dir().to_owned()
    }

    /// What `GetInfo` answers.
    pub fn info(&self) -> LockInfo {
        self.inner().info()
    }

    pub fn status(&self) -> Status {
        self.inner().status()
    }

    /// The lock's clock.
    pub fn now(&self) -> DateTime<Utc> {
        to_datetime(self.inner().now_ms())
    }

    /// Someone typed `digits` and pressed Enter.
    pub fn enter(&self, digits: &str) -> Result<KeypadResult> {
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::BadEntry("digits only"));
        }
        if digits.len() > policy::MAX_ENTRY_DIGITS {
            return Err(Error::BadEntry("too many digits"));
        }
        let mut inner = self.inner();
        let before = inner.state.next_seq;
        let result = inner.enter(digits);
        self.logged_since(inner, before);
        result
    }

    /// Answers a request of the paired phone `phone`.
    pub fn request(&self, phone: [u8; 16], request: Request) -> Response {
        let mut inner = self.inner();
        let before = inner.state.next_seq;
        let response = inner.request(phone, request);
        self.logged_since(inner, before);
        response
    }

    /// Test hook of the reference lock (not a protocol feature): moves the clock
    /// forward by `by`, with no tolerance check.
    pub fn advance_clock(&self, by: Duration) -> Result<DateTime<Utc>> {
        let by = TimeDelta::from_std(by).map_err(|_| Error::Config("too far".to_owned()))?;
        self.shift_clock(by)
    }

    /// Test hook: moves the clock by `by` (either way), with no tolerance check.
    pub fn shift_clock(&self, by: TimeDelta) -> Result<DateTime<Utc>> {
        let mut inner = self.inner();
        let to = inner.now_ms().saturating_add(by.num_milliseconds());
        inner.force_clock(to)
    }

    /// Test hook: sets the clock, with no tolerance check.
    pub fn set_clock(&self, to: DateTime<Utc>) -> Result<DateTime<Utc>> {
        self.inner().force_clock(to.timestamp_millis())
    }

    /// Events with a sequence number above `after`, oldest first.
    pub fn events_after(&self, after: u64, limit: usize) -> Vec<wire::LockEvent> {
        self.inner().events_after(after, limit)
    }

    // Host side of the local protocol (see `serve`).

    /// Whether a phone may try to pair now; counts the attempt as failed until
    /// it succeeds, so cutting the power mid-attempt does not reset the count.
    pub fn pairing_requested(&self, phone: [u8; 16]) -> bool {
        let allowed = self.inner().pairing_requested(phone);
        match allowed {
            Ok(allowed) => allowed,
            Err(error) => {
                tracing::error!(%error, "refusing to pair: the attempt could not be counted");
                false
            }
        }
    }

    pub fn pairing_failed(&self, phone: [u8; 16]) {
        if let Err(error) = self.inner().pairing_failed(phone) {
            tracing::error!(%error, "a failed pairing could not be recorded");
        }
    }

    /// Keeps the key of a newly paired phone.
    pub fn paired(&self, phone: [u8; 16], key: &PairingKey) {
        if let Err(error) = self.inner().paired(phone, key) {
            tracing::error!(%error, "a pairing could not be saved; the phone will be refused");
        }
    }

    /// The key `phone` was paired with, if it was.
    pub fn key_of(&self, phone: [u8; 16]) -> Option<PairingKey> {
        let inner = self.inner();
        inner
            .state
            .phones
            .iter()
            .find(|p| p.id == phone)
            .map(|p| PairingKey(p.key))
    }

    pub(crate) fn inner(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves the last saved state in memory
        // (changes are applied only after they are saved).
        self.shared
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Wakes the cloud link if events were logged since `before` (a sequence
    /// number): reads (`GetInfo`, `ListCodes` ...) change nothing to report.
    fn logged_since(&self, inner: MutexGuard<'_, Inner>, before: u64) {
        let logged = inner.state.next_seq != before;
        drop(inner);
        if logged {
            self.shared.logged.notify_one();
        }
    }

    pub(crate) fn logged(&self) -> &Notify {
        &self.shared.logged
    }
}

fn new_state(config: &LockConfig) -> Result<State> {
    let mut lock_id = [0u8; 16];
    let mut offline_root = [0u8; 32];
    getrandom::fill(&mut lock_id).map_err(|e| Error::Randomness(e.to_string()))?;
    getrandom::fill(&mut offline_root).map_err(|e| Error::Randomness(e.to_string()))?;
    let (pin_digits_min, pin_digits_max) = config.pin_digits.unwrap_or((4, 8));
    let offline_digits = config.offline_digits.unwrap_or(offline::DEFAULT_DIGITS);
    let state = State {
        format: store::FORMAT,
        lock_id,
        name: validate_lock_name(config.name.as_deref().unwrap_or("Tessera lock"))
            .map_err(|e| Error::Config(e.to_string()))?,
        time_zone: config.time_zone.clone().unwrap_or_else(|| "UTC".to_owned()),
        offline_root,
        epoch: 0,
        offline_digits,
        pin_digits_min,
        pin_digits_max,
        capacity: config.capacity.unwrap_or(policy::DEFAULT_CAPACITY),
        offline_capacity: config
            .offline_capacity
            .unwrap_or(policy::DEFAULT_OFFLINE_CAPACITY),
        phones: Vec::new(),
        codes: Vec::new(),
        offline_used: Vec::new(),
        keypad: Backoff::default(),
        pairing: Backoff::default(),
        clock: ClockState::default(),
        locked: true,
        events: VecDeque::new(),
        next_seq: 1,
        cloud_cursor: 0,
        removed_by_owner: Vec::new(),
    };
    check_settings(&state)?;
    Ok(state)
}

fn update_existing(mut state: State, config: &LockConfig) -> Result<State> {
    if let Some(name) = &config.name {
        state.name = validate_lock_name(name).map_err(|e| Error::Config(e.to_string()))?;
    }
    if let Some(zone) = &config.time_zone {
        state.time_zone.clone_from(zone);
    }
    if let Some(capacity) = config.offline_capacity {
        state.offline_capacity = capacity;
    }
    check_settings(&state)?;
    Ok(state)
}

fn check_settings(state: &State) -> Result<()> {
    parse_time_zone(&state.time_zone).map_err(|e| Error::Config(e.to_string()))?;
    let (min, max) = (state.pin_digits_min, state.pin_digits_max);
    if min < 4 || min > max || usize::from(max) > usize::from(tessera_model::lock::MAX_PIN_DIGITS) {
        return Err(Error::Config(format!(
            "PIN lengths {min}-{max} are not within 4-12"
        )));
    }
    if !(10..=19).contains(&state.offline_digits) {
        return Err(Error::Config("offline codes have 10 to 19 digits".to_owned()));
    }
    if max >= state.offline_digits {
        return Err(Error::Config(
            "stored PINs must be shorter than offline codes (a keypad entry is one or the other)".to_owned(),
        ));
    }
    if !(1..=policy::MAX_CAPACITY).contains(&state.capacity) {
        return Err(Error::Config(format!(
            "capacity must be 1 to {}",
            policy::MAX_CAPACITY
        )));
    }
    if state.offline_capacity == 0 {
        return Err(Error::Config(
            "the offline table needs room for at least one code".to_owned(),
        ));
    }
    Ok(())
}

/// What the keypad found for an entry.
enum Found {
    Code(usize),
    Offline {
        header: Header,
        activate: bool,
        /// The entry's time in the lock's standard time.
        now_std: i64,
    },
    /// A valid offline code the lock has no room to remember.
    OfflineTableFull,
}

/// The offline verifier's key and its candidate cache.
struct OfflineVerifier {
    epoch: u32,
    key: OfflineKey,
    /// The candidate set and the hours it covers (it changes twice an hour, as
    /// the activation window's edges cross hour boundaries).
    cache: Option<((u32, u32), Candidates)>,
    /// PINs of remembered codes.
    pins: HashMap<Header, Zeroizing<String>>,
}

impl OfflineVerifier {
    fn new(state: &State) -> Self {
        OfflineVerifier {
            epoch: state.epoch,
            key: OfflineKey::derive(
                &state.offline_root,
                &state.lock_id,
                state.epoch,
                state.offline_digits,
            ),
            cache: None,
            pins: HashMap::new(),
        }
    }

    fn candidates(&mut self, now_std: i64) -> &Candidates {
        let span = (
            hour_of(now_std - i64::from(offline::ACTIVATION_HOURS) * 3_600 - TOLERANCE_SECONDS).unwrap_or(0),
            hour_of(now_std + TOLERANCE_SECONDS).unwrap_or(0),
        );
        let key = &self.key;
        let cached = self.cache.get_or_insert_with(|| (span, key.candidates(now_std)));
        if cached.0 != span {
            *cached = (span, key.candidates(now_std));
        }
        &cached.1
    }

    fn pin(&mut self, header: Header) -> &str {
        let key = &self.key;
        self.pins
            .entry(header)
            .or_insert_with(|| Zeroizing::new(key.pin(header)))
    }
}

pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) state: State,
    model: tessera_model::Lock,
    compiled: HashMap<[u8; 16], EffectiveSchedule>,
    offline: OfflineVerifier,
}

impl Inner {
    fn new(store: Store, state: State) -> Result<Self> {
        let model = model_lock(&state)?;
        let mut compiled = HashMap::new();
        for code in &state.codes {
            // A code whose schedule no longer compiles (a zone moved) stays
            // stored, and opens nothing.
            match compile(&code.schedule, &model, code.allow_widening) {
                Ok(effective) => {
                    compiled.insert(code.id, effective);
                }
                Err(reason) => {
                    tracing::warn!(code = %hex::encode(&code.id), %reason, "a stored code opens nothing")
                }
            }
        }
        let offline = OfflineVerifier::new(&state);
        Ok(Inner {
            store,
            state,
            model,
            compiled,
            offline,
        })
    }

    /// Applies `change` to a copy of the state, saves it, and only then makes
    /// it the lock's state. A change that cannot be saved is not made.
    pub(crate) fn commit<R>(&mut self, change: impl FnOnce(&mut State) -> R) -> Result<R> {
        let mut next = self.state.clone();
        let out = change(&mut next);
        let now = system_ms().saturating_add(next.clock.offset_ms);
        next.clock.high_water_ms = next.clock.high_water_ms.max(now);
        self.store.save(&next).map_err(Error::Persist)?;
        self.state = next;
        Ok(out)
    }

    pub(crate) fn now_ms(&self) -> i64 {
        system_ms().saturating_add(self.state.clock.offset_ms)
    }

    fn zone(&self) -> Tz {
        self.model.time_zone
    }

    /// The zone's offset without daylight saving, now.
    fn standard_offset(&self, now_ms: i64) -> i32 {
        tessera_model::schedule::standard_offset_seconds(self.zone(), to_datetime(now_ms))
    }

    fn info(&self) -> LockInfo {
        let state = &self.state;
        LockInfo {
            lock_id: state.lock_id,
            name: state.name.clone(),
            time_zone: state.time_zone.clone(),
            clock_unix_ms: self.now_ms(),
            epoch: state.epoch,
            codes: u32::try_from(state.codes.len()).unwrap_or(u32::MAX),
            capacity: state.capacity,
            pin_digits_min: state.pin_digits_min,
            pin_digits_max: state.pin_digits_max,
            offline_digits: state.offline_digits,
            locked: state.locked,
        }
    }

    fn status(&self) -> Status {
        let state = &self.state;
        let now = self.now_ms();
        Status {
            id: hex::encode(&state.lock_id),
            cloud_id: LockId::from_bytes(state.lock_id).to_string(),
            name: state.name.clone(),
            zone: state.time_zone.clone(),
            clock: to_datetime(now),
            epoch: state.epoch,
            codes: state.codes.len(),
            capacity: state.capacity,
            paired_phones: state.phones.len(),
            lockout: LockoutStatus {
                failures: state.keypad.failures,
                until: state
                    .keypad
                    .until_ms
                    .filter(|until| *until > now)
                    .map(to_datetime),
            },
            pairing_blocked_until: state
                .pairing
                .until_ms
                .filter(|until| *until > now)
                .map(to_datetime),
            locked: state.locked,
            offline_codes_remembered: state.offline_used.len(),
            last_event_seq: state.next_seq.saturating_sub(1),
            cloud_reported_seq: state.cloud_cursor,
        }
    }

    pub(crate) fn events_after(&self, after: u64, limit: usize) -> Vec<wire::LockEvent> {
        self.state
            .events
            .iter()
            .filter(|event| event.seq > after)
            .take(limit)
            .cloned()
            .collect()
    }

    // The keypad.

    fn enter(&mut self, digits: &str) -> Result<KeypadResult> {
        let now = self.now_ms();
        if let Some(until) = self.state.keypad.until_ms.filter(|until| *until > now) {
            self.commit(|s| log(s, now, EventKind::EntryRefused))?;
            return Ok(KeypadResult::LockedOut {
                until: to_datetime(until),
            });
        }
        // The attempt counts as wrong until it is found right: cutting the power
        // while the lock checks it gains an attacker nothing.
        self.commit(|s| {
            s.keypad.failures = s.keypad.failures.saturating_add(1);
            s.keypad.until_ms = None;
        })?;
        match self.find(digits, now) {
            Some(Found::Code(index)) => {
                let at = to_datetime(now);
                let id = self.commit(|s| {
                    let code = &mut s.codes[index];
                    code.usage.uses = code.usage.uses.saturating_add(1);
                    code.usage.first_used_at.get_or_insert(at);
                    let id = code.id;
                    s.keypad = Backoff::default();
                    log(s, now, EventKind::CodeUsed { id });
                    id
                })?;
                Ok(KeypadResult::Open { by: Opener::Code(id) })
            }
            Some(Found::Offline {
                header,
                activate,
                now_std,
            }) => {
                self.commit(|s| {
                    if activate {
                        s.offline_used.retain(|used| used.keep_until_std >= now_std);
                        s.offline_used.push(UsedOffline {
                            header,
                            first_use_ms: now,
                            keep_until_std: header.end() + 2 * TOLERANCE_SECONDS,
                        });
                    }
                    s.keypad = Backoff::default();
                    log(
                        s,
                        now,
                        EventKind::OfflineCodeUsed {
                            start_hour: header.start_hour,
                            class: header.class.code(),
                            slot: header.slot,
                        },
                    );
                })?;
                Ok(KeypadResult::Open {
                    by: Opener::Offline {
                        start_hour: header.start_hour,
                        class: header.class.code(),
                        slot: header.slot,
                    },
                })
            }
            found @ (Some(Found::OfflineTableFull) | None) => {
                if matches!(found, Some(Found::OfflineTableFull)) {
                    tracing::warn!("an offline code was refused: the table of used offline codes is full");
                }
                let until = self.commit(|s| {
                    log(s, now, EventKind::EntryRefused);
                    if s.keypad.failures < policy::KEYPAD_FREE_TRIES {
                        return None;
                    }
                    let lockout = doubling(
                        policy::KEYPAD_FIRST_LOCKOUT,
                        s.keypad.level,
                        policy::KEYPAD_MAX_LOCKOUT,
                    );
                    let until = now.saturating_add(millis(lockout));
                    s.keypad.level = s.keypad.level.saturating_add(1);
                    s.keypad.until_ms = Some(until);
                    log(s, now, EventKind::LockedOut { until_unix_ms: until });
                    Some(until)
                })?;
                Ok(match until {
                    Some(until) => KeypadResult::LockedOut {
                        until: to_datetime(until),
                    },
                    None => KeypadResult::Refused,
                })
            }
        }
    }

    /// Checks an entry: stored codes (schedule, uses), offline codes already in
    /// use, then offline codes whose first use this would be.
    fn find(&mut self, digits: &str, now: i64) -> Option<Found> {
        let at = to_datetime(now);
        for (index, code) in self.state.codes.iter().enumerate() {
            let same =
                code.pin.len() == digits.len() && bool::from(code.pin.as_bytes().ct_eq(digits.as_bytes()));
            if same
                && self
                    .compiled
                    .get(&code.id)
                    .is_some_and(|schedule| schedule.admits(at, &code.usage, code.max_uses))
            {
                return Some(Found::Code(index));
            }
        }
        if digits.len() != usize::from(self.state.offline_digits) {
            return None;
        }
        if self.offline.epoch != self.state.epoch {
            self.offline = OfflineVerifier::new(&self.state);
        }
        let now_std = standard_time(now.div_euclid(1_000), self.standard_offset(now));
        for used in &self.state.offline_used {
            let header = used.header;
            if header.class == OfflineClass::OneTime {
                continue;
            }
            let pin = self.offline.pin(header);
            if bool::from(pin.as_bytes().ct_eq(digits.as_bytes()))
                && header.class.grants_at(header.start(), now_std, TOLERANCE_SECONDS)
            {
                return Some(Found::Offline {
                    header,
                    activate: false,
                    now_std,
                });
            }
        }
        let remembered = self
            .state
            .offline_used
            .iter()
            .filter(|used| used.keep_until_std >= now_std)
            .count();
        let full = remembered >= usize::try_from(self.state.offline_capacity).unwrap_or(usize::MAX);
        let used = &self.state.offline_used;
        let header = self
            .offline
            .candidates(now_std)
            .matching(digits, now_std)
            // A used one-time code, or one in use that grants nothing now.
            .find(|header| !used.iter().any(|u| u.header == *header))?;
        Some(if full {
            Found::OfflineTableFull
        } else {
            Found::Offline {
                header,
                activate: true,
                now_std,
            }
        })
    }

    // Pairing.

    fn pairing_requested(&mut self, phone: [u8; 16]) -> Result<bool> {
        let now = self.now_ms();
        if self.state.pairing.until_ms.is_some_and(|until| until > now) {
            return Ok(false);
        }
        let known = self.state.phones.iter().any(|p| p.id == phone);
        if !known && self.state.phones.len() >= policy::MAX_PHONES {
            tracing::warn!(
                "pairing refused: {} phones are paired already",
                policy::MAX_PHONES
            );
            return Ok(false);
        }
        if self.state.pairing.failures >= policy::PAIRING_FREE_TRIES {
            // Attempts abandoned half-way count too.
            self.commit(|s| block_pairing(s, now))?;
            return Ok(false);
        }
        self.commit(|s| s.pairing.failures = s.pairing.failures.saturating_add(1))?;
        Ok(true)
    }

    fn pairing_failed(&mut self, phone: [u8; 16]) -> Result<()> {
        let now = self.now_ms();
        tracing::info!(phone = %hex::encode(&phone), "pairing failed: wrong setup code");
        self.commit(|s| {
            log(s, now, EventKind::PairingFailed);
            if s.pairing.failures >= policy::PAIRING_FREE_TRIES {
                block_pairing(s, now);
            }
        })
    }

    fn paired(&mut self, phone: [u8; 16], key: &PairingKey) -> Result<()> {
        let now = self.now_ms();
        tracing::info!(phone = %hex::encode(&phone), "paired");
        self.commit(|s| {
            s.pairing = Backoff::default();
            s.phones.retain(|p| p.id != phone);
            s.phones.push(Phone {
                id: phone,
                key: key.0,
                paired_at_ms: now,
            });
            log(s, now, EventKind::Paired { phone });
        })
    }

    // Requests.

    fn request(&mut self, phone: [u8; 16], request: Request) -> Response {
        let now = self.now_ms();
        let outcome = match request {
            Request::GetInfo => Ok(Response::Info(self.info())),
            Request::SetCode(code) => self.set_code(&code, false, Origin::Local, now),
            Request::RemoveCode { id } => self.owner_removes_code(id, now),
            Request::ListCodes => Ok(Response::Codes(
                self.state.codes.iter().map(StoredCode::wire).collect(),
            )),
            Request::ReadEvents { after, limit } => Ok(Response::Events(
                self.events_after(after, usize::from(limit).min(policy::MAX_EVENTS_PER_READ)),
            )),
            Request::SetClock { unix_ms } => self.owner_sets_clock(unix_ms, now),
            Request::RotateEpoch => self.rotate_epoch(now),
            Request::GetOfflineSecret => Ok(Response::OfflineSecret(OfflineSecret {
                root: self.state.offline_root,
                epoch: self.state.epoch,
                digits: self.state.offline_digits,
                standard_offset_seconds: self.standard_offset(now),
            })),
            Request::Lock => self
                .commit(|s| {
                    s.locked = true;
                    log(s, now, EventKind::Locked);
                })
                .map(|()| Response::Done),
            Request::Unlock => self
                .commit(|s| {
                    s.locked = false;
                    log(s, now, EventKind::Unlocked);
                })
                .map(|()| Response::Done),
        };
        outcome.unwrap_or_else(|error| {
            tracing::error!(phone = %hex::encode(&phone), %error, "a request failed");
            Response::Refused(Refusal::Invalid {
                reason: "the lock could not save the change; nothing changed".to_owned(),
            })
        })
    }

    /// Admits and stores a code (or replaces the one with its id, keeping how
    /// it has been used).
    pub(crate) fn set_code(
        &mut self,
        code: &LockCode,
        allow_widening: bool,
        origin: Origin,
        now: i64,
    ) -> Result<Response> {
        let effective = match self.admit(code, allow_widening, now) {
            Ok(effective) => effective,
            Err(refusal) => return Ok(Response::Refused(refusal)),
        };
        let at = to_datetime(now);
        // Full of codes that can never open again (ended, or used up): those make room.
        let full = self.state.codes.len() >= usize::try_from(self.state.capacity).unwrap_or(usize::MAX);
        let ended: Vec<[u8; 16]> = if full {
            self.state
                .codes
                .iter()
                .filter(|c| c.id != code.id)
                .filter(|c| {
                    self.compiled
                        .get(&c.id)
                        .is_none_or(|e| e.is_spent(at, &c.usage, c.max_uses))
                })
                .map(|c| c.id)
                .collect()
        } else {
            Vec::new()
        };
        self.commit(|s| {
            let stored = StoredCode {
                id: code.id,
                pin: code.pin.clone(),
                schedule: code.schedule.clone(),
                max_uses: code.max_uses,
                allow_widening,
                origin,
                usage: Default::default(),
            };
            match s.codes.iter_mut().find(|c| c.id == code.id) {
                Some(existing) => {
                    let usage = existing.usage;
                    *existing = stored;
                    existing.usage = usage;
                }
                None => {
                    s.codes.retain(|c| !ended.contains(&c.id));
                    for id in &ended {
                        log(s, now, EventKind::CodeRemoved { id: *id });
                    }
                    s.codes.push(stored);
                }
            }
            if origin == Origin::Local {
                s.removed_by_owner.retain(|removed| removed.id != code.id);
            }
            log(s, now, EventKind::CodeSet { id: code.id });
        })?;
        let held: Vec<[u8; 16]> = self.state.codes.iter().map(|c| c.id).collect();
        self.compiled.retain(|id, _| held.contains(id));
        self.compiled.insert(code.id, effective);
        Ok(Response::Done)
    }

    /// The checks a code must pass on this lock: a PIN of the keypad's lengths,
    /// not weak, clashing with no code that can be active at the same time; a
    /// schedule that compiles for the lock and has not ended; room.
    fn admit(
        &self,
        code: &LockCode,
        allow_widening: bool,
        now: i64,
    ) -> std::result::Result<EffectiveSchedule, Refusal> {
        let invalid = |reason: String| Refusal::Invalid { reason };
        let (min, max) = (self.state.pin_digits_min, self.state.pin_digits_max);
        if !code.pin.bytes().all(|b| b.is_ascii_digit())
            || !(usize::from(min)..=usize::from(max)).contains(&code.pin.len())
        {
            return Err(invalid(format!("the PIN must be {min} to {max} digits")));
        }
        let pin = Pin::parse(&code.pin).map_err(|e| invalid(e.to_string()))?;
        validate_max_uses(code.max_uses).map_err(|_| invalid(format!("max uses must be 1 to {MAX_USES}")))?;
        let schedule = from_wire(&code.schedule).map_err(|e| invalid(format!("invalid schedule: {e}")))?;
        let effective = EffectiveSchedule::compile(&schedule, &self.model, CompileOptions { allow_widening })
            .map_err(|e| invalid(e.to_string()))?;
        let at = to_datetime(now);
        if effective.has_ended_by(at) {
            return Err(invalid("the schedule has already ended".to_owned()));
        }
        let live: Vec<(&StoredCode, &EffectiveSchedule)> = self
            .state
            .codes
            .iter()
            .filter(|other| other.id != code.id)
            .filter_map(|other| Some((other, self.compiled.get(&other.id)?)))
            .filter(|(other, schedule)| !schedule.is_spent(at, &other.usage, other.max_uses))
            .collect();
        if live.len() >= usize::try_from(self.state.capacity).unwrap_or(usize::MAX) {
            return Err(Refusal::Full {
                capacity: self.state.capacity,
            });
        }
        let taken: Vec<(CodeId, Pin)> = live
            .iter()
            .filter(|(_, schedule)| schedule.may_overlap(&effective))
            .filter_map(|(other, _)| Some((CodeId::from_bytes(other.id), Pin::parse(&other.pin).ok()?)))
            .collect();
        let rules = PinRules::new(
            &self.model.capabilities,
            taken.iter().map(|(code, pin)| TakenPin { code: *code, pin }),
        );
        rules.check(&pin).map_err(|error| match error {
            tessera_model::Error::PinConflict { other_code } => Refusal::Duplicate {
                other: *other_code.as_bytes(),
            },
            other => invalid(other.to_string()),
        })?;
        Ok(effective)
    }

    /// A paired phone removes a code: also remembered, so that a cloud which has not
    /// heard of the revoke yet cannot put the code back on a Wi-Fi lock.
    fn owner_removes_code(&mut self, id: [u8; 16], now: i64) -> Result<Response> {
        let response = self.remove_code(id, now)?;
        if response == Response::Done && !self.state.removed_by_owner.iter().any(|removed| removed.id == id) {
            self.commit(|s| s.removed_by_owner.push(RemovedCode { id }))?;
        }
        Ok(response)
    }

    pub(crate) fn remove_code(&mut self, id: [u8; 16], now: i64) -> Result<Response> {
        if !self.state.codes.iter().any(|c| c.id == id) {
            return Ok(Response::Refused(Refusal::NotFound));
        }
        self.commit(|s| {
            s.codes.retain(|c| c.id != id);
            log(s, now, EventKind::CodeRemoved { id });
        })?;
        self.compiled.remove(&id);
        Ok(Response::Done)
    }

    /// The owner's clock: never more than the tolerance behind the latest time
    /// the lock has seen.
    fn owner_sets_clock(&mut self, unix_ms: i64, now: i64) -> Result<Response> {
        // A time past year 9999 (a phone sending microseconds, say) could never
        // be undone: the clock does not go back. Refused before it sticks.
        if unix_ms > LATEST_CLOCK_MS {
            return Ok(Response::Refused(Refusal::Invalid {
                reason: "the time is past 9999-12-31, beyond what the lock keeps".to_owned(),
            }));
        }
        let latest = now.max(self.state.clock.high_water_ms);
        if unix_ms < latest.saturating_sub(TOLERANCE_SECONDS * 1_000) {
            return Ok(Response::Refused(Refusal::ClockRefused { lock_unix_ms: now }));
        }
        self.commit(|s| {
            s.clock.offset_ms = unix_ms.saturating_sub(system_ms());
            log(
                s,
                unix_ms,
                EventKind::ClockSet {
                    from_unix_ms: now,
                    to_unix_ms: unix_ms,
                },
            );
        })?;
        Ok(Response::Done)
    }

    /// The test hook: any time, either way.
    fn force_clock(&mut self, to: i64) -> Result<DateTime<Utc>> {
        let from = self.now_ms();
        self.commit(|s| {
            s.clock.offset_ms = to.saturating_sub(system_ms());
            s.clock.high_water_ms = to;
            log(
                s,
                to,
                EventKind::ClockSet {
                    from_unix_ms: from,
                    to_unix_ms: to,
                },
            );
        })?;
        Ok(to_datetime(to))
    }

    fn rotate_epoch(&mut self, now: i64) -> Result<Response> {
        let epoch = self.state.epoch.saturating_add(1);
        self.commit(|s| {
            s.epoch = epoch;
            // Every code of the earlier epoch stops working, those in use too.
            s.offline_used.clear();
            log(s, now, EventKind::EpochRotated { epoch });
        })?;
        self.offline = OfflineVerifier::new(&self.state);
        Ok(Response::Done)
    }
}

fn block_pairing(state: &mut State, now: i64) {
    let block = doubling(
        policy::PAIRING_FIRST_BLOCK,
        state.pairing.level,
        policy::PAIRING_MAX_BLOCK,
    );
    state.pairing.until_ms = Some(now.saturating_add(millis(block)));
    state.pairing.level = state.pairing.level.saturating_add(1);
    state.pairing.failures = 0;
}

/// Appends to the event log, dropping the oldest beyond its length.
pub(crate) fn log(state: &mut State, at_ms: i64, kind: EventKind) {
    let seq = state.next_seq;
    state.next_seq = seq.saturating_add(1);
    state.events.push_back(wire::LockEvent {
        seq,
        at_unix_ms: at_ms,
        kind,
    });
    while state.events.len() > policy::EVENT_LOG_LEN {
        state.events.pop_front();
    }
}

fn model_lock(state: &State) -> Result<tessera_model::Lock> {
    Ok(tessera_model::Lock {
        id: LockId::from_bytes(state.lock_id),
        name: state.name.clone(),
        time_zone: parse_time_zone(&state.time_zone).map_err(|e| Error::Config(e.to_string()))?,
        capabilities: LockCapabilities {
            pin_lengths: PinLengths {
                min: state.pin_digits_min,
                max: state.pin_digits_max,
            },
            constraints: Vec::new(),
            keypad: Keypad::OneDigitPerButton,
            max_codes: state.capacity,
            schedule_kinds: ScheduleKind::ALL.to_vec(),
            granularity: Granularity::Minute,
            offline_codes: true,
        },
    })
}

fn compile(
    schedule: &WireSchedule,
    lock: &tessera_model::Lock,
    allow_widening: bool,
) -> std::result::Result<EffectiveSchedule, String> {
    let schedule = from_wire(schedule).map_err(|e| e.to_string())?;
    EffectiveSchedule::compile(&schedule, lock, CompileOptions { allow_widening }).map_err(|e| e.to_string())
}

pub(crate) fn system_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
}

pub(crate) fn to_datetime(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(if ms < 0 {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    })
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
