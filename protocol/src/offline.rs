//! Offline codes: PINs a phone derives from the lock's secret with no network at
//! all, and the lock verifies with its clock alone.
//!
//! `K_pin(epoch) = HKDF-SHA256(ikm = root, salt = lock_id, info = "offline-pin/v1" || epoch)`
//! `PIN = u64(HMAC-SHA256(K_pin, "PINv1" || lock_id || d || h || c || s)[0..8]) mod 10^d`
//!
//! `h` is the start hour, counted from 2020-01-01T00:00 in the lock's standard time
//! (its zone's offset without daylight saving, so an hour is never ambiguous), `c`
//! the class (what kind of access and for how long), `s` a slot (0-3) the issuer bumps
//! when a PIN is weak or taken: at most four codes per class and start hour. The
//! lock tries every header whose start lies in its activation window (a code must be
//! used within a day of its start): 26 hours x 15 classes x 4 slots = 1,560 HMACs,
//! which it keeps for the hour. A MAC, not an encryption: a guess matches one header
//! with probability 10^-d, so d >= 10 (see the README for the lockout arithmetic).
//! Rotating the epoch changes the key, revoking every earlier offline code.

use alloc::string::String;
use alloc::vec::Vec;

use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

/// Unix time of 2020-01-01T00:00: hour 0.
pub const HOUR_ZERO: i64 = 1_577_836_800;
const HOUR: i64 = 3_600;
const DAY: i64 = 24 * HOUR;
/// A code must be used for the first time within this many hours of its start.
pub const ACTIVATION_HOURS: u32 = 24;
/// Clock skew forgiven at every edge: a crystal drifts ~10 min a year.
pub const TOLERANCE_SECONDS: i64 = 10 * 60;
/// Slots per class and start hour.
pub const SLOTS: u8 = 4;
/// Digits of an offline PIN unless the lock says otherwise.
pub const DEFAULT_DIGITS: u8 = 10;

/// What an offline code grants, once activated by its first use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[repr(u8)]
pub enum OfflineClass {
    /// One entry within 6 hours of the start.
    OneTime = 0,
    Hour1 = 1,
    Hours2 = 2,
    Hours4 = 3,
    Hours8 = 4,
    Hours12 = 5,
    Day1 = 6,
    Days2 = 7,
    Days3 = 8,
    Week1 = 9,
    Weeks2 = 10,
    /// Every day from the start hour for 4 hours, for 7 days.
    Daily4HoursFor7Days = 11,
    /// Every day from the start hour for 8 hours, for 30 days.
    Daily8HoursFor30Days = 12,
    /// Monday to Friday from the start hour for 10 hours, for 4 weeks.
    Weekdays10HoursFor4Weeks = 13,
    /// Saturdays and Sundays, all day, for 4 weeks.
    WeekendsFor4Weeks = 14,
}

impl OfflineClass {
    pub const ALL: [OfflineClass; 15] = [
        OfflineClass::OneTime,
        OfflineClass::Hour1,
        OfflineClass::Hours2,
        OfflineClass::Hours4,
        OfflineClass::Hours8,
        OfflineClass::Hours12,
        OfflineClass::Day1,
        OfflineClass::Days2,
        OfflineClass::Days3,
        OfflineClass::Week1,
        OfflineClass::Weeks2,
        OfflineClass::Daily4HoursFor7Days,
        OfflineClass::Daily8HoursFor30Days,
        OfflineClass::Weekdays10HoursFor4Weeks,
        OfflineClass::WeekendsFor4Weeks,
    ];

    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(usize::from(code)).copied()
    }

    /// From the start, how long the code can work at all (its last interval's end).
    pub fn span_seconds(self) -> i64 {
        match self {
            OfflineClass::OneTime => 6 * HOUR,
            OfflineClass::Hour1 => HOUR,
            OfflineClass::Hours2 => 2 * HOUR,
            OfflineClass::Hours4 => 4 * HOUR,
            OfflineClass::Hours8 => 8 * HOUR,
            OfflineClass::Hours12 => 12 * HOUR,
            OfflineClass::Day1 => DAY,
            OfflineClass::Days2 => 2 * DAY,
            OfflineClass::Days3 => 3 * DAY,
            OfflineClass::Week1 => 7 * DAY,
            OfflineClass::Weeks2 => 14 * DAY,
            OfflineClass::Daily4HoursFor7Days => 6 * DAY + 4 * HOUR,
            OfflineClass::Daily8HoursFor30Days => 29 * DAY + 8 * HOUR,
            OfflineClass::Weekdays10HoursFor4Weeks | OfflineClass::WeekendsFor4Weeks => 28 * DAY,
        }
    }

    /// Whether the code grants access at `at` (lock standard time, seconds since the
    /// Unix epoch) for a code starting at `start`; `tolerance` widens every edge.
    pub fn grants_at(self, start: i64, at: i64, tolerance: i64) -> bool {
        if at < start - tolerance || at >= start + self.span_seconds() + tolerance {
            return false;
        }
        // The daily interval `at` falls in (or, within tolerance, the next one).
        let daily = |hours: i64| {
            let into_day = (at - start).rem_euclid(DAY);
            into_day < hours * HOUR + tolerance || into_day >= DAY - tolerance
        };
        let occurrence_start = |at: i64| at - (at - start).rem_euclid(DAY);
        match self {
            OfflineClass::Daily4HoursFor7Days => daily(4),
            OfflineClass::Daily8HoursFor30Days => daily(8),
            OfflineClass::Weekdays10HoursFor4Weeks => {
                daily(10)
                    && (is_weekday(occurrence_start(at)) || is_weekday(occurrence_start(at + tolerance)))
            }
            OfflineClass::WeekendsFor4Weeks => !is_weekday(at - tolerance) || !is_weekday(at + tolerance),
            _ => true,
        }
    }
}

/// Monday to Friday, on the lock's standard-time calendar (1970-01-01 was a Thursday).
fn is_weekday(at: i64) -> bool {
    (at.div_euclid(DAY) + 3).rem_euclid(7) < 5
}

/// Which code: start hour, class and slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Header {
    /// Hours since 2020-01-01T00:00 in the lock's standard time.
    pub start_hour: u32,
    pub class: OfflineClass,
    pub slot: u8,
}

impl Header {
    /// The start, in lock standard time seconds since the Unix epoch.
    pub fn start(&self) -> i64 {
        HOUR_ZERO + i64::from(self.start_hour) * HOUR
    }

    /// The first use must come before this (lock standard time).
    pub fn activation_deadline(&self) -> i64 {
        let activation = i64::from(ACTIVATION_HOURS) * HOUR;
        self.start() + activation.min(self.class.span_seconds())
    }

    /// When the code stops working for good (lock standard time).
    pub fn end(&self) -> i64 {
        self.start() + self.class.span_seconds()
    }
}

/// Seconds since the Unix epoch in the lock's standard time.
pub fn standard_time(unix_seconds: i64, standard_offset_seconds: i32) -> i64 {
    unix_seconds + i64::from(standard_offset_seconds)
}

/// The start hour (for `Header::start_hour`) a standard-time instant falls in;
/// `None` before 2020.
pub fn hour_of(standard_seconds: i64) -> Option<u32> {
    u32::try_from((standard_seconds - HOUR_ZERO).div_euclid(HOUR)).ok()
}

/// The key offline PINs of one lock and epoch are made with.
#[derive(Clone)]
pub struct OfflineKey {
    mac: Hmac<Sha256>,
    lock_id: [u8; 16],
    digits: u8,
}

impl core::fmt::Debug for OfflineKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OfflineKey")
            .field("digits", &self.digits)
            .finish_non_exhaustive()
    }
}

impl OfflineKey {
    /// `digits` is clamped to 6..=19 (a u64 holds 19 decimal digits).
    pub fn derive(root: &[u8; 32], lock_id: &[u8; 16], epoch: u32, digits: u8) -> Self {
        let mut info = [0u8; 18];
        info[..14].copy_from_slice(b"offline-pin/v1");
        info[14..].copy_from_slice(&epoch.to_be_bytes());
        // A block-sized key: HMAC takes it as it is, and the constructor cannot fail.
        let mut key = Zeroizing::new([0u8; 64]);
        // 64 bytes are always within HKDF-SHA256's output limit.
        let _ = Hkdf::<Sha256>::new(Some(lock_id), root).expand(&info, key.as_mut());
        let mac = <Hmac<Sha256> as KeyInit>::new(&(*key).into());
        OfflineKey {
            mac,
            lock_id: *lock_id,
            digits: digits.clamp(6, 19),
        }
    }

    pub fn digits(&self) -> u8 {
        self.digits
    }

    /// The PIN of a header: exactly `digits` digits, leading zeros kept.
    pub fn pin(&self, header: Header) -> String {
        let mut mac = self.mac.clone();
        mac.update(b"PINv1");
        mac.update(&self.lock_id);
        mac.update(&[self.digits]);
        mac.update(&header.start_hour.to_be_bytes());
        mac.update(&[header.class.code(), header.slot]);
        let tag = mac.finalize().into_bytes();
        let mut first = [0u8; 8];
        first.copy_from_slice(&tag[..8]);
        let value = u64::from_be_bytes(first) % 10u64.pow(u32::from(self.digits));
        alloc::format!("{value:0width$}", width = usize::from(self.digits))
    }

    /// Issues a code: the first slot whose PIN `acceptable` takes (not weak, not
    /// issued before). `None` when all four slots of this hour and class are used.
    pub fn issue(
        &self,
        start_hour: u32,
        class: OfflineClass,
        mut acceptable: impl FnMut(u8, &str) -> bool,
    ) -> Option<(Header, String)> {
        (0..SLOTS).find_map(|slot| {
            let header = Header {
                start_hour,
                class,
                slot,
            };
            let pin = self.pin(header);
            acceptable(slot, &pin).then_some((header, pin))
        })
    }

    /// Every PIN that can be entered for the first time at `now` (standard time):
    /// headers starting from `ACTIVATION_HOURS` (plus tolerance) ago to one hour
    /// ahead. Sorted by PIN for lookups; the lock keeps it for the hour.
    pub fn candidates(&self, now: i64) -> Candidates {
        let mut entries = Vec::new();
        let (Some(latest), Some(earliest)) = (
            hour_of(now + TOLERANCE_SECONDS),
            hour_of(now - i64::from(ACTIVATION_HOURS) * HOUR - TOLERANCE_SECONDS).or(Some(0)),
        ) else {
            return Candidates { entries };
        };
        for start_hour in earliest..=latest {
            for class in OfflineClass::ALL {
                for slot in 0..SLOTS {
                    let header = Header {
                        start_hour,
                        class,
                        slot,
                    };
                    entries.push((self.pin(header), header));
                }
            }
        }
        entries.sort();
        Candidates { entries }
    }
}

/// The offline PINs a lock accepts as a first use during one hour.
#[derive(Clone, Default)]
pub struct Candidates {
    entries: Vec<(String, Header)>,
}

impl core::fmt::Debug for Candidates {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Candidates")
            .field("len", &self.entries.len())
            .finish()
    }
}

impl Candidates {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Headers whose PIN is `entered` and which can be activated at `now` (standard
    /// time): started (within tolerance), before their activation deadline, and
    /// granting access now.
    pub fn matching<'a>(&'a self, entered: &'a str, now: i64) -> impl Iterator<Item = Header> + 'a {
        let start = self.entries.partition_point(|(pin, _)| pin.as_str() < entered);
        self.entries[start..]
            .iter()
            .take_while(move |(pin, _)| pin == entered)
            .map(|(_, header)| *header)
            .filter(move |header| {
                now < header.activation_deadline() + TOLERANCE_SECONDS
                    && header.class.grants_at(header.start(), now, TOLERANCE_SECONDS)
            })
    }
}

/// HMAC evaluations one uncached verification costs (a lock without memory for
/// the candidate set): every header of the activation window.
pub fn hmacs_per_entry() -> usize {
    (ACTIVATION_HOURS as usize + 2) * OfflineClass::ALL.len() * usize::from(SLOTS)
}

/// SHA-256 compressions per HMAC of a header with the keyed state kept: one block
/// for the inner hash of the 33-byte message, one for the outer.
pub const COMPRESSIONS_PER_HMAC: usize = 2;
