//! The error every public call of tessera-core returns.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, in terms a UI can act on. Messages never contain secrets.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request broke a rule of the domain: a weak PIN, an invalid schedule ...
    #[error(transparent)]
    Domain(#[from] tessera_model::Error),

    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },

    /// The secure store has no key for an existing database: the key was lost.
    #[error("the key of this database is missing from the secure store")]
    StoreKeyMissing,

    /// The key does not open this database (another device's or a lost key).
    #[error("the key does not open this database")]
    WrongKey,

    /// The file is damaged or not a database at all. It has been left untouched.
    #[error("{} is damaged or not a database; it was left untouched", path.display())]
    CorruptDatabase { path: PathBuf },

    /// The file is a database of another program. It has been left untouched.
    #[error("{} is not a Tessera database; it was left untouched", path.display())]
    ForeignDatabase { path: PathBuf },

    /// The database was written by a newer Tessera; update the app.
    #[error("the database has schema version {found}; this build reads up to {supported}")]
    DatabaseTooNew { found: i64, supported: i64 },

    /// Reading or writing local storage failed.
    #[error("storage failed: {reason}")]
    Storage { reason: String },

    /// The platform's secure store failed.
    #[error("the secure store failed: {reason}")]
    SecureStore { reason: String },

    /// A setting is wrong (the cloud address, a certificate).
    #[error("{reason}")]
    Config { reason: String },

    /// The cloud cannot be reached. Local changes are kept and sync later.
    #[error("offline: {reason}")]
    Offline { reason: String },

    /// Not signed in, or the session ended (revoked from another device, or its
    /// refresh token was replayed): log in again.
    #[error("signed out; log in again")]
    SignedOut,

    /// Wrong email or password.
    #[error("wrong email or password")]
    InvalidCredentials,

    /// The email already has an account.
    #[error("an account with this email already exists")]
    EmailTaken,

    /// Too many attempts; try again later.
    #[error("too many attempts; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },

    /// The share link is damaged, tampered with, or not a share link.
    #[error("the share link does not open: {reason}")]
    ShareLinkInvalid { reason: String },

    /// The share link expired, was revoked, or was opened as often as allowed (the
    /// cloud does not say which, by design).
    #[error("the share link no longer opens (expired, revoked or used up)")]
    ShareLinkUnavailable,

    /// The share link's expiry has passed.
    #[error("the share link expired")]
    ShareLinkExpired,

    /// The lock cannot be reached over its local route (network or Bluetooth):
    /// nothing answered, the connection broke, or it did not answer in time.
    #[error("the lock cannot be reached: {reason}")]
    LockUnreachable { reason: String },

    /// The lock refused to pair: a wrong setup code, or too many attempts (the lock
    /// does not say which, by design).
    #[error("the lock refused to pair: wrong setup code, or too many attempts")]
    PairingRefused,

    /// No pairing with this lock on this device, or the lock no longer knows this
    /// device (it was reset): pair again with its setup code.
    #[error("this device is not paired with lock {lock}; pair with its setup code")]
    NotPaired { lock: String },

    /// The device at the address is not the lock expected, or failed to prove it
    /// holds the pairing key.
    #[error("the device that answered is not the expected lock")]
    WrongLock,

    /// The lock refused a request; `reason` says why.
    #[error("the lock refused: {reason}")]
    LockRefused { reason: String },

    /// The lock refused to set its clock that far back.
    #[error("the lock refused to move its clock back (it reads {lock_clock})")]
    ClockRefused {
        lock_clock: chrono::DateTime<chrono::Utc>,
    },

    /// The local protocol broke (a malformed, tampered, replayed or reordered frame,
    /// or an unsupported version); the connection was closed.
    #[error("the local connection failed: {reason}")]
    LocalProtocol { reason: String },

    /// Bluetooth failed, or no Bluetooth transport was provided by the app.
    #[error("Bluetooth: {reason}")]
    Bluetooth { reason: String },

    /// Discovery on the local network could not run.
    #[error("local discovery failed: {reason}")]
    Discovery { reason: String },

    /// This device cannot issue offline codes for the lock: it has no offline
    /// secret (pair with the lock over the local network or Bluetooth first).
    #[error("no offline-code secret for lock {lock}; pair with the lock first")]
    OfflineCodesUnavailable { lock: String },

    /// Every slot of this start hour and class is used (or gives a weak PIN): choose
    /// another start hour or class.
    #[error("no offline code left for this start hour and class ({slots} slots used or unusable)")]
    OfflineQuotaExhausted { slots: u8 },

    /// The cloud refused the request; `code` is its stable error code.
    #[error("the cloud refused: {message}")]
    CloudRejected {
        code: String,
        message: String,
        field: Option<String>,
    },
}

impl Error {
    /// A stable machine-readable name for the variant, for scripts and APIs.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Domain(e) => e.code(),
            Error::NotFound { .. } => "not_found",
            Error::StoreKeyMissing => "store_key_missing",
            Error::WrongKey => "wrong_key",
            Error::CorruptDatabase { .. } => "corrupt_database",
            Error::ForeignDatabase { .. } => "foreign_database",
            Error::DatabaseTooNew { .. } => "database_too_new",
            Error::Storage { .. } => "storage",
            Error::SecureStore { .. } => "secure_store",
            Error::Config { .. } => "config",
            Error::Offline { .. } => "offline",
            Error::SignedOut => "signed_out",
            Error::InvalidCredentials => "invalid_credentials",
            Error::EmailTaken => "email_taken",
            Error::RateLimited { .. } => "rate_limited",
            Error::CloudRejected { .. } => "cloud_rejected",
            Error::LockUnreachable { .. } => "lock_unreachable",
            Error::PairingRefused => "pairing_refused",
            Error::NotPaired { .. } => "not_paired",
            Error::WrongLock => "wrong_lock",
            Error::LockRefused { .. } => "lock_refused",
            Error::ClockRefused { .. } => "clock_refused",
            Error::LocalProtocol { .. } => "local_protocol",
            Error::Bluetooth { .. } => "bluetooth",
            Error::Discovery { .. } => "discovery",
            Error::OfflineCodesUnavailable { .. } => "offline_codes_unavailable",
            Error::OfflineQuotaExhausted { .. } => "offline_quota_exhausted",
            Error::ShareLinkInvalid { .. } => "share_link_invalid",
            Error::ShareLinkUnavailable => "share_link_unavailable",
            Error::ShareLinkExpired => "share_link_expired",
        }
    }

    pub(crate) fn storage(reason: impl std::fmt::Display) -> Self {
        Error::Storage {
            reason: reason.to_string(),
        }
    }
}

impl From<crate::cloud::CloudError> for Error {
    fn from(error: crate::cloud::CloudError) -> Self {
        use crate::cloud::CloudError;
        use tessera_api::ErrorCode;
        match error {
            CloudError::Unreachable { reason } => Error::Offline { reason },
            CloudError::SignedOut => Error::SignedOut,
            CloudError::Local { reason } => Error::SecureStore { reason },
            CloudError::Protocol { reason } => Error::CloudRejected {
                code: "protocol".to_owned(),
                message: reason,
                field: None,
            },
            CloudError::Rejected {
                code,
                retry_after,
                message,
                field,
                status,
            } => match code {
                ErrorCode::InvalidCredentials => Error::InvalidCredentials,
                ErrorCode::EmailTaken => Error::EmailTaken,
                ErrorCode::RateLimited => Error::RateLimited {
                    retry_after_secs: retry_after.map_or(60, |after| after.as_secs()),
                },
                _ if status >= 500 => Error::Offline { reason: message },
                code => Error::CloudRejected {
                    code: serde_json::to_value(code)
                        .ok()
                        .and_then(|value| value.as_str().map(str::to_owned))
                        .unwrap_or_else(|| "unknown".to_owned()),
                    message,
                    field,
                },
            },
        }
    }
}
