//! What the CLI reports when a command fails, and its exit status.

use std::process::ExitCode;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Core(#[from] tessera_core::Error),

    /// An argument's value could not be understood.
    #[error("{0}")]
    Usage(String),

    /// `--offline` names no class of offline code.
    #[error("{name:?} is not a class of offline code; use one of: {}", tessera_core::offline::CLASS_NAMES.map(|(_, name)| name).join(", "))]
    UnknownOfflineClass { name: String },

    #[error("{reference:?} matches several {what}s: {}; give more of the id", matches.join(", "))]
    Ambiguous {
        what: &'static str,
        reference: String,
        matches: Vec<String>,
    },
}

impl CliError {
    pub fn usage(message: impl Into<String>) -> Self {
        CliError::Usage(message.into())
    }

    /// A stable name for scripts (`--json` errors carry it).
    pub fn code(&self) -> &'static str {
        match self {
            CliError::Core(e) => e.code(),
            CliError::Usage(_) => "usage",
            CliError::Ambiguous { .. } => "ambiguous",
            CliError::UnknownOfflineClass { .. } => "unknown_offline_class",
        }
    }

    /// 2 for a command line that cannot be understood (as clap does), 1 otherwise.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Usage(_) | CliError::UnknownOfflineClass { .. } => ExitCode::from(2),
            _ => ExitCode::FAILURE,
        }
    }
}

pub type CliResult<T> = Result<T, CliError>;
