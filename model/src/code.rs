//! Access codes: a PIN, who it is for, and when it opens the door.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::pin::Pin;
use crate::schedule::{CompileOptions, Schedule};
use crate::{CodeId, Error, LockId, Result};

/// Longest label an owner may give a code.
pub const MAX_LABEL_CHARS: usize = 80;
/// Most uses a code may be limited to.
pub const MAX_USES: u32 = 10_000;

/// A PIN for one lock, with the schedule it works on.
#[derive(Debug, Clone)]
pub struct AccessCode {
    pub id: CodeId,
    pub lock_id: LockId,
    /// Who or what the code is for ("Cleaner", "Anna's visit").
    pub label: String,
    pub pin: Pin,
    pub schedule: Schedule,
    /// Whether rounding to the lock's granularity may grant more time than asked for.
    pub allow_widening: bool,
    pub max_uses: Option<u32>,
    pub status: CodeStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Bumped on every change; lets sync tell which side is newer.
    pub version: u64,
}

impl AccessCode {
    /// The options this code's schedule is compiled with.
    pub fn compile_options(&self) -> CompileOptions {
        CompileOptions {
            allow_widening: self.allow_widening,
        }
    }
}

/// The owner's intent for a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CodeStatus {
    Active,
    Revoked,
}

impl CodeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CodeStatus::Active => "active",
            CodeStatus::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [CodeStatus::Active, CodeStatus::Revoked]
            .into_iter()
            .find(|status| status.as_str() == s)
    }
}

impl fmt::Display for CodeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a code has been used so far, as the lock records it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Usage {
    pub uses: u32,
    pub first_used_at: Option<DateTime<Utc>>,
}

/// Trims a code label and checks it is printable, non-empty and not too long.
pub fn validate_label(label: &str) -> Result<String> {
    let label = label.trim();
    if label.is_empty() {
        return Err(Error::input("label", "must not be empty"));
    }
    if label.chars().count() > MAX_LABEL_CHARS {
        return Err(Error::input(
            "label",
            format!("longer than {MAX_LABEL_CHARS} characters"),
        ));
    }
    if label.chars().any(char::is_control) {
        return Err(Error::input("label", "contains control characters"));
    }
    Ok(label.to_owned())
}

/// Checks an optional limit on the number of uses.
pub fn validate_max_uses(max_uses: Option<u32>) -> Result<()> {
    match max_uses {
        Some(n) if n == 0 || n > MAX_USES => {
            Err(Error::input("max uses", format!("must be 1 to {MAX_USES}")))
        }
        _ => Ok(()),
    }
}
