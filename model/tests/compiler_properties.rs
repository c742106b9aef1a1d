//! Property tests of the window compiler over random zones, times (biased towards the
//! days clocks change), durations and granularities.
//!
//! `resolve` below is the compatible rule, written independently of the model: an
//! existing wall time is its instant (the earlier one when it exists twice); a wall time
//! in a gap is read with the offset in force before the gap, which moves it forward by
//! the length of the gap. The properties, for a window the owner asked for as local
//! wall times `[s, e)` and compiled to `[S, E)`:
//!
//! (a) without widening, if compiled: `S >= resolve(s)` and `E <= resolve(e)`; and at
//!     minute granularity (no rounding) it compiles exactly when `resolve(s) < resolve(e)`,
//!     to exactly `[resolve(s), resolve(e))`. Compared as instants, not wall times: wall
//!     time runs backwards at the end of a gap (02:30 in Berlin's spring gap is 01:30
//!     UTC, 03:00 is 01:00 UTC), so "rounding up" a wall time can move an instant back.
//! (b) with widening, if `resolve(s) < resolve(e)`: it compiles, `S <= resolve(s)` and
//!     `E >= resolve(e)`, each within a step (plus an hour of DST) of the request. (A
//!     request empty under the compatible rule may be refused or widened to whole steps.)
//! (c) `is_active_at` is false at `S - 1s`, true at `S` and `E - 1s`, false at `E`
//!     (for weekly occurrences: true at `S` and `E - 1s`, and at `S - 1s` and `E`
//!     exactly when another occurrence contains that instant).
//! (d) `next_change_after(t) = Some(c)`: `c > t`, the state at `c` differs from the
//!     state at `t`, and no sampled instant in `(t, c)` (including every interval edge
//!     there) has another state; `None`: no later sampled instant or edge has another state.
//! (e) every weekly occurrence has positive duration, starts on a local date in
//!     `[first_date, last_date + 1]` (a start rounded past midnight moves a day later),
//!     ends no later than local `(last_date + 2) 00:00` (the end of the day after the
//!     last date); starts are strictly increasing, and an occurrence overlaps the next
//!     only when a DST gap moved its end (by less than the gap, at most an hour).
//! (f) `compile` never panics: dates outside 1970-9999 give `InvalidSchedule`, and every
//!     other outcome is a schedule or `InvalidSchedule`; the compiled schedule's queries
//!     do not panic either, even at `DateTime::MIN_UTC` / `MAX_UTC`.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]

use std::sync::OnceLock;

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone,
    Timelike, Utc,
};
use chrono_tz::{America, Asia, Australia, Europe, Pacific};
use proptest::prelude::*;
use proptest::sample::Index;
use tessera_model::schedule::{
    Adjustment, CompileOptions, EffectiveSchedule, Interval, Schedule, Timing, Weekdays,
};
use tessera_model::{Error, Granularity, Lock, LockCapabilities, Tz};

const ZONES: [Tz; 7] = [
    Europe::Berlin,
    America::New_York,
    Australia::Lord_Howe,
    Asia::Kathmandu,
    Pacific::Chatham,
    America::Sao_Paulo,
    chrono_tz::UTC,
];

const GRANULARITIES: [Granularity; 3] = [Granularity::Minute, Granularity::Hour, Granularity::Day];

/// Years the DST-biased times are drawn from (Sao Paulo still had DST in 2017-2019).
const FIRST_YEAR: i32 = 2016;
const LAST_YEAR: i32 = 2031;

// ---------------------------------------------------------------------------------
// The compatible rule, independently

fn resolve(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(at) => at.to_utc(),
        LocalResult::Ambiguous(a, b) => a.to_utc().min(b.to_utc()),
        LocalResult::None => {
            // Walk to the first whole minute after the gap; the minute before that
            // instant still has the old offset. Gaps in these zones start and end on
            // whole minutes.
            let mut after = local.with_second(0).unwrap().with_nanosecond(0).unwrap();
            let end_of_gap = loop {
                after += Duration::minutes(1);
                if let Some(at) = zone.from_local_datetime(&after).earliest() {
                    break at.to_utc();
                }
            };
            let before = zone
                .offset_from_utc_datetime(&(end_of_gap - Duration::minutes(1)).naive_utc())
                .fix();
            (local - Duration::seconds(before.local_minus_utc().into())).and_utc()
        }
    }
}

#[test]
fn the_reference_resolution_follows_the_compatible_rule() {
    let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
    let utc = |s: &str| at(s).and_utc();
    assert_eq!(
        resolve(Europe::Berlin, at("2027-03-28 02:30")),
        utc("2027-03-28 01:30")
    );
    assert_eq!(
        resolve(Europe::Berlin, at("2027-03-28 03:00")),
        utc("2027-03-28 01:00")
    );
    assert_eq!(
        resolve(Europe::Berlin, at("2027-10-31 02:30")),
        utc("2027-10-31 00:30")
    );
    assert_eq!(
        resolve(Pacific::Chatham, at("2027-09-26 03:00")),
        utc("2027-09-25 14:15")
    );
    assert_eq!(
        resolve(America::Sao_Paulo, at("2018-11-04 00:00")),
        utc("2018-11-04 03:00")
    );
    assert_eq!(
        resolve(Australia::Lord_Howe, at("2026-10-04 02:15")),
        utc("2026-10-03 15:45")
    );
}

// ---------------------------------------------------------------------------------
// Inputs

/// Local dates on which each zone changed its clocks (noon offset differs from the day before).
fn transition_days(zone_index: usize) -> &'static [NaiveDate] {
    static DAYS: OnceLock<Vec<Vec<NaiveDate>>> = OnceLock::new();
    let all = DAYS.get_or_init(|| {
        ZONES
            .iter()
            .map(|zone| {
                let noon_offset = |d: NaiveDate| {
                    resolve(*zone, d.and_hms_opt(12, 0, 0).unwrap())
                        .with_timezone(zone)
                        .offset()
                        .fix()
                };
                let first = NaiveDate::from_ymd_opt(FIRST_YEAR, 1, 1).unwrap();
                let last = NaiveDate::from_ymd_opt(LAST_YEAR, 12, 31).unwrap();
                first
                    .iter_days()
                    .take_while(|d| *d <= last)
                    .filter(|d| noon_offset(*d) != noon_offset(d.pred_opt().unwrap()))
                    .collect()
            })
            .collect()
    });
    &all[zone_index]
}

#[test]
fn every_dst_zone_has_transitions_to_test() {
    for (i, zone) in ZONES.iter().enumerate() {
        let days = transition_days(i);
        match zone.name() {
            "Asia/Kathmandu" | "UTC" => assert!(days.is_empty(), "{zone}"),
            // Brazil dropped DST in 2019: 2016-2019 only.
            "America/Sao_Paulo" => assert_eq!(days.len(), 7, "{zone}: {days:?}"),
            _ => assert_eq!(days.len(), 32, "{zone}: {days:?}"),
        }
    }
}

/// A zone and a local date: half of the time on or next to a day the zone changed its
/// clocks, otherwise anywhere in the years.
#[derive(Debug, Clone, Copy)]
struct ZonedDate {
    zone_index: usize,
    date: NaiveDate,
}

fn zoned_date() -> impl Strategy<Value = ZonedDate> {
    (
        0..ZONES.len(),
        any::<bool>(),
        any::<Index>(),
        -1i64..=1,
        0i64..(366 * 16),
    )
        .prop_map(|(zone_index, near_change, pick, shift, day)| {
            let days = transition_days(zone_index);
            let date = if near_change && !days.is_empty() {
                *pick.get(days) + Duration::days(shift)
            } else {
                NaiveDate::from_ymd_opt(FIRST_YEAR, 1, 1).unwrap() + Duration::days(day)
            };
            ZonedDate { zone_index, date }
        })
}

/// A minute of the day, often in the small hours when clocks change.
fn minute_of_day() -> impl Strategy<Value = u32> {
    prop_oneof![0u32..1440, 0u32..(5 * 60), (22 * 60)..1440u32]
}

fn time_of_day(minute: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(minute / 60, minute % 60, 0).unwrap()
}

/// Window lengths in minutes: around a gap, a few days, or weeks.
fn duration_minutes() -> impl Strategy<Value = i64> {
    prop_oneof![1i64..=180, 1i64..=(3 * 1440), 1i64..=(40 * 1440)]
}

#[derive(Debug, Clone)]
struct WindowCase {
    zone_index: usize,
    start: NaiveDateTime,
    end: NaiveDateTime,
    granularity: Granularity,
}

impl WindowCase {
    fn zone(&self) -> Tz {
        ZONES[self.zone_index]
    }

    fn compile(&self, allow_widening: bool) -> tessera_model::Result<EffectiveSchedule> {
        let schedule = Schedule::Window {
            start: self.start,
            end: self.end,
        };
        EffectiveSchedule::compile(
            &schedule,
            &lock(self.zone(), self.granularity),
            CompileOptions { allow_widening },
        )
    }
}

fn window_case() -> impl Strategy<Value = WindowCase> {
    (
        zoned_date(),
        minute_of_day(),
        duration_minutes(),
        prop::sample::select(&GRANULARITIES[..]),
    )
        .prop_map(|(zoned, minute, minutes, granularity)| {
            let start = zoned.date.and_time(time_of_day(minute));
            WindowCase {
                zone_index: zoned.zone_index,
                start,
                end: start + Duration::minutes(minutes),
                granularity,
            }
        })
}

fn lock(zone: Tz, granularity: Granularity) -> Lock {
    let capabilities = LockCapabilities {
        granularity,
        ..LockCapabilities::default()
    };
    Lock::new("Door", zone.name(), capabilities).unwrap()
}

fn window_of(effective: &EffectiveSchedule) -> Interval {
    match effective.timing {
        Timing::Window(window) => window,
        ref other => panic!("expected a window, got {other:?}"),
    }
}

fn is_invalid_schedule<T: std::fmt::Debug>(result: &tessera_model::Result<T>) -> bool {
    matches!(result, Err(Error::InvalidSchedule { .. }))
}

/// Every `Rounded` edge lands on the granularity's grid of local wall time.
fn rounded_edges_on_grid(effective: &EffectiveSchedule) -> Result<(), TestCaseError> {
    for adjustment in &effective.adjustments {
        if let Adjustment::Rounded {
            granularity,
            effective,
            ..
        } = adjustment
        {
            prop_assert_eq!(
                effective.and_utc().timestamp() % granularity.seconds(),
                0,
                "{:?}",
                adjustment
            );
        }
    }
    Ok(())
}

const SECOND: Duration = Duration::seconds(1);

// ---------------------------------------------------------------------------------
// (a), (b), (c): windows

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn a_without_widening_the_window_stays_inside_the_request(case in window_case()) {
        let asked = Interval { start: resolve(case.zone(), case.start), end: resolve(case.zone(), case.end) };
        match case.compile(false) {
            Ok(effective) => {
                let got = window_of(&effective);
                prop_assert!(got.start >= asked.start, "start {} before asked {}", got.start, asked.start);
                prop_assert!(got.end <= asked.end, "end {} after asked {}", got.end, asked.end);
                prop_assert!(got.start < got.end);
                if case.granularity == Granularity::Minute {
                    prop_assert_eq!(got, asked);
                }
                rounded_edges_on_grid(&effective)?;
            }
            result => {
                prop_assert!(is_invalid_schedule(&result), "{:?}", result);
                if case.granularity == Granularity::Minute {
                    prop_assert!(asked.start >= asked.end, "refused a non-empty window: {:?}", result);
                }
            }
        }
    }

    #[test]
    fn b_with_widening_the_window_covers_the_request(case in window_case()) {
        let asked = Interval { start: resolve(case.zone(), case.start), end: resolve(case.zone(), case.end) };
        let result = case.compile(true);
        if asked.start < asked.end {
            let effective = result.map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            let got = window_of(&effective);
            prop_assert!(got.start <= asked.start, "start {} after asked {}", got.start, asked.start);
            prop_assert!(got.end >= asked.end, "end {} before asked {}", got.end, asked.end);
            // Widening stays within a step (plus a DST shift) of the request.
            let slack = Duration::seconds(case.granularity.seconds()) + Duration::hours(1);
            prop_assert!(asked.start - got.start <= slack, "{:?}", got);
            prop_assert!(got.end - asked.end <= slack, "{:?}", got);
            rounded_edges_on_grid(&effective)?;
        } else {
            // Empty as asked (a start in a gap moved past the end): widening may still
            // grant whole steps (Sao Paulo 00:10-01:00 on 2018-11-04 widens to the day).
            prop_assert!(result.is_ok() || is_invalid_schedule(&result), "{:?}", result);
        }
    }

    #[test]
    fn c_is_active_at_agrees_with_the_window(case in window_case(), widen in any::<bool>()) {
        if let Ok(effective) = case.compile(widen) {
            let got = window_of(&effective);
            prop_assert!(!effective.is_active_at(got.start - SECOND));
            prop_assert!(effective.is_active_at(got.start));
            prop_assert!(effective.is_active_at(got.end - SECOND));
            prop_assert!(!effective.is_active_at(got.end));
            prop_assert_eq!(effective.bounds(), (Some(got.start), Some(got.end)));
        }
    }
}

// ---------------------------------------------------------------------------------
// Weekly

#[derive(Debug, Clone)]
struct WeeklyCase {
    zone_index: usize,
    days: Weekdays,
    start_time: NaiveTime,
    end_time: NaiveTime,
    first_date: NaiveDate,
    last_date: NaiveDate,
    granularity: Granularity,
    widen: bool,
}

impl WeeklyCase {
    fn zone(&self) -> Tz {
        ZONES[self.zone_index]
    }

    fn compile(&self) -> tessera_model::Result<EffectiveSchedule> {
        let schedule = Schedule::Weekly {
            days: self.days,
            start_time: self.start_time,
            end_time: self.end_time,
            first_date: self.first_date,
            last_date: self.last_date,
        };
        EffectiveSchedule::compile(
            &schedule,
            &lock(self.zone(), self.granularity),
            CompileOptions {
                allow_widening: self.widen,
            },
        )
    }
}

fn weekly_case() -> impl Strategy<Value = WeeklyCase> {
    (
        zoned_date(),
        1u8..128,
        minute_of_day(),
        prop_oneof![minute_of_day(), (0u32..1440)],
        -10i64..=60,
        0i64..=90,
        prop::sample::select(&GRANULARITIES[..]),
        any::<bool>(),
    )
        .prop_map(|(zoned, days, start, end, before, span, granularity, widen)| {
            // The change day lies somewhere inside the range (or near it).
            let first_date = zoned.date - Duration::days(before.max(0));
            WeeklyCase {
                zone_index: zoned.zone_index,
                days: Weekdays::from_bits(days),
                start_time: time_of_day(start),
                end_time: time_of_day(end),
                first_date,
                last_date: first_date + Duration::days(span),
                granularity,
                widen,
            }
        })
}

/// Whether the rule's wall-clock end of `occurrence` does not exist (a DST gap moved it).
fn end_moved_by_gap(effective: &EffectiveSchedule, occurrence: Interval) -> bool {
    let Some(rule) = effective.weekly_rule() else {
        return false;
    };
    let zone = effective.zone;
    let local_start = occurrence.start.with_timezone(&zone).date_naive();
    // The rule's date: the start's local date, or the day before if a gap moved the start
    // past midnight.
    [local_start, local_start - Duration::days(1)]
        .into_iter()
        .any(|date| {
            let start = date.and_time(rule.start_time);
            let end = start + Duration::seconds(rule.duration_seconds.into());
            resolve(zone, start) == occurrence.start && zone.from_local_datetime(&end) == LocalResult::None
        })
}

fn local_midnight(date: NaiveDate) -> NaiveDateTime {
    date.and_hms_opt(0, 0, 0).unwrap()
}

/// Checks (d) for one instant `t`, given every interval of the schedule.
fn check_next_change(
    effective: &EffectiveSchedule,
    intervals: &[Interval],
    t: DateTime<Utc>,
) -> Result<(), TestCaseError> {
    let state = effective.is_active_at(t);
    let edges = intervals.iter().flat_map(|i| [i.start, i.end]);
    match effective.next_change_after(t) {
        Some(change) => {
            prop_assert!(change > t, "change {} not after {}", change, t);
            prop_assert_ne!(
                effective.is_active_at(change),
                state,
                "no flip at {} (from {})",
                change,
                t
            );
            let span = change - t;
            let samples = [
                t + SECOND,
                change - SECOND,
                t + span / 2,
                t + span / 3,
                t + span * 3 / 4,
            ];
            for s in samples.into_iter().chain(edges.filter(|e| *e > t && *e < change)) {
                if s > t && s < change {
                    prop_assert_eq!(
                        effective.is_active_at(s),
                        state,
                        "flip at {} before {} (from {})",
                        s,
                        change,
                        t
                    );
                }
            }
        }
        None => {
            let far = t + Duration::days(4_000);
            for s in [t + SECOND, t + Duration::days(1), far]
                .into_iter()
                .chain(edges.filter(|e| *e > t))
            {
                prop_assert_eq!(
                    effective.is_active_at(s),
                    state,
                    "flip at {} with no change after {}",
                    s,
                    t
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn e_weekly_occurrences_stay_in_their_dates(case in weekly_case()) {
        let Ok(effective) = case.compile() else {
            // Empty after rounding, or no chosen weekday in range.
            prop_assert!(is_invalid_schedule(&case.compile()));
            return Ok(());
        };
        let zone = case.zone();
        let occurrences: Vec<Interval> = effective.intervals_from(DateTime::<Utc>::MIN_UTC).collect();
        prop_assert!(!occurrences.is_empty());
        let earliest = local_midnight(case.first_date);
        let latest_end = local_midnight(case.last_date + Duration::days(2));
        for (i, occurrence) in occurrences.iter().enumerate() {
            prop_assert!(occurrence.start < occurrence.end, "empty occurrence {:?}", occurrence);
            let start = occurrence.start.with_timezone(&zone).naive_local();
            let end = occurrence.end.with_timezone(&zone).naive_local();
            prop_assert!(start >= earliest, "{} starts before {}", start, case.first_date);
            prop_assert!(start.date() <= case.last_date + Duration::days(1), "{} starts too late", start);
            prop_assert!(end <= latest_end, "{} ends after {}", end, latest_end);
            if let Some(next) = occurrences.get(i + 1) {
                prop_assert!(next.start > occurrence.start, "{:?} out of order", next);
                if next.start < occurrence.end {
                    // Only a DST gap at the end of this occurrence can push it past the
                    // next start (Sat 03:00 to Sun 02:01 on a spring-forward Sunday ends
                    // at 03:01, after Sunday's 03:00 start), and by less than the gap.
                    prop_assert!(end_moved_by_gap(&effective, *occurrence), "{:?} overlaps {:?}", occurrence, next);
                    prop_assert!(occurrence.end - next.start < Duration::hours(1));
                }
            }
        }
        prop_assert_eq!(
            effective.bounds(),
            (Some(occurrences[0].start), Some(occurrences[occurrences.len() - 1].end))
        );
    }

    #[test]
    fn c_weekly_is_active_at_agrees_with_each_occurrence(case in weekly_case()) {
        let Ok(effective) = case.compile() else { return Ok(()) };
        let occurrences: Vec<Interval> = effective.intervals_from(DateTime::<Utc>::MIN_UTC).collect();
        let in_any = |at: DateTime<Utc>| occurrences.iter().any(|o| o.contains(at));
        for occurrence in &occurrences {
            prop_assert!(effective.is_active_at(occurrence.start));
            prop_assert!(effective.is_active_at(occurrence.end - SECOND));
            // Outside this occurrence only if no neighbour covers the instant.
            for at in [occurrence.start - SECOND, occurrence.end] {
                prop_assert_eq!(effective.is_active_at(at), in_any(at), "at {}", at);
            }
        }
    }

    #[test]
    fn d_next_change_after_matches_is_active_at(
        case in weekly_case(),
        offsets in prop::collection::vec(0i64..(100 * 86_400), 6),
    ) {
        let Ok(effective) = case.compile() else { return Ok(()) };
        let intervals: Vec<Interval> = effective.intervals_from(DateTime::<Utc>::MIN_UTC).collect();
        let origin = local_midnight(case.first_date - Duration::days(3)).and_utc();
        let mut points: Vec<DateTime<Utc>> = offsets.iter().map(|s| origin + Duration::seconds(*s)).collect();
        for interval in intervals.iter().take(4) {
            points.extend([interval.start - SECOND, interval.start, interval.end - SECOND, interval.end]);
        }
        for t in points {
            check_next_change(&effective, &intervals, t)?;
        }
    }

    #[test]
    fn d_next_change_after_for_windows(case in window_case(), widen in any::<bool>(), offset in -86_400i64..86_400) {
        let Ok(effective) = case.compile(widen) else { return Ok(()) };
        let window = window_of(&effective);
        for t in [window.start + Duration::seconds(offset), window.end + Duration::seconds(offset), window.start, window.end] {
            check_next_change(&effective, &[window], t)?;
        }
    }
}

// ---------------------------------------------------------------------------------
// (f): no panics, whatever the input

/// Any date chrono can hold, biased to the edges of the allowed years.
fn any_date() -> impl Strategy<Value = NaiveDate> {
    let min = NaiveDate::MIN.num_days_from_ce();
    let max = NaiveDate::MAX.num_days_from_ce();
    let near = |year: i32| {
        let day = NaiveDate::from_ymd_opt(year, 1, 1).unwrap().num_days_from_ce();
        (day - 40)..(day + 40)
    };
    prop_oneof![
        1 => min..=max,
        1 => min..min + 10,
        1 => max - 10..=max,
        2 => near(1970),
        2 => near(10_000),
        2 => near(2027),
    ]
    .prop_map(|days| NaiveDate::from_num_days_from_ce_opt(days).unwrap())
}

/// Any time of day, including fractions of a second and leap seconds.
fn any_time() -> impl Strategy<Value = NaiveTime> {
    prop_oneof![
        (0u32..86_400).prop_map(|s| NaiveTime::from_num_seconds_from_midnight_opt(s, 0).unwrap()),
        (0u32..86_400, 0u32..1_000_000_000)
            .prop_map(|(s, n)| NaiveTime::from_num_seconds_from_midnight_opt(s, n).unwrap()),
        (0u32..24, 0u32..60, 1_000_000_000u32..2_000_000_000)
            .prop_map(|(h, m, n)| NaiveTime::from_hms_nano_opt(h, m, 59, n).unwrap()),
    ]
}

fn any_datetime() -> impl Strategy<Value = NaiveDateTime> {
    (any_date(), any_time()).prop_map(|(d, t)| d.and_time(t))
}

/// A start and an end a little after (or before) it, or very far from it.
fn around() -> impl Strategy<Value = (NaiveDateTime, NaiveDateTime)> {
    (
        any_datetime(),
        prop_oneof![-10_000i64..10_000_000, -(1i64 << 40)..(1i64 << 40)],
    )
        .prop_map(|(start, secs)| {
            let end = start.checked_add_signed(Duration::seconds(secs));
            (start, end.unwrap_or(start))
        })
}

fn any_schedule() -> impl Strategy<Value = Schedule> {
    prop_oneof![
        Just(Schedule::Permanent),
        around().prop_map(|(start, end)| Schedule::Window { start, end }),
        (any_datetime(), any_datetime()).prop_map(|(start, end)| Schedule::Window { start, end }),
        around().prop_map(|(start, end)| Schedule::OneTime { start, end }),
        (around(), prop_oneof![Just(0u32), 1u32..1_000, any::<u32>()])
            .prop_map(|((start, end), minutes)| Schedule::ExpiringAfterFirstUse { minutes, start, end }),
        (any::<u8>(), any_time(), any_time(), any_date(), -5i64..60).prop_map(
            |(bits, start_time, end_time, first_date, span)| Schedule::Weekly {
                days: Weekdays::from_bits(bits),
                start_time,
                end_time,
                first_date,
                last_date: first_date
                    .checked_add_signed(Duration::days(span))
                    .unwrap_or(first_date),
            }
        ),
        (any::<u8>(), any_time(), any_time(), any_date(), any_date()).prop_map(
            |(bits, start_time, end_time, first_date, last_date)| Schedule::Weekly {
                days: Weekdays::from_bits(bits),
                start_time,
                end_time,
                first_date,
                last_date,
            }
        ),
    ]
}

fn dates_of(schedule: &Schedule) -> Vec<NaiveDate> {
    match schedule {
        Schedule::Permanent => vec![],
        Schedule::Window { start, end }
        | Schedule::OneTime { start, end }
        | Schedule::ExpiringAfterFirstUse { start, end, .. } => vec![start.date(), end.date()],
        Schedule::Weekly {
            first_date,
            last_date,
            ..
        } => vec![*first_date, *last_date],
    }
}

fn any_instant() -> impl Strategy<Value = DateTime<Utc>> {
    prop_oneof![
        Just(DateTime::<Utc>::MIN_UTC),
        Just(DateTime::<Utc>::MAX_UTC),
        any_datetime().prop_map(|t| t.and_utc()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3_000))]

    #[test]
    fn f_compile_never_panics(
        schedule in any_schedule(),
        other in any_schedule(),
        zone_index in 0..ZONES.len(),
        granularity in prop::sample::select(&GRANULARITIES[..]),
        allow_widening in any::<bool>(),
        instants in prop::collection::vec(any_instant(), 3),
    ) {
        let lock = lock(ZONES[zone_index], granularity);
        let options = CompileOptions { allow_widening };
        let result = EffectiveSchedule::compile(&schedule, &lock, options);
        let out_of_years = dates_of(&schedule).iter().any(|d| !(1970..=9999).contains(&d.year()));
        if out_of_years {
            prop_assert!(is_invalid_schedule(&result), "{:?}", result);
        }
        match result {
            Ok(effective) => {
                let _ = effective.bounds();
                for at in &instants {
                    let _ = effective.is_active_at(*at);
                    let _ = effective.next_change_after(*at);
                    let _ = effective.has_ended_by(*at);
                    let _ = effective.preview(*at, Some(ZONES[(zone_index + 1) % ZONES.len()]), 3);
                }
                if let Ok(other) = EffectiveSchedule::compile(&other, &lock, options) {
                    prop_assert_eq!(effective.may_overlap(&other), other.may_overlap(&effective));
                }
                let _ = effective.summary();
                for adjustment in &effective.adjustments {
                    let _ = adjustment.to_string();
                }
            }
            Err(error) => prop_assert!(
                matches!(error, Error::InvalidSchedule { .. }),
                "unexpected error {:?}",
                error
            ),
        }
    }
}
