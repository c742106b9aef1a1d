//! The keypad of a real `tessera-lock` process (`tessera-lock keypad`), with
//! codes set over the protocol and the clock moved by the test hook: windows,
//! one-time codes, the wrong-entry lockout, offline codes and epoch rotation,
//! across kill -9 and restarts. And: no secret in the lock's log.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chrono::{DateTime, TimeDelta, Utc};
use support::{LockProcess, Options, SETUP_CODE, Session, local, pair, phone};
use tessera_lock::policy;
use tessera_protocol::offline::{OfflineClass, OfflineKey, hour_of, standard_time};
use tessera_protocol::wire::{EventKind, LockCode, OfflineSecret, Refusal, Request, Response, WireSchedule};
use tessera_protocol::{PairingKey, ProtocolError};

fn code(id: u8, pin: &str, schedule: WireSchedule, max_uses: Option<u32>) -> LockCode {
    LockCode {
        id: [id; 16],
        pin: pin.to_owned(),
        schedule,
        max_uses,
    }
}

fn owner(lock: &LockProcess) -> (PairingKey, Session) {
    let key = lock.pair(phone(1));
    let session = lock.session(phone(1), &key);
    (key, session)
}

fn locked_out_until(answer: &str) -> DateTime<Utc> {
    answer
        .strip_prefix("locked out until ")
        .unwrap_or_else(|| panic!("not locked out: {answer}"))
        .parse()
        .unwrap()
}

#[test]
fn a_window_code_opens_inside_its_window_only() {
    let lock = LockProcess::start();
    let (_, mut session) = owner(&lock);
    // 09:00 in Berlin (CET, UTC+1).
    lock.set_clock("2031-03-28T08:00:00Z");
    let window = WireSchedule::Window {
        start: local("2031-03-28T10:00:00"),
        end: local("2031-03-28T12:00:00"),
    };
    assert_eq!(
        session.request(Request::SetCode(code(1, "48291635", window, None))),
        Ok(Response::Done)
    );
    assert_eq!(lock.status()["codes"], 1);
    assert_eq!(lock.keypad("48291635"), "refused", "before the window");
    lock.set_clock("2031-03-28T09:00:30Z");
    assert_eq!(lock.keypad("48291635"), "open", "10:00:30 Berlin, inside");
    lock.advance_clock(3_600);
    assert_eq!(lock.keypad("48291635"), "open", "11:00:30 Berlin, inside");
    lock.set_clock("2031-03-28T11:00:30Z");
    assert_eq!(
        lock.keypad("48291635"),
        "refused",
        "12:00:30 Berlin, after the window"
    );
    // Exact length: a prefix or a longer entry is not the code.
    lock.set_clock("2031-03-28T10:00:00Z");
    assert_eq!(lock.keypad("4829163"), "refused");
    assert_eq!(lock.keypad("482916350"), "refused");
    assert_eq!(lock.keypad("48291635"), "open");

    let events = session.events();
    let used = events
        .iter()
        .filter(|event| event.kind == EventKind::CodeUsed { id: [1; 16] })
        .count();
    assert_eq!(used, 3);
}

#[test]
fn a_weekly_code_follows_the_lock_zone() {
    let lock = LockProcess::start();
    let (_, mut session) = owner(&lock);
    lock.set_clock("2031-03-24T06:00:00Z");
    // Mondays 08:00-09:00 in Berlin, through 2031.
    let weekly = WireSchedule::Weekly {
        days: 0b000_0001,
        start_time: 8 * 3_600,
        end_time: 9 * 3_600,
        first_date: chrono::Datelike::num_days_from_ce(&"2031-01-01".parse::<chrono::NaiveDate>().unwrap()),
        last_date: chrono::Datelike::num_days_from_ce(&"2031-12-31".parse::<chrono::NaiveDate>().unwrap()),
    };
    assert_eq!(
        session.request(Request::SetCode(code(2, "71938264", weekly, None))),
        Ok(Response::Done)
    );
    // Monday 2031-03-24, 08:30 CET = 07:30Z.
    lock.set_clock("2031-03-24T07:30:00Z");
    assert_eq!(lock.keypad("71938264"), "open");
    // Monday 2031-03-31, 08:30 CEST = 06:30Z (daylight saving started on the 30th).
    lock.set_clock("2031-03-31T06:30:00Z");
    assert_eq!(lock.keypad("71938264"), "open");
    lock.set_clock("2031-03-31T07:30:00Z");
    assert_eq!(lock.keypad("71938264"), "refused", "09:30 CEST");
    // Tuesday.
    lock.set_clock("2031-04-01T06:30:00Z");
    assert_eq!(lock.keypad("71938264"), "refused");
}

#[test]
fn a_one_time_code_opens_once_also_across_a_restart() {
    let mut lock = LockProcess::start();
    let (key, mut session) = owner(&lock);
    lock.set_clock("2031-03-28T08:00:00Z");
    let once = WireSchedule::OneTime {
        start: local("2031-03-28T08:00:00"),
        end: local("2031-03-29T20:00:00"),
    };
    assert_eq!(
        session.request(Request::SetCode(code(1, "59317248", once.clone(), None))),
        Ok(Response::Done)
    );
    assert_eq!(
        session.request(Request::SetCode(code(2, "62847193", once, None))),
        Ok(Response::Done)
    );
    assert_eq!(lock.keypad("59317248"), "open");
    assert_eq!(lock.keypad("59317248"), "refused", "used once already");

    // The second code is used, and the power is cut right after.
    assert_eq!(lock.keypad("62847193"), "open");
    lock.kill9();
    lock.restart();
    assert_eq!(lock.keypad("62847193"), "refused", "remembered across kill -9");
    assert_eq!(lock.keypad("59317248"), "refused");
    // Still listed: a used one-time code is the owner's to remove.
    let mut session = lock.session(phone(1), &key);
    let Ok(Response::Codes(codes)) = session.request(Request::ListCodes) else {
        panic!("no list")
    };
    assert_eq!(codes.len(), 2);

    // A code with a use limit behaves the same.
    assert_eq!(
        session.request(Request::SetCode(code(
            3,
            "38172946",
            WireSchedule::Permanent,
            Some(2)
        ))),
        Ok(Response::Done)
    );
    assert_eq!(lock.keypad("38172946"), "open");
    lock.kill9();
    lock.restart();
    assert_eq!(lock.keypad("38172946"), "open");
    assert_eq!(lock.keypad("38172946"), "refused");
}

#[test]
fn wrong_entries_lock_the_keypad_out_with_exponential_backoff_across_restarts() {
    let mut lock = LockProcess::start();
    let (key, mut session) = owner(&lock);
    lock.set_clock("2031-03-28T08:00:00Z");
    assert_eq!(
        session.request(Request::SetCode(code(
            1,
            "48291635",
            WireSchedule::Permanent,
            None
        ))),
        Ok(Response::Done)
    );
    drop(session);
    let wrong = "11223344";
    for _ in 1..policy::KEYPAD_FREE_TRIES {
        assert_eq!(lock.keypad(wrong), "refused");
    }
    let until = locked_out_until(&lock.keypad(wrong));
    assert_eq!(lock.status()["lockout"]["failures"], policy::KEYPAD_FREE_TRIES);

    // During the lockout, the right code gets exactly the answer a wrong one gets.
    let answer_wrong = lock.keypad(wrong);
    let answer_right = lock.keypad("48291635");
    assert_eq!(answer_right, answer_wrong);
    assert_eq!(locked_out_until(&answer_right), until);

    // Power cut: still locked out, until the same time.
    lock.kill9();
    lock.restart();
    assert_eq!(locked_out_until(&lock.keypad("48291635")), until);
    let status = lock.status();
    assert_eq!(
        status["lockout"]["until"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap(),
        until
    );

    // After it, one more wrong entry: locked out again, for twice as long; then
    // four times.
    lock.set_clock(&(until + TimeDelta::seconds(1)).to_rfc3339());
    let second = locked_out_until(&lock.keypad(wrong));
    lock.kill9();
    lock.restart();
    assert_eq!(locked_out_until(&lock.keypad("48291635")), second);
    lock.set_clock(&(second + TimeDelta::seconds(1)).to_rfc3339());
    let third = locked_out_until(&lock.keypad(wrong));

    // The lock's log has each lockout with its length: 1, 2, 4 minutes.
    let mut session = lock.session(phone(1), &key);
    let events = session.events();
    let lengths: Vec<i64> = events
        .iter()
        .filter_map(|event| match event.kind {
            EventKind::LockedOut { until_unix_ms } => Some((until_unix_ms - event.at_unix_ms) / 1_000),
            _ => None,
        })
        .collect();
    let first = i64::try_from(policy::KEYPAD_FIRST_LOCKOUT.as_secs()).unwrap();
    assert_eq!(lengths, [first, 2 * first, 4 * first]);
    let ends: Vec<i64> = events
        .iter()
        .filter_map(|event| match event.kind {
            EventKind::LockedOut { until_unix_ms } => Some(until_unix_ms),
            _ => None,
        })
        .collect();
    assert_eq!(
        ends,
        [
            until.timestamp_millis(),
            second.timestamp_millis(),
            third.timestamp_millis()
        ]
    );
    // Nothing opened during the lockouts.
    assert!(
        !events
            .iter()
            .any(|event| matches!(event.kind, EventKind::CodeUsed { .. }))
    );

    // After the lockout the right code opens and the count starts over.
    lock.set_clock(&(third + TimeDelta::seconds(1)).to_rfc3339());
    assert_eq!(lock.keypad("48291635"), "open");
    assert_eq!(lock.status()["lockout"]["failures"], 0);
    assert_eq!(lock.keypad(wrong), "refused");
}

#[test]
fn an_offline_code_opens_until_the_epoch_is_rotated() {
    let mut lock = LockProcess::start();
    let (key, mut session) = owner(&lock);
    let Ok(Response::Info(info)) = session.request(Request::GetInfo) else {
        panic!("no info")
    };
    let Ok(Response::OfflineSecret(secret)) = session.request(Request::GetOfflineSecret) else {
        panic!("no secret")
    };
    assert_eq!(secret.epoch, 0);
    // Berlin's standard offset: offline hours count in CET all year.
    assert_eq!(secret.standard_offset_seconds, 3_600);
    let now = lock.set_clock("2031-03-28T09:30:00Z");
    let issue = |secret: &OfflineSecret, hours_ago: u32, class: OfflineClass| {
        let key = OfflineKey::derive(&secret.root, &info.lock_id, secret.epoch, secret.digits);
        let hour = hour_of(standard_time(now.timestamp(), secret.standard_offset_seconds)).unwrap();
        key.issue(hour - hours_ago, class, |_, _| true).unwrap().1
    };
    let eight_hours = issue(&secret, 1, OfflineClass::Hours8);
    let one_time = issue(&secret, 2, OfflineClass::OneTime);
    let unused = issue(&secret, 1, OfflineClass::Day1);
    assert_eq!(eight_hours.len(), usize::from(info.offline_digits));

    assert_eq!(lock.keypad(&eight_hours), "open");
    assert_eq!(lock.keypad(&eight_hours), "open", "good for eight hours");
    assert_eq!(lock.keypad(&one_time), "open");
    assert_eq!(lock.keypad(&one_time), "refused", "a one-time code opens once");
    lock.kill9();
    lock.restart();
    assert_eq!(lock.keypad(&one_time), "refused", "also after kill -9");
    assert_eq!(lock.keypad(&eight_hours), "open");
    // Eight hours and ten minutes of tolerance later, it is over.
    lock.advance_clock(8 * 3_600);
    assert_eq!(lock.keypad(&eight_hours), "refused");
    lock.set_clock(&now.to_rfc3339());
    assert_eq!(lock.keypad(&eight_hours), "open");

    let mut session = lock.session(phone(1), &key);
    assert_eq!(session.request(Request::RotateEpoch), Ok(Response::Done));
    assert_eq!(lock.status()["epoch"], 1);
    assert_eq!(lock.keypad(&eight_hours), "refused", "revoked by the rotation");
    assert_eq!(lock.keypad(&unused), "refused", "never used, revoked too");

    let Ok(Response::OfflineSecret(rotated)) = session.request(Request::GetOfflineSecret) else {
        panic!("no secret")
    };
    assert_eq!(rotated.epoch, 1);
    assert_eq!(
        rotated.root, secret.root,
        "the root stays; the epoch changes the key"
    );
    let fresh = issue(&rotated, 1, OfflineClass::Hours8);
    assert_ne!(fresh, eight_hours);
    assert_eq!(lock.keypad(&fresh), "open");
    lock.kill9();
    lock.restart();
    assert_eq!(lock.keypad(&eight_hours), "refused", "the rotation is saved");
    assert_eq!(lock.keypad(&fresh), "open");
}

#[test]
fn used_offline_codes_are_never_evicted_to_make_room() {
    // Room to remember one offline code.
    let lock = LockProcess::start_with(Options {
        args: vec!["--offline-capacity".into(), "1".into()],
        ..Options::default()
    });
    let (_, mut session) = owner(&lock);
    let Ok(Response::Info(info)) = session.request(Request::GetInfo) else {
        panic!("no info")
    };
    let Ok(Response::OfflineSecret(secret)) = session.request(Request::GetOfflineSecret) else {
        panic!("no secret")
    };
    let now = lock.set_clock("2031-03-28T09:30:00Z");
    let key = OfflineKey::derive(&secret.root, &info.lock_id, secret.epoch, secret.digits);
    let hour = hour_of(standard_time(now.timestamp(), secret.standard_offset_seconds)).unwrap();
    let (_, one_time) = key.issue(hour, OfflineClass::OneTime, |_, _| true).unwrap();
    let (_, day) = key.issue(hour, OfflineClass::Day1, |_, _| true).unwrap();

    assert_eq!(lock.keypad(&one_time), "open");
    // The table is full of a code that must stay remembered: the next offline
    // code is refused rather than the used one forgotten.
    assert_eq!(lock.keypad(&day), "refused");
    assert_eq!(lock.keypad(&one_time), "refused");
    assert!(lock.logs().contains("the table of used offline codes is full"));
    // Once the one-time code is over for good (6 hours and the tolerance), its
    // place is free; the day code is still within its first day.
    lock.advance_clock(7 * 3_600);
    assert_eq!(lock.keypad(&day), "open");
    assert_eq!(lock.keypad(&one_time), "refused");
    assert_eq!(lock.status()["offline_codes_remembered"], 1);
}

#[test]
fn a_code_expiring_after_its_first_use_stops_then_across_a_restart() {
    let mut lock = LockProcess::start();
    let (_, mut session) = owner(&lock);
    lock.set_clock("2031-03-28T08:00:00Z");
    let expiring = WireSchedule::ExpiringAfterFirstUse {
        minutes: 30,
        start: local("2031-03-28T08:00:00"),
        end: local("2031-04-28T08:00:00"),
    };
    assert_eq!(
        session.request(Request::SetCode(code(1, "59317248", expiring, None))),
        Ok(Response::Done)
    );
    lock.advance_clock(3_600);
    assert_eq!(
        lock.keypad("59317248"),
        "open",
        "first use, an hour after the start"
    );
    lock.advance_clock(20 * 60);
    lock.kill9();
    lock.restart();
    assert_eq!(
        lock.keypad("59317248"),
        "open",
        "20 minutes later: the first use is remembered"
    );
    lock.advance_clock(15 * 60);
    assert_eq!(
        lock.keypad("59317248"),
        "refused",
        "35 minutes after the first use"
    );
}

#[test]
fn codes_the_lock_cannot_take_are_refused_with_the_reason() {
    let lock = LockProcess::start_with(Options {
        args: vec!["--capacity".into(), "2".into()],
        ..Options::default()
    });
    let (_, mut session) = owner(&lock);
    lock.set_clock("2031-03-28T08:00:00Z");
    let short = WireSchedule::Window {
        start: local("2031-03-28T09:00:00"),
        end: local("2031-03-28T10:00:00"),
    };
    assert_eq!(
        session.request(Request::SetCode(code(1, "59317248", short, None))),
        Ok(Response::Done)
    );
    // The same PIN at the same time: which code has it.
    assert_eq!(
        session.request(Request::SetCode(code(
            2,
            "59317248",
            WireSchedule::Permanent,
            None
        ))),
        Ok(Response::Refused(Refusal::Duplicate { other: [1; 16] }))
    );
    // One the keypad could not tell apart (a prefix): the same.
    assert_eq!(
        session.request(Request::SetCode(code(
            2,
            "5931724",
            WireSchedule::Permanent,
            None
        ))),
        Ok(Response::Refused(Refusal::Duplicate { other: [1; 16] }))
    );
    assert_eq!(
        session.request(Request::SetCode(code(2, "123", WireSchedule::Permanent, None))),
        Ok(Response::Refused(Refusal::Invalid {
            reason: "the PIN must be 4 to 8 digits".to_owned()
        }))
    );
    let ended = WireSchedule::Window {
        start: local("2031-03-27T09:00:00"),
        end: local("2031-03-27T10:00:00"),
    };
    assert_eq!(
        session.request(Request::SetCode(code(2, "62847193", ended, None))),
        Ok(Response::Refused(Refusal::Invalid {
            reason: "the schedule has already ended".to_owned()
        }))
    );
    assert_eq!(
        session.request(Request::RemoveCode { id: [7; 16] }),
        Ok(Response::Refused(Refusal::NotFound))
    );
    assert_eq!(
        session.request(Request::SetCode(code(
            2,
            "62847193",
            WireSchedule::Permanent,
            None
        ))),
        Ok(Response::Done)
    );
    // Full.
    assert_eq!(
        session.request(Request::SetCode(code(
            3,
            "71938264",
            WireSchedule::Permanent,
            None
        ))),
        Ok(Response::Refused(Refusal::Full { capacity: 2 }))
    );
    // Once the first code's window is over, it makes room (and says so).
    lock.set_clock("2031-03-28T09:30:00Z");
    assert_eq!(
        session.request(Request::SetCode(code(
            3,
            "71938264",
            WireSchedule::Permanent,
            None
        ))),
        Ok(Response::Done)
    );
    let Ok(Response::Codes(codes)) = session.request(Request::ListCodes) else {
        panic!("no list")
    };
    let ids: Vec<[u8; 16]> = codes.iter().map(|code| code.id).collect();
    assert_eq!(ids, [[2; 16], [3; 16]]);
    let events = session.events();
    assert!(
        events
            .iter()
            .any(|event| event.kind == EventKind::CodeRemoved { id: [1; 16] })
    );
}

#[test]
fn the_keypad_takes_digits_only() {
    let lock = LockProcess::start();
    let (out, status) = lock.cli(&["keypad", "12a4"]);
    assert_eq!(status.code(), Some(2));
    assert_eq!(
        out,
        "stderr: tessera-lock: control socket: not a keypad entry: digits only"
    );
    let (out, status) = lock.cli(&["keypad", &"1".repeat(policy::MAX_ENTRY_DIGITS + 1)]);
    assert_eq!(status.code(), Some(2));
    assert_eq!(
        out,
        "stderr: tessera-lock: control socket: not a keypad entry: too many digits"
    );
    // Not counted as wrong entries.
    assert_eq!(lock.status()["lockout"]["failures"], 0);
}

#[test]
fn no_secret_reaches_the_lock_log() {
    let mut lock = LockProcess::start_with(Options {
        log: Some("trace".to_owned()),
        ..Options::default()
    });
    // A wrong pairing, a right one; codes set, used and refused; an offline code.
    let wrong_setup = "73910483";
    assert_eq!(
        pair(lock.addr, phone(2), wrong_setup).map(|_| ()),
        Err(ProtocolError::Refused)
    );
    let (key, mut session) = owner(&lock);
    let pins = ["48291635", "62847193"];
    for (n, pin) in pins.iter().enumerate() {
        let id = u8::try_from(n).unwrap() + 1;
        assert_eq!(
            session.request(Request::SetCode(code(id, pin, WireSchedule::Permanent, None))),
            Ok(Response::Done)
        );
    }
    let Ok(Response::Codes(listed)) = session.request(Request::ListCodes) else {
        panic!("no list")
    };
    assert_eq!(listed.len(), 2);
    let Ok(Response::Info(info)) = session.request(Request::GetInfo) else {
        panic!("no info")
    };
    let Ok(Response::OfflineSecret(secret)) = session.request(Request::GetOfflineSecret) else {
        panic!("no secret")
    };
    let now = lock.clock();
    let offline_key = OfflineKey::derive(&secret.root, &info.lock_id, secret.epoch, secret.digits);
    let hour = hour_of(standard_time(now.timestamp(), secret.standard_offset_seconds)).unwrap();
    let (_, offline_pin) = offline_key
        .issue(hour, OfflineClass::Hours4, |_, _| true)
        .unwrap();
    let wrong_pin = "90817263";
    assert_eq!(lock.keypad(pins[0]), "open");
    assert_eq!(lock.keypad(wrong_pin), "refused");
    assert_eq!(lock.keypad(&offline_pin), "open");
    let weak = session.request(Request::SetCode(code(
        9,
        "12345678",
        WireSchedule::Permanent,
        None,
    )));
    let Ok(Response::Refused(Refusal::Invalid { reason })) = weak else {
        panic!("{weak:?}")
    };
    assert!(!reason.contains("12345678"), "{reason}");
    lock.kill9();
    lock.restart();
    assert_eq!(lock.keypad(pins[1]), "open");
    drop(session);

    let logs = lock.logs();
    assert!(logs.contains("paired"), "the log is on: {logs}");
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let secrets = [
        ("the setup code", SETUP_CODE.to_owned()),
        ("a wrong setup code", wrong_setup.to_owned()),
        ("a PIN", pins[0].to_owned()),
        ("a PIN", pins[1].to_owned()),
        ("a weak PIN", "12345678".to_owned()),
        ("a wrong PIN", wrong_pin.to_owned()),
        ("an offline PIN", offline_pin.clone()),
        ("the pairing key", hex(&key.0)),
        ("the offline root", hex(&secret.root)),
    ];
    for (what, secret) in secrets {
        assert!(!logs.contains(&secret), "{what} is in the lock's log");
    }
    // The state file holds the secrets; nobody else may read it.
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(lock.state_dir().join(tessera_lock::STATE_FILE))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn used_up_codes_make_room() {
    let lock = LockProcess::start_with(Options {
        args: vec!["--capacity".into(), "2".into()],
        ..Options::default()
    });
    let (_, mut session) = owner(&lock);
    lock.set_clock("2031-03-28T08:00:00Z");
    let day = WireSchedule::Window {
        start: local("2031-03-28T00:00:00"),
        end: local("2031-03-29T00:00:00"),
    };
    let once = WireSchedule::OneTime {
        start: local("2031-03-28T00:00:00"),
        end: local("2031-03-29T00:00:00"),
    };
    for request in [
        code(1, "59317248", once, None),
        code(2, "62847193", day.clone(), Some(1)),
    ] {
        assert_eq!(session.request(Request::SetCode(request)), Ok(Response::Done));
    }
    let third = || code(3, "59317248", day.clone(), None);
    assert_eq!(
        session.request(Request::SetCode(third())),
        Ok(Response::Refused(Refusal::Full { capacity: 2 })),
        "both codes can still open"
    );
    // The courier comes; the cleaner's single use is spent too.
    assert_eq!(lock.keypad("59317248"), "open");
    assert_eq!(lock.keypad("62847193"), "open");
    // Neither can open again: a new code takes the room and the PIN.
    assert_eq!(session.request(Request::SetCode(third())), Ok(Response::Done));
    assert_eq!(lock.keypad("59317248"), "open");
    let Ok(Response::Codes(codes)) = session.request(Request::ListCodes) else {
        panic!("no list")
    };
    let ids: Vec<[u8; 16]> = codes.iter().map(|code| code.id).collect();
    assert_eq!(ids, [[3; 16]], "the spent codes made room");
}
