//! Frames on the wire: `length (u16, big-endian) || version || postcard(Frame)`.
//! The same bytes go over TCP, a BLE characteristic or an in-memory pipe; a
//! `FrameReader` reassembles them from any chunking.

use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::ProtocolError;

pub const VERSION: u8 = 1;
/// Largest frame body accepted (a full code list fits with room to spare).
pub const MAX_FRAME: usize = 32 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Frame {
    /// Phone → lock: SPAKE2 message A, under the setup code.
    PairStart { phone_id: [u8; 16], spake: Vec<u8> },
    /// Lock → phone: SPAKE2 message B.
    PairReply { lock_id: [u8; 16], spake: Vec<u8> },
    /// Phone → lock: proof the phone derived the same key.
    PairConfirm { mac: [u8; 32] },
    /// Lock → phone: proof the lock did.
    PairAccepted { mac: [u8; 32] },
    /// Phone → lock: opens a session under the pairing key.
    Hello { phone_id: [u8; 16], nonce: [u8; 16] },
    /// Lock → phone: its nonce, and proof it holds the pairing key.
    HelloReply {
        lock_id: [u8; 16],
        nonce: [u8; 16],
        proof: [u8; 32],
    },
    /// Either way, inside a session: a sequence number and an AEAD ciphertext.
    Sealed { seq: u64, body: Vec<u8> },
    /// Lock → phone: no (wrong setup code, too many attempts, unknown phone). Says
    /// nothing more, on purpose.
    Refused,
}

pub(crate) fn encode(frame: &Frame) -> Result<Vec<u8>, ProtocolError> {
    let body = postcard::to_allocvec(frame).map_err(|_| ProtocolError::Malformed)?;
    let length = u16::try_from(body.len() + 1).map_err(|_| ProtocolError::FrameTooLarge)?;
    if usize::from(length) > MAX_FRAME {
        return Err(ProtocolError::FrameTooLarge);
    }
    let mut out = Vec::with_capacity(body.len() + 3);
    out.extend_from_slice(&length.to_be_bytes());
    out.push(VERSION);
    out.extend_from_slice(&body);
    Ok(out)
}

/// Reassembles frames from a byte stream.
#[derive(Debug, Default)]
pub(crate) struct FrameReader {
    buffer: Vec<u8>,
}

impl FrameReader {
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Result<(), ProtocolError> {
        if self.buffer.len() + bytes.len() > MAX_FRAME + 2 + MAX_FRAME {
            return Err(ProtocolError::FrameTooLarge);
        }
        self.buffer.extend_from_slice(bytes);
        Ok(())
    }

    /// The next whole frame, if one has arrived.
    pub(crate) fn next(&mut self) -> Result<Option<Frame>, ProtocolError> {
        if self.buffer.len() < 2 {
            return Ok(None);
        }
        let length = usize::from(u16::from_be_bytes([self.buffer[0], self.buffer[1]]));
        if length == 0 || length > MAX_FRAME {
            return Err(ProtocolError::FrameTooLarge);
        }
        if self.buffer.len() < 2 + length {
            return Ok(None);
        }
        let frame: Vec<u8> = self.buffer.drain(..2 + length).skip(2).collect();
        if frame[0] != VERSION {
            return Err(ProtocolError::UnsupportedVersion { version: frame[0] });
        }
        let (frame, rest) = postcard::take_from_bytes(&frame[1..]).map_err(|_| ProtocolError::Malformed)?;
        if !rest.is_empty() {
            return Err(ProtocolError::Malformed);
        }
        Ok(Some(frame))
    }
}
