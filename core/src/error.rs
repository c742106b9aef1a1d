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
}

impl Error {
    /// A stable machine-readable name for the variant, for scripts and APIs.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Domain(e) => e.code(),
            Error::NotFound { .. } => "not_found",
            Error::WrongKey => "wrong_key",
            Error::CorruptDatabase { .. } => "corrupt_database",
            Error::ForeignDatabase { .. } => "foreign_database",
            Error::DatabaseTooNew { .. } => "database_too_new",
            Error::Storage { .. } => "storage",
        }
    }

    pub(crate) fn storage(reason: impl std::fmt::Display) -> Self {
        Error::Storage {
            reason: reason.to_string(),
        }
    }
}
