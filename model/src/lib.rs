//! The access-code domain every Tessera party agrees on: the phone, the cloud and
//! the lock. Pure: no I/O, no clock (callers pass "now").
//!
//! - [`lock`]: locks and their capabilities.
//! - [`code`]: access codes and their status.
//! - [`schedule`]: schedules in the lock's wall-clock time and the window compiler.
//! - [`pin`]: the secret PIN type, weak-PIN rules, clashes and the generator.
//! - [`admission`]: the checks a new or changed code must pass on its lock.

pub mod admission;
pub mod code;
mod error;
mod id;
pub mod lock;
pub mod pin;
pub mod schedule;

pub use admission::{Admitted, CodeDraft, LockState, PinRequest};
pub use chrono_tz::Tz;
pub use code::{AccessCode, CodeStatus, Usage};
pub use error::{Error, Result, excerpt};
pub use id::{CodeId, LockId};
pub use lock::{Granularity, Keypad, Lock, LockCapabilities, PinConstraint, PinLengths};
pub use pin::{Pin, PinRules, TakenPin, WeakPinRule};
pub use schedule::{
    Adjustment, CompileOptions, EffectiveSchedule, Interval, Preview, Schedule, ScheduleKind, Weekdays,
};
