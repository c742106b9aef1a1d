//! The one error every call of the surface returns: Kotlin `TesseraException`,
//! Swift `TesseraError`, Python `TesseraError`, with the variants a UI acts on.

use tessera_core::model;

use crate::types::{PinConstraint, ScheduleKind, Timestamp, WeakPinRule};

#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum TesseraError {
    /// The schedule cannot become a window the lock holds.
    #[error("invalid schedule: {reason}")]
    InvalidSchedule { reason: String },
    #[error("this lock does not support {kind:?} codes")]
    ScheduleNotSupported { kind: ScheduleKind },
    /// The PIN is easy to guess; `reason` explains the rule for people. (Not
    /// `message`: Kotlin exceptions have one already.)
    #[error("weak PIN: {reason}")]
    WeakPin { rule: WeakPinRule, reason: String },
    /// The PIN clashes with `other_code`, which can be active at the same time.
    #[error("the PIN clashes with code {other_code}")]
    PinConflict { other_code: uuid::Uuid },
    #[error("the lock refuses this PIN: {reason}")]
    ConstraintViolated {
        constraint: PinConstraint,
        reason: String,
    },
    #[error("the PIN has {length} digits; the lock takes {min} to {max}")]
    PinLength { length: u32, min: u8, max: u8 },
    #[error("invalid PIN: {reason}")]
    InvalidPin { reason: String },
    #[error("no PIN of {length} digits fits this lock's rules and its other codes")]
    NoPinAvailable { length: u8 },
    #[error("the lock holds at most {max} codes")]
    CapacityExceeded { max: u32 },
    #[error("unknown time zone {zone:?}")]
    UnknownTimeZone { zone: String },
    /// A value is out of range or malformed; `field` says which.
    #[error("invalid {field}: {reason}")]
    InvalidInput { field: String, reason: String },
    #[error("{what} {id} not found")]
    NotFound { what: String, id: String },
    /// The cloud cannot be reached; changes wait and sync later.
    #[error("offline: {reason}")]
    Offline { reason: String },
    /// No session, or it ended: sign in again.
    #[error("signed out")]
    SignedOut,
    #[error("wrong email or password")]
    InvalidCredentials,
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error("too many attempts; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// The cloud refused; `code` is its stable error code.
    #[error("the cloud refused ({code}): {reason}")]
    CloudRejected { code: String, reason: String },
    /// The share link is damaged, tampered with, or not a share link.
    #[error("the share link does not open: {reason}")]
    ShareLinkInvalid { reason: String },
    /// The share link expired, was revoked or was opened as often as allowed.
    #[error("the share link no longer opens")]
    ShareLinkUnavailable,
    #[error("the share link expired")]
    ShareLinkExpired,
    /// The local data cannot be opened or used (wrong key, damaged file ...); `code`
    /// is the precise reason.
    #[error("storage ({code}): {reason}")]
    Storage { code: String, reason: String },
    /// The platform's secure store failed.
    #[error("secure store: {reason}")]
    SecureStore { reason: String },
    /// The lock cannot be reached over its local route (network or Bluetooth):
    /// nothing answered, the connection broke, or it did not answer in time.
    #[error("the lock cannot be reached: {reason}")]
    LockUnreachable { reason: String },
    /// The lock refused to pair: a wrong setup code, or too many attempts (the lock
    /// does not say which, by design).
    #[error("the lock refused to pair: wrong setup code, or too many attempts")]
    PairingRefused,
    /// This device is not paired with the lock (or the lock was reset): pair with
    /// its setup code.
    #[error("not paired with lock {lock_id}")]
    NotPaired { lock_id: String },
    /// The device that answered is not the lock expected, or failed to prove it
    /// holds the pairing key.
    #[error("the device that answered is not the expected lock")]
    WrongLock,
    /// The lock refused a request; `reason` says why.
    #[error("the lock refused: {reason}")]
    LockRefused { reason: String },
    /// The lock refused to move its clock that far back; it reads `lock_clock`.
    #[error("the lock refused to move its clock back")]
    ClockRefused { lock_clock: Timestamp },
    /// The local connection broke the protocol (a damaged, replayed or reordered
    /// frame, or an unsupported version) and was closed.
    #[error("the local connection failed: {reason}")]
    LocalProtocol { reason: String },
    /// Bluetooth failed, or the app set no Bluetooth transport.
    #[error("Bluetooth: {reason}")]
    Bluetooth { reason: String },
    /// Discovery on the local network could not run.
    #[error("local discovery failed: {reason}")]
    Discovery { reason: String },
    /// This device has no offline-code secret for the lock: pair with it first.
    #[error("no offline codes for lock {lock_id} on this device; pair with the lock first")]
    OfflineCodesUnavailable { lock_id: String },
    /// Every code of this start hour and class is used: choose another start or class.
    #[error("no offline code left for this start hour and class ({slots} slots)")]
    OfflineQuotaExhausted { slots: u8 },
    /// A bug, or a callback that failed unexpectedly. Never a crash.
    #[error("internal error: {reason}")]
    Internal { reason: String },
}

impl TesseraError {
    pub(crate) fn input(field: &str, reason: impl Into<String>) -> Self {
        TesseraError::InvalidInput {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }
}

impl From<model::Error> for TesseraError {
    fn from(error: model::Error) -> Self {
        use model::Error as E;
        let message = error.to_string();
        match error {
            E::InvalidSchedule { reason } => TesseraError::InvalidSchedule { reason },
            E::ScheduleNotSupported { kind } => TesseraError::ScheduleNotSupported { kind: kind.into() },
            E::WeakPin { rule } => TesseraError::WeakPin {
                rule: rule.into(),
                reason: rule.to_string(),
            },
            E::PinConflict { other_code } => TesseraError::PinConflict {
                other_code: *other_code.as_uuid(),
            },
            E::ConstraintViolated { constraint } => TesseraError::ConstraintViolated {
                reason: constraint.to_string(),
                constraint: constraint.into(),
            },
            E::PinLength { length, min, max } => TesseraError::PinLength {
                length: u32::try_from(length).unwrap_or(u32::MAX),
                min,
                max,
            },
            E::InvalidPin { reason } => TesseraError::InvalidPin { reason },
            E::NoPinAvailable { length } => TesseraError::NoPinAvailable { length },
            E::CapacityExceeded { max } => TesseraError::CapacityExceeded { max },
            E::UnknownTimeZone { zone } => TesseraError::UnknownTimeZone { zone },
            E::InvalidInput { field, reason } => TesseraError::input(field, reason),
            _ => TesseraError::Internal { reason: message },
        }
    }
}

impl From<tessera_core::Error> for TesseraError {
    fn from(error: tessera_core::Error) -> Self {
        use tessera_core::Error as E;
        let code = error.code().to_owned();
        let message = error.to_string();
        match error {
            E::Domain(domain) => domain.into(),
            E::NotFound { what, id } => TesseraError::NotFound {
                what: what.to_owned(),
                id,
            },
            E::Offline { reason } => TesseraError::Offline { reason },
            E::SignedOut => TesseraError::SignedOut,
            E::InvalidCredentials => TesseraError::InvalidCredentials,
            E::EmailTaken => TesseraError::EmailTaken,
            E::RateLimited { retry_after_secs } => TesseraError::RateLimited { retry_after_secs },
            E::CloudRejected { code, message, .. } => TesseraError::CloudRejected {
                code,
                reason: message,
            },
            E::SecureStore { reason } => TesseraError::SecureStore { reason },
            E::ShareLinkInvalid { reason } => TesseraError::ShareLinkInvalid { reason },
            E::ShareLinkUnavailable => TesseraError::ShareLinkUnavailable,
            E::ShareLinkExpired => TesseraError::ShareLinkExpired,
            E::Config { reason } => TesseraError::input("config", reason),
            E::LockUnreachable { reason } => TesseraError::LockUnreachable { reason },
            E::PairingRefused => TesseraError::PairingRefused,
            E::NotPaired { lock } => TesseraError::NotPaired { lock_id: lock },
            E::WrongLock => TesseraError::WrongLock,
            E::LockRefused { reason } => TesseraError::LockRefused { reason },
            E::ClockRefused { lock_clock } => TesseraError::ClockRefused { lock_clock },
            E::LocalProtocol { reason } => TesseraError::LocalProtocol { reason },
            E::Bluetooth { reason } => TesseraError::Bluetooth { reason },
            E::Discovery { reason } => TesseraError::Discovery { reason },
            E::OfflineCodesUnavailable { lock } => TesseraError::OfflineCodesUnavailable { lock_id: lock },
            E::OfflineQuotaExhausted { slots } => TesseraError::OfflineQuotaExhausted { slots },
            E::StoreKeyMissing
            | E::WrongKey
            | E::CorruptDatabase { .. }
            | E::ForeignDatabase { .. }
            | E::DatabaseTooNew { .. }
            | E::Storage { .. } => TesseraError::Storage {
                code,
                reason: message,
            },
            // A variant newer than this mapping: still an error the UI can show.
            _ => TesseraError::Internal {
                reason: format!("{code}: {message}"),
            },
        }
    }
}

/// A foreign callback threw: it becomes an error, never a crash.
impl From<uniffi::UnexpectedUniFFICallbackError> for TesseraError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> Self {
        TesseraError::Internal { reason: error.reason }
    }
}
