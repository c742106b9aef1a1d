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
