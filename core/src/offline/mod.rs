//! Offline codes: PINs this device derives from a lock's offline secret with no
//! network at all, which the lock verifies with its clock alone (the algorithm is
//! tessera-protocol's). Here: turning the owner's start (a wall time in the lock's
//! zone) into a start hour in the lock's standard time, choosing a slot whose PIN is
//! not weak and was not issued here before, and saying before sharing what the code
//! grants: its window, the deadline for its first use, and how many codes remain for
//! that start hour and class.

use std::fmt;

use chrono::{DateTime, NaiveDateTime, Utc};
use tessera_model::pin::weakness;
use tessera_model::schedule::{instant_of, standard_offset_seconds};
use tessera_model::{LockId, Tz};
use tessera_protocol::offline::{self, Header, OfflineKey, SLOTS};
use zeroize::Zeroizing;

pub use tessera_protocol::offline::{ACTIVATION_HOURS, OfflineClass, TOLERANCE_SECONDS};
pub use tessera_protocol::wire::OfflineSecret;

use crate::{Error, Result};

const HOUR: i64 = 3_600;

/// The digits of an offline code. A secret: no `Debug` of the digits, wiped on drop.
#[derive(Clone)]
pub struct OfflinePin(Zeroizing<String>);

impl OfflinePin {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for OfflinePin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OfflinePin(<{} digits>)", self.0.len())
    }
}

/// What the owner asks for.
#[derive(Debug, Clone)]
pub struct OfflineRequest {
    pub class: OfflineClass,
    /// When the code starts, in the lock's wall-clock time; `None`: now.
    pub start: Option<NaiveDateTime>,
    /// Who it is for (kept on this device only).
    pub label: String,
}

/// An issued offline code, with what to show the owner before sharing it.
#[derive(Debug, Clone)]
pub struct OfflineCode {
    pub lock_id: LockId,
    pub label: String,
    pub pin: OfflinePin,
    pub class: OfflineClass,
    /// Start hour (in the lock's standard time) and slot: which code of that hour it is.
    pub start_hour: u32,
    pub slot: u8,
    /// The offline secret's epoch: rotating it on the lock revokes the code.
    pub epoch: u32,
    pub time_zone: Tz,
    /// The start the owner asked for, in the lock's wall-clock time.
    pub requested_start: NaiveDateTime,
    /// The code's start: a whole hour of the lock's standard time. Differs from the
    /// request when it did not fall on one (moved later, never earlier, unless the
    /// request was already past).
    pub start: DateTime<Utc>,
    /// When it stops working for good (the end of its last interval).
    pub end: DateTime<Utc>,
    /// The code must be entered for the first time before this, or it never works.
    pub first_use_by: DateTime<Utc>,
    /// Codes still available for this start hour and class on this device.
    pub remaining: u8,
    /// Whether `start` differs from the request.
    pub adjusted: bool,
}

/// Issues an offline code for `lock_id` from its `secret`. `issued` are the slots
/// of the resulting start hour and class this device issued before (the caller
/// looks them up by start hour, so it is a function of the hour).
pub fn issue(
    lock_id: LockId,
    zone: Tz,
    secret: &OfflineSecret,
    request: &OfflineRequest,
    now: DateTime<Utc>,
    issued: impl FnOnce(u32) -> Result<Vec<u8>>,
) -> Result<OfflineCode> {
    let label = tessera_model::code::validate_label(&request.label)?;
    let requested_local = request
        .start
        .unwrap_or_else(|| now.with_timezone(&zone).naive_local());
    let requested = request.start.map_or(now, |local| instant_of(zone, local));
    let offset = secret.standard_offset_seconds;
    if standard_offset_seconds(zone, requested) != offset {
        tracing::warn!(
            zone = zone.name(),
            lock_offset = offset,
            "the lock counts offline hours in another standard offset than its zone's; using the lock's"
        );
    }
    let standard = offline::standard_time(requested.timestamp(), offset);
    // A start already past loses nothing by starting at its hour; a future one moves
    // to the next whole hour, so the code never opens before the owner asked.
    let rounded = if requested <= now {
        standard.div_euclid(HOUR) * HOUR
    } else {
        standard.div_euclid(HOUR) * HOUR + if standard.rem_euclid(HOUR) == 0 { 0 } else { HOUR }
    };
    let start_hour = offline::hour_of(rounded).ok_or_else(|| tessera_model::Error::InvalidInput {
        field: "start",
        reason: "offline codes start in 2020 or later".to_owned(),
    })?;
    let key = OfflineKey::derive(&secret.root, lock_id.as_bytes(), secret.epoch, secret.digits);
    let probe = Header {
        start_hour,
        class: request.class,
        slot: 0,
    };
    let to_utc = |standard_seconds: i64| {
        DateTime::from_timestamp(standard_seconds - i64::from(offset), 0).unwrap_or_default()
    };
    let first_use_by = to_utc(probe.activation_deadline());
    if first_use_by <= now {
        return Err(tessera_model::Error::InvalidInput {
            field: "start",
            reason: format!(
                "a code starting then must be used for the first time by {}, which has passed",
                first_use_by.with_timezone(&zone).format("%Y-%m-%d %H:%M %Z")
            ),
        }
        .into());
    }
    let issued = issued(start_hour)?;
    let usable = |slot: u8, pin: &str| !issued.contains(&slot) && !is_weak(pin);
    let (header, pin) = key
        .issue(start_hour, request.class, usable)
        .ok_or(Error::OfflineQuotaExhausted { slots: SLOTS })?;
    let pin = OfflinePin(Zeroizing::new(pin));
    let remaining = (header.slot + 1..SLOTS)
        .filter(|slot| {
            let other = Zeroizing::new(key.pin(Header {
                slot: *slot,
                ..header
            }));
            usable(*slot, &other)
        })
        .count();
    Ok(OfflineCode {
        lock_id,
        label,
        pin,
        class: request.class,
        start_hour,
        slot: header.slot,
        epoch: secret.epoch,
        time_zone: zone,
        requested_start: requested_local,
        start: to_utc(header.start()),
        end: to_utc(header.end()),
        first_use_by,
        remaining: u8::try_from(remaining).unwrap_or(0),
        adjusted: rounded != standard,
    })
}

/// The PIN of an issued code, derived again from the lock's secret.
pub fn pin_of(
    lock_id: LockId,
    secret: &OfflineSecret,
    start_hour: u32,
    class: OfflineClass,
    slot: u8,
) -> OfflinePin {
    let key = OfflineKey::derive(&secret.root, lock_id.as_bytes(), secret.epoch, secret.digits);
    OfflinePin(Zeroizing::new(key.pin(Header {
        start_hour,
        class,
        slot,
    })))
}

fn is_weak(pin: &str) -> bool {
    let digits: Zeroizing<Vec<u8>> = Zeroizing::new(pin.bytes().map(|b| b.wrapping_sub(b'0')).collect());
    weakness(&digits).is_some()
}

/// The classes by their short names (as the CLI takes them).
pub const CLASS_NAMES: [(OfflineClass, &str); 15] = [
    (OfflineClass::OneTime, "one-time"),
    (OfflineClass::Hour1, "1h"),
    (OfflineClass::Hours2, "2h"),
    (OfflineClass::Hours4, "4h"),
    (OfflineClass::Hours8, "8h"),
    (OfflineClass::Hours12, "12h"),
    (OfflineClass::Day1, "1d"),
    (OfflineClass::Days2, "2d"),
    (OfflineClass::Days3, "3d"),
    (OfflineClass::Week1, "1w"),
    (OfflineClass::Weeks2, "2w"),
    (OfflineClass::Daily4HoursFor7Days, "daily-4h"),
    (OfflineClass::Daily8HoursFor30Days, "daily-8h"),
    (OfflineClass::Weekdays10HoursFor4Weeks, "weekdays"),
    (OfflineClass::WeekendsFor4Weeks, "weekends"),
];

pub fn class_name(class: OfflineClass) -> &'static str {
    CLASS_NAMES
        .iter()
        .find(|(c, _)| *c == class)
        .map_or("unknown", |(_, name)| name)
}

pub fn parse_class(name: &str) -> Option<OfflineClass> {
    let name = name.trim().to_ascii_lowercase();
    CLASS_NAMES
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(class, _)| *class)
}

/// What a class grants, in words.
pub fn describe_class(class: OfflineClass) -> &'static str {
    match class {
        OfflineClass::OneTime => "one entry within 6 hours of the start",
        OfflineClass::Hour1 => "1 hour from the start",
        OfflineClass::Hours2 => "2 hours from the start",
        OfflineClass::Hours4 => "4 hours from the start",
        OfflineClass::Hours8 => "8 hours from the start",
        OfflineClass::Hours12 => "12 hours from the start",
        OfflineClass::Day1 => "1 day from the start",
        OfflineClass::Days2 => "2 days from the start",
        OfflineClass::Days3 => "3 days from the start",
        OfflineClass::Week1 => "1 week from the start",
        OfflineClass::Weeks2 => "2 weeks from the start",
        OfflineClass::Daily4HoursFor7Days => "every day for 4 hours from the start hour, for 7 days",
        OfflineClass::Daily8HoursFor30Days => "every day for 8 hours from the start hour, for 30 days",
        OfflineClass::Weekdays10HoursFor4Weeks => {
            "Monday to Friday for 10 hours from the start hour, for 4 weeks"
        }
        OfflineClass::WeekendsFor4Weeks => "Saturdays and Sundays, all day, for 4 weeks",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::{NaiveDate, TimeZone};
    use tessera_protocol::offline::{Candidates, hmacs_per_entry};

    use super::*;

    const LOCK: [u8; 16] = [0xa0; 16];

    fn secret(epoch: u32) -> OfflineSecret {
        OfflineSecret {
            root: [0x5a; 32],
            epoch,
            digits: 10,
            // Berlin's standard time: UTC+1.
            standard_offset_seconds: 3_600,
        }
    }

    fn local(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn request(class: OfflineClass, start: &str) -> OfflineRequest {
        OfflineRequest {
            class,
            start: Some(local(start)),
            label: "Courier".to_owned(),
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        Utc.from_utc_datetime(&local(s))
    }

    /// What the lock does: the candidates of the hour the entry is made in.
    fn lock_accepts(secret: &OfflineSecret, pin: &str, at: DateTime<Utc>) -> bool {
        let key = OfflineKey::derive(&secret.root, &LOCK, secret.epoch, secret.digits);
        let now = offline::standard_time(at.timestamp(), secret.standard_offset_seconds);
        let candidates: Candidates = key.candidates(now);
        assert!(candidates.len() <= hmacs_per_entry());
        candidates.matching(pin, now).next().is_some()
    }

    #[test]
    fn a_summer_start_in_berlin_counts_in_standard_time_and_the_lock_accepts_it() {
        let zone = chrono_tz::Europe::Berlin;
        let now = utc("2031-06-30 12:00");
        // 14:00 CEST is 12:00 UTC, 13:00 in Berlin's standard time.
        let code = issue(
            LockId::from_bytes(LOCK),
            zone,
            &secret(0),
            &request(OfflineClass::Hours4, "2031-07-01 14:00"),
            now,
            |_| Ok(Vec::new()),
        )
        .unwrap();
        assert_eq!(code.start, utc("2031-07-01 12:00"));
        assert_eq!(code.end, utc("2031-07-01 16:00"));
        assert_eq!(
            code.first_use_by,
            utc("2031-07-01 16:00"),
            "a 4-hour code must start in its 4 hours"
        );
        assert!(!code.adjusted);
        assert_eq!(code.pin.expose().len(), 10);
        assert!(format!("{code:?}").contains("OfflinePin(<10 digits>)"));
        assert!(!format!("{code:?}").contains(code.pin.expose()));
        assert!(
            !lock_accepts(&secret(0), code.pin.expose(), utc("2031-07-01 11:40")),
            "too early"
        );
        assert!(lock_accepts(
            &secret(0),
            code.pin.expose(),
            utc("2031-07-01 12:05")
        ));
        assert!(lock_accepts(
            &secret(0),
            code.pin.expose(),
            utc("2031-07-01 15:55")
        ));
        assert!(
            !lock_accepts(&secret(0), code.pin.expose(), utc("2031-07-01 16:30")),
            "over"
        );
        assert!(
            !lock_accepts(&secret(1), code.pin.expose(), utc("2031-07-01 12:05")),
            "a new epoch revokes it"
        );
    }

    #[test]
    fn slots_are_not_issued_twice_and_the_quota_runs_out() {
        let zone = chrono_tz::Europe::Berlin;
        let now = utc("2031-06-30 12:00");
        let lock = LockId::from_bytes(LOCK);
        let mut issued: Vec<u8> = Vec::new();
        let mut pins = Vec::new();
        loop {
            let result = issue(
                lock,
                zone,
                &secret(0),
                &request(OfflineClass::OneTime, "2031-07-01 09:00"),
                now,
                |_| Ok(issued.clone()),
            );
            match result {
                Ok(code) => {
                    assert!(!issued.contains(&code.slot));
                    issued.push(code.slot);
                    pins.push(code.pin.expose().to_owned());
                    let left = (code.slot + 1..SLOTS).filter(|s| !issued.contains(s)).count();
                    assert!(usize::from(code.remaining) <= left);
                }
                Err(Error::OfflineQuotaExhausted { slots }) => {
                    assert_eq!(slots, SLOTS);
                    break;
                }
                Err(other) => panic!("{other}"),
            }
        }
        assert!(!pins.is_empty() && pins.len() <= usize::from(SLOTS));
        pins.dedup();
        assert_eq!(pins.len(), issued.len(), "every code differs");
    }

    #[test]
    fn a_future_start_moves_to_the_next_whole_hour_a_past_one_to_its_own() {
        // Kathmandu is UTC+5:45: hours are counted in its own standard time, so a
        // whole local hour is a whole hour there, though not a whole UTC hour.
        let zone = chrono_tz::Asia::Kathmandu;
        let kathmandu = OfflineSecret {
            standard_offset_seconds: 5 * 3_600 + 45 * 60,
            ..secret(0)
        };
        let now = utc("2031-06-30 00:00");
        let code = issue(
            LockId::from_bytes(LOCK),
            zone,
            &kathmandu,
            &request(OfflineClass::Hour1, "2031-07-01 09:00"),
            now,
            |_| Ok(Vec::new()),
        )
        .unwrap();
        assert!(!code.adjusted);
        assert_eq!(code.start, utc("2031-07-01 03:15"));
        let code = issue(
            LockId::from_bytes(LOCK),
            zone,
            &kathmandu,
            &request(OfflineClass::Hour1, "2031-07-01 09:20"),
            now,
            |_| Ok(Vec::new()),
        )
        .unwrap();
        assert!(code.adjusted);
        assert_eq!(
            code.start.with_timezone(&zone).naive_local(),
            local("2031-07-01 10:00")
        );
        // Now, with no start: the current hour, which only loses minutes already past.
        let now = utc("2031-07-01 03:20");
        let code = issue(
            LockId::from_bytes(LOCK),
            zone,
            &kathmandu,
            &OfflineRequest {
                class: OfflineClass::Hour1,
                start: None,
                label: "Now".to_owned(),
            },
            now,
            |_| Ok(Vec::new()),
        )
        .unwrap();
        assert!(code.start <= now && now < code.start + chrono::Duration::hours(1));
    }

    #[test]
    fn a_start_whose_first_use_deadline_passed_is_refused() {
        let error = issue(
            LockId::from_bytes(LOCK),
            chrono_tz::Europe::Berlin,
            &secret(0),
            &request(OfflineClass::Day1, "2031-06-01 09:00"),
            utc("2031-06-30 12:00"),
            |_| Ok(Vec::new()),
        )
        .unwrap_err();
        assert!(matches!(
            error,
            Error::Domain(tessera_model::Error::InvalidInput { field: "start", .. })
        ));
        // 23:00 in Berlin's standard time, the hour before hour zero.
        let before_2020 = NaiveDate::from_ymd_opt(2019, 12, 31)
            .unwrap()
            .and_hms_opt(23, 0, 0)
            .unwrap();
        let error = issue(
            LockId::from_bytes(LOCK),
            chrono_tz::Europe::Berlin,
            &secret(0),
            &OfflineRequest {
                class: OfflineClass::Hour1,
                start: Some(before_2020),
                label: "Old".to_owned(),
            },
            utc("2019-12-01 00:00"),
            |_| Ok(Vec::new()),
        )
        .unwrap_err();
        assert!(matches!(
            error,
            Error::Domain(tessera_model::Error::InvalidInput { field: "start", .. })
        ));
    }

    #[test]
    fn class_names_round_trip() {
        for class in OfflineClass::ALL {
            assert_eq!(parse_class(class_name(class)), Some(class));
            assert!(!describe_class(class).is_empty());
        }
        assert_eq!(parse_class("3h"), None);
    }
}
