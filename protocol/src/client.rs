//! The phone's side of a connection to a lock, as a state machine: feed it the bytes
//! that arrive and the time, take the bytes to send and the events. No sockets, no
//! threads, no clock of its own.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

use rand_core::CryptoRng;
use spake2::{Ed25519Group, Identity, Password, Spake2};

use crate::frame::{Frame, FrameReader, encode};
use crate::keys::{self, Channel, Direction, PairingKey};
use crate::wire::{Message, Request, Response};
use crate::{HANDSHAKE_TIMEOUT_MS, ProtocolError, REQUEST_TIMEOUT_MS};

/// What the phone learns from a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// Pairing succeeded: keep `key` in the secure store for this lock.
    Paired {
        lock_id: [u8; 16],
        key: PairingKey,
    },
    /// The session is up: requests go out now.
    Ready {
        lock_id: [u8; 16],
    },
    Response {
        id: u32,
        response: Response,
    },
    /// The connection is over; nothing more will happen on it.
    Failed(ProtocolError),
}

enum State {
    AwaitPairReply {
        spake: Spake2<Ed25519Group>,
        spake_a: Vec<u8>,
    },
    AwaitPairAccepted {
        spake_key: Vec<u8>,
        transcript: [u8; 32],
        lock_id: [u8; 16],
    },
    AwaitHelloReply {
        key: PairingKey,
        nonce: [u8; 16],
        expected_lock: Option<[u8; 16]>,
    },
    Ready {
        channel: Channel,
        lock_id: [u8; 16],
    },
    Closed,
}

/// The phone's end of a connection to one lock.
pub struct ClientConnection {
    phone_id: [u8; 16],
    state: State,
    reader: FrameReader,
    outgoing: VecDeque<Vec<u8>>,
    events: VecDeque<ClientEvent>,
    /// Requests made before the session was up, sent once it is.
    queued: Vec<(u32, Request)>,
    /// Requests awaiting an answer, with their deadlines.
    pending: BTreeMap<u32, u64>,
    next_id: u32,
    handshake_deadline: Option<u64>,
    /// A fresh nonce for the session after pairing.
    resume_nonce: [u8; 16],
}

impl core::fmt::Debug for ClientConnection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientConnection")
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl ClientConnection {
    /// Pairs with a lock using the setup code printed on it, then opens a session.
    pub fn pair<R: CryptoRng + ?Sized>(phone_id: [u8; 16], setup_code: &str, now: u64, rng: &mut R) -> Self {
        let (spake, spake_a) = Spake2::<Ed25519Group>::start_a_with_rng(
            &Password::new(setup_code.as_bytes()),
            &Identity::new(b"tessera-phone"),
            &Identity::new(b"tessera-lock"),
            &mut *rng,
        );
        let mut connection = Self::new(
            phone_id,
            State::AwaitPairReply {
                spake,
                spake_a: spake_a.clone(),
            },
            now,
            rng,
        );
        connection.send_frame(&Frame::PairStart {
            phone_id,
            spake: spake_a,
        });
        connection
    }

    /// Opens a session with a paired lock. With `expected_lock`, a lock answering
    /// with another id is refused.
    pub fn resume<R: CryptoRng + ?Sized>(
        phone_id: [u8; 16],
        key: PairingKey,
        expected_lock: Option<[u8; 16]>,
        now: u64,
        rng: &mut R,
    ) -> Self {
        let mut nonce = [0u8; 16];
        rng.fill_bytes(&mut nonce);
        let mut connection = Self::new(
            phone_id,
            State::AwaitHelloReply {
                key,
                nonce,
                expected_lock,
            },
            now,
            rng,
        );
        connection.send_frame(&Frame::Hello { phone_id, nonce });
        connection
    }

    fn new<R: CryptoRng + ?Sized>(phone_id: [u8; 16], state: State, now: u64, rng: &mut R) -> Self {
        let mut resume_nonce = [0u8; 16];
        rng.fill_bytes(&mut resume_nonce);
        ClientConnection {
            phone_id,
            state,
            reader: FrameReader::default(),
            outgoing: VecDeque::new(),
            events: VecDeque::new(),
            queued: Vec::new(),
            pending: BTreeMap::new(),
            next_id: 1,
            handshake_deadline: Some(now + HANDSHAKE_TIMEOUT_MS),
            resume_nonce,
        }
    }

    /// Sends (or queues, until the session is up) a request; its answer arrives as
    /// `ClientEvent::Response` with the returned id.
    pub fn send(&mut self, request: Request, now: u64) -> Result<u32, ProtocolError> {
        if matches!(self.state, State::Closed) {
            return Err(ProtocolError::Closed);
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        self.pending.insert(id, now + REQUEST_TIMEOUT_MS);
        if matches!(self.state, State::Ready { .. }) {
            self.seal(&Message::Request { id, request });
        } else {
            self.queued.push((id, request));
        }
        Ok(id)
    }

    /// Feeds bytes from the lock (any chunking).
    pub fn handle_input(&mut self, bytes: &[u8], now: u64) {
        if matches!(self.state, State::Closed) {
            return;
        }
        if let Err(error) = self.read_frames(bytes, now) {
            self.fail(error);
        }
    }

    fn read_frames(&mut self, bytes: &[u8], now: u64) -> Result<(), ProtocolError> {
        self.reader.push(bytes)?;
        while let Some(frame) = self.reader.next()? {
            self.handle_frame(frame, now)?;
        }
        Ok(())
    }

    /// The transport closed under us.
    pub fn handle_close(&mut self) {
        if !matches!(self.state, State::Closed) {
            self.fail(ProtocolError::Closed);
        }
    }

    /// The earliest time `handle_timeout` must be called.
    pub fn next_deadline(&self) -> Option<u64> {
        if matches!(self.state, State::Closed) {
            return None;
        }
        self.handshake_deadline
            .into_iter()
            .chain(self.pending.values().copied())
            .min()
    }

    pub fn handle_timeout(&mut self, now: u64) {
        if self.next_deadline().is_some_and(|deadline| deadline <= now) {
            self.fail(ProtocolError::Timeout);
        }
    }

    /// Bytes to write to the transport.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.outgoing.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    pub fn is_ready(&self) -> bool {
        matches!(self.state, State::Ready { .. })
    }

    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    fn handle_frame(&mut self, frame: Frame, _now: u64) -> Result<(), ProtocolError> {
        let state = core::mem::replace(&mut self.state, State::Closed);
        self.state = match (state, frame) {
            (_, Frame::Refused) => return Err(ProtocolError::Refused),
            (
                State::AwaitPairReply { spake, spake_a },
                Frame::PairReply {
                    lock_id,
                    spake: spake_b,
                },
            ) => {
                let spake_key = spake.finish(&spake_b).map_err(|_| ProtocolError::Malformed)?;
                let transcript = keys::transcript(&self.phone_id, &lock_id, &spake_a, &spake_b);
                let mac = keys::proof(&spake_key, &[b"phone", &transcript]);
                self.send_frame(&Frame::PairConfirm { mac });
                State::AwaitPairAccepted {
                    spake_key,
                    transcript,
                    lock_id,
                }
            }
            (
                State::AwaitPairAccepted {
                    spake_key,
                    transcript,
                    lock_id,
                },
                Frame::PairAccepted { mac },
            ) => {
                if !keys::check(&spake_key, &[b"lock", &transcript], &mac) {
                    return Err(ProtocolError::WrongLock);
                }
                let key = keys::pairing_key(&spake_key, &transcript);
                self.events.push_back(ClientEvent::Paired {
                    lock_id,
                    key: key.clone(),
                });
                let nonce = self.resume_nonce;
                self.send_frame(&Frame::Hello {
                    phone_id: self.phone_id,
                    nonce,
                });
                State::AwaitHelloReply {
                    key,
                    nonce,
                    expected_lock: Some(lock_id),
                }
            }
            (
                State::AwaitHelloReply {
                    key,
                    nonce,
                    expected_lock,
                },
                Frame::HelloReply {
                    lock_id,
                    nonce: lock_nonce,
                    proof,
                },
            ) => {
                let parts: [&[u8]; 5] = [b"hello", &self.phone_id, &lock_id, &nonce, &lock_nonce];
                if expected_lock.is_some_and(|expected| expected != lock_id)
                    || !keys::check(&key.0, &parts, &proof)
                {
                    return Err(ProtocolError::WrongLock);
                }
                self.handshake_deadline = None;
                self.state = State::Ready {
                    channel: Channel::new(&key, &nonce, &lock_nonce, Direction::PhoneToLock),
                    lock_id,
                };
                self.events.push_back(ClientEvent::Ready { lock_id });
                for (id, request) in core::mem::take(&mut self.queued) {
                    self.seal(&Message::Request { id, request });
                }
                return Ok(());
            }
            (State::Ready { mut channel, lock_id }, Frame::Sealed { seq, body }) => {
                match channel.open_message(seq, &body)? {
                    Message::Response { id, response } => {
                        if self.pending.remove(&id).is_none() {
                            return Err(ProtocolError::UnexpectedFrame);
                        }
                        self.events.push_back(ClientEvent::Response { id, response });
                    }
                    Message::Request { .. } => return Err(ProtocolError::UnexpectedFrame),
                }
                State::Ready { channel, lock_id }
            }
            _ => return Err(ProtocolError::UnexpectedFrame),
        };
        Ok(())
    }

    fn seal(&mut self, message: &Message) {
        let State::Ready { channel, .. } = &mut self.state else {
            return;
        };
        match channel.seal_message(message) {
            Ok(frame) => self.send_frame(&frame),
            Err(error) => self.fail(error),
        }
    }

    fn send_frame(&mut self, frame: &Frame) {
        match encode(frame) {
            Ok(bytes) => self.outgoing.push_back(bytes),
            Err(error) => self.fail(error),
        }
    }

    fn fail(&mut self, error: ProtocolError) {
        self.state = State::Closed;
        self.pending.clear();
        self.queued.clear();
        self.events.push_back(ClientEvent::Failed(error));
    }
}
