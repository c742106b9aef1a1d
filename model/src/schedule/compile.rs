//! The window compiler: from the owner's intent to exact UTC instants the lock can hold.
//!
//! Rounding happens in the lock's wall-clock time (that is how locks keep schedules)
//! and only ever shrinks access unless the caller allows widening; DST gaps and
//! overlaps follow the compatible rule (see `zone`). Every change is reported.

use std::fmt;

use chrono::{DateTime, Datelike, Days, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::zone::{self, Resolved};
use super::{Schedule, ScheduleKind, Weekdays};
use crate::code::Usage;
use crate::lock::{Granularity, Lock};
use crate::{Error, Result};

const DAY_SECONDS: i64 = 86_400;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompileOptions {
    /// Let rounding to the lock's granularity grant more time than asked for
    /// (start earlier, end later). Off by default: rounding shrinks.
    pub allow_widening: bool,
}

/// A half-open span of time `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interval {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Interval {
    const FOREVER: Interval = Interval {
        start: DateTime::<Utc>::MIN_UTC,
        end: DateTime::<Utc>::MAX_UTC,
    };

    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.start <= at && at < self.end
    }

    fn overlaps(&self, other: &Interval) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// Which end of a window an adjustment is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Edge {
    Start,
    End,
}

impl fmt::Display for Edge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Edge::Start => "start",
            Edge::End => "end",
        })
    }
}

/// Something the compiler changed or decided on the owner's behalf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "adjustment", rename_all = "snake_case")]
pub enum Adjustment {
    /// A window edge moved to the lock's granularity.
    Rounded {
        edge: Edge,
        granularity: Granularity,
        requested: NaiveDateTime,
        effective: NaiveDateTime,
    },
    /// A weekly time of day moved to the lock's granularity; `next_day` when the
    /// start moved past midnight, so every occurrence begins a day later.
    RoundedDaily {
        edge: Edge,
        granularity: Granularity,
        requested: NaiveTime,
        effective: NaiveTime,
        next_day: bool,
    },
    /// The wall time does not exist (clocks go forward); it moved to `effective`.
    DstGap {
        edge: Edge,
        requested: NaiveDateTime,
        effective: NaiveDateTime,
    },
    /// The wall time happens twice (clocks go back); the earlier one is used.
    DstOverlap {
        edge: Edge,
        local: NaiveDateTime,
        chosen: DateTime<Utc>,
        other: DateTime<Utc>,
    },
}

impl fmt::Display for Adjustment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const AT: &str = "%Y-%m-%d %H:%M";
        match self {
            Adjustment::Rounded {
                edge,
                granularity,
                requested,
                effective,
            } => write!(
                f,
                "{edge} rounded from {} to {} (the lock keeps whole {granularity}s)",
                requested.format(AT),
                effective.format(AT)
            ),
            Adjustment::RoundedDaily {
                edge,
                granularity,
                requested,
                effective,
                next_day,
            } => write!(
                f,
                "daily {edge} rounded from {} to {}{} (the lock keeps whole {granularity}s)",
                requested.format("%H:%M"),
                effective.format("%H:%M"),
                if *next_day { " of the next day" } else { "" }
            ),
            Adjustment::DstGap {
                edge,
                requested,
                effective,
            } => write!(
                f,
                "{edge} {} does not exist (clocks go forward); moved to {}",
                requested.format(AT),
                effective.format(AT)
            ),
            Adjustment::DstOverlap { edge, local, .. } => write!(
                f,
                "{edge} {} happens twice (clocks go back); the first one is used",
                local.format(AT)
            ),
        }
    }
}

/// A weekly rule after rounding: occurrences start at `start_time` on each of
/// `days` from `first_date` to `last_date` and last `duration_seconds`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyRule {
    pub days: Weekdays,
    pub start_time: NaiveTime,
    pub duration_seconds: u32,
    pub first_date: NaiveDate,
    pub last_date: NaiveDate,
}

impl WeeklyRule {
    fn local_bounds(&self, date: NaiveDate) -> (NaiveDateTime, NaiveDateTime) {
        let start = date.and_time(self.start_time);
        (start, start + Duration::seconds(self.duration_seconds.into()))
    }

    fn occurrence_on(&self, zone: Tz, date: NaiveDate) -> Option<Interval> {
        if date < self.first_date || date > self.last_date || !self.days.contains(date.weekday()) {
            return None;
        }
        let (start, end) = self.local_bounds(date);
        let interval = Interval {
            start: zone::instant(zone, start),
            end: zone::instant(zone, end),
        };
        // A gap can swallow a short occurrence whole (02:10-02:50 on the spring-forward day).
        (interval.start < interval.end).then_some(interval)
    }

    /// Time of day the occurrences end (on the next day when at or before the start).
    pub fn end_time(&self) -> NaiveTime {
        self.start_time + Duration::seconds(self.duration_seconds.into())
    }
}

/// When the code works, in exact instants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "timing", rename_all = "snake_case")]
pub enum Timing {
    Permanent,
    Window(Interval),
    Weekly(WeeklyRule),
}

/// A schedule compiled for one lock: exact instants, the lock's zone, and every
/// adjustment the compiler made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectiveSchedule {
    pub kind: ScheduleKind,
    pub zone: Tz,
    pub timing: Timing,
    /// For codes that expire after first use: minutes of access after the first entry.
    pub first_use_minutes: Option<u32>,
    pub adjustments: Vec<Adjustment>,
}

impl EffectiveSchedule {
    /// Compiles `schedule` for `lock`: checks the lock supports it, rounds to the
    /// lock's granularity, resolves DST, and refuses schedules that end up empty.
    pub fn compile(schedule: &Schedule, lock: &Lock, options: CompileOptions) -> Result<Self> {
        schedule.validate()?;
        let kind = schedule.kind();
        if !lock.capabilities.supports(kind) {
            return Err(Error::ScheduleNotSupported { kind });
        }
        let mut compiler = Compiler {
            zone: lock.time_zone,
            granularity: lock.capabilities.granularity,
            widen: options.allow_widening,
            adjustments: Vec::new(),
        };
        let (timing, first_use_minutes) = match schedule {
            Schedule::Permanent => (Timing::Permanent, None),
            Schedule::Window { start, end } | Schedule::OneTime { start, end } => {
                (Timing::Window(compiler.window(*start, *end)?), None)
            }
            Schedule::ExpiringAfterFirstUse { minutes, start, end } => {
                (Timing::Window(compiler.window(*start, *end)?), Some(*minutes))
            }
            Schedule::Weekly {
                days,
                start_time,
                end_time,
                first_date,
                last_date,
            } => (
                Timing::Weekly(compiler.weekly(*days, *start_time, *end_time, *first_date, *last_date)?),
                None,
            ),
        };
        Ok(EffectiveSchedule {
            kind,
            zone: lock.time_zone,
            timing,
            first_use_minutes,
            adjustments: compiler.adjustments,
        })
    }

    /// The intervals of access that end after `from`, in order of start.
    pub fn intervals_from(&self, from: DateTime<Utc>) -> Intervals<'_> {
        let inner = match &self.timing {
            Timing::Permanent => IntervalsInner::Once(Some(Interval::FOREVER)),
            Timing::Window(window) => IntervalsInner::Once((window.end > from).then_some(*window)),
            Timing::Weekly(rule) => {
                // Occurrences last at most a day (25 hours when clocks go back), so one
                // that began two local days earlier can still be running; the local date
                // is within a day of the UTC date. UTC, and checked arithmetic, because
                // `from` may be any instant, even one whose local date chrono cannot hold.
                let date = from
                    .date_naive()
                    .checked_sub_days(Days::new(3))
                    .unwrap_or(NaiveDate::MIN)
                    .max(rule.first_date);
                IntervalsInner::Weekly {
                    rule,
                    zone: self.zone,
                    date,
                    from,
                }
            }
        };
        Intervals(inner)
    }

    /// Whether the schedule grants access at `at` (time alone; see [`Self::admits`]).
    pub fn is_active_at(&self, at: DateTime<Utc>) -> bool {
        self.intervals_from(at).next().is_some_and(|i| i.start <= at)
    }

    /// The next instant after `at` at which [`Self::is_active_at`] changes, if any.
    pub fn next_change_after(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut intervals = self.intervals_from(at);
        let first = intervals.next()?;
        if first.start > at {
            return Some(first.start);
        }
        // Active now: the change is the end of the run of back-to-back intervals.
        let mut end = first.end;
        for next in intervals {
            if next.start > end {
                break;
            }
            end = end.max(next.end);
        }
        (end != Interval::FOREVER.end).then_some(end)
    }

    /// First and last instants of access; `None` where unbounded.
    pub fn bounds(&self) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        match &self.timing {
            Timing::Permanent => (None, None),
            Timing::Window(window) => (Some(window.start), Some(window.end)),
            Timing::Weekly(rule) => {
                let first = self.intervals_from(DateTime::<Utc>::MIN_UTC).next();
                let last = rule
                    .last_date
                    .iter_days()
                    .rev()
                    .take_while(|d| *d >= rule.first_date)
                    .find_map(|d| rule.occurrence_on(self.zone, d));
                (first.map(|i| i.start), last.map(|i| i.end))
            }
        }
    }

    /// Whether the schedule has no access left after `at`.
    pub fn has_ended_by(&self, at: DateTime<Utc>) -> bool {
        self.intervals_from(at).next().is_none()
    }

    /// Whether this schedule and `other` can grant access at the same instant.
    pub fn may_overlap(&self, other: &EffectiveSchedule) -> bool {
        // The common case, asked once per code of the lock for every new code.
        if let (Timing::Window(a), Timing::Window(b)) = (&self.timing, &other.timing) {
            return a.overlaps(b);
        }
        let from = match (self.bounds().0, other.bounds().0) {
            (Some(a), Some(b)) => a.max(b),
            (a, b) => a.or(b).unwrap_or(DateTime::<Utc>::MIN_UTC),
        };
        let mut mine = self.intervals_from(from).peekable();
        let mut theirs = other.intervals_from(from).peekable();
        while let (Some(a), Some(b)) = (mine.peek(), theirs.peek()) {
            if a.overlaps(b) {
                return true;
            }
            if a.end <= b.end {
                mine.next();
            } else {
                theirs.next();
            }
        }
        false
    }

    /// Whether a code with this schedule opens at `at`, given how it has been used.
    pub fn admits(&self, at: DateTime<Utc>, usage: &Usage, max_uses: Option<u32>) -> bool {
        if !self.is_active_at(at) || max_uses.is_some_and(|max| usage.uses >= max) {
            return false;
        }
        match (self.kind, self.first_use_minutes, usage.first_used_at) {
            (ScheduleKind::OneTime, ..) => usage.uses == 0,
            (_, Some(minutes), Some(first)) => at < first + Duration::minutes(minutes.into()),
            _ => true,
        }
    }

    /// Whether a code with this schedule can never open again after `at`: its
    /// schedule ended, its uses ran out, or its minutes after first use are over.
    pub fn is_spent(&self, at: DateTime<Utc>, usage: &Usage, max_uses: Option<u32>) -> bool {
        let uses_left = match (self.kind, max_uses) {
            (ScheduleKind::OneTime, _) => usage.uses == 0,
            (_, Some(max)) => usage.uses < max,
            (_, None) => true,
        };
        let minutes_left = match (self.first_use_minutes, usage.first_used_at) {
            (Some(minutes), Some(first)) => at < first + Duration::minutes(minutes.into()),
            _ => true,
        };
        !uses_left || !minutes_left || self.has_ended_by(at)
    }

    /// The rounded weekly rule, if this is a weekly schedule.
    pub fn weekly_rule(&self) -> Option<&WeeklyRule> {
        match &self.timing {
            Timing::Weekly(rule) => Some(rule),
            _ => None,
        }
    }
}

/// Iterator over a schedule's intervals; see [`EffectiveSchedule::intervals_from`].
#[derive(Debug)]
pub struct Intervals<'a>(IntervalsInner<'a>);

#[derive(Debug)]
enum IntervalsInner<'a> {
    Once(Option<Interval>),
    Weekly {
        rule: &'a WeeklyRule,
        zone: Tz,
        date: NaiveDate,
        from: DateTime<Utc>,
    },
}

impl Iterator for Intervals<'_> {
    type Item = Interval;

    fn next(&mut self) -> Option<Interval> {
        match &mut self.0 {
            IntervalsInner::Once(once) => once.take(),
            IntervalsInner::Weekly {
                rule,
                zone,
                date,
                from,
            } => {
                while *date <= rule.last_date {
                    let day = *date;
                    *date = day.succ_opt()?;
                    if let Some(interval) = rule.occurrence_on(*zone, day)
                        && interval.end > *from
                    {
                        return Some(interval);
                    }
                }
                None
            }
        }
    }
}

struct Compiler {
    zone: Tz,
    granularity: Granularity,
    widen: bool,
    adjustments: Vec<Adjustment>,
}

impl Compiler {
    fn window(&mut self, start: NaiveDateTime, end: NaiveDateTime) -> Result<Interval> {
        let (rounded_start, start) = self.edge(Edge::Start, start)?;
        let (rounded_end, end) = self.edge(Edge::End, end)?;
        if rounded_start >= rounded_end {
            return Err(Error::schedule(format!(
                "rounded to whole {}s the window is empty; allow widening or choose other times",
                self.granularity
            )));
        }
        if start >= end {
            return Err(Error::schedule(
                "the window falls inside a daylight-saving change",
            ));
        }
        Ok(Interval { start, end })
    }

    fn weekly(
        &mut self,
        days: Weekdays,
        start_time: NaiveTime,
        end_time: NaiveTime,
        first_date: NaiveDate,
        last_date: NaiveDate,
    ) -> Result<WeeklyRule> {
        let step = self.granularity.seconds();
        let start = i64::from(start_time.num_seconds_from_midnight());
        let mut end = i64::from(end_time.num_seconds_from_midnight());
        if end <= start {
            end += DAY_SECONDS;
        }
        // Whole seconds; a fraction of a second counts as one more when rounding up.
        let fraction = |time: NaiveTime| i64::from(time.nanosecond() > 0);
        let (mut rounded_start, mut rounded_end) = if self.widen {
            (floor(start, step), ceil(end + fraction(end_time), step))
        } else {
            (ceil(start + fraction(start_time), step), floor(end, step))
        };
        rounded_end = rounded_end.min(rounded_start + DAY_SECONDS);
        if rounded_start >= rounded_end {
            return Err(Error::schedule(format!(
                "rounded to whole {}s the daily time range is empty; allow widening or choose other times",
                self.granularity
            )));
        }
        let mut rule = WeeklyRule {
            days,
            start_time,
            duration_seconds: 0,
            first_date,
            last_date,
        };
        let next_day = rounded_start >= DAY_SECONDS;
        if next_day {
            rule.days = days.next_days();
            rule.first_date = first_date.succ_opt().ok_or_else(out_of_range)?;
            rule.last_date = last_date.succ_opt().ok_or_else(out_of_range)?;
            rounded_start -= DAY_SECONDS;
            rounded_end -= DAY_SECONDS;
        }
        rule.start_time = time_of_day(rounded_start);
        rule.duration_seconds = u32::try_from(rounded_end - rounded_start).map_err(|_| out_of_range())?;
        if rule.start_time != start_time || next_day {
            self.adjustments.push(Adjustment::RoundedDaily {
                edge: Edge::Start,
                granularity: self.granularity,
                requested: start_time,
                effective: rule.start_time,
                next_day,
            });
        }
        let effective_end = rule.end_time();
        if effective_end != end_time {
            self.adjustments.push(Adjustment::RoundedDaily {
                edge: Edge::End,
                granularity: self.granularity,
                requested: end_time,
                effective: effective_end,
                next_day: false,
            });
        }
        if !rule
            .first_date
            .iter_days()
            .take_while(|d| *d <= rule.last_date)
            .any(|d| rule.occurrence_on(self.zone, d).is_some())
        {
            return Err(Error::schedule(
                "none of the weekdays falls between the first and last date",
            ));
        }
        self.weekly_dst_adjustments(&rule);
        Ok(rule)
    }

    /// Reports, for each occurrence near a clock change, an edge that falls into a
    /// gap or an overlap.
    fn weekly_dst_adjustments(&mut self, rule: &WeeklyRule) {
        let Some(last) = rule.last_date.succ_opt() else {
            return;
        };
        for change in zone::offset_changes(self.zone, rule.first_date, last) {
            for offset in -1..=1 {
                let date = change + Duration::days(offset);
                if date < rule.first_date || date > rule.last_date || !rule.days.contains(date.weekday()) {
                    continue;
                }
                let (start, end) = rule.local_bounds(date);
                self.resolve(Edge::Start, start);
                self.resolve(Edge::End, end);
            }
        }
    }

    /// Rounds a window edge to the lock's granularity in wall-clock time, towards
    /// less access (more when widening is allowed), and resolves it to an instant.
    ///
    /// Wall time does not map to instants in order across a DST gap: in Berlin on
    /// 2027-03-28, 02:30 (in the gap) is 01:30 UTC but 03:00 is 01:00 UTC. So the
    /// rounded edge is compared with the instant the owner asked for, and moved on by
    /// whole steps until it grants no more (or, widening, no less) than that.
    fn edge(&mut self, edge: Edge, requested: NaiveDateTime) -> Result<(NaiveDateTime, DateTime<Utc>)> {
        let asked = self.resolve(edge, requested);
        let step = self.granularity.seconds();
        let seconds = requested.and_utc().timestamp();
        let later = matches!((edge, self.widen), (Edge::Start, false) | (Edge::End, true));
        let (mut rounded, step) = if later {
            (ceil(seconds, step), step)
        } else {
            (floor(seconds, step), -step)
        };
        let (effective, instant) = loop {
            let local = DateTime::from_timestamp(rounded, 0)
                .ok_or_else(out_of_range)?
                .naive_utc();
            let instant = zone::instant(self.zone, local);
            if (later && instant >= asked) || (!later && instant <= asked) {
                break (local, instant);
            }
            rounded += step;
        };
        if effective != requested {
            self.adjustments.push(Adjustment::Rounded {
                edge,
                granularity: self.granularity,
                requested,
                effective,
            });
            self.resolve(edge, effective);
        }
        Ok((effective, instant))
    }

    fn resolve(&mut self, edge: Edge, local: NaiveDateTime) -> DateTime<Utc> {
        let resolved = zone::resolve(self.zone, local);
        let adjustment = match resolved {
            Resolved::Exact(_) => None,
            Resolved::Gap { local: effective, .. } => Some(Adjustment::DstGap {
                edge,
                requested: local,
                effective,
            }),
            Resolved::Overlap { earlier, later } => Some(Adjustment::DstOverlap {
                edge,
                local,
                chosen: earlier,
                other: later,
            }),
        };
        if let Some(adjustment) = adjustment
            && !self.adjustments.contains(&adjustment)
        {
            self.adjustments.push(adjustment);
        }
        resolved.instant()
    }
}

fn floor(value: i64, step: i64) -> i64 {
    value.div_euclid(step) * step
}

fn ceil(value: i64, step: i64) -> i64 {
    floor(value + step - 1, step)
}

fn time_of_day(seconds: i64) -> NaiveTime {
    let seconds = u32::try_from(seconds.rem_euclid(DAY_SECONDS)).unwrap_or(0);
    NaiveTime::from_num_seconds_from_midnight_opt(seconds, 0).unwrap_or(NaiveTime::MIN)
}

fn out_of_range() -> Error {
    Error::schedule("a date is out of the supported range")
}
