//! Turning argument strings into domain values, with messages that say what to type.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use tessera_core::model::lock::{PinConstraint, PinLengths};
use tessera_core::model::{
    Granularity, Keypad, LockCapabilities, Schedule, ScheduleKind, Tz, Weekdays, excerpt,
};

use crate::args::{GranularityArg, LockAdd, ScheduleArgs};
use crate::error::{CliError, CliResult};

pub fn local_time(s: &str) -> CliResult<NaiveDateTime> {
    [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(s.trim(), format).ok())
    .ok_or_else(|| {
        CliError::usage(format!(
            "{:?} is not a local time; write it like 2027-03-28T09:30",
            excerpt(s)
        ))
    })
}

pub fn date(s: &str) -> CliResult<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        CliError::usage(format!(
            "{:?} is not a date; write it like 2027-03-28",
            excerpt(s)
        ))
    })
}

fn time_of_day(s: &str) -> CliResult<NaiveTime> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M").map_err(|_| {
        CliError::usage(format!(
            "{:?} is not a time of day; write it like 09:30",
            excerpt(s)
        ))
    })
}

pub fn zone(s: &str) -> CliResult<Tz> {
    Ok(tessera_core::model::lock::parse_time_zone(s.trim()).map_err(tessera_core::Error::from)?)
}

/// `4-8` or `6`.
fn pin_lengths(s: &str) -> CliResult<PinLengths> {
    let bad = || {
        CliError::usage(format!(
            "{:?} is not a range of PIN lengths; write it like 4-8",
            excerpt(s)
        ))
    };
    let (min, max) = s.split_once('-').unwrap_or((s, s));
    Ok(PinLengths {
        min: min.trim().parse().map_err(|_| bad())?,
        max: max.trim().parse().map_err(|_| bad())?,
    })
}

pub fn capabilities(args: &LockAdd) -> CliResult<LockCapabilities> {
    let mut constraints = Vec::new();
    if args.no_zeros {
        constraints.push(PinConstraint::NoZeros);
    }
    for prefix in &args.cannot_start_with {
        constraints.push(PinConstraint::CannotStartWith {
            prefix: prefix.clone(),
        });
    }
    if let Some(length) = args.no_sequential_run {
        constraints.push(PinConstraint::NoSequentialRun { length });
    }
    if args.no_triple_repeat {
        constraints.push(PinConstraint::NoTripleRepeat);
    }
    if let Some(count) = args.min_distinct_digits {
        constraints.push(PinConstraint::MinDistinctDigits { count });
    }
    Ok(LockCapabilities {
        pin_lengths: pin_lengths(&args.pin_lengths)?,
        constraints,
        keypad: if args.two_digits_per_button {
            Keypad::TwoDigitsPerButton
        } else {
            Keypad::OneDigitPerButton
        },
        max_codes: args.max_codes,
        schedule_kinds: ScheduleKind::ALL.to_vec(),
        granularity: match args.granularity {
            GranularityArg::Minute => Granularity::Minute,
            GranularityArg::Hour => Granularity::Hour,
            GranularityArg::Day => Granularity::Day,
        },
        offline_codes: args.offline_codes,
    })
}

/// Whether any schedule option was given.
pub fn has_schedule(args: &ScheduleArgs) -> bool {
    args.permanent
        || args.one_time
        || args.weekly.is_some()
        || args.expires_after_first_use.is_some()
        || args.from.is_some()
}

pub fn schedule(args: &ScheduleArgs) -> CliResult<Schedule> {
    let window = || -> CliResult<(NaiveDateTime, NaiveDateTime)> {
        match (&args.from, &args.to) {
            (Some(from), Some(to)) => Ok((local_time(from)?, local_time(to)?)),
            _ => Err(CliError::usage("give the window with --from and --to")),
        }
    };
    if args.permanent {
        return Ok(Schedule::Permanent);
    }
    if let Some(days) = &args.weekly {
        let days: Weekdays = days
            .parse()
            .map_err(|e: tessera_core::model::Error| CliError::usage(e.to_string()))?;
        let between = args.between.as_deref().unwrap_or_default();
        let (start, end) = between.split_once('-').ok_or_else(|| {
            CliError::usage(format!(
                "{between:?} is not a time range; write it like 09:00-17:00"
            ))
        })?;
        let required_date = |value: &Option<String>, flag: &str| match value {
            Some(value) => date(value),
            None => Err(CliError::usage(format!("a weekly code needs {flag}"))),
        };
        return Ok(Schedule::Weekly {
            days,
            start_time: time_of_day(start)?,
            end_time: time_of_day(end)?,
            first_date: required_date(&args.from_date, "--from-date")?,
            last_date: required_date(&args.to_date, "--to-date")?,
        });
    }
    if let Some(minutes) = args.expires_after_first_use {
        let (start, end) = window()?;
        return Ok(Schedule::ExpiringAfterFirstUse { minutes, start, end });
    }
    if args.from.is_none() && args.to.is_none() {
        return Err(CliError::usage(
            "say when the code works: --permanent, --from/--to, --one-time, --weekly or --expires-after-first-use",
        ));
    }
    let (start, end) = window()?;
    Ok(if args.one_time {
        Schedule::OneTime { start, end }
    } else {
        Schedule::Window { start, end }
    })
}
