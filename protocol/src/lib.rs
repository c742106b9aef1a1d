//! tessera-protocol: what a phone and a lock share, for lock firmware as much as for
//! the app (`no_std` + `alloc`, no I/O).
//!
//! - [`offline`]: offline codes, which a phone derives with no network and the lock
//!   verifies with its clock alone.
//! - `schedule` (feature `model`, for hosts with std): wire schedules to and from
//!   tessera-model's, the one conversion the phone and the reference lock share.
//! - The local protocol: framed, versioned messages ([`wire`]) in sessions that are
//!   authenticated and encrypted; pairing by SPAKE2 over the setup code printed on
//!   the lock. Sans-IO state machines ([`ClientConnection`] for the phone,
//!   [`LockConnection`] for the lock): bytes and the time in, bytes and events out,
//!   so the same code runs over TCP, Bluetooth GATT, or an in-memory pipe.

#![no_std]

extern crate alloc;

mod client;
mod frame;
mod keys;
pub mod offline;
#[cfg(feature = "model")]
pub mod schedule;
mod server;
pub mod wire;

pub use client::{ClientConnection, ClientEvent};
pub use keys::PairingKey;
pub use server::{LockConnection, LockEvent};

/// A handshake (pairing or resuming) must finish within this many milliseconds.
pub const HANDSHAKE_TIMEOUT_MS: u64 = 10_000;
/// A request must be answered within this many milliseconds.
pub const REQUEST_TIMEOUT_MS: u64 = 15_000;

/// Why a connection ended. Every error closes the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolError {
    /// Not a frame of this protocol.
    Malformed,
    UnsupportedVersion {
        version: u8,
    },
    FrameTooLarge,
    /// A frame that does not belong here (wrong step, a response to nothing ...).
    UnexpectedFrame,
    /// A frame failed its authentication: altered, or not from the other end.
    Tampered,
    /// A frame seen before.
    Replayed,
    /// A frame ahead of the next expected one (a frame went missing or was moved).
    OutOfOrder,
    /// The phone did not know the setup code (the lock's view).
    PairingFailed,
    /// The lock said no: wrong setup code, too many attempts, or an unknown phone.
    Refused,
    /// The other end is not the lock it claims (wrong id, or no proof of the key).
    WrongLock,
    Timeout,
    Closed,
}

impl core::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ProtocolError::Malformed => "malformed frame",
            ProtocolError::UnsupportedVersion { .. } => "unsupported protocol version",
            ProtocolError::FrameTooLarge => "frame too large",
            ProtocolError::UnexpectedFrame => "unexpected frame",
            ProtocolError::Tampered => "a frame failed authentication",
            ProtocolError::Replayed => "a frame was replayed",
            ProtocolError::OutOfOrder => "a frame arrived out of order",
            ProtocolError::PairingFailed => "wrong setup code",
            ProtocolError::Refused => "the lock refused",
            ProtocolError::WrongLock => "not the expected lock",
            ProtocolError::Timeout => "timed out",
            ProtocolError::Closed => "connection closed",
        })
    }
}
