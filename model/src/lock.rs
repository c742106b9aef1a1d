//! Locks and what their hardware can hold.

use std::fmt;

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::schedule::ScheduleKind;
use crate::{Error, LockId, Result};

/// Longest name an owner may give a lock.
pub const MAX_LOCK_NAME_CHARS: usize = 80;
/// Longest PIN any lock takes.
pub const MAX_PIN_DIGITS: u8 = 12;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lock {
    pub id: LockId,
    pub name: String,
    /// The lock's IANA time zone: every schedule is stated in its wall-clock time.
    pub time_zone: Tz,
    pub capabilities: LockCapabilities,
}

impl Lock {
    /// A new lock with a fresh id, after checking the name and capabilities.
    pub fn new(name: &str, time_zone: &str, capabilities: LockCapabilities) -> Result<Self> {
        let lock = Lock {
            id: LockId::new(),
            name: validate_lock_name(name)?,
            time_zone: parse_time_zone(time_zone)?,
            capabilities,
        };
        lock.capabilities.validate()?;
        Ok(lock)
    }
}

/// Trims a lock name and checks it is neither empty nor too long.
pub fn validate_lock_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::input("lock name", "must not be empty"));
    }
    if name.chars().count() > MAX_LOCK_NAME_CHARS {
        return Err(Error::input(
            "lock name",
            format!("longer than {MAX_LOCK_NAME_CHARS} characters"),
        ));
    }
    Ok(name.to_owned())
}

/// Parses an IANA zone name such as `Europe/Berlin`.
pub fn parse_time_zone(zone: &str) -> Result<Tz> {
    zone.parse().map_err(|_| Error::UnknownTimeZone {
        zone: crate::excerpt(zone),
    })
}

/// What a lock's hardware and firmware can hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LockCapabilities {
    pub pin_lengths: PinLengths,
    pub constraints: Vec<PinConstraint>,
    pub keypad: Keypad,
    /// Codes the lock can hold at once.
    pub max_codes: u32,
    pub schedule_kinds: Vec<ScheduleKind>,
    pub granularity: Granularity,
    /// Whether the lock verifies offline (algorithmic) codes.
    pub offline_codes: bool,
}

impl Default for LockCapabilities {
    fn default() -> Self {
        LockCapabilities {
            pin_lengths: PinLengths { min: 4, max: 8 },
            constraints: Vec::new(),
            keypad: Keypad::OneDigitPerButton,
            max_codes: 250,
            schedule_kinds: ScheduleKind::ALL.to_vec(),
            granularity: Granularity::Minute,
            offline_codes: false,
        }
    }
}

impl LockCapabilities {
    pub fn validate(&self) -> Result<()> {
        let PinLengths { min, max } = self.pin_lengths;
        if min == 0 || min > max || max > MAX_PIN_DIGITS {
            return Err(Error::input(
                "PIN lengths",
                format!("{min}-{max} is not within 1-{MAX_PIN_DIGITS}"),
            ));
        }
        if self.max_codes == 0 {
            return Err(Error::input("max codes", "must be at least 1"));
        }
        if self.schedule_kinds.is_empty() {
            return Err(Error::input(
                "schedule kinds",
                "the lock must support at least one",
            ));
        }
        for constraint in &self.constraints {
            constraint.validate()?;
        }
        Ok(())
    }

    pub fn supports(&self, kind: ScheduleKind) -> bool {
        self.schedule_kinds.contains(&kind)
    }

    /// The length of generated PINs when the owner does not ask for one:
    /// six digits (a million combinations) where the lock allows it.
    pub fn default_pin_length(&self) -> u8 {
        6u8.clamp(self.pin_lengths.min, self.pin_lengths.max)
    }
}

/// Inclusive range of PIN lengths a lock accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PinLengths {
    pub min: u8,
    pub max: u8,
}

impl PinLengths {
    pub fn contains(&self, length: usize) -> bool {
        (usize::from(self.min)..=usize::from(self.max)).contains(&length)
    }
}

/// How a lock's keypad maps digits to buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Keypad {
    OneDigitPerButton,
    /// Five buttons labelled 1|2, 3|4, 5|6, 7|8, 9|0: `1357` and `2468` are the same presses.
    TwoDigitsPerButton,
}

impl Keypad {
    /// The button a digit is on; PINs are compared as button sequences.
    pub fn button(self, digit: u8) -> u8 {
        match self {
            Keypad::OneDigitPerButton => digit,
            Keypad::TwoDigitsPerButton => match digit {
                0 => 9,
                d if d % 2 == 0 => d - 1,
                d => d,
            },
        }
    }
}

/// Time resolution of a lock's schedules, in its local wall-clock time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Granularity {
    Minute,
    Hour,
    Day,
}

impl Granularity {
    pub fn seconds(self) -> i64 {
        match self {
            Granularity::Minute => 60,
            Granularity::Hour => 3_600,
            Granularity::Day => 86_400,
        }
    }
}

impl fmt::Display for Granularity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Granularity::Minute => "minute",
            Granularity::Hour => "hour",
            Granularity::Day => "day",
        })
    }
}

/// A rule of the lock's firmware about which PINs it accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PinConstraint {
    NoZeros,
    CannotStartWith {
        prefix: String,
    },
    /// No `length` consecutive digits that each go up or down by one (`123`, `987`).
    NoSequentialRun {
        length: u8,
    },
    /// No digit three times in a row.
    NoTripleRepeat,
    MinDistinctDigits {
        count: u8,
    },
}

impl PinConstraint {
    fn validate(&self) -> Result<()> {
        match self {
            PinConstraint::CannotStartWith { prefix }
                if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) =>
            {
                Err(Error::input("constraint", "a forbidden prefix must be digits"))
            }
            PinConstraint::NoSequentialRun { length } if *length < 2 => Err(Error::input(
                "constraint",
                "a sequential run has at least 2 digits",
            )),
            PinConstraint::MinDistinctDigits { count } if *count > 10 => {
                Err(Error::input("constraint", "there are only 10 distinct digits"))
            }
            _ => Ok(()),
        }
    }
}

impl fmt::Display for PinConstraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PinConstraint::NoZeros => f.write_str("no zeros"),
            PinConstraint::CannotStartWith { prefix } => write!(f, "cannot start with {prefix}"),
            PinConstraint::NoSequentialRun { length } => {
                write!(f, "no {length} ascending or descending digits in a row")
            }
            PinConstraint::NoTripleRepeat => f.write_str("no digit three times in a row"),
            PinConstraint::MinDistinctDigits { count } => {
                write!(f, "at least {count} different digits")
            }
        }
    }
}

impl LockCapabilities {
    /// Refuses one more code when the lock already holds `live_codes`.
    pub fn check_capacity(&self, live_codes: usize) -> Result<()> {
        if live_codes >= self.max_codes as usize {
            Err(Error::CapacityExceeded { max: self.max_codes })
        } else {
            Ok(())
        }
    }
}
