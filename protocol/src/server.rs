//! The lock's side of a connection, as a state machine. The host (the lock's
//! firmware, or tessera-lock) decides what the protocol cannot: whether a pairing
//! attempt is allowed now (attempt limits), which key a phone was paired with, and
//! what to answer to each request.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use rand_core::CryptoRng;
use spake2::{Ed25519Group, Identity, Password, Spake2};

use crate::frame::{Frame, FrameReader, encode};
use crate::keys::{self, Channel, Direction, PairingKey};
use crate::wire::{Message, Request, Response};
use crate::{HANDSHAKE_TIMEOUT_MS, ProtocolError};

/// What the lock's host must act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockEvent {
    /// A phone wants to pair: call `accept_pairing` (with the setup code) or
    /// `refuse_pairing` (too many attempts).
    PairingRequested { phone_id: [u8; 16] },
    /// The phone did not know the setup code: count the attempt.
    PairingFailed { phone_id: [u8; 16] },
    /// Pairing succeeded: keep the key for this phone.
    Paired { phone_id: [u8; 16], key: PairingKey },
    /// A phone opens a session: call `provide_key` with its pairing key, or `None`.
    KeyNeeded { phone_id: [u8; 16] },
    /// The session is up.
    Ready { phone_id: [u8; 16] },
    /// Answer with `respond`.
    Request { id: u32, request: Request },
    /// The connection is over.
    Failed(ProtocolError),
}

enum State {
    AwaitFirst,
    AwaitPairingDecision {
        phone_id: [u8; 16],
        spake_a: Vec<u8>,
    },
    AwaitPairConfirm {
        phone_id: [u8; 16],
        spake_key: Vec<u8>,
        transcript: [u8; 32],
    },
    AwaitHello,
    AwaitKey {
        phone_id: [u8; 16],
        nonce: [u8; 16],
    },
    Ready {
        channel: Channel,
        phone_id: [u8; 16],
    },
    Closed,
}

/// The lock's end of one connection.
pub struct LockConnection {
    lock_id: [u8; 16],
    state: State,
    reader: FrameReader,
    outgoing: VecDeque<Vec<u8>>,
    events: VecDeque<LockEvent>,
    handshake_deadline: Option<u64>,
}

impl core::fmt::Debug for LockConnection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LockConnection").finish_non_exhaustive()
    }
}

impl LockConnection {
    pub fn new(lock_id: [u8; 16], now: u64) -> Self {
        LockConnection {
            lock_id,
            state: State::AwaitFirst,
            reader: FrameReader::default(),
            outgoing: VecDeque::new(),
            events: VecDeque::new(),
            handshake_deadline: Some(now + HANDSHAKE_TIMEOUT_MS),
        }
    }

    pub fn handle_input(&mut self, bytes: &[u8], now: u64) {
        if matches!(self.state, State::Closed) {
            return;
        }
        if let Err(error) = self.read_frames(bytes, now) {
            self.fail(error, false);
        }
    }

    fn read_frames(&mut self, bytes: &[u8], now: u64) -> Result<(), ProtocolError> {
        self.reader.push(bytes)?;
        while let Some(frame) = self.reader.next()? {
            self.handle_frame(frame, now)?;
        }
        Ok(())
    }

    /// Runs the lock's half of SPAKE2 with its setup code.
    pub fn accept_pairing<R: CryptoRng + ?Sized>(&mut self, setup_code: &str, rng: &mut R) {
        let State::AwaitPairingDecision { phone_id, spake_a } =
            core::mem::replace(&mut self.state, State::Closed)
        else {
            return self.fail(ProtocolError::UnexpectedFrame, true);
        };
        let (spake, spake_b) = Spake2::<Ed25519Group>::start_b_with_rng(
            &Password::new(setup_code.as_bytes()),
            &Identity::new(b"tessera-phone"),
            &Identity::new(b"tessera-lock"),
            rng,
        );
        let Ok(spake_key) = spake.finish(&spake_a) else {
            return self.fail(ProtocolError::Malformed, true);
        };
        let transcript = keys::transcript(&phone_id, &self.lock_id, &spake_a, &spake_b);
        self.send_frame(&Frame::PairReply {
            lock_id: self.lock_id,
            spake: spake_b,
        });
        self.state = State::AwaitPairConfirm {
            phone_id,
            spake_key,
            transcript,
        };
    }

    /// Refuses a pairing attempt (too many recent failures).
    pub fn refuse_pairing(&mut self) {
        self.fail(ProtocolError::Refused, true);
    }

    /// The phone's pairing key, or `None` for a phone this lock does not know.
    pub fn provide_key<R: CryptoRng + ?Sized>(&mut self, key: Option<PairingKey>, rng: &mut R) {
        let State::AwaitKey { phone_id, nonce } = core::mem::replace(&mut self.state, State::Closed) else {
            return self.fail(ProtocolError::UnexpectedFrame, true);
        };
        let Some(key) = key else {
            return self.fail(ProtocolError::Refused, true);
        };
        let mut lock_nonce = [0u8; 16];
        rng.fill_bytes(&mut lock_nonce);
        let parts: [&[u8]; 5] = [b"hello", &phone_id, &self.lock_id, &nonce, &lock_nonce];
        let proof = keys::proof(&key.0, &parts);
        self.send_frame(&Frame::HelloReply {
            lock_id: self.lock_id,
            nonce: lock_nonce,
            proof,
        });
        self.handshake_deadline = None;
        self.state = State::Ready {
            channel: Channel::new(&key, &nonce, &lock_nonce, Direction::LockToPhone),
            phone_id,
        };
        self.events.push_back(LockEvent::Ready { phone_id });
    }

    /// Answers request `id`.
    pub fn respond(&mut self, id: u32, response: Response) {
        let State::Ready { channel, .. } = &mut self.state else {
            return;
        };
        match channel.seal_message(&Message::Response { id, response }) {
            Ok(frame) => self.send_frame(&frame),
            Err(error) => self.fail(error, false),
        }
    }

    /// The phone the session is with, once it is up.
    pub fn phone(&self) -> Option<[u8; 16]> {
        match &self.state {
            State::Ready { phone_id, .. } => Some(*phone_id),
            _ => None,
        }
    }

    pub fn handle_close(&mut self) {
        if !matches!(self.state, State::Closed) {
            self.fail(ProtocolError::Closed, false);
        }
    }

    pub fn next_deadline(&self) -> Option<u64> {
        if matches!(self.state, State::Closed) {
            None
        } else {
            self.handshake_deadline
        }
    }

    pub fn handle_timeout(&mut self, now: u64) {
        if self.next_deadline().is_some_and(|deadline| deadline <= now) {
            self.fail(ProtocolError::Timeout, false);
        }
    }

    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.outgoing.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<LockEvent> {
        self.events.pop_front()
    }

    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    fn handle_frame(&mut self, frame: Frame, _now: u64) -> Result<(), ProtocolError> {
        let state = core::mem::replace(&mut self.state, State::Closed);
        self.state = match (state, frame) {
            (State::AwaitFirst, Frame::PairStart { phone_id, spake }) => {
                self.events.push_back(LockEvent::PairingRequested { phone_id });
                State::AwaitPairingDecision {
                    phone_id,
                    spake_a: spake,
                }
            }
            (State::AwaitFirst | State::AwaitHello, Frame::Hello { phone_id, nonce }) => {
                self.events.push_back(LockEvent::KeyNeeded { phone_id });
                State::AwaitKey { phone_id, nonce }
            }
            (
                State::AwaitPairConfirm {
                    phone_id,
                    spake_key,
                    transcript,
                },
                Frame::PairConfirm { mac },
            ) => {
                if !keys::check(&spake_key, &[b"phone", &transcript], &mac) {
                    self.events.push_back(LockEvent::PairingFailed { phone_id });
                    self.send_frame(&Frame::Refused);
                    return Err(ProtocolError::PairingFailed);
                }
                let accepted = keys::proof(&spake_key, &[b"lock", &transcript]);
                self.send_frame(&Frame::PairAccepted { mac: accepted });
                let key = keys::pairing_key(&spake_key, &transcript);
                self.events.push_back(LockEvent::Paired { phone_id, key });
                State::AwaitHello
            }
            (
                State::Ready {
                    mut channel,
                    phone_id,
                },
                Frame::Sealed { seq, body },
            ) => {
                match channel.open_message(seq, &body)? {
                    Message::Request { id, request } => {
                        self.events.push_back(LockEvent::Request { id, request })
                    }
                    Message::Response { .. } => return Err(ProtocolError::UnexpectedFrame),
                }
                State::Ready { channel, phone_id }
            }
            _ => return Err(ProtocolError::UnexpectedFrame),
        };
        Ok(())
    }

    fn send_frame(&mut self, frame: &Frame) {
        match encode(frame) {
            Ok(bytes) => self.outgoing.push_back(bytes),
            Err(error) => self.fail(error, false),
        }
    }

    /// Closes the connection; `tell` sends the phone a bare refusal first.
    fn fail(&mut self, error: ProtocolError, tell: bool) {
        if tell {
            self.send_frame(&Frame::Refused);
        }
        self.state = State::Closed;
        self.events.push_back(LockEvent::Failed(error));
    }
}
