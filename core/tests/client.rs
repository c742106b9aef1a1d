//! `TesseraClient`: every bad input with its exact error, and the happy paths.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{Datelike, Weekday};
use common::*;
use tessera_core::model::{
    self, CodeId, CodeStatus, CompileOptions, Keypad, LockCapabilities, LockId, PinConstraint, PinLengths,
    Schedule, ScheduleKind, WeakPinRule, Weekdays,
};
use tessera_core::store::Operation;
use tessera_core::{CodeDraft, Error, PinRequest, TesseraClient};

fn setup(capabilities: LockCapabilities) -> (tempfile::TempDir, TesseraClient, model::Lock) {
    let dir = tempfile::tempdir().unwrap();
    let client = open(dir.path());
    let lock = add_lock(&client, capabilities);
    (dir, client, lock)
}

/// The domain error inside `result`, or a panic naming what came instead.
#[track_caller]
fn domain_error<T: std::fmt::Debug>(result: Result<T, Error>) -> model::Error {
    match result {
        Err(Error::Domain(error)) => error,
        other => panic!("expected a domain error, got {other:?}"),
    }
}

#[track_caller]
fn assert_not_found<T: std::fmt::Debug>(result: Result<T, Error>, what: &str, id: &str) {
    match result {
        Err(Error::NotFound { what: w, id: i }) => assert_eq!((w, i.as_str()), (what, id)),
        other => panic!("expected NotFound, got {other:?}"),
    }
}

fn live_codes(client: &TesseraClient, lock: LockId) -> usize {
    client
        .codes(lock)
        .unwrap()
        .iter()
        .filter(|c| c.code.status == CodeStatus::Active)
        .count()
}

// ---------------------------------------------------------------- PINs

#[test]
fn weak_owner_pins_name_the_rule_they_break() {
    let (_dir, client, lock) = setup(LockCapabilities::default());
    let cases = [
        ("1111", WeakPinRule::SameDigit),
        ("000000", WeakPinRule::SameDigit),
        ("1234", WeakPinRule::Sequence),
        ("7890", WeakPinRule::Sequence),
        ("654321", WeakPinRule::Sequence),
        ("1212", WeakPinRule::RepeatedBlock),
        ("112233", WeakPinRule::RepeatedBlock),
        ("1987", WeakPinRule::Year),
        ("0412", WeakPinRule::Date),
        ("241287", WeakPinRule::Date),
        ("19870412", WeakPinRule::Date),
        ("2580", WeakPinRule::KeypadPattern),
        ("1397", WeakPinRule::KeypadPattern),
        ("147258", WeakPinRule::KeypadPattern),
        ("5150", WeakPinRule::CommonPin),
        ("1337", WeakPinRule::CommonPin),
    ];
    for (digits, rule) in cases {
        let error = domain_error(client.create_code(lock.id, chosen("Guest", Schedule::Permanent, digits)));
        assert_eq!(error, model::Error::WeakPin { rule }, "{digits}");
    }
    assert_eq!(live_codes(&client, lock.id), 0);
}

#[test]
fn a_pin_clashing_with_a_live_code_names_that_code() {
    let (_dir, client, lock) = setup(LockCapabilities::default());
    let cleaner = client
        .create_code(lock.id, chosen("Cleaner", Schedule::Permanent, "482916"))
        .unwrap();
    let plumber = client
        .create_code(lock.id, chosen("Plumber", window(2, 4), "73051"))
        .unwrap();
    let cases = [
        // Same digits.
        ("482916", Schedule::Permanent, cleaner.code.id),
        ("482916", window(10, 1), cleaner.code.id),
        // A prefix or a suffix: a keypad without Enter opens on either.
        ("4829", window(10, 1), cleaner.code.id),
        ("2916", window(10, 1), cleaner.code.id),
        ("48291657", window(10, 1), cleaner.code.id),
        ("73051", window(2, 1), plumber.code.id),
        ("7305", window(2, 1), plumber.code.id),
        ("3051", Schedule::Permanent, plumber.code.id),
    ];
    for (digits, schedule, other_code) in cases {
        let error = domain_error(client.create_code(lock.id, chosen("Guest", schedule, digits)));
        assert_eq!(error, model::Error::PinConflict { other_code }, "{digits}");
    }
}

#[test]
fn two_digits_per_button_keypads_compare_button_presses() {
    let (_dir, client, lock) = setup(LockCapabilities {
        keypad: Keypad::TwoDigitsPerButton,
        ..LockCapabilities::default()
    });
    let first = client
        .create_code(lock.id, chosen("Cleaner", Schedule::Permanent, "482916"))
        .unwrap();
    // 3|4, 7|8, 1|2, 9|0, 1|2, 5|6: the same presses as 482916.
    let error = domain_error(client.create_code(lock.id, chosen("Guest", Schedule::Permanent, "381916")));
    assert_eq!(
        error,
        model::Error::PinConflict {
            other_code: first.code.id
        }
    );
}

#[test]
fn codes_that_are_never_live_together_may_share_digits() {
    let (_dir, client, lock) = setup(LockCapabilities::default());
    let a = client
        .create_code(lock.id, chosen("Monday", window(3, 2), "482916"))
        .unwrap();
    // Same digits, a window a day later.
    let b = client
        .create_code(lock.id, chosen("Tuesday", window(4, 2), "482916"))
        .unwrap();
    // Back to back with the first: half-open windows do not meet.
    let start = at(3, 12, 0);
    let c = client
        .create_code(
            lock.id,
            chosen(
                "Right after",
                Schedule::Window {
                    start,
                    end: start + chrono::Duration::hours(1),
                },
                "482916",
            ),
        )
        .unwrap();
    // Weekly codes on different weekdays, over the same months.
    let weekly = |weekday: Weekday| Schedule::Weekly {
        days: [weekday].into_iter().collect::<Weekdays>(),
        start_time: time(8, 0),
        end_time: time(18, 0),
        first_date: day(30),
        last_date: day(200),
    };
    let d = client
        .create_code(lock.id, chosen("Mondays", weekly(Weekday::Mon), "735819"))
        .unwrap();
    let e = client
        .create_code(lock.id, chosen("Tuesdays", weekly(Weekday::Tue), "735819"))
        .unwrap();
    for code in [&a, &b, &c, &d, &e] {
        assert_eq!(client.code(code.code.id).unwrap().code.status, CodeStatus::Active);
    }
    // A window on a Wednesday within the weekly codes' months, and one on a Monday
    // evening after their hours: neither meets them.
    let weekday_after =
        |weekday: Weekday, from: i64| (from..).find(|d| day(*d).weekday() == weekday).unwrap();
    let wednesday = weekday_after(Weekday::Wed, 60);
    let monday = weekday_after(Weekday::Mon, 60);
    let on = |d: i64, from: u32, to: u32| Schedule::Window {
        start: at(d, from, 0),
        end: at(d, to, 0),
    };
    client
        .create_code(lock.id, chosen("Wednesday", on(wednesday, 0, 23), "735819"))
        .unwrap();
    client
        .create_code(lock.id, chosen("Monday night", on(monday, 18, 23), "735819"))
        .unwrap();
    // But an hour inside Monday's, a permanent code, or a weekly code on the same
    // days clashes with the first code it meets.
    let error =
        domain_error(client.create_code(lock.id, chosen("Monday noon", on(monday, 12, 13), "735819")));
    assert_eq!(
        error,
        model::Error::PinConflict {
            other_code: d.code.id
        }
    );
    let error = domain_error(client.create_code(lock.id, chosen("Always", Schedule::Permanent, "735819")));
    assert_eq!(
        error,
        model::Error::PinConflict {
            other_code: d.code.id
        }
    );
    let error =
        domain_error(client.create_code(lock.id, chosen("Tuesdays too", weekly(Weekday::Tue), "735819")));
    assert_eq!(
        error,
        model::Error::PinConflict {
            other_code: e.code.id
        }
    );
    let error = domain_error(client.create_code(lock.id, chosen("All week", window(3, 30), "482916")));
    assert_eq!(
        error,
        model::Error::PinConflict {
            other_code: a.code.id
        }
    );
    let error =
        domain_error(client.create_code(lock.id, chosen("Mondays too", weekly(Weekday::Mon), "7358")));
    assert_eq!(
        error,
        model::Error::PinConflict {
            other_code: d.code.id
        }
    );
}

#[test]
fn a_revoked_codes_digits_are_free_again() {
    let (_dir, client, lock) = setup(LockCapabilities::default());
    let old = client
        .create_code(lock.id, chosen("Old cleaner", Schedule::Permanent, "482916"))
        .unwrap();
    client.revoke_code(old.code.id).unwrap();
    let new = client
        .create_code(lock.id, chosen("New cleaner", Schedule::Permanent, "482916"))
        .unwrap();
    assert_eq!(new.code.pin.expose(), "482916");
    assert_ne!(new.code.id, old.code.id);
}

#[test]
fn pin_lengths_outside_the_locks_range_are_refused() {
    let (_dir, client, lock) = setup(LockCapabilities {
        pin_lengths: PinLengths { min: 5, max: 7 },
        ..LockCapabilities::default()
    });
    for digits in ["4829", "48291637", "730519482916"] {
        let error = domain_error(client.create_code(lock.id, chosen("Guest", Schedule::Permanent, digits)));
        assert_eq!(
            error,
            model::Error::PinLength {
                length: digits.len(),
                min: 5,
                max: 7
            },
            "{digits}"
        );
    }
    for length in [4u8, 8, 12, 13] {
        let request = CodeDraft {
            pin: PinRequest::Generate { length: Some(length) },
            ..generated("Guest", Schedule::Permanent)
        };
        let error = domain_error(client.create_code(lock.id, request));
        assert_eq!(
            error,
            model::Error::PinLength {
                length: length.into(),
                min: 5,
                max: 7
            }
        );
    }
    assert_eq!(live_codes(&client, lock.id), 0);
}

#[test]
fn the_locks_constraints_are_enforced() {
    let constraints = vec![
        PinConstraint::NoZeros,
        PinConstraint::CannotStartWith {
            prefix: "9".to_owned(),
        },
        PinConstraint::NoSequentialRun { length: 3 },
        PinConstraint::NoTripleRepeat,
        PinConstraint::MinDistinctDigits { count: 4 },
    ];
    let (_dir, client, lock) = setup(LockCapabilities {
        constraints: constraints.clone(),
        ..LockCapabilities::default()
    });
    let cases = [
        ("482906", &constraints[0]),
        ("948271", &constraints[1]),
        ("481236", &constraints[2]),
        ("486548", &constraints[2]),
        ("482226", &constraints[3]),
        ("484848", &constraints[4]),
    ];
    for (digits, constraint) in cases {
        let error = domain_error(client.create_code(lock.id, chosen("Guest", Schedule::Permanent, digits)));
        assert_eq!(
            error,
            model::Error::ConstraintViolated {
                constraint: constraint.clone()
            },
            "{digits}"
        );
    }
    // Generated PINs obey every constraint.
    for _ in 0..20 {
        let code = client
            .create_code(lock.id, generated("Guest", Schedule::Permanent))
            .unwrap();
        let digits: Vec<u8> = code.code.pin.expose().bytes().map(|b| b - b'0').collect();
        assert!(!digits.contains(&0));
        assert_ne!(digits[0], 9);
        assert!(!digits.windows(3).any(|w| w[0] == w[1] && w[1] == w[2]));
        let run = |w: &[u8]| {
            let (a, b) = (
                i16::from(w[1]) - i16::from(w[0]),
                i16::from(w[2]) - i16::from(w[1]),
            );
            a == b && a.abs() == 1
        };
        assert!(!digits.windows(3).any(run), "{}", code.code.pin.len());
        let mut distinct = digits.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert!(distinct.len() >= 4, "{:?}", code.code.pin);
    }
}

// ---------------------------------------------------------------- capacity, ids, zones

#[test]
fn a_full_lock_refuses_one_more_code() {
    let (_dir, client, lock) = setup(LockCapabilities {
        max_codes: 3,
        ..LockCapabilities::default()
    });
    let codes: Vec<_> = (0..3)
        .map(|i| {
            client
                .create_code(lock.id, generated("Guest", window(i + 1, 2)))
                .unwrap()
        })
        .collect();
    let error = domain_error(client.create_code(lock.id, generated("Fourth", Schedule::Permanent)));
    assert_eq!(error, model::Error::CapacityExceeded { max: 3 });
    // A revoked code frees its slot.
    client.revoke_code(codes[0].code.id).unwrap();
    client
        .create_code(lock.id, generated("Fourth", Schedule::Permanent))
        .unwrap();
    let error = domain_error(client.create_code(lock.id, generated("Fifth", Schedule::Permanent)));
    assert_eq!(error, model::Error::CapacityExceeded { max: 3 });
}

#[test]
fn unknown_ids_are_not_found() {
    let (_dir, client, lock) = setup(LockCapabilities::default());
    let code = client
        .create_code(lock.id, generated("Guest", Schedule::Permanent))
        .unwrap();
    let no_lock = LockId::new();
    let no_code = CodeId::new();
    let lock_id = no_lock.to_string();
    let code_id = no_code.to_string();
    assert_not_found(client.lock(no_lock), "lock", &lock_id);
    assert_not_found(client.codes(no_lock), "lock", &lock_id);
    assert_not_found(
        client.create_code(no_lock, generated("Guest", Schedule::Permanent)),
        "lock",
        &lock_id,
    );
    assert_not_found(
        client.compile_schedule(no_lock, &Schedule::Permanent, CompileOptions::default()),
        "lock",
        &lock_id,
    );
    assert_not_found(client.code(no_code), "code", &code_id);
    assert_not_found(client.revoke_code(no_code), "code", &code_id);
    // A code id is not a lock id, nor the other way round.
    let as_lock = LockId::from_uuid(*code.code.id.as_uuid());
    assert_not_found(client.codes(as_lock), "lock", &code.code.id.to_string());
    assert_not_found(
        client.code(CodeId::from_uuid(*lock.id.as_uuid())),
        "code",
        &lock.id.to_string(),
    );
    // Nothing was written by the failed calls.
    assert_eq!(client.pending_mutations().unwrap().len(), 2);
}

#[test]
fn lock_inputs_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let client = open(dir.path());
    let error = domain_error(client.add_lock(tessera_core::NewLock {
        time_zone: "Mars/Olympus_Mons".to_owned(),
        ..new_lock("Door", LockCapabilities::default())
    }));
    assert_eq!(
        error,
        model::Error::UnknownTimeZone {
            zone: "Mars/Olympus_Mons".to_owned()
        }
    );
    for name in ["", "   ", &"x".repeat(81)] {
        let error = domain_error(client.add_lock(new_lock(name, LockCapabilities::default())));
        assert!(
            matches!(
                error,
                model::Error::InvalidInput {
                    field: "lock name",
                    ..
                }
            ),
            "{name:?}: {error:?}"
        );
    }
    let bad_capabilities = [
        (
            LockCapabilities {
                pin_lengths: PinLengths { min: 6, max: 4 },
                ..LockCapabilities::default()
            },
            "PIN lengths",
        ),
        (
            LockCapabilities {
                max_codes: 0,
                ..LockCapabilities::default()
            },
            "max codes",
        ),
        (
            LockCapabilities {
                schedule_kinds: Vec::new(),
                ..LockCapabilities::default()
            },
            "schedule kinds",
        ),
    ];
    for (capabilities, field) in bad_capabilities {
        let error = domain_error(client.add_lock(new_lock("Door", capabilities)));
        assert!(
            matches!(error, model::Error::InvalidInput { field: f, .. } if f == field),
            "{error:?}"
        );
    }
    assert!(client.locks().unwrap().is_empty());
    assert!(client.pending_mutations().unwrap().is_empty());
    // The name is trimmed.
    let lock = client
        .add_lock(new_lock("  Garage  ", LockCapabilities::default()))
        .unwrap();
    assert_eq!(lock.name, "Garage");
    assert_eq!(lock.time_zone, model::Tz::Europe__Berlin);
}

// ---------------------------------------------------------------- code inputs

#[test]
fn labels_must_be_printable_non_empty_and_short() {
    let (_dir, client, lock) = setup(LockCapabilities::default());
    let too_long = "x".repeat(81);
    for label in [
        "",
        "  \t ",
        too_long.as_str(),
        "Anna\u{7}",
        "An\nna",
        "Anna\u{1b}[31m",
    ] {
        let error = domain_error(client.create_code(lock.id, generated(label, Schedule::Permanent)));
        assert!(
            matches!(error, model::Error::InvalidInput { field: "label", .. }),
            "{label:?}: {error:?}"
        );
    }
    // 80 characters (not bytes) is fine, and labels are trimmed.
    let longest = "ä".repeat(80);
    let code = client
        .create_code(lock.id, generated(&format!("  {longest} "), Schedule::Permanent))
        .unwrap();
    assert_eq!(code.code.label, longest);
    assert_eq!(live_codes(&client, lock.id), 1);
}

#[test]
fn max_uses_must_be_one_to_ten_thousand() {
    let (_dir, client, lock) = setup(LockCapabilities::default());
    for max_uses in [0, 10_001, u32::MAX] {
        let request = CodeDraft {
            max_uses: Some(max_uses),
            ..generated("Guest", Schedule::Permanent)
        };
        let error = domain_error(client.create_code(lock.id, request));
        assert!(
            matches!(
                error,
                model::Error::InvalidInput {
                    field: "max uses",
                    ..
                }
            ),
            "{max_uses}: {error:?}"
        );
    }
    for max_uses in [1, 10_000] {
        let request = CodeDraft {
            max_uses: Some(max_uses),
            ..generated("Guest", window(1, 1))
        };
        assert_eq!(
            client.create_code(lock.id, request).unwrap().code.max_uses,
            Some(max_uses)
        );
    }
}

#[test]
fn windows_must_end_after_they_start_and_after_now() {
    let (_dir, client, lock) = setup(LockCapabilities::default());
    let backwards = [
        Schedule::Window {
            start: at(5, 12, 0),
            end: at(5, 10, 0),
        },
        Schedule::Window {
            start: at(5, 12, 0),
            end: at(5, 12, 0),
        },
        Schedule::OneTime {
            start: at(5, 12, 0),
            end: at(4, 12, 0),
        },
        Schedule::ExpiringAfterFirstUse {
            minutes: 60,
            start: at(5, 12, 0),
            end: at(5, 11, 0),
        },
    ];
    for schedule in backwards {
        let error = domain_error(client.create_code(lock.id, generated("Guest", schedule.clone())));
        assert_eq!(
            error,
            model::Error::InvalidSchedule {
                reason: "the window ends before it starts".to_owned()
            },
            "{schedule:?}"
        );
    }
    let ended = [
        window(-3, 5),
        Schedule::OneTime {
            start: at(-10, 8, 0),
            end: at(-2, 8, 0),
        },
        Schedule::Weekly {
            days: Weekdays::EVERY_DAY,
            start_time: time(9, 0),
            end_time: time(10, 0),
            first_date: day(-30),
            last_date: day(-3),
        },
    ];
    for schedule in ended {
        let error = domain_error(client.create_code(lock.id, generated("Guest", schedule.clone())));
        assert_eq!(
            error,
            model::Error::InvalidSchedule {
                reason: "the window has already ended".to_owned()
            },
            "{schedule:?}"
        );
    }
    // One still running is fine.
    client
        .create_code(lock.id, generated("Guest", window(-1, 72)))
        .unwrap();
    // A weekly schedule with no weekday, or whose dates hold none of its weekdays.
    let error = domain_error(client.create_code(
        lock.id,
        generated(
            "Guest",
            Schedule::Weekly {
                days: Weekdays::default(),
                start_time: time(9, 0),
                end_time: time(10, 0),
                first_date: day(1),
                last_date: day(30),
            },
        ),
    ));
    assert!(matches!(error, model::Error::InvalidSchedule { .. }), "{error:?}");
    assert_eq!(live_codes(&client, lock.id), 1);
}

#[test]
fn schedule_kinds_the_lock_cannot_hold_are_refused() {
    let (_dir, client, lock) = setup(LockCapabilities {
        schedule_kinds: vec![ScheduleKind::Permanent, ScheduleKind::Window],
        ..LockCapabilities::default()
    });
    let refused = [
        Schedule::OneTime {
            start: at(1, 8, 0),
            end: at(1, 9, 0),
        },
        Schedule::Weekly {
            days: Weekdays::EVERY_DAY,
            start_time: time(9, 0),
            end_time: time(10, 0),
            first_date: day(1),
            last_date: day(30),
        },
        Schedule::ExpiringAfterFirstUse {
            minutes: 60,
            start: at(1, 8, 0),
            end: at(2, 8, 0),
        },
    ];
    for schedule in refused {
        let kind = schedule.kind();
        let error = domain_error(client.create_code(lock.id, generated("Guest", schedule)));
        assert_eq!(error, model::Error::ScheduleNotSupported { kind });
    }
    client
        .create_code(lock.id, generated("Guest", window(1, 1)))
        .unwrap();
    client
        .create_code(lock.id, generated("Guest", Schedule::Permanent))
        .unwrap();
}

// ---------------------------------------------------------------- happy paths

#[test]
fn create_list_show_and_revoke() {
    let (_dir, client, lock) = setup(LockCapabilities::default());
    let cleaner = client
        .create_code(
            lock.id,
            CodeDraft {
                max_uses: Some(50),
                allow_widening: true,
                ..chosen("  Cleaner ", Schedule::Permanent, "482916")
            },
        )
        .unwrap();
    assert_eq!(cleaner.code.lock_id, lock.id);
    assert_eq!(cleaner.code.label, "Cleaner");
    assert_eq!(cleaner.code.pin.expose(), "482916");
    assert_eq!(cleaner.code.schedule, Schedule::Permanent);
    assert_eq!(
        (cleaner.code.max_uses, cleaner.code.allow_widening),
        (Some(50), true)
    );
    assert_eq!(
        (cleaner.code.status, cleaner.code.version),
        (CodeStatus::Active, 1)
    );
    assert_eq!(cleaner.code.created_at, cleaner.code.updated_at);
    let guest = client
        .create_code(lock.id, generated("Guest", window(1, 3)))
        .unwrap();

    let listed = client.codes(lock.id).unwrap();
    assert_eq!(
        listed.iter().map(|c| c.code.id).collect::<Vec<_>>(),
        [cleaner.code.id, guest.code.id]
    );
    assert_same_code(&listed[0].code, &cleaner.code);
    assert_same_code(&client.code(guest.code.id).unwrap().code, &guest.code);

    let effective = client.effective_schedule(&guest.code).unwrap();
    assert_eq!(effective.kind, ScheduleKind::Window);
    assert_eq!(effective.zone, model::Tz::Europe__Berlin);
    assert!(effective.adjustments.is_empty());

    let revoked = client.revoke_code(guest.code.id).unwrap();
    assert_eq!(
        (revoked.code.status, revoked.code.version),
        (CodeStatus::Revoked, 2)
    );
    assert!(revoked.code.updated_at >= guest.code.updated_at);
    assert_eq!(revoked.code.created_at, guest.code.created_at);
    assert_eq!(revoked.code.pin.expose(), guest.code.pin.expose());
    // Revoked codes stay listed.
    assert_eq!(client.codes(lock.id).unwrap().len(), 2);
    assert_eq!(
        client.code(guest.code.id).unwrap().code.status,
        CodeStatus::Revoked
    );

    // Revoking twice is idempotent: same code, no new version, no new outbox entry.
    let outbox = client.pending_mutations().unwrap();
    let again = client.revoke_code(guest.code.id).unwrap();
    assert_same_code(&again.code, &revoked.code);
    assert_eq!(client.pending_mutations().unwrap(), outbox);
    assert_eq!(
        outbox.iter().map(|e| e.operation).collect::<Vec<_>>(),
        [
            Operation::CreateLock,
            Operation::CreateCode,
            Operation::CreateCode,
            Operation::RevokeCode
        ]
    );
}

#[test]
fn generated_pins_take_the_locks_default_length() {
    let cases = [
        ((4, 8), 6),
        ((4, 12), 6),
        ((6, 6), 6),
        ((4, 5), 5),
        ((7, 10), 7),
        ((1, 3), 3),
    ];
    for ((min, max), expected) in cases {
        let (_dir, client, lock) = setup(LockCapabilities {
            pin_lengths: PinLengths { min, max },
            ..LockCapabilities::default()
        });
        for i in 0..5 {
            let code = client
                .create_code(lock.id, generated("Guest", window(i + 1, 1)))
                .unwrap();
            assert_eq!(code.code.pin.len(), expected, "lengths {min}-{max}");
            assert!(code.code.pin.expose().bytes().all(|b| b.is_ascii_digit()));
            assert_eq!(model::pin::weakness(&digits(code.code.pin.expose())), None);
        }
    }
    // An explicit length within the range is honoured.
    let (_dir, client, lock) = setup(LockCapabilities::default());
    let request = CodeDraft {
        pin: PinRequest::Generate { length: Some(8) },
        ..generated("Guest", Schedule::Permanent)
    };
    assert_eq!(client.create_code(lock.id, request).unwrap().code.pin.len(), 8);
}

fn digits(pin: &str) -> Vec<u8> {
    pin.bytes().map(|b| b - b'0').collect()
}

#[test]
fn generated_pins_avoid_every_live_code() {
    // A 3-digit lock: one live code per prefix-free slot, so clashes are common.
    let (_dir, client, lock) = setup(LockCapabilities {
        pin_lengths: PinLengths { min: 3, max: 3 },
        max_codes: 1_000,
        ..LockCapabilities::default()
    });
    let mut seen = std::collections::HashSet::new();
    for _ in 0..200 {
        let code = client
            .create_code(lock.id, generated("Guest", Schedule::Permanent))
            .unwrap();
        assert!(seen.insert(code.code.pin.expose().to_owned()), "duplicate PIN");
    }
}
