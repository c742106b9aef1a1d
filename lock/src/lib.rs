//! tessera-lock: the reference lock. A real process (the `tessera-lock`
//! binary) and a library, so the CLI's demo can run a lock in-process, and so a
//! lock maker can read what a lock must do.
//!
//! - Persistent state in a directory, replaced atomically on every change that
//!   matters: a used one-time code is saved before the door opens; lockout
//!   counters survive power loss (an entry counts as wrong until it is found
//!   right).
//! - A keypad: exact-length entry plus Enter; stored codes (schedules evaluated
//!   with tessera-model in the lock's zone), offline codes (tessera-protocol),
//!   wrong-entry lockout with exponential backoff.
//! - The local protocol over TCP (tessera-protocol's `LockConnection`), pairing
//!   by the setup code on the label with a limit on attempts; mDNS / DNS-SD
//!   announcement; the Wi-Fi mode against tessera-cloud.
//! - A clock: system time plus a persisted offset. Only a paired phone sets it
//!   (`SetClock`), never back by more than `TOLERANCE_SECONDS`; the control
//!   socket's clock command is a test hook of this reference lock, not a
//!   protocol feature.
//!
//! Embedding:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use tessera_lock::{Lock, LockConfig};
//! let mut config = LockConfig::new("/tmp/front-door");
//! config.name = Some("Front door".into());
//! config.time_zone = Some("Europe/Berlin".into());
//! let lock = Lock::open(config)?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let address = listener.local_addr()?;
//! let serving = lock.clone();
//! tokio::spawn(async move { serving.serve(listener).await });
//! println!("pair with {address} using {}", lock.setup_code().expose());
//! let result = lock.enter("4829163")?;
//! # Ok(())
//! # }
//! ```

mod announce;
pub mod cloud;
pub mod control;
mod error;
mod hex;
mod lock;
pub mod policy;
mod secret;
mod serve;
mod store;

pub use announce::{Announcement, PROTOCOL_VERSION, SERVICE_TYPE};
pub use cloud::CloudLink;
pub use error::{Error, Result};
pub use lock::{KeypadResult, Lock, LockConfig, LockHandle, LockoutStatus, Opener, Status};
pub use secret::{DeviceToken, SETUP_CODE_DIGITS, SetupCode};
pub use store::STATE_FILE;

/// Lower-case hex of bytes (lock ids as mDNS and `status` show them).
pub fn to_hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Bytes from hex (`N` of them), e.g. a lock id from the TXT record.
pub fn from_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    hex::decode(text)
}
