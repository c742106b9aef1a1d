//! The lock's errors. None of them quotes a PIN, a key or the setup code.

use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The state directory or a file in it could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The state file exists but cannot be understood.
    #[error("the state file {path} is unreadable: {reason}")]
    CorruptState { path: PathBuf, reason: String },
    /// Another lock process uses this state directory.
    #[error("another tessera-lock process uses {path}")]
    Busy { path: PathBuf },
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A change could not be made durable; it was not made.
    #[error("the state could not be saved: {0}")]
    Persist(#[source] io::Error),
    /// What was typed is not a keypad entry (digits only, at most 20).
    #[error("not a keypad entry: {0}")]
    BadEntry(&'static str),
    #[error("no randomness: {0}")]
    Randomness(String),
    #[error("mDNS announcement: {0}")]
    Announce(String),
    #[error("cloud: {0}")]
    Cloud(String),
    /// The control socket answered with an error, or not at all.
    #[error("control socket: {0}")]
    Control(String),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
