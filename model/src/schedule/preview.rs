//! What an owner (and later a visitor) sees before a code is shared: the effective
//! window in the lock's zone and in the viewer's own.

use std::fmt;

use chrono::{DateTime, NaiveDateTime, Offset, Utc};
use chrono_tz::{OffsetName, Tz};
use serde::{Deserialize, Serialize};

use super::ScheduleKind;
use super::compile::{Adjustment, EffectiveSchedule, Timing};

/// An instant as a wall clock in one zone shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZonedTime {
    pub zone: Tz,
    pub local: NaiveDateTime,
    pub utc_offset_seconds: i32,
    /// The zone's abbreviation at that instant (`CET`, `EDT`; tzdata's numeric form such
    /// as `+0545` or `-03` where the zone has no letters).
    pub abbreviation: String,
}

impl ZonedTime {
    pub fn new(instant: DateTime<Utc>, zone: Tz) -> Self {
        let local = instant.with_timezone(&zone);
        let offset = local.offset();
        let utc_offset_seconds = offset.fix().local_minus_utc();
        ZonedTime {
            zone,
            local: local.naive_local(),
            utc_offset_seconds,
            // chrono-tz has no abbreviation where tzdata writes a numeric one.
            abbreviation: offset
                .abbreviation()
                .map_or_else(|| numeric_abbreviation(utc_offset_seconds), str::to_owned),
        }
    }

    /// `UTC+05:45`, `UTC-04:00`.
    pub fn utc_offset(&self) -> String {
        let sign = if self.utc_offset_seconds < 0 { '-' } else { '+' };
        let minutes = self.utc_offset_seconds.unsigned_abs() / 60;
        format!("UTC{sign}{:02}:{:02}", minutes / 60, minutes % 60)
    }
}

/// `Sat 2027-03-27 10:00 CET (UTC+01:00)`.
impl fmt::Display for ZonedTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.local.format("%a %Y-%m-%d %H:%M"))?;
        let offset = self.utc_offset();
        if self.abbreviation.is_empty() || self.abbreviation.starts_with(['+', '-']) {
            write!(f, " ({offset})")
        } else {
            write!(f, " {} ({offset})", self.abbreviation)
        }
    }
}

/// One instant, on the lock's clock and on the viewer's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moment {
    pub instant: DateTime<Utc>,
    pub lock: ZonedTime,
    pub viewer: Option<ZonedTime>,
}

impl Moment {
    fn new(instant: DateTime<Utc>, lock_zone: Tz, viewer_zone: Option<Tz>) -> Self {
        Moment {
            instant,
            lock: ZonedTime::new(instant, lock_zone),
            viewer: viewer_zone.map(|zone| ZonedTime::new(instant, zone)),
        }
    }
}

/// One interval of access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occurrence {
    pub start: Moment,
    pub end: Moment,
}

/// The effective window as an owner or visitor reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preview {
    pub kind: ScheduleKind,
    pub lock_zone: Tz,
    pub viewer_zone: Option<Tz>,
    /// One line in the lock's wall-clock time, e.g. `Mon, Tue 09:00-17:00, 2027-01-04 to 2027-03-26`.
    pub summary: String,
    /// The next intervals of access (none for a permanent code).
    pub occurrences: Vec<Occurrence>,
    /// More intervals follow the ones listed.
    pub more: bool,
    pub first_use_minutes: Option<u32>,
    pub adjustments: Vec<Adjustment>,
}

impl EffectiveSchedule {
    /// The effective window from `from` on: up to `limit` intervals, in the lock's zone
    /// and, if given, the viewer's.
    pub fn preview(&self, from: DateTime<Utc>, viewer_zone: Option<Tz>, limit: usize) -> Preview {
        let mut intervals = self.intervals_from(from);
        let occurrences = match self.timing {
            Timing::Permanent => Vec::new(),
            _ => intervals
                .by_ref()
                .take(limit)
                .map(|i| Occurrence {
                    start: Moment::new(i.start, self.zone, viewer_zone),
                    end: Moment::new(i.end, self.zone, viewer_zone),
                })
                .collect(),
        };
        let more = !matches!(self.timing, Timing::Permanent) && intervals.next().is_some();
        Preview {
            kind: self.kind,
            lock_zone: self.zone,
            viewer_zone,
            summary: self.summary(),
            occurrences,
            more,
            first_use_minutes: self.first_use_minutes,
            adjustments: self.adjustments.clone(),
        }
    }

    /// One line describing the schedule in the lock's wall-clock time.
    pub fn summary(&self) -> String {
        let zone = self.zone;
        let at = |instant| ZonedTime::new(instant, zone);
        match (&self.timing, self.kind) {
            (Timing::Permanent, _) => "always, until revoked".to_owned(),
            (Timing::Window(w), ScheduleKind::OneTime) => {
                format!("one entry between {} and {}", at(w.start), at(w.end))
            }
            (Timing::Window(w), ScheduleKind::ExpiringAfterFirstUse) => format!(
                "for {} after the first entry, which must be between {} and {}",
                minutes_text(self.first_use_minutes.unwrap_or_default()),
                at(w.start),
                at(w.end)
            ),
            (Timing::Window(w), _) => format!("from {} until {}", at(w.start), at(w.end)),
            (Timing::Weekly(rule), _) => {
                let end = rule.end_time();
                let overnight = end <= rule.start_time;
                format!(
                    "{} {}-{}{} ({zone}), {} to {}",
                    rule.days,
                    rule.start_time.format("%H:%M"),
                    end.format("%H:%M"),
                    if overnight { " next day" } else { "" },
                    rule.first_date,
                    rule.last_date
                )
            }
        }
    }
}

/// tzdata's numeric abbreviation: `+0545`, `+1030`, `+11`, `-03`.
fn numeric_abbreviation(offset_seconds: i32) -> String {
    let sign = if offset_seconds < 0 { '-' } else { '+' };
    let minutes = offset_seconds.unsigned_abs() / 60;
    match (minutes / 60, minutes % 60) {
        (hours, 0) => format!("{sign}{hours:02}"),
        (hours, minutes) => format!("{sign}{hours:02}{minutes:02}"),
    }
}

fn minutes_text(minutes: u32) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}
