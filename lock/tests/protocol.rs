//! The local protocol against a real `tessera-lock` process over TCP: pairing
//! (right and wrong setup codes, the attempt limit and its block across a
//! restart), replayed / tampered / reordered frames, and the owner's clock.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;

use support::{LockProcess, Options, SETUP_CODE, Session, pair, phone};
use tessera_lock::policy;
use tessera_protocol::offline::TOLERANCE_SECONDS;
use tessera_protocol::wire::{Refusal, Request, Response};
use tessera_protocol::{ClientConnection, PairingKey, ProtocolError};

#[test]
fn pairing_with_the_right_setup_code_gives_a_key_that_opens_sessions() {
    let lock = LockProcess::start();
    let (lock_id, key) = pair(lock.addr, phone(1), SETUP_CODE).expect("paired");
    assert_eq!(
        tessera_lock::to_hex(&lock_id),
        lock.status()["id"].as_str().unwrap()
    );
    assert_eq!(lock.status()["paired_phones"], 1);

    // The key survives a restart of the lock, and opens a session.
    let mut lock = lock;
    lock.restart();
    let mut session = lock.session(phone(1), &key);
    let Response::Info(info) = session.request(Request::GetInfo).unwrap() else {
        panic!("not info")
    };
    assert_eq!(info.lock_id, lock_id);
    assert_eq!(info.time_zone, "Europe/Berlin");

    let (_, other) = pair(lock.addr, phone(2), SETUP_CODE).expect("a second phone");
    assert_ne!(other, key);
    assert_eq!(lock.status()["paired_phones"], 2);

    // Separators printed on a label are not part of the code (phones strip them
    // too before pairing).
    let labelled = LockProcess::start_with(Options {
        setup_code: "7391-0482".to_owned(),
        ..Options::default()
    });
    pair(labelled.addr, phone(1), SETUP_CODE).expect("paired without the separators");
}

#[test]
fn without_a_setup_code_the_lock_makes_one_for_its_label_and_keeps_it() {
    let mut lock = LockProcess::start_with(Options {
        setup_code: String::new(),
        log: Some("trace".to_owned()),
        ..Options::default()
    });
    let file = lock.state_dir().join("setup-code");
    let code = std::fs::read_to_string(&file).unwrap().trim().to_owned();
    assert_eq!(code.len(), tessera_lock::SETUP_CODE_DIGITS);
    assert!(code.bytes().all(|b| b.is_ascii_digit()), "{code}");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);

    lock.kill9();
    lock.restart();
    assert_eq!(
        std::fs::read_to_string(&file).unwrap().trim(),
        code,
        "the same code after a restart"
    );
    pair(lock.addr, phone(1), &code).expect("paired with the code on the label");
    assert!(
        !lock.logs().contains(&code),
        "the setup code is in the lock's log"
    );
}

#[test]
fn every_wrong_setup_code_fails_the_same_way() {
    let lock = LockProcess::start();
    // One digit off, all digits off, a prefix, a longer one: the same answer,
    // which says nothing about which digits were right.
    let wrong = ["73910483", "84021593", "7391048", "739104820"];
    assert!(wrong.len() < policy::PAIRING_FREE_TRIES as usize);
    for code in wrong {
        assert_eq!(
            pair(lock.addr, phone(1), code).map(|_| ()),
            Err(ProtocolError::Refused),
            "{code}"
        );
    }
    assert_eq!(lock.status()["paired_phones"], 0);
    assert_eq!(lock.status()["pairing_blocked_until"], serde_json::Value::Null);
    // Still under the limit: the right code pairs (and the count starts over).
    pair(lock.addr, phone(1), SETUP_CODE).expect("paired");
    for code in wrong {
        assert_eq!(
            pair(lock.addr, phone(2), code).map(|_| ()),
            Err(ProtocolError::Refused)
        );
    }
    pair(lock.addr, phone(2), SETUP_CODE).expect("the count started over after a pairing");
}

#[test]
fn after_the_attempt_limit_even_the_right_code_is_refused_until_the_block_ends_also_after_a_restart() {
    let mut lock = LockProcess::start();
    let before = lock.clock();
    for attempt in 0..policy::PAIRING_FREE_TRIES {
        let code = format!("{:08}", 10_000_000 + attempt);
        assert_eq!(
            pair(lock.addr, phone(1), &code).map(|_| ()),
            Err(ProtocolError::Refused)
        );
    }
    let blocked: chrono::DateTime<chrono::Utc> = lock.status()["pairing_blocked_until"]
        .as_str()
        .expect("blocked")
        .parse()
        .unwrap();
    let block = chrono::TimeDelta::from_std(policy::PAIRING_FIRST_BLOCK).unwrap();
    assert!(
        blocked >= before + block && blocked <= lock.clock() + block,
        "{blocked}"
    );

    // The right code now fails exactly like a wrong one.
    assert_eq!(
        pair(lock.addr, phone(1), SETUP_CODE).map(|_| ()),
        Err(ProtocolError::Refused)
    );
    assert_eq!(
        pair(lock.addr, phone(2), SETUP_CODE).map(|_| ()),
        Err(ProtocolError::Refused)
    );

    // Power cut: the block holds.
    lock.kill9();
    lock.restart();
    let still: chrono::DateTime<chrono::Utc> = lock.status()["pairing_blocked_until"]
        .as_str()
        .expect("blocked")
        .parse()
        .unwrap();
    assert_eq!(still, blocked);
    assert_eq!(
        pair(lock.addr, phone(1), SETUP_CODE).map(|_| ()),
        Err(ProtocolError::Refused)
    );
    assert_eq!(lock.status()["paired_phones"], 0);

    // Once the block is over, more wrong codes earn a block twice as long ...
    let parse = |value: &serde_json::Value| -> chrono::DateTime<chrono::Utc> {
        value.as_str().expect("blocked").parse().unwrap()
    };
    let resumed = lock.set_clock(&(blocked + chrono::TimeDelta::seconds(1)).to_rfc3339());
    assert_eq!(lock.status()["pairing_blocked_until"], serde_json::Value::Null);
    for attempt in 0..policy::PAIRING_FREE_TRIES {
        let code = format!("{:08}", 20_000_000 + attempt);
        assert_eq!(
            pair(lock.addr, phone(3), &code).map(|_| ()),
            Err(ProtocolError::Refused)
        );
    }
    let second = parse(&lock.status()["pairing_blocked_until"]);
    assert!(
        second >= resumed + block * 2 && second <= lock.clock() + block * 2,
        "{second}"
    );
    assert_eq!(
        pair(lock.addr, phone(1), SETUP_CODE).map(|_| ()),
        Err(ProtocolError::Refused)
    );

    // ... and after it, the right code pairs.
    lock.set_clock(&(second + chrono::TimeDelta::seconds(1)).to_rfc3339());
    pair(lock.addr, phone(1), SETUP_CODE).expect("paired after the block");
    assert_eq!(lock.status()["paired_phones"], 1);
}

#[test]
fn pairing_attempts_abandoned_half_way_count_too() {
    let lock = LockProcess::start();
    // Start pairing, see the lock's answer, hang up before proving anything:
    // the lock cannot tell a guess it never heard from a wrong one.
    for attempt in 0..policy::PAIRING_FREE_TRIES {
        let mut client = ClientConnection::pair(phone(5), "00000000", 0, &mut rand::rng());
        let mut stream = TcpStream::connect(lock.addr).unwrap();
        while let Some(bytes) = client.poll_transmit() {
            stream.write_all(&bytes).unwrap();
        }
        let mut reply = [0u8; 1];
        assert_eq!(
            stream.read(&mut reply).unwrap(),
            1,
            "attempt {attempt}: the lock answers"
        );
        drop(stream);
    }
    assert_eq!(
        pair(lock.addr, phone(1), SETUP_CODE).map(|_| ()),
        Err(ProtocolError::Refused)
    );
    assert!(lock.status()["pairing_blocked_until"].is_string());
}

/// A paired lock, its debug log on (it names why a connection ended), and a
/// session.
fn paired_lock() -> (LockProcess, PairingKey, Session) {
    let lock = LockProcess::start_with(Options {
        log: Some("info,tessera_lock=debug".to_owned()),
        ..Options::default()
    });
    let key = lock.pair(phone(1));
    let session = lock.session(phone(1), &key);
    (lock, key, session)
}

fn epoch(lock: &LockProcess) -> u64 {
    lock.status()["epoch"].as_u64().unwrap()
}

fn lines_with(lock: &LockProcess, text: &str) -> usize {
    lock.logs().lines().filter(|line| line.contains(text)).count()
}

#[test]
fn a_replayed_frame_closes_the_session_and_is_not_acted_on() {
    let (lock, key, mut session) = paired_lock();
    let mut frames = session.seal(vec![Request::RotateEpoch]);
    let (id, frame) = frames.remove(0);
    session.write_raw(&frame);
    assert_eq!(session.answer(id), Ok(Response::Done));
    assert_eq!(epoch(&lock), 1);

    session.write_raw(&frame);
    assert_eq!(session.connection.closed(), ProtocolError::Closed);
    assert_eq!(epoch(&lock), 1, "the replayed rotation was not made");
    assert_eq!(
        lines_with(&lock, "connection over error=a frame was replayed"),
        1,
        "{}",
        lock.logs()
    );

    // Replayed into a new session (new keys): refused too.
    let mut other = lock.session(phone(1), &key);
    other.write_raw(&frame);
    assert_eq!(other.connection.closed(), ProtocolError::Closed);
    assert_eq!(epoch(&lock), 1);
    assert_eq!(
        lines_with(&lock, "connection over error=a frame failed authentication"),
        1
    );
    // The lock is fine.
    let mut fresh = lock.session(phone(1), &key);
    assert_eq!(fresh.request(Request::RotateEpoch), Ok(Response::Done));
    assert_eq!(epoch(&lock), 2);
}

#[test]
fn a_reordered_frame_closes_the_session_and_neither_request_is_acted_on() {
    let (lock, _, mut session) = paired_lock();
    let frames = session.seal(vec![Request::RotateEpoch, Request::RotateEpoch]);
    // The second frame first.
    session.write_raw(&frames[1].1);
    assert_eq!(session.connection.closed(), ProtocolError::Closed);
    assert_eq!(epoch(&lock), 0);
    assert_eq!(
        lines_with(&lock, "connection over error=a frame arrived out of order"),
        1,
        "{}",
        lock.logs()
    );
}

#[test]
fn a_frame_with_one_bit_flipped_closes_the_session_and_is_not_acted_on() {
    let (lock, key, mut session) = paired_lock();
    // A bit of the authentication tag (the frame's last byte).
    let (_, mut frame) = session.seal(vec![Request::RotateEpoch]).remove(0);
    let last = frame.len() - 1;
    frame[last] ^= 0x01;
    session.write_raw(&frame);
    assert_eq!(session.connection.closed(), ProtocolError::Closed);
    assert_eq!(
        lines_with(&lock, "connection over error=a frame failed authentication"),
        1
    );

    // Every byte after the length, one bit each: never acted on, always closed.
    let length = frame.len();
    for position in 2..length {
        for bit in [0, 7] {
            let mut session = lock.session(phone(1), &key);
            let (_, mut frame) = session.seal(vec![Request::RotateEpoch]).remove(0);
            frame[position] ^= 1 << bit;
            session.write_raw(&frame);
            assert_eq!(
                session.connection.closed(),
                ProtocolError::Closed,
                "byte {position} bit {bit}"
            );
        }
    }
    assert_eq!(epoch(&lock), 0, "no altered rotation was made");
    let mut fresh = lock.session(phone(1), &key);
    assert_eq!(fresh.request(Request::RotateEpoch), Ok(Response::Done));
    assert_eq!(epoch(&lock), 1);
}

#[test]
fn only_a_paired_phone_sets_the_clock_and_never_back_beyond_the_tolerance() {
    let lock = LockProcess::start();
    let target = lock.clock() + chrono::TimeDelta::days(400);

    // A phone the lock does not know gets no session at all.
    let stranger = Session::open(lock.addr, phone(9), PairingKey([9; 32]));
    assert_eq!(stranger.map(|_| ()).err(), Some(ProtocolError::Refused));
    // Nor does a paired phone's id with another key (the lock cannot prove
    // itself to it, and it would not be believed).
    let key = lock.pair(phone(1));
    let impostor = Session::open(lock.addr, phone(1), PairingKey([7; 32]));
    assert_eq!(impostor.map(|_| ()).err(), Some(ProtocolError::WrongLock));
    assert!(lock.clock() < target, "nobody moved the clock");

    let mut owner = lock.session(phone(1), &key);
    let set = |owner: &mut Session, at: chrono::DateTime<chrono::Utc>| {
        owner.request(Request::SetClock {
            unix_ms: at.timestamp_millis(),
        })
    };
    assert_eq!(set(&mut owner, target), Ok(Response::Done));
    let now = lock.clock();
    assert!(
        now >= target && now < target + chrono::TimeDelta::days(1),
        "{now}"
    );

    // Back by less than the tolerance: fine.
    let tolerance = chrono::TimeDelta::seconds(TOLERANCE_SECONDS);
    let nine_minutes = chrono::TimeDelta::minutes(9);
    assert!(nine_minutes < tolerance);
    assert_eq!(set(&mut owner, target - nine_minutes), Ok(Response::Done));
    // Back by more than the tolerance from the latest time it has seen: refused,
    // also in small steps.
    let too_far = target - tolerance - chrono::TimeDelta::minutes(1);
    let refused = set(&mut owner, too_far).unwrap();
    let Response::Refused(Refusal::ClockRefused { lock_unix_ms }) = refused else {
        panic!("{refused:?}")
    };
    assert!(
        lock_unix_ms >= (target - nine_minutes).timestamp_millis(),
        "the lock says its time"
    );
    let second_step = target - nine_minutes * 2;
    assert!(matches!(
        set(&mut owner, second_step),
        Ok(Response::Refused(Refusal::ClockRefused { .. }))
    ));
    // And it survives a restart (the latest time seen is saved).
    let mut lock = lock;
    lock.kill9();
    lock.restart();
    let mut owner = lock.session(phone(1), &key);
    assert!(matches!(
        set(&mut owner, second_step),
        Ok(Response::Refused(Refusal::ClockRefused { .. }))
    ));
    let now = lock.clock();
    assert!(now >= target - nine_minutes && now < target, "{now}");
    // Forward is fine, within what a clock can show: a time it could never
    // come back from (microseconds sent for milliseconds) is refused.
    for absurd in [i64::MAX, target.timestamp_micros(), 253_402_300_800_000] {
        assert_eq!(
            owner.request(Request::SetClock { unix_ms: absurd }),
            Ok(Response::Refused(Refusal::Invalid {
                reason: "the time is past 9999-12-31, beyond what the lock keeps".to_owned()
            }))
        );
    }
    let latest: chrono::DateTime<chrono::Utc> = "9999-12-31T23:59:59.999Z".parse().unwrap();
    assert_eq!(latest.timestamp_millis(), 253_402_300_799_999);
    assert_eq!(
        set(&mut owner, target + chrono::TimeDelta::hours(1)),
        Ok(Response::Done)
    );
    let now = lock.clock();
    assert!(now >= target + chrono::TimeDelta::hours(1) && now < target + chrono::TimeDelta::hours(2));
}
