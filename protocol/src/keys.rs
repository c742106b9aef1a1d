//! The key schedule: pairing transcript and proofs, the long-term pairing key,
//! session keys, and the sealed channel (ChaCha20-Poly1305 with the sequence
//! number in the nonce and the associated data, so frames cannot be replayed,
//! reordered or altered).

use alloc::vec::Vec;

use chacha20poly1305::aead::{Aead, KeyInit as AeadKeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use crate::ProtocolError;
use crate::frame::{Frame, VERSION};
use crate::wire::Message;

/// The key a phone and a lock share after pairing. The phone keeps it in the
/// platform's secure store, the lock in its state file. Wiped on drop.
#[derive(Clone, PartialEq, Eq, Zeroize)]
#[zeroize(drop)]
pub struct PairingKey(pub [u8; 32]);

impl core::fmt::Debug for PairingKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("PairingKey(<redacted>)")
    }
}

pub(crate) fn transcript(
    phone_id: &[u8; 16],
    lock_id: &[u8; 16],
    spake_a: &[u8],
    spake_b: &[u8],
) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(b"tessera/pair/v1");
    hash.update(phone_id);
    hash.update(lock_id);
    hash.update((spake_a.len() as u32).to_be_bytes());
    hash.update(spake_a);
    hash.update((spake_b.len() as u32).to_be_bytes());
    hash.update(spake_b);
    hash.finalize().into()
}

fn mac(key: &[u8], parts: &[&[u8]]) -> Hmac<Sha256> {
    // HMAC takes keys of any length; a 32-byte key never fails.
    let mut mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => <Hmac<Sha256> as KeyInit>::new(&Default::default()),
    };
    for part in parts {
        mac.update(part);
    }
    mac
}

pub(crate) fn proof(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    mac(key, parts).finalize().into_bytes().into()
}

/// Constant-time check of a proof.
pub(crate) fn check(key: &[u8], parts: &[&[u8]], expected: &[u8; 32]) -> bool {
    mac(key, parts).verify_slice(expected).is_ok()
}

pub(crate) fn pairing_key(spake_key: &[u8], transcript: &[u8; 32]) -> PairingKey {
    let mut key = [0u8; 32];
    let _ = Hkdf::<Sha256>::new(Some(transcript), spake_key).expand(b"tessera/pairing-key/v1", &mut key);
    PairingKey(key)
}

/// Which way a sealed frame travels: part of its nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    PhoneToLock,
    LockToPhone,
}

/// One session's keys and counters.
pub(crate) struct Channel {
    send: ChaCha20Poly1305,
    receive: ChaCha20Poly1305,
    send_direction: Direction,
    next_send: u64,
    next_receive: u64,
}

impl Channel {
    pub(crate) fn new(
        key: &PairingKey,
        phone_nonce: &[u8; 16],
        lock_nonce: &[u8; 16],
        side: Direction,
    ) -> Self {
        let mut salt = [0u8; 32];
        salt[..16].copy_from_slice(phone_nonce);
        salt[16..].copy_from_slice(lock_nonce);
        let mut keys = Zeroizing::new([0u8; 64]);
        let _ = Hkdf::<Sha256>::new(Some(&salt), &key.0).expand(b"tessera/session/v1", keys.as_mut());
        let mut phone_to_lock = [0u8; 32];
        let mut lock_to_phone = [0u8; 32];
        phone_to_lock.copy_from_slice(&keys[..32]);
        lock_to_phone.copy_from_slice(&keys[32..]);
        let cipher = |k: [u8; 32]| ChaCha20Poly1305::new(&Key::from(k));
        let (send, receive) = match side {
            Direction::PhoneToLock => (cipher(phone_to_lock), cipher(lock_to_phone)),
            Direction::LockToPhone => (cipher(lock_to_phone), cipher(phone_to_lock)),
        };
        phone_to_lock.zeroize();
        lock_to_phone.zeroize();
        Channel {
            send,
            receive,
            send_direction: side,
            next_send: 0,
            next_receive: 0,
        }
    }

    pub(crate) fn seal(&mut self, plaintext: &[u8]) -> Result<(u64, Vec<u8>), ProtocolError> {
        let seq = self.next_send;
        let body = self
            .send
            .encrypt(
                &nonce(self.send_direction, seq),
                Payload {
                    msg: plaintext,
                    aad: &aad(seq),
                },
            )
            .map_err(|_| ProtocolError::Malformed)?;
        self.next_send = seq.checked_add(1).ok_or(ProtocolError::Closed)?;
        Ok((seq, body))
    }

    /// Seals a session message into the frame that carries it.
    pub(crate) fn seal_message(&mut self, message: &Message) -> Result<Frame, ProtocolError> {
        let plaintext = postcard::to_allocvec(message).map_err(|_| ProtocolError::Malformed)?;
        let (seq, body) = self.seal(&plaintext)?;
        Ok(Frame::Sealed { seq, body })
    }

    /// Opens the next sealed frame as a session message.
    pub(crate) fn open_message(&mut self, seq: u64, body: &[u8]) -> Result<Message, ProtocolError> {
        let plaintext = self.open(seq, body)?;
        postcard::from_bytes(&plaintext).map_err(|_| ProtocolError::Malformed)
    }

    /// Opens the next frame: exactly the expected sequence number, intact.
    pub(crate) fn open(&mut self, seq: u64, body: &[u8]) -> Result<Zeroizing<Vec<u8>>, ProtocolError> {
        if seq < self.next_receive {
            return Err(ProtocolError::Replayed);
        }
        if seq > self.next_receive {
            return Err(ProtocolError::OutOfOrder);
        }
        let from = match self.send_direction {
            Direction::PhoneToLock => Direction::LockToPhone,
            Direction::LockToPhone => Direction::PhoneToLock,
        };
        let plaintext = self
            .receive
            .decrypt(
                &nonce(from, seq),
                Payload {
                    msg: body,
                    aad: &aad(seq),
                },
            )
            .map_err(|_| ProtocolError::Tampered)?;
        self.next_receive += 1;
        Ok(Zeroizing::new(plaintext))
    }
}

fn nonce(direction: Direction, seq: u64) -> Nonce {
    let mut nonce = [0u8; 12];
    nonce[3] = match direction {
        Direction::PhoneToLock => 1,
        Direction::LockToPhone => 2,
    };
    nonce[4..].copy_from_slice(&seq.to_be_bytes());
    Nonce::from(nonce)
}

fn aad(seq: u64) -> [u8; 15] {
    let mut aad = [0u8; 15];
    aad[0] = VERSION;
    aad[1..7].copy_from_slice(b"sealed");
    aad[7..].copy_from_slice(&seq.to_be_bytes());
    aad
}
