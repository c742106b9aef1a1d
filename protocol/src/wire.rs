//! The messages of the local protocol, inside an established session. Encoded with
//! postcard (compact, no_std). Schedules travel as the owner stated them, in the
//! lock's wall-clock time; the lock evaluates them with the same rules as the phone.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

/// A code id (a UUID's bytes).
pub type CodeId = [u8; 16];

/// A schedule in the lock's wall-clock time. Local times are seconds since
/// 1970-01-01T00:00 *local* (naive); dates are days since 0001-01-01; times of day
/// seconds since midnight; weekdays a bitmask with Monday as bit 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WireSchedule {
    Permanent,
    Window {
        start: i64,
        end: i64,
    },
    OneTime {
        start: i64,
        end: i64,
    },
    Weekly {
        days: u8,
        start_time: u32,
        end_time: u32,
        first_date: i32,
        last_date: i32,
    },
    ExpiringAfterFirstUse {
        minutes: u32,
        start: i64,
        end: i64,
    },
}

/// A code the lock holds.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockCode {
    pub id: CodeId,
    /// Digits, leading zeros kept.
    pub pin: String,
    pub schedule: WireSchedule,
    pub max_uses: Option<u32>,
}

impl core::fmt::Debug for LockCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LockCode")
            .field("id", &self.id)
            .field("schedule", &self.schedule)
            .field("max_uses", &self.max_uses)
            .finish_non_exhaustive()
    }
}

/// What a phone asks of a lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    GetInfo,
    /// Adds the code, or replaces the one with the same id.
    SetCode(LockCode),
    RemoveCode {
        id: CodeId,
    },
    ListCodes,
    /// Events with a sequence number above `after`, oldest first.
    ReadEvents {
        after: u64,
        limit: u16,
    },
    /// The owner's clock (Unix milliseconds); the lock refuses to go back more than
    /// its tolerance.
    SetClock {
        unix_ms: i64,
    },
    /// Revokes every offline code issued so far.
    RotateEpoch,
    /// What a phone needs to issue offline codes.
    GetOfflineSecret,
    Lock,
    Unlock,
}

/// What a lock answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response {
    Info(LockInfo),
    Done,
    Codes(Vec<LockCode>),
    Events(Vec<LockEvent>),
    OfflineSecret(OfflineSecret),
    Refused(Refusal),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    pub lock_id: [u8; 16],
    pub name: String,
    /// IANA zone the lock keeps its schedules in.
    pub time_zone: String,
    pub clock_unix_ms: i64,
    pub epoch: u32,
    pub codes: u32,
    pub capacity: u32,
    pub pin_digits_min: u8,
    pub pin_digits_max: u8,
    pub offline_digits: u8,
    pub locked: bool,
}

/// The offline-code secret of a lock, for its paired phones only.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflineSecret {
    pub root: [u8; 32],
    pub epoch: u32,
    pub digits: u8,
    /// The lock zone's offset without daylight saving: offline hours count in it.
    pub standard_offset_seconds: i32,
}

impl core::fmt::Debug for OfflineSecret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OfflineSecret")
            .field("epoch", &self.epoch)
            .field("digits", &self.digits)
            .finish_non_exhaustive()
    }
}

/// Why a lock refused a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// No room for another code.
    Full {
        capacity: u32,
    },
    /// Another code has the same PIN (or one is a prefix or suffix of the other).
    Duplicate {
        other: CodeId,
    },
    /// The code breaks the lock's rules (length, schedule); `reason` says which.
    Invalid {
        reason: String,
    },
    NotFound,
    /// The clock would go back further than the lock allows.
    ClockRefused {
        lock_unix_ms: i64,
    },
    Unsupported,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockEvent {
    pub seq: u64,
    pub at_unix_ms: i64,
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    CodeUsed {
        id: CodeId,
    },
    OfflineCodeUsed {
        start_hour: u32,
        class: u8,
        slot: u8,
    },
    /// A wrong code, or a right one during a lockout.
    EntryRefused,
    LockedOut {
        until_unix_ms: i64,
    },
    CodeSet {
        id: CodeId,
    },
    CodeRemoved {
        id: CodeId,
    },
    ClockSet {
        from_unix_ms: i64,
        to_unix_ms: i64,
    },
    EpochRotated {
        epoch: u32,
    },
    Paired {
        phone: [u8; 16],
    },
    PairingFailed,
    Locked,
    Unlocked,
}

/// A message inside a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Message {
    Request { id: u32, request: Request },
    Response { id: u32, response: Response },
}
