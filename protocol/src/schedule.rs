//! Schedules on the wire ([`WireSchedule`]) and in tessera-model ([`Schedule`]):
//! the same wall-clock intent in two encodings. Local times are seconds since
//! 1970-01-01T00:00 *local* (naive), dates days since 0001-01-01 counted as
//! chrono's `num_days_from_ce` (0001-01-01 is day 1), times of day seconds since
//! midnight, weekdays a bitmask with Monday as bit 0.

use crate::wire::WireSchedule;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use tessera_model::{Schedule, Weekdays};

/// Why a wire schedule is not a schedule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ScheduleError(pub &'static str);

/// A wire schedule as tessera-model's; refuses values no schedule can have.
/// (What a schedule must be on a given lock is `EffectiveSchedule::compile`'s job.)
pub fn from_wire(wire: &WireSchedule) -> Result<Schedule, ScheduleError> {
    Ok(match *wire {
        WireSchedule::Permanent => Schedule::Permanent,
        WireSchedule::Window { start, end } => Schedule::Window {
            start: local(start)?,
            end: local(end)?,
        },
        WireSchedule::OneTime { start, end } => Schedule::OneTime {
            start: local(start)?,
            end: local(end)?,
        },
        WireSchedule::Weekly {
            days,
            start_time,
            end_time,
            first_date,
            last_date,
        } => {
            if days & 0x80 != 0 {
                return Err(ScheduleError("weekdays use bits 0 (Monday) to 6 (Sunday)"));
            }
            Schedule::Weekly {
                days: Weekdays::from_bits(days),
                start_time: time_of_day(start_time)?,
                end_time: time_of_day(end_time)?,
                first_date: date(first_date)?,
                last_date: date(last_date)?,
            }
        }
        WireSchedule::ExpiringAfterFirstUse { minutes, start, end } => Schedule::ExpiringAfterFirstUse {
            minutes,
            start: local(start)?,
            end: local(end)?,
        },
    })
}

/// tessera-model's schedule on the wire. Sub-second parts are dropped (wall
/// times are whole seconds on the wire; locks keep whole minutes at best).
pub fn to_wire(schedule: &Schedule) -> WireSchedule {
    let seconds = |at: &NaiveDateTime| at.and_utc().timestamp();
    match schedule {
        Schedule::Permanent => WireSchedule::Permanent,
        Schedule::Window { start, end } => WireSchedule::Window {
            start: seconds(start),
            end: seconds(end),
        },
        Schedule::OneTime { start, end } => WireSchedule::OneTime {
            start: seconds(start),
            end: seconds(end),
        },
        Schedule::Weekly {
            days,
            start_time,
            end_time,
            first_date,
            last_date,
        } => WireSchedule::Weekly {
            days: days.bits(),
            start_time: start_time.num_seconds_from_midnight(),
            end_time: end_time.num_seconds_from_midnight(),
            first_date: first_date.num_days_from_ce(),
            last_date: last_date.num_days_from_ce(),
        },
        Schedule::ExpiringAfterFirstUse { minutes, start, end } => WireSchedule::ExpiringAfterFirstUse {
            minutes: *minutes,
            start: seconds(start),
            end: seconds(end),
        },
    }
}

fn local(seconds: i64) -> Result<NaiveDateTime, ScheduleError> {
    DateTime::from_timestamp(seconds, 0)
        .map(|at| at.naive_utc())
        .ok_or(ScheduleError("a local time is out of range"))
}

fn time_of_day(seconds: u32) -> Result<NaiveTime, ScheduleError> {
    NaiveTime::from_num_seconds_from_midnight_opt(seconds, 0)
        .filter(|_| seconds < 86_400)
        .ok_or(ScheduleError("a time of day is not within 0-86399 seconds"))
}

fn date(days: i32) -> Result<NaiveDate, ScheduleError> {
    NaiveDate::from_num_days_from_ce_opt(days).ok_or(ScheduleError("a date is out of range"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        text.parse().unwrap()
    }

    #[test]
    fn every_kind_round_trips() {
        let schedules = [
            Schedule::Permanent,
            Schedule::Window {
                start: at("2031-03-28T09:00:00"),
                end: at("2031-03-30T18:30:00"),
            },
            Schedule::OneTime {
                start: at("1999-12-31T23:59:59"),
                end: at("2000-01-01T00:00:00"),
            },
            Schedule::Weekly {
                days: "mon,wed,sun".parse().unwrap(),
                start_time: "22:00:00".parse().unwrap(),
                end_time: "06:00:00".parse().unwrap(),
                first_date: "2031-01-01".parse().unwrap(),
                last_date: "2031-12-31".parse().unwrap(),
            },
            Schedule::ExpiringAfterFirstUse {
                minutes: 90,
                start: at("2031-03-28T09:00:00"),
                end: at("2031-04-28T09:00:00"),
            },
        ];
        for schedule in schedules {
            assert_eq!(from_wire(&to_wire(&schedule)).unwrap(), schedule, "{schedule:?}");
        }
    }

    #[test]
    fn the_encoding_is_the_documented_one() {
        let wire = to_wire(&Schedule::Weekly {
            days: "mon,sun".parse().unwrap(),
            start_time: "01:00:00".parse().unwrap(),
            end_time: "02:00:30".parse().unwrap(),
            first_date: "0001-01-01".parse().unwrap(),
            last_date: "1970-01-01".parse().unwrap(),
        });
        assert_eq!(
            wire,
            WireSchedule::Weekly {
                days: 0b100_0001,
                start_time: 3_600,
                end_time: 7_230,
                first_date: 1,
                last_date: 719_163,
            }
        );
        let window = to_wire(&Schedule::Window {
            start: at("1970-01-02T00:00:00"),
            end: at("1970-01-02T00:01:00"),
        });
        assert_eq!(
            window,
            WireSchedule::Window {
                start: 86_400,
                end: 86_460
            }
        );
    }

    #[test]
    fn impossible_values_are_refused() {
        let weekly = |days, start_time, first_date| WireSchedule::Weekly {
            days,
            start_time,
            end_time: 0,
            first_date,
            last_date: 800_000,
        };
        assert!(from_wire(&weekly(0x80 | 1, 0, 1)).is_err());
        assert!(from_wire(&weekly(1, 86_400, 1)).is_err());
        assert!(from_wire(&weekly(1, 0, i32::MAX)).is_err());
        assert!(
            from_wire(&WireSchedule::Window {
                start: i64::MAX,
                end: 0
            })
            .is_err()
        );
    }
}
