//! The domain's error enum: every variant names what a UI can show or fix.

use crate::CodeId;
use crate::lock::PinConstraint;
use crate::pin::WeakPinRule;
use crate::schedule::ScheduleKind;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The schedule cannot be turned into a window the lock can hold.
    #[error("invalid schedule: {reason}")]
    InvalidSchedule { reason: String },

    /// The lock cannot hold this kind of schedule.
    #[error("this lock does not support {kind} codes")]
    ScheduleNotSupported { kind: ScheduleKind },

    /// The PIN is easy to guess; `rule` says why.
    #[error("weak PIN: {rule}")]
    WeakPin { rule: WeakPinRule },

    /// The PIN clashes with another code that can be active at the same time
    /// (same digits, or one is a prefix or suffix of the other).
    #[error("PIN clashes with code {other_code}, which can be active at the same time")]
    PinConflict { other_code: CodeId },

    /// The lock's keypad rules refuse this PIN.
    #[error("the lock refuses this PIN: {constraint}")]
    ConstraintViolated { constraint: PinConstraint },

    /// The lock takes PINs of another length.
    #[error("PIN has {length} digits; this lock takes {min} to {max}")]
    PinLength { length: usize, min: u8, max: u8 },

    /// The PIN is not a string of digits.
    #[error("invalid PIN: {reason}")]
    InvalidPin { reason: String },

    /// Every PIN of the requested length is weak, refused by the lock or taken.
    #[error("no PIN of {length} digits fits this lock's rules and its other codes")]
    NoPinAvailable { length: u8 },

    /// The lock already holds as many codes as it can.
    #[error("the lock holds at most {max} codes")]
    CapacityExceeded { max: u32 },

    /// Not a time zone of the IANA database.
    #[error("unknown time zone {zone:?}")]
    UnknownTimeZone { zone: String },

    /// A field is out of its allowed range.
    #[error("invalid {field}: {reason}")]
    InvalidInput { field: &'static str, reason: String },
}

/// Input quoted in an error message, cut to a readable length: a megabyte of
/// nonsense must not come back a megabyte long.
pub fn excerpt(input: &str) -> String {
    const LONGEST: usize = 40;
    if input.chars().count() <= LONGEST {
        return input.to_owned();
    }
    let cut: String = input.chars().take(LONGEST).collect();
    format!("{cut}…")
}

impl Error {
    /// A stable machine-readable name for the variant, for scripts and APIs.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidSchedule { .. } => "invalid_schedule",
            Error::ScheduleNotSupported { .. } => "schedule_not_supported",
            Error::WeakPin { .. } => "weak_pin",
            Error::PinConflict { .. } => "pin_conflict",
            Error::ConstraintViolated { .. } => "constraint_violated",
            Error::PinLength { .. } => "pin_length",
            Error::InvalidPin { .. } => "invalid_pin",
            Error::NoPinAvailable { .. } => "no_pin_available",
            Error::CapacityExceeded { .. } => "capacity_exceeded",
            Error::UnknownTimeZone { .. } => "unknown_time_zone",
            Error::InvalidInput { .. } => "invalid_input",
        }
    }

    pub(crate) fn schedule(reason: impl Into<String>) -> Self {
        Error::InvalidSchedule {
            reason: reason.into(),
        }
    }

    pub(crate) fn input(field: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            field,
            reason: reason.into(),
        }
    }
}
