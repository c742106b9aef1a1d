//! Schedules as the owner states them, in the lock's wall-clock time, and the
//! compiler that turns them into exact instants the lock can hold.

mod compile;
mod preview;
mod weekdays;
pub(crate) mod zone;

use std::fmt;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

pub use compile::{Adjustment, CompileOptions, Edge, EffectiveSchedule, Interval, Timing, WeeklyRule};
pub use preview::{Moment, Occurrence, Preview, ZonedTime};
pub use weekdays::Weekdays;

/// Longest allowed duration after first use: a year.
pub const MAX_FIRST_USE_MINUTES: u32 = 366 * 24 * 60;
/// Longest date range of a weekly schedule, in days (ten years).
pub const MAX_WEEKLY_DAYS: i64 = 3_660;

/// When a code opens the door, stated in the lock's local wall-clock time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Schedule {
    /// Always, until revoked.
    Permanent,
    /// Any time from `start` until `end`.
    Window {
        start: NaiveDateTime,
        end: NaiveDateTime,
    },
    /// One entry, at any time from `start` until `end`.
    OneTime {
        start: NaiveDateTime,
        end: NaiveDateTime,
    },
    /// On the given weekdays from `start_time` to `end_time`, for occurrences that
    /// start between `first_date` and `last_date` inclusive. An `end_time` at or
    /// before `start_time` ends on the next day (a night shift); equal times mean 24 hours.
    Weekly {
        days: Weekdays,
        start_time: NaiveTime,
        end_time: NaiveTime,
        first_date: NaiveDate,
        last_date: NaiveDate,
    },
    /// Valid for `minutes` after the first entry, which must fall between `start` and `end`;
    /// access never outlasts `end`.
    ExpiringAfterFirstUse {
        minutes: u32,
        start: NaiveDateTime,
        end: NaiveDateTime,
    },
}

impl Schedule {
    pub fn kind(&self) -> ScheduleKind {
        match self {
            Schedule::Permanent => ScheduleKind::Permanent,
            Schedule::Window { .. } => ScheduleKind::Window,
            Schedule::OneTime { .. } => ScheduleKind::OneTime,
            Schedule::Weekly { .. } => ScheduleKind::Weekly,
            Schedule::ExpiringAfterFirstUse { .. } => ScheduleKind::ExpiringAfterFirstUse,
        }
    }

    /// Checks what can be checked without knowing the lock.
    pub fn validate(&self) -> Result<()> {
        self.dates().try_for_each(check_year)?;
        match self {
            Schedule::Permanent => Ok(()),
            Schedule::Window { start, end } | Schedule::OneTime { start, end } => validate_window(start, end),
            Schedule::ExpiringAfterFirstUse { minutes, start, end } => {
                if *minutes == 0 || *minutes > MAX_FIRST_USE_MINUTES {
                    return Err(Error::schedule(format!(
                        "minutes after first use must be 1 to {MAX_FIRST_USE_MINUTES}"
                    )));
                }
                validate_window(start, end)
            }
            Schedule::Weekly {
                days,
                first_date,
                last_date,
                ..
            } => {
                if days.is_empty() {
                    return Err(Error::schedule("a weekly schedule needs at least one weekday"));
                }
                if last_date < first_date {
                    return Err(Error::schedule("the last date is before the first date"));
                }
                if (*last_date - *first_date).num_days() >= MAX_WEEKLY_DAYS {
                    return Err(Error::schedule(format!(
                        "a weekly schedule may span at most {MAX_WEEKLY_DAYS} days"
                    )));
                }
                Ok(())
            }
        }
    }

    fn dates(&self) -> impl Iterator<Item = NaiveDate> {
        let (a, b) = match self {
            Schedule::Permanent => (None, None),
            Schedule::Window { start, end }
            | Schedule::OneTime { start, end }
            | Schedule::ExpiringAfterFirstUse { start, end, .. } => (Some(start.date()), Some(end.date())),
            Schedule::Weekly {
                first_date,
                last_date,
                ..
            } => (Some(*first_date), Some(*last_date)),
        };
        a.into_iter().chain(b)
    }
}

/// The instant a wall-clock time in `zone` denotes, under the "compatible" rule
/// (a time inside a gap moves forward by the gap, one inside an overlap takes the
/// earlier instant): what every party turns an owner's local time into.
pub fn instant_of(zone: chrono_tz::Tz, local: NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    zone::instant(zone, local)
}

/// `zone`'s offset from UTC at `at` without daylight saving, in seconds: the
/// "standard time" offline codes count their hours in.
pub fn standard_offset_seconds(zone: chrono_tz::Tz, at: chrono::DateTime<chrono::Utc>) -> i32 {
    use chrono::TimeZone;
    use chrono_tz::OffsetComponents;
    let offset = zone.offset_from_utc_datetime(&at.naive_utc());
    i32::try_from(offset.base_utc_offset().num_seconds()).unwrap_or_default()
}

/// Years a schedule may name: wide enough for any real code, narrow enough that
/// every instant and its neighbours exist on every platform.
pub const YEARS: std::ops::RangeInclusive<i32> = 1970..=9999;

fn check_year(date: NaiveDate) -> Result<()> {
    if YEARS.contains(&date.year()) {
        Ok(())
    } else {
        Err(Error::schedule(format!(
            "{date} is outside the years {}-{}",
            YEARS.start(),
            YEARS.end()
        )))
    }
}

fn validate_window(start: &NaiveDateTime, end: &NaiveDateTime) -> Result<()> {
    if end <= start {
        return Err(Error::schedule("the window ends before it starts"));
    }
    Ok(())
}

/// The kinds of schedule, for capability lists and messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ScheduleKind {
    Permanent,
    Window,
    OneTime,
    Weekly,
    ExpiringAfterFirstUse,
}

impl ScheduleKind {
    pub const ALL: [ScheduleKind; 5] = [
        ScheduleKind::Permanent,
        ScheduleKind::Window,
        ScheduleKind::OneTime,
        ScheduleKind::Weekly,
        ScheduleKind::ExpiringAfterFirstUse,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ScheduleKind::Permanent => "permanent",
            ScheduleKind::Window => "window",
            ScheduleKind::OneTime => "one_time",
            ScheduleKind::Weekly => "weekly",
            ScheduleKind::ExpiringAfterFirstUse => "expiring_after_first_use",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == s)
    }
}

impl fmt::Display for ScheduleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ScheduleKind::Permanent => "permanent",
            ScheduleKind::Window => "time-window",
            ScheduleKind::OneTime => "one-time",
            ScheduleKind::Weekly => "weekly",
            ScheduleKind::ExpiringAfterFirstUse => "expiring-after-first-use",
        })
    }
}
