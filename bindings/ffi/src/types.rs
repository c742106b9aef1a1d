//! Records and enums of the surface, and their conversions to and from the core's
//! types. Ids are UUIDs (`java.util.UUID`, Foundation `UUID`, `str` in Python);
//! instants are native timestamps (`java.time.Instant`, `Date`, `datetime`);
//! schedules are stated in the lock's wall-clock time as plain date/time records.

use std::time::{Duration, SystemTime};

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use tessera_core::model::{self, lock::PinLengths, schedule};
use tessera_core::{CodeRecord, CodeSync as CoreCodeSync};
use uuid::Uuid;

use crate::TesseraError;

/// An instant, as the platform's native time type.
pub type Timestamp = DateTime<Utc>;

uniffi::custom_type!(Uuid, String, {
    remote,
    lower: |id| id.to_string(),
    try_lift: |text| Uuid::parse_str(&text)
        .map_err(|_| TesseraError::input("id", format!("{:?} is not a UUID", model::excerpt(&text))).into()),
});

uniffi::custom_type!(Timestamp, SystemTime, {
    remote,
    lower: |at| to_system_time(at),
    try_lift: |at| from_system_time(at).map_err(Into::into),
});

fn to_system_time(at: Timestamp) -> SystemTime {
    let since = at.signed_duration_since(DateTime::UNIX_EPOCH);
    match since.to_std() {
        Ok(after) => SystemTime::UNIX_EPOCH + after,
        Err(_) => SystemTime::UNIX_EPOCH - (-since).to_std().unwrap_or_default(),
    }
}

/// Instants Tessera accepts: the years a schedule may name.
fn from_system_time(at: SystemTime) -> Result<Timestamp, TesseraError> {
    let (seconds, nanos) = match at.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(after) => (i64::try_from(after.as_secs()).ok(), after.subsec_nanos()),
        Err(before) => {
            let before: Duration = before.duration();
            (
                i64::try_from(before.as_secs()).ok().map(|s| -s),
                before.subsec_nanos(),
            )
        }
    };
    seconds
        .and_then(|seconds| DateTime::from_timestamp(seconds, nanos))
        .filter(|at| schedule::YEARS.contains(&at.year()))
        .ok_or_else(|| {
            TesseraError::input(
                "instant",
                format!(
                    "outside the years {}-{}",
                    schedule::YEARS.start(),
                    schedule::YEARS.end()
                ),
            )
        })
}

/// A date on the lock's calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct LocalDate {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

/// A time of day on the lock's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct LocalTime {
    pub hour: u8,
    pub minute: u8,
}

/// A wall-clock time in the lock's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct LocalDateTime {
    pub year: i32,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
}

impl TryFrom<LocalDate> for NaiveDate {
    type Error = TesseraError;

    fn try_from(d: LocalDate) -> Result<Self, TesseraError> {
        NaiveDate::from_ymd_opt(d.year, d.month.into(), d.day.into()).ok_or_else(|| {
            TesseraError::input("date", format!("{}-{}-{} is not a date", d.year, d.month, d.day))
        })
    }
}

impl TryFrom<LocalTime> for NaiveTime {
    type Error = TesseraError;

    fn try_from(t: LocalTime) -> Result<Self, TesseraError> {
        NaiveTime::from_hms_opt(t.hour.into(), t.minute.into(), 0).ok_or_else(|| {
            TesseraError::input("time", format!("{}:{} is not a time of day", t.hour, t.minute))
        })
    }
}

impl TryFrom<LocalDateTime> for NaiveDateTime {
    type Error = TesseraError;

    fn try_from(t: LocalDateTime) -> Result<Self, TesseraError> {
        let date = NaiveDate::try_from(LocalDate {
            year: t.year,
            month: t.month,
            day: t.day,
        })?;
        let time = NaiveTime::try_from(LocalTime {
            hour: t.hour,
            minute: t.minute,
        })?;
        Ok(date.and_time(time))
    }
}

fn small(value: u32) -> u8 {
    u8::try_from(value).unwrap_or(u8::MAX)
}

impl From<NaiveDate> for LocalDate {
    fn from(d: NaiveDate) -> Self {
        LocalDate {
            year: d.year(),
            month: small(d.month()),
            day: small(d.day()),
        }
    }
}

impl From<NaiveTime> for LocalTime {
    fn from(t: NaiveTime) -> Self {
        LocalTime {
            hour: small(t.hour()),
            minute: small(t.minute()),
        }
    }
}

impl From<NaiveDateTime> for LocalDateTime {
    fn from(t: NaiveDateTime) -> Self {
        LocalDateTime {
            year: t.year(),
            month: small(t.month()),
            day: small(t.day()),
            hour: small(t.hour()),
            minute: small(t.minute()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl From<Weekday> for chrono::Weekday {
    fn from(day: Weekday) -> Self {
        match day {
            Weekday::Monday => chrono::Weekday::Mon,
            Weekday::Tuesday => chrono::Weekday::Tue,
            Weekday::Wednesday => chrono::Weekday::Wed,
            Weekday::Thursday => chrono::Weekday::Thu,
            Weekday::Friday => chrono::Weekday::Fri,
            Weekday::Saturday => chrono::Weekday::Sat,
            Weekday::Sunday => chrono::Weekday::Sun,
        }
    }
}

impl From<chrono::Weekday> for Weekday {
    fn from(day: chrono::Weekday) -> Self {
        match day {
            chrono::Weekday::Mon => Weekday::Monday,
            chrono::Weekday::Tue => Weekday::Tuesday,
            chrono::Weekday::Wed => Weekday::Wednesday,
            chrono::Weekday::Thu => Weekday::Thursday,
            chrono::Weekday::Fri => Weekday::Friday,
            chrono::Weekday::Sat => Weekday::Saturday,
            chrono::Weekday::Sun => Weekday::Sunday,
        }
    }
}

/// When a code opens the door, in the lock's wall-clock time.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Schedule {
    Permanent,
    Window {
        start: LocalDateTime,
        end: LocalDateTime,
    },
    OneTime {
        start: LocalDateTime,
        end: LocalDateTime,
    },
    /// An `end_time` at or before `start_time` ends the next day; equal times mean 24 hours.
    Weekly {
        days: Vec<Weekday>,
        start_time: LocalTime,
        end_time: LocalTime,
        first_date: LocalDate,
        last_date: LocalDate,
    },
    ExpiringAfterFirstUse {
        minutes: u32,
        start: LocalDateTime,
        end: LocalDateTime,
    },
}

impl TryFrom<Schedule> for model::Schedule {
    type Error = TesseraError;

    fn try_from(schedule: Schedule) -> Result<Self, TesseraError> {
        Ok(match schedule {
            Schedule::Permanent => model::Schedule::Permanent,
            Schedule::Window { start, end } => model::Schedule::Window {
                start: start.try_into()?,
                end: end.try_into()?,
            },
            Schedule::OneTime { start, end } => model::Schedule::OneTime {
                start: start.try_into()?,
                end: end.try_into()?,
            },
            Schedule::Weekly {
                days,
                start_time,
                end_time,
                first_date,
                last_date,
            } => model::Schedule::Weekly {
                days: days.into_iter().map(chrono::Weekday::from).collect(),
                start_time: start_time.try_into()?,
                end_time: end_time.try_into()?,
                first_date: first_date.try_into()?,
                last_date: last_date.try_into()?,
            },
            Schedule::ExpiringAfterFirstUse { minutes, start, end } => {
                model::Schedule::ExpiringAfterFirstUse {
                    minutes,
                    start: start.try_into()?,
                    end: end.try_into()?,
                }
            }
        })
    }
}

impl From<&model::Schedule> for Schedule {
    fn from(schedule: &model::Schedule) -> Self {
        match schedule {
            model::Schedule::Permanent => Schedule::Permanent,
            model::Schedule::Window { start, end } => Schedule::Window {
                start: (*start).into(),
                end: (*end).into(),
            },
            model::Schedule::OneTime { start, end } => Schedule::OneTime {
                start: (*start).into(),
                end: (*end).into(),
            },
            model::Schedule::Weekly {
                days,
                start_time,
                end_time,
                first_date,
                last_date,
            } => Schedule::Weekly {
                days: days.iter().map(Weekday::from).collect(),
                start_time: (*start_time).into(),
                end_time: (*end_time).into(),
                first_date: (*first_date).into(),
                last_date: (*last_date).into(),
            },
            model::Schedule::ExpiringAfterFirstUse { minutes, start, end } => {
                Schedule::ExpiringAfterFirstUse {
                    minutes: *minutes,
                    start: (*start).into(),
                    end: (*end).into(),
                }
            }
        }
    }
}

macro_rules! mirror_enum {
    ($(#[$doc:meta])* $name:ident = $remote:path { $($variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
        pub enum $name { $($variant),+ }

        impl From<$remote> for $name {
            fn from(value: $remote) -> Self {
                match value { $(<$remote>::$variant => $name::$variant),+ }
            }
        }

        impl From<$name> for $remote {
            fn from(value: $name) -> Self {
                match value { $($name::$variant => <$remote>::$variant),+ }
            }
        }
    };
}

mirror_enum!(
    ScheduleKind = model::ScheduleKind {
        Permanent,
        Window,
        OneTime,
        Weekly,
        ExpiringAfterFirstUse
    }
);
mirror_enum!(
    /// Time resolution of a lock's schedules.
    Granularity = model::Granularity { Minute, Hour, Day }
);
mirror_enum!(
    /// How digits map to buttons; on five-button keypads `1357` and `2468` are the same presses.
    Keypad = model::Keypad { OneDigitPerButton, TwoDigitsPerButton }
);
mirror_enum!(
    WeakPinRule = model::WeakPinRule {
        SameDigit,
        Sequence,
        RepeatedBlock,
        Year,
        Date,
        KeypadPattern,
        CommonPin
    }
);
mirror_enum!(CodeStatus = model::CodeStatus { Active, Revoked });
mirror_enum!(
    /// What an offline code grants once its first use activates it: `OneTime` one
    /// entry within 6 hours of the start; `Hour1` to `Weeks2` that long from the
    /// start; `Daily4HoursFor7Days` and `Daily8HoursFor30Days` every day from the
    /// start hour; `Weekdays10HoursFor4Weeks` Monday to Friday from the start hour;
    /// `WeekendsFor4Weeks` Saturdays and Sundays all day.
    OfflineClass = tessera_core::offline::OfflineClass {
        OneTime,
        Hour1,
        Hours2,
        Hours4,
        Hours8,
        Hours12,
        Day1,
        Days2,
        Days3,
        Week1,
        Weeks2,
        Daily4HoursFor7Days,
        Daily8HoursFor30Days,
        Weekdays10HoursFor4Weeks,
        WeekendsFor4Weeks
    }
);

/// A rule of the lock's firmware about which PINs it accepts.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum PinConstraint {
    NoZeros,
    CannotStartWith { prefix: String },
    NoSequentialRun { length: u8 },
    NoTripleRepeat,
    MinDistinctDigits { count: u8 },
}

impl From<model::PinConstraint> for PinConstraint {
    fn from(constraint: model::PinConstraint) -> Self {
        use model::PinConstraint as C;
        match constraint {
            C::NoZeros => PinConstraint::NoZeros,
            C::CannotStartWith { prefix } => PinConstraint::CannotStartWith { prefix },
            C::NoSequentialRun { length } => PinConstraint::NoSequentialRun { length },
            C::NoTripleRepeat => PinConstraint::NoTripleRepeat,
            C::MinDistinctDigits { count } => PinConstraint::MinDistinctDigits { count },
        }
    }
}

impl From<PinConstraint> for model::PinConstraint {
    fn from(constraint: PinConstraint) -> Self {
        use model::PinConstraint as C;
        match constraint {
            PinConstraint::NoZeros => C::NoZeros,
            PinConstraint::CannotStartWith { prefix } => C::CannotStartWith { prefix },
            PinConstraint::NoSequentialRun { length } => C::NoSequentialRun { length },
            PinConstraint::NoTripleRepeat => C::NoTripleRepeat,
            PinConstraint::MinDistinctDigits { count } => C::MinDistinctDigits { count },
        }
    }
}

/// What a lock's hardware can hold.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LockCapabilities {
    pub min_pin_length: u8,
    pub max_pin_length: u8,
    pub constraints: Vec<PinConstraint>,
    pub keypad: Keypad,
    pub max_codes: u32,
    pub schedule_kinds: Vec<ScheduleKind>,
    pub granularity: Granularity,
    pub offline_codes: bool,
}

impl From<model::LockCapabilities> for LockCapabilities {
    fn from(caps: model::LockCapabilities) -> Self {
        LockCapabilities {
            min_pin_length: caps.pin_lengths.min,
            max_pin_length: caps.pin_lengths.max,
            constraints: caps.constraints.into_iter().map(Into::into).collect(),
            keypad: caps.keypad.into(),
            max_codes: caps.max_codes,
            schedule_kinds: caps.schedule_kinds.into_iter().map(Into::into).collect(),
            granularity: caps.granularity.into(),
            offline_codes: caps.offline_codes,
        }
    }
}

impl From<LockCapabilities> for model::LockCapabilities {
    fn from(caps: LockCapabilities) -> Self {
        model::LockCapabilities {
            pin_lengths: PinLengths {
                min: caps.min_pin_length,
                max: caps.max_pin_length,
            },
            constraints: caps.constraints.into_iter().map(Into::into).collect(),
            keypad: caps.keypad.into(),
            max_codes: caps.max_codes,
            schedule_kinds: caps.schedule_kinds.into_iter().map(Into::into).collect(),
            granularity: caps.granularity.into(),
            offline_codes: caps.offline_codes,
        }
    }
}

/// What most locks can hold: 4-8 digits, 250 codes, every kind, minute precision.
#[uniffi::export]
pub fn default_lock_capabilities() -> LockCapabilities {
    model::LockCapabilities::default().into()
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Lock {
    pub id: Uuid,
    pub name: String,
    /// IANA zone, e.g. `Europe/Berlin`: every schedule is in its wall-clock time.
    pub time_zone: String,
    pub capabilities: LockCapabilities,
}

impl From<model::Lock> for Lock {
    fn from(lock: model::Lock) -> Self {
        Lock {
            id: *lock.id.as_uuid(),
            name: lock.name,
            time_zone: lock.time_zone.name().to_owned(),
            capabilities: lock.capabilities.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewLock {
    pub name: String,
    pub time_zone: String,
    pub capabilities: LockCapabilities,
}

/// How a code's PIN is chosen.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum PinChoice {
    /// Drawn at random from every PIN the lock allows; `None`: the lock's default length.
    Generate { length: Option<u8> },
    /// The owner's own digits, checked by the same rules.
    Chosen { digits: String },
}

impl TryFrom<PinChoice> for model::PinRequest {
    type Error = TesseraError;

    fn try_from(choice: PinChoice) -> Result<Self, TesseraError> {
        Ok(match choice {
            PinChoice::Generate { length } => model::PinRequest::Generate { length },
            PinChoice::Chosen { digits } => model::PinRequest::Chosen(model::Pin::parse(&digits)?),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CodeRequest {
    /// Who or what the code is for.
    pub label: String,
    pub schedule: Schedule,
    pub pin: PinChoice,
    #[uniffi(default = None)]
    pub max_uses: Option<u32>,
    /// Let rounding to the lock's granularity grant more time than asked for.
    #[uniffi(default = false)]
    pub allow_widening: bool,
}

/// Changes to a code; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct CodeChanges {
    #[uniffi(default = None)]
    pub label: Option<String>,
    #[uniffi(default = None)]
    pub pin: Option<PinChoice>,
    #[uniffi(default = None)]
    pub schedule: Option<Schedule>,
    #[uniffi(default = None)]
    pub allow_widening: Option<bool>,
    #[uniffi(default = None)]
    pub max_uses: Option<u32>,
    /// Removes the limit on uses (wins over `max_uses`).
    #[uniffi(default = false)]
    pub remove_max_uses: bool,
}

/// Where a code stands on its way to the lock.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum CodeSync {
    /// Changed on this device; the cloud has not confirmed it.
    Pending,
    /// The cloud has it; the lock has not confirmed it yet.
    Synced,
    /// The lock confirmed it holds the code.
    SetOnLock { at: Timestamp },
    /// The cloud refused the last change.
    Failed { reason: String },
}

impl From<CoreCodeSync> for CodeSync {
    fn from(sync: CoreCodeSync) -> Self {
        match sync {
            CoreCodeSync::Pending => CodeSync::Pending,
            CoreCodeSync::Synced => CodeSync::Synced,
            CoreCodeSync::SetOnLock { at } => CodeSync::SetOnLock { at },
            CoreCodeSync::Failed { reason } => CodeSync::Failed { reason },
        }
    }
}

/// An access code. Its digits are not part of it: `TesseraClient.reveal_pin` shows
/// them when the owner asks, so lists and logs never carry them.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AccessCode {
    pub id: Uuid,
    pub lock_id: Uuid,
    pub label: String,
    pub pin_length: u8,
    pub schedule: Schedule,
    pub allow_widening: bool,
    pub max_uses: Option<u32>,
    pub status: CodeStatus,
    pub sync: CodeSync,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: u64,
}

impl From<CodeRecord> for AccessCode {
    fn from(record: CodeRecord) -> Self {
        let code = record.code;
        AccessCode {
            id: *code.id.as_uuid(),
            lock_id: *code.lock_id.as_uuid(),
            label: code.label,
            pin_length: small(u32::try_from(code.pin.len()).unwrap_or(u32::MAX)),
            schedule: (&code.schedule).into(),
            allow_widening: code.allow_widening,
            max_uses: code.max_uses,
            status: code.status.into(),
            sync: record.sync.into(),
            created_at: code.created_at,
            updated_at: code.updated_at,
            version: code.version,
        }
    }
}

/// An instant on one zone's wall clock.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ZonedTime {
    pub local: LocalDateTime,
    pub zone: String,
    pub utc_offset_seconds: i32,
    /// `CET`, `EDT`, or tzdata's numeric form (`+0545`).
    pub abbreviation: String,
}

impl From<schedule::ZonedTime> for ZonedTime {
    fn from(time: schedule::ZonedTime) -> Self {
        ZonedTime {
            local: time.local.into(),
            zone: time.zone.name().to_owned(),
            utc_offset_seconds: time.utc_offset_seconds,
            abbreviation: time.abbreviation,
        }
    }
}

/// One instant, on the lock's clock and the viewer's.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Moment {
    pub instant: Timestamp,
    pub lock: ZonedTime,
    pub viewer: Option<ZonedTime>,
}

impl From<schedule::Moment> for Moment {
    fn from(moment: schedule::Moment) -> Self {
        Moment {
            instant: moment.instant,
            lock: moment.lock.into(),
            viewer: moment.viewer.map(Into::into),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Occurrence {
    pub start: Moment,
    pub end: Moment,
}

/// The window a lock will actually hold, as an owner (or visitor) reads it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EffectiveWindow {
    pub kind: ScheduleKind,
    /// One line in the lock's wall-clock time.
    pub summary: String,
    pub lock_zone: String,
    pub viewer_zone: Option<String>,
    /// The next intervals of access (none for a permanent code).
    pub occurrences: Vec<Occurrence>,
    pub more: bool,
    pub first_use_minutes: Option<u32>,
    /// What the lock had to change (rounding, daylight saving), for people.
    pub adjustments: Vec<String>,
}

impl From<schedule::Preview> for EffectiveWindow {
    fn from(preview: schedule::Preview) -> Self {
        EffectiveWindow {
            kind: preview.kind.into(),
            summary: preview.summary,
            lock_zone: preview.lock_zone.name().to_owned(),
            viewer_zone: preview.viewer_zone.map(|zone| zone.name().to_owned()),
            occurrences: preview
                .occurrences
                .into_iter()
                .map(|o| Occurrence {
                    start: o.start.into(),
                    end: o.end.into(),
                })
                .collect(),
            more: preview.more,
            first_use_minutes: preview.first_use_minutes,
            adjustments: preview.adjustments.iter().map(ToString::to_string).collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Account {
    pub id: Uuid,
    pub email: String,
    pub created_at: Timestamp,
}

impl From<tessera_core::api::Account> for Account {
    fn from(account: tessera_core::api::Account) -> Self {
        Account {
            id: account.id,
            email: account.email,
            created_at: account.created_at,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct SyncReport {
    pub pushed: u32,
    pub refused: u32,
    pub pulled: u32,
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl From<tessera_core::SyncReport> for SyncReport {
    fn from(report: tessera_core::SyncReport) -> Self {
        SyncReport {
            pushed: count(report.pushed),
            refused: count(report.refused),
            pulled: count(report.pulled),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SyncStage {
    Pushing,
    Pulling,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum SyncActivity {
    Idle,
    Syncing {
        stage: SyncStage,
        done: u32,
        total: Option<u32>,
    },
    Offline {
        reason: String,
        retry_at: Option<Timestamp>,
    },
    Failed {
        reason: String,
    },
    SignedOut,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncStatus {
    pub activity: SyncActivity,
    /// Local changes the cloud has not confirmed yet.
    pub pending: u32,
    pub last_success: Option<Timestamp>,
}

impl From<tessera_core::SyncStatus> for SyncStatus {
    fn from(status: tessera_core::SyncStatus) -> Self {
        use tessera_core::SyncActivity as A;
        let activity = match status.activity {
            A::Idle => SyncActivity::Idle,
            A::Syncing(progress) => SyncActivity::Syncing {
                stage: match progress.stage {
                    tessera_core::SyncStage::Pushing => SyncStage::Pushing,
                    tessera_core::SyncStage::Pulling => SyncStage::Pulling,
                },
                done: count(progress.done),
                total: progress.total.map(count),
            },
            A::Offline { reason, retry_at } => SyncActivity::Offline { reason, retry_at },
            A::Failed { reason } => SyncActivity::Failed { reason },
            A::SignedOut => SyncActivity::SignedOut,
        };
        SyncStatus {
            activity,
            pending: count(status.pending),
            last_success: status.last_success,
        }
    }
}

/// Where the client keeps its data.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ClientConfig {
    /// A folder the app owns (`filesDir` on Android, Application Support on iOS).
    pub data_dir: String,
    /// Extra trusted roots (DER) for a private cloud; public roots are bundled.
    #[uniffi(default = [])]
    pub extra_root_certificates: Vec<Vec<u8>>,
    /// Where share links point (`https://share.example`); by default the signed-in cloud.
    #[uniffi(default = None)]
    pub share_host: Option<String>,
}
