//! The visitor pass: what a share link carries, encrypted, to the visitor. Every
//! field is bounded, so a pass always fits a link and a page, and a tampered or
//! oversized one is refused whole.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tessera_model::{Pin, ScheduleKind};

use crate::{Error, Result};

/// The only version this build writes and reads.
pub const PASS_VERSION: u8 = 1;
/// Most intervals a pass lists (a weekly code's next ones).
pub const MAX_INTERVALS: usize = 12;

const MAX_NAME: usize = 80;
const MAX_ADDRESS: usize = 200;
const MAX_INSTRUCTIONS: usize = 1_000;
const MAX_NOTE: usize = 500;
const MAX_CONTACT: usize = 200;
const MAX_SUMMARY: usize = 300;
const MAX_ZONE: usize = 64;

/// An interval of access, as instants (the page shows them in any zone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PassInterval {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// What the visitor needs to get in, and nothing more.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitorPass {
    pub version: u8,
    /// The lock, as the owner calls it ("Front door").
    pub lock_name: String,
    /// Who the code is for ("Anna").
    pub label: String,
    #[serde(with = "pin_digits")]
    pub code: Pin,
    pub kind: ScheduleKind,
    /// The lock's IANA zone: the window is stated in its wall-clock time.
    pub lock_zone: String,
    /// The window in one line, in the lock's time.
    pub summary: String,
    /// The next intervals of access (none for a permanent code).
    pub intervals: Vec<PassInterval>,
    /// For codes that expire after first use: minutes of access after the first entry.
    pub first_use_minutes: Option<u32>,
    /// The code must be used for the first time by then (one-time and expiring codes).
    pub first_use_by: Option<DateTime<Utc>>,
    pub address: Option<String>,
    pub instructions: Option<String>,
    pub host_note: Option<String>,
    pub host_contact: Option<String>,
    pub issued_at: DateTime<Utc>,
    /// The link stops opening then; never after the code's last instant.
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for VisitorPass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VisitorPass")
            .field("lock_name", &self.lock_name)
            .field("label", &self.label)
            .field("kind", &self.kind)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl VisitorPass {
    /// Whether the code works once only.
    pub fn is_one_time(&self) -> bool {
        self.kind == ScheduleKind::OneTime
    }

    /// Checks every field: version, lengths, order of instants.
    pub fn validate(&self) -> Result<()> {
        if self.version != PASS_VERSION {
            return Err(invalid(
                "version",
                format!("{} is not a pass version this app reads", self.version),
            ));
        }
        bounded("lock name", &self.lock_name, MAX_NAME, true)?;
        bounded("label", &self.label, MAX_NAME, true)?;
        bounded("lock zone", &self.lock_zone, MAX_ZONE, true)?;
        tessera_model::lock::parse_time_zone(&self.lock_zone)?;
        bounded("summary", &self.summary, MAX_SUMMARY, true)?;
        for (field, value, max) in [
            ("address", &self.address, MAX_ADDRESS),
            ("instructions", &self.instructions, MAX_INSTRUCTIONS),
            ("host note", &self.host_note, MAX_NOTE),
            ("host contact", &self.host_contact, MAX_CONTACT),
        ] {
            if let Some(value) = value {
                bounded(field, value, max, false)?;
            }
        }
        if self.intervals.len() > MAX_INTERVALS {
            return Err(invalid("intervals", format!("more than {MAX_INTERVALS}")));
        }
        if self.intervals.iter().any(|i| i.end <= i.start) {
            return Err(invalid("intervals", "an interval ends before it starts"));
        }
        if self.expires_at <= self.issued_at {
            return Err(invalid("expiry", "the pass expires before it was issued"));
        }
        Ok(())
    }
}

fn bounded(field: &'static str, value: &str, max: usize, required: bool) -> Result<()> {
    if required && value.trim().is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(invalid(field, format!("longer than {max} characters")));
    }
    if value.chars().any(|c| c.is_control() && c != '\n') {
        return Err(invalid(field, "contains control characters"));
    }
    Ok(())
}

fn invalid(field: &'static str, reason: impl Into<String>) -> Error {
    tessera_model::Error::InvalidInput {
        field,
        reason: reason.into(),
    }
    .into()
}

/// The PIN as a string of digits inside the (encrypted) pass, and nowhere else.
mod pin_digits {
    use serde::{Deserialize, Deserializer, Serializer};
    use tessera_model::Pin;

    pub fn serialize<S: Serializer>(pin: &Pin, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(pin.expose())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Pin, D::Error> {
        let digits = zeroize::Zeroizing::new(String::deserialize(deserializer)?);
        Pin::parse(&digits).map_err(serde::de::Error::custom)
    }
}
