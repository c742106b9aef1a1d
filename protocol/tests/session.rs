//! The local protocol's state machines against each other, in memory: pairing,
//! requests, and every attack the issue names.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tessera_protocol::wire::{LockInfo, Request, Response};
use tessera_protocol::{ClientConnection, ClientEvent, LockConnection, LockEvent, PairingKey, ProtocolError};

const PHONE: [u8; 16] = [1; 16];
const LOCK: [u8; 16] = [2; 16];
const SETUP_CODE: &str = "482-913-057";

fn rng() -> StdRng {
    StdRng::seed_from_u64(7)
}

/// A lock host that accepts pairing with its setup code, knows one phone key, and
/// answers every request with its info.
struct Host {
    lock: LockConnection,
    key: Option<PairingKey>,
    failed_pairings: u32,
    rng: StdRng,
}

impl Host {
    fn new(key: Option<PairingKey>) -> Self {
        Host {
            lock: LockConnection::new(LOCK, 0),
            key,
            failed_pairings: 0,
            rng: StdRng::seed_from_u64(8),
        }
    }

    fn react(&mut self) -> Vec<LockEvent> {
        let mut seen = Vec::new();
        while let Some(event) = self.lock.poll_event() {
            match &event {
                LockEvent::PairingRequested { .. } => self.lock.accept_pairing(SETUP_CODE, &mut self.rng),
                LockEvent::PairingFailed { .. } => self.failed_pairings += 1,
                LockEvent::Paired { key, .. } => self.key = Some(key.clone()),
                LockEvent::KeyNeeded { .. } => self.lock.provide_key(self.key.clone(), &mut self.rng),
                LockEvent::Request { id, .. } => self.lock.respond(*id, Response::Info(info())),
                _ => {}
            }
            seen.push(event);
        }
        seen
    }
}

fn info() -> LockInfo {
    LockInfo {
        lock_id: LOCK,
        name: "Front door".into(),
        time_zone: "Europe/Berlin".into(),
        clock_unix_ms: 0,
        epoch: 0,
        codes: 0,
        capacity: 100,
        pin_digits_min: 4,
        pin_digits_max: 8,
        offline_digits: 10,
        locked: true,
    }
}

/// Moves bytes both ways until both sides are quiet; returns the frames the phone
/// sent (for replaying) and the events of both sides.
fn run(phone: &mut ClientConnection, host: &mut Host) -> (Vec<Vec<u8>>, Vec<ClientEvent>, Vec<LockEvent>) {
    let (mut sent, mut phone_events, mut lock_events) = (Vec::new(), Vec::new(), Vec::new());
    loop {
        let mut moved = false;
        while let Some(bytes) = phone.poll_transmit() {
            host.lock.handle_input(&bytes, 1);
            sent.push(bytes);
            moved = true;
        }
        lock_events.extend(host.react());
        while let Some(bytes) = host.lock.poll_transmit() {
            phone.handle_input(&bytes, 1);
            moved = true;
        }
        while let Some(event) = phone.poll_event() {
            phone_events.push(event);
        }
        if !moved {
            return (sent, phone_events, lock_events);
        }
    }
}

fn paired() -> (ClientConnection, Host, PairingKey) {
    let mut phone = ClientConnection::pair(PHONE, SETUP_CODE, 0, &mut rng());
    let mut host = Host::new(None);
    let (_, events, _) = run(&mut phone, &mut host);
    let key = events
        .iter()
        .find_map(|event| match event {
            ClientEvent::Paired { lock_id, key } => {
                assert_eq!(*lock_id, LOCK);
                Some(key.clone())
            }
            _ => None,
        })
        .expect("paired");
    assert!(events.contains(&ClientEvent::Ready { lock_id: LOCK }));
    assert_eq!(host.key.as_ref(), Some(&key), "both ends derive the same key");
    (phone, host, key)
}

#[test]
fn pairing_then_requests_over_a_session() {
    let (mut phone, mut host, _) = paired();
    let id = phone.send(Request::GetInfo, 1).unwrap();
    let (_, events, _) = run(&mut phone, &mut host);
    assert_eq!(
        events,
        vec![ClientEvent::Response {
            id,
            response: Response::Info(info())
        }]
    );
}

#[test]
fn a_paired_phone_resumes_and_bytes_may_arrive_one_at_a_time() {
    let (_, _, key) = paired();
    let mut phone = ClientConnection::resume(PHONE, key.clone(), Some(LOCK), 0, &mut rng());
    let id = phone.send(Request::ListCodes, 0).unwrap();
    let mut host = Host::new(Some(key));
    // Byte by byte, both ways.
    for _ in 0..10 {
        while let Some(bytes) = phone.poll_transmit() {
            for byte in bytes {
                host.lock.handle_input(&[byte], 1);
            }
        }
        host.react();
        while let Some(bytes) = host.lock.poll_transmit() {
            for byte in bytes {
                phone.handle_input(&[byte], 1);
            }
        }
    }
    let events: Vec<_> = std::iter::from_fn(|| phone.poll_event()).collect();
    assert!(events.contains(&ClientEvent::Ready { lock_id: LOCK }));
    assert!(events.contains(&ClientEvent::Response {
        id,
        response: Response::Info(info())
    }));
}

#[test]
fn a_wrong_setup_code_fails_without_saying_more() {
    let mut phone = ClientConnection::pair(PHONE, "482-913-058", 0, &mut rng());
    let mut host = Host::new(None);
    let (_, events, lock_events) = run(&mut phone, &mut host);
    assert_eq!(events, vec![ClientEvent::Failed(ProtocolError::Refused)]);
    assert_eq!(host.failed_pairings, 1);
    assert!(host.key.is_none());
    assert!(lock_events.contains(&LockEvent::PairingFailed { phone_id: PHONE }));
}

#[test]
fn the_host_can_refuse_pairing_outright() {
    let mut phone = ClientConnection::pair(PHONE, SETUP_CODE, 0, &mut rng());
    let mut host = Host::new(None);
    for bytes in std::iter::from_fn(|| phone.poll_transmit()) {
        host.lock.handle_input(&bytes, 1);
    }
    assert_eq!(
        host.lock.poll_event(),
        Some(LockEvent::PairingRequested { phone_id: PHONE })
    );
    host.lock.refuse_pairing();
    for bytes in std::iter::from_fn(|| host.lock.poll_transmit()) {
        phone.handle_input(&bytes, 1);
    }
    assert_eq!(
        phone.poll_event(),
        Some(ClientEvent::Failed(ProtocolError::Refused))
    );
}

#[test]
fn an_unknown_phone_is_refused_and_a_lock_without_the_key_is_not_trusted() {
    let mut stranger = ClientConnection::resume(PHONE, PairingKey([9; 32]), None, 0, &mut rng());
    let mut host = Host::new(None);
    let (_, events, _) = run(&mut stranger, &mut host);
    assert_eq!(events, vec![ClientEvent::Failed(ProtocolError::Refused)]);

    // A lock that holds another key cannot prove itself.
    let (_, _, key) = paired();
    let mut phone = ClientConnection::resume(PHONE, key, Some(LOCK), 0, &mut rng());
    let mut impostor = Host::new(Some(PairingKey([3; 32])));
    let (_, events, _) = run(&mut phone, &mut impostor);
    assert_eq!(events, vec![ClientEvent::Failed(ProtocolError::WrongLock)]);
}

/// A session with two requests sent, and the frames carrying them.
fn two_requests() -> (Host, Vec<Vec<u8>>) {
    let (_, _, key) = paired();
    let mut phone = ClientConnection::resume(PHONE, key.clone(), Some(LOCK), 0, &mut rng());
    let mut host = Host::new(Some(key));
    run(&mut phone, &mut host);
    phone.send(Request::GetInfo, 1).unwrap();
    phone.send(Request::ListCodes, 1).unwrap();
    let frames: Vec<_> = std::iter::from_fn(|| phone.poll_transmit()).collect();
    assert_eq!(frames.len(), 2);
    (host, frames)
}

fn failure(host: &mut Host) -> Option<ProtocolError> {
    host.react().into_iter().find_map(|event| match event {
        LockEvent::Failed(error) => Some(error),
        _ => None,
    })
}

#[test]
fn a_replayed_frame_is_refused() {
    let (mut host, frames) = two_requests();
    host.lock.handle_input(&frames[0], 1);
    assert_eq!(failure(&mut host), None);
    host.lock.handle_input(&frames[0], 1);
    assert_eq!(failure(&mut host), Some(ProtocolError::Replayed));
    assert!(host.lock.is_closed());
}

#[test]
fn a_reordered_frame_is_refused() {
    let (mut host, frames) = two_requests();
    host.lock.handle_input(&frames[1], 1);
    assert_eq!(failure(&mut host), Some(ProtocolError::OutOfOrder));
}

#[test]
fn every_tampered_byte_is_refused() {
    let (_, frames) = two_requests();
    // Past the length, version and frame tag: flip each byte of the sealed frame.
    let mut random = rng();
    for position in 3..frames[0].len() {
        let (mut host, frames) = two_requests();
        let mut tampered = frames[0].clone();
        tampered[position] ^= 1 << random.random_range(0..8);
        host.lock.handle_input(&tampered, 1);
        let error = failure(&mut host);
        assert!(
            matches!(
                error,
                Some(
                    ProtocolError::Tampered
                        | ProtocolError::Malformed
                        | ProtocolError::OutOfOrder
                        | ProtocolError::FrameTooLarge
                        | ProtocolError::UnexpectedFrame
                )
            ),
            "byte {position}: {error:?}"
        );
        assert!(host.lock.is_closed(), "byte {position} was accepted");
    }
}

#[test]
fn a_silent_lock_times_out() {
    let mut phone = ClientConnection::pair(PHONE, SETUP_CODE, 0, &mut rng());
    assert_eq!(
        phone.next_deadline(),
        Some(tessera_protocol::HANDSHAKE_TIMEOUT_MS)
    );
    phone.handle_timeout(tessera_protocol::HANDSHAKE_TIMEOUT_MS);
    assert_eq!(
        phone.poll_event(),
        Some(ClientEvent::Failed(ProtocolError::Timeout))
    );
}
