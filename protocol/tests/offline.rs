//! Offline codes: known answers shared with lock makers, the lock's view of a code's
//! life, epoch revocation, and the false-accept rate against its bound.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};
use tessera_protocol::offline::{
    ACTIVATION_HOURS, Header, OfflineClass, OfflineKey, SLOTS, TOLERANCE_SECONDS, hmacs_per_entry, hour_of,
};

const ROOT: [u8; 32] = [0x5a; 32];
const LOCK: [u8; 16] = [
    0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
];
const VECTORS: &str = include_str!("vectors/offline-codes-v1.json");
const HOUR: i64 = 3_600;

/// 2031-03-28T09:00 in the lock's standard time.
fn start_hour() -> u32 {
    hour_of(1_932_454_800).unwrap()
}

fn vectors() -> Value {
    let mut cases = Vec::new();
    for (epoch, digits) in [(0u32, 10u8), (1, 10), (0, 12)] {
        let key = OfflineKey::derive(&ROOT, &LOCK, epoch, digits);
        for class in OfflineClass::ALL {
            for slot in [0u8, 3] {
                let header = Header {
                    start_hour: start_hour(),
                    class,
                    slot,
                };
                cases.push(json!({
                    "epoch": epoch, "digits": digits, "start_hour": header.start_hour,
                    "class": class.code(), "slot": slot, "pin": key.pin(header),
                }));
            }
        }
    }
    json!({
        "format": "tessera offline codes v1",
        "root": hex(&ROOT),
        "lock_id": hex(&LOCK),
        "cases": cases,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn known_answer_vectors() {
    let expected = vectors();
    if std::env::var_os("TESSERA_WRITE_VECTORS").is_some() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/offline-codes-v1.json");
        std::fs::write(path, serde_json::to_string_pretty(&expected).unwrap() + "\n").unwrap();
        return;
    }
    let stored: Value = serde_json::from_str(VECTORS).unwrap();
    assert_eq!(
        stored, expected,
        "the offline-code algorithm changed: bump its version"
    );
    for case in stored["cases"].as_array().unwrap() {
        assert_eq!(
            case["pin"].as_str().unwrap().len() as u64,
            case["digits"].as_u64().unwrap()
        );
    }
}

/// The lock's side of the vectors: each stored PIN is found by the verifier, as
/// exactly its header, at the first minute its class grants before its first-use
/// deadline (a weekend code issued on a Friday: Saturday 00:01).
#[test]
fn the_verifier_finds_every_known_answer() {
    let stored: Value = serde_json::from_str(VECTORS).unwrap();
    for case in stored["cases"].as_array().unwrap() {
        let number = |field: &str| case[field].as_u64().unwrap();
        let key = OfflineKey::derive(
            &ROOT,
            &LOCK,
            u32::try_from(number("epoch")).unwrap(),
            u8::try_from(number("digits")).unwrap(),
        );
        let header = Header {
            start_hour: u32::try_from(number("start_hour")).unwrap(),
            class: OfflineClass::from_code(u8::try_from(number("class")).unwrap()).unwrap(),
            slot: u8::try_from(number("slot")).unwrap(),
        };
        let at = (0..i64::from(ACTIVATION_HOURS))
            .map(|hour| header.start() + hour * HOUR + 60)
            .find(|at| header.class.grants_at(header.start(), *at, 0))
            .unwrap();
        let pin = case["pin"].as_str().unwrap();
        let found: Vec<Header> = key.candidates(at).matching(pin, at).collect();
        assert_eq!(found, [header], "{case}");
    }
}

#[test]
fn a_code_opens_from_its_start_until_its_activation_deadline_then_while_it_lasts() {
    let key = OfflineKey::derive(&ROOT, &LOCK, 0, 10);
    let (header, pin) = key
        .issue(start_hour(), OfflineClass::Hours4, |_, _| true)
        .unwrap();
    let start = header.start();
    let accepts = |at: i64| key.candidates(at).matching(&pin, at).any(|h| h == header);
    assert!(!accepts(start - TOLERANCE_SECONDS - 60), "not before its start");
    assert!(
        accepts(start - TOLERANCE_SECONDS + 60),
        "a slow lock clock is forgiven"
    );
    assert!(accepts(start + 3 * HOUR));
    assert!(
        !accepts(start + 4 * HOUR + TOLERANCE_SECONDS + 60),
        "not after its end"
    );

    // A week-long code must be used for the first time within a day of its start.
    let (week, pin) = key.issue(start_hour(), OfflineClass::Week1, |_, _| true).unwrap();
    let first_use = |at: i64| key.candidates(at).matching(&pin, at).any(|h| h == week);
    assert!(first_use(week.start() + 23 * HOUR));
    assert!(!first_use(
        week.start() + i64::from(ACTIVATION_HOURS) * HOUR + TOLERANCE_SECONDS + HOUR
    ));
    // (Once used, the lock remembers the code until `week.end()`: that is the lock's state.)
    assert_eq!(week.end(), week.start() + 7 * 24 * HOUR);
}

#[test]
fn recurring_classes_open_only_in_their_hours() {
    let start = Header {
        start_hour: start_hour(),
        class: OfflineClass::Daily4HoursFor7Days,
        slot: 0,
    }
    .start();
    let daily = OfflineClass::Daily4HoursFor7Days;
    assert!(daily.grants_at(start, start + 2 * 24 * HOUR + HOUR, 0));
    assert!(!daily.grants_at(start, start + 2 * 24 * HOUR + 5 * HOUR, 0));
    assert!(!daily.grants_at(start, start + 8 * 24 * HOUR, 0));
    // 2031-03-28 is a Friday: Monday the 31st is in, Saturday and Sunday out.
    let weekdays = OfflineClass::Weekdays10HoursFor4Weeks;
    assert!(weekdays.grants_at(start, start + HOUR, 0));
    assert!(!weekdays.grants_at(start, start + 24 * HOUR + HOUR, 0));
    assert!(weekdays.grants_at(start, start + 3 * 24 * HOUR + HOUR, 0));
    let weekends = OfflineClass::WeekendsFor4Weeks;
    assert!(!weekends.grants_at(start, start + HOUR, 0));
    assert!(weekends.grants_at(start, start + 24 * HOUR + HOUR, 0));
}

#[test]
fn rotating_the_epoch_revokes_every_earlier_code() {
    let old = OfflineKey::derive(&ROOT, &LOCK, 0, 10);
    let new = OfflineKey::derive(&ROOT, &LOCK, 1, 10);
    let (header, pin) = old.issue(start_hour(), OfflineClass::Day1, |_, _| true).unwrap();
    let at = header.start() + HOUR;
    assert!(old.candidates(at).matching(&pin, at).next().is_some());
    assert!(new.candidates(at).matching(&pin, at).next().is_none());
}

#[test]
fn the_issuer_skips_weak_or_taken_slots_and_runs_out_after_four() {
    let key = OfflineKey::derive(&ROOT, &LOCK, 0, 10);
    let mut taken = Vec::new();
    for _ in 0..SLOTS {
        let (header, _) = key
            .issue(start_hour(), OfflineClass::OneTime, |slot, _| {
                !taken.contains(&slot)
            })
            .unwrap();
        taken.push(header.slot);
    }
    assert_eq!(taken, vec![0, 1, 2, 3]);
    assert!(
        key.issue(start_hour(), OfflineClass::OneTime, |slot, _| !taken
            .contains(&slot))
            .is_none()
    );
    assert_eq!(format!("{key:?}"), "OfflineKey { digits: 10, .. }");
}

/// Accepted false entries against the expected count `n * valid / 10^d`, where `valid`
/// counts the headers a first use could match at that moment.
fn false_accepts(digits: u8, entries: u32) -> (u32, f64) {
    let key = OfflineKey::derive(&ROOT, &LOCK, 0, digits);
    let now = Header {
        start_hour: start_hour(),
        class: OfflineClass::OneTime,
        slot: 0,
    }
    .start()
        + 20 * 60;
    let candidates = key.candidates(now);
    assert!(
        candidates.len() <= hmacs_per_entry(),
        "at most {} HMACs: {}",
        hmacs_per_entry(),
        candidates.len()
    );
    let valid = (0..1u32)
        .flat_map(|_| {
            let all: Vec<Header> = (hour_of(now - 25 * HOUR - TOLERANCE_SECONDS).unwrap()
                ..=hour_of(now + TOLERANCE_SECONDS).unwrap())
                .flat_map(|h| {
                    OfflineClass::ALL.into_iter().flat_map(move |class| {
                        (0..SLOTS).map(move |slot| Header {
                            start_hour: h,
                            class,
                            slot,
                        })
                    })
                })
                .collect();
            all
        })
        .filter(|header| {
            candidates
                .matching(&key.pin(*header), now)
                .any(|found| found == *header)
        })
        .count();
    let mut random = StdRng::seed_from_u64(u64::from(digits));
    let modulus = 10u64.pow(u32::from(digits));
    let accepted = (0..entries)
        .filter(|_| {
            let entry = format!(
                "{:0width$}",
                random.random_range(0..modulus),
                width = usize::from(digits)
            );
            candidates.matching(&entry, now).next().is_some()
        })
        .count();
    (
        accepted as u32,
        f64::from(entries) * valid as f64 / modulus as f64,
    )
}

#[test]
fn a_million_random_entries_stay_within_the_computed_bound() {
    // Ten digits: about 0.1 expected; Poisson, so allow a generous tail.
    let (accepted, expected) = false_accepts(10, 1_000_000);
    let bound = expected + 6.0 * expected.sqrt() + 6.0;
    assert!(
        f64::from(accepted) <= bound,
        "{accepted} accepted, bound {bound:.2} (expected {expected:.3})"
    );
    // Six digits make the rate visible: it must match the arithmetic, not just be small.
    let (accepted, expected) = false_accepts(6, 1_000_000);
    let spread = 6.0 * expected.sqrt();
    assert!(
        (f64::from(accepted) - expected).abs() <= spread,
        "{accepted} accepted, expected {expected:.1} +/- {spread:.1}"
    );
}
