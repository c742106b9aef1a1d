//! The window compiler end to end: every schedule kind, in zones with whole-hour,
//! half-hour and 45-minute offsets and DST rules, gaps and overlaps, rounding, and
//! what the compiled schedule answers (activity, changes, bounds, overlaps, uses, preview).
//!
//! DST facts used below (tzdata; checked independently with Python's zoneinfo):
//! - Europe/Berlin: 2027-03-28 02:00 CET -> 03:00 CEST (01:00 UTC);
//!   2027-10-31 03:00 CEST -> 02:00 CET (01:00 UTC).
//! - America/New_York: 2027-03-14 02:00 EST -> 03:00 EDT (07:00 UTC);
//!   2026-11-01 02:00 EDT -> 01:00 EST (06:00 UTC).
//! - Australia/Lord_Howe (+10:30 / +11:00): 2026-10-04 02:00 -> 02:30 (2026-10-03 15:30 UTC);
//!   2027-04-04 02:00 -> 01:30 (2027-04-03 15:00 UTC).
//! - Pacific/Chatham (+12:45 / +13:45): 2027-09-26 02:45 -> 03:45 (2027-09-25 14:00 UTC);
//!   2027-04-04 03:45 -> 02:45 (2027-04-03 14:00 UTC).
//! - America/Sao_Paulo (-03 / -02 in 2018): 2018-11-04 00:00 -> 01:00 (03:00 UTC);
//!   2018-02-18 00:00 -> 2018-02-17 23:00 (02:00 UTC).
//! - Asia/Kathmandu: +05:45 all year.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};
use tessera_model::schedule::{
    Adjustment, CompileOptions, Edge, EffectiveSchedule, Interval, MAX_FIRST_USE_MINUTES, MAX_WEEKLY_DAYS,
    Schedule, ScheduleKind, Timing, Weekdays, WeeklyRule, ZonedTime,
};
use tessera_model::{Error, Granularity, Lock, LockCapabilities, Tz, Usage};

// ---------------------------------------------------------------------------------
// Helpers

fn local(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

fn utc(s: &str) -> DateTime<Utc> {
    local(s).and_utc()
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn time(s: &str) -> NaiveTime {
    NaiveTime::parse_from_str(s, "%H:%M").unwrap()
}

fn year_10000() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(10_000, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
}

fn sec(n: i64) -> Duration {
    Duration::seconds(n)
}

fn lock_in(zone: &str, granularity: Granularity) -> Lock {
    let capabilities = LockCapabilities {
        granularity,
        ..LockCapabilities::default()
    };
    Lock::new("Front door", zone, capabilities).unwrap()
}

fn lock(zone: &str) -> Lock {
    lock_in(zone, Granularity::Minute)
}

fn window(start: &str, end: &str) -> Schedule {
    Schedule::Window {
        start: local(start),
        end: local(end),
    }
}

fn weekly(days: &str, start: &str, end: &str, first: &str, last: &str) -> Schedule {
    Schedule::Weekly {
        days: days.parse().unwrap(),
        start_time: time(start),
        end_time: time(end),
        first_date: date(first),
        last_date: date(last),
    }
}

fn compile(schedule: &Schedule, lock: &Lock) -> EffectiveSchedule {
    EffectiveSchedule::compile(schedule, lock, CompileOptions::default()).unwrap()
}

fn compile_widening(schedule: &Schedule, lock: &Lock) -> EffectiveSchedule {
    EffectiveSchedule::compile(schedule, lock, CompileOptions { allow_widening: true }).unwrap()
}

fn interval(effective: &EffectiveSchedule) -> Interval {
    match effective.timing {
        Timing::Window(interval) => interval,
        ref other => panic!("expected a window, got {other:?}"),
    }
}

fn span(start: &str, end: &str) -> Interval {
    Interval {
        start: utc(start),
        end: utc(end),
    }
}

fn all_intervals(effective: &EffectiveSchedule) -> Vec<Interval> {
    effective.intervals_from(DateTime::<Utc>::MIN_UTC).collect()
}

/// The error's reason, after checking it is `InvalidSchedule`.
fn invalid(result: tessera_model::Result<EffectiveSchedule>) -> String {
    match result {
        Err(Error::InvalidSchedule { reason }) => reason,
        other => panic!("expected InvalidSchedule, got {other:?}"),
    }
}

/// Checks `is_active_at` around both edges of `interval`.
fn assert_edges(effective: &EffectiveSchedule, interval: Interval) {
    assert!(
        !effective.is_active_at(interval.start - sec(1)),
        "before {interval:?}"
    );
    assert!(effective.is_active_at(interval.start), "at start of {interval:?}");
    assert!(
        effective.is_active_at(interval.end - sec(1)),
        "before end of {interval:?}"
    );
    assert!(!effective.is_active_at(interval.end), "at end of {interval:?}");
}

fn gap(edge: Edge, requested: &str, effective: &str) -> Adjustment {
    Adjustment::DstGap {
        edge,
        requested: local(requested),
        effective: local(effective),
    }
}

fn overlap(edge: Edge, at: &str, chosen: &str, other: &str) -> Adjustment {
    Adjustment::DstOverlap {
        edge,
        local: local(at),
        chosen: utc(chosen),
        other: utc(other),
    }
}

fn rounded(edge: Edge, granularity: Granularity, requested: &str, effective: &str) -> Adjustment {
    Adjustment::Rounded {
        edge,
        granularity,
        requested: local(requested),
        effective: local(effective),
    }
}

fn rounded_daily(
    edge: Edge,
    granularity: Granularity,
    requested: &str,
    effective: &str,
    next_day: bool,
) -> Adjustment {
    Adjustment::RoundedDaily {
        edge,
        granularity,
        requested: time(requested),
        effective: time(effective),
        next_day,
    }
}

// ---------------------------------------------------------------------------------
// Permanent

#[test]
fn permanent_is_always_active_and_unbounded() {
    let effective = compile(&Schedule::Permanent, &lock("Europe/Berlin"));
    assert_eq!(effective.kind, ScheduleKind::Permanent);
    assert_eq!(effective.timing, Timing::Permanent);
    assert_eq!(effective.zone, chrono_tz::Europe::Berlin);
    assert!(effective.adjustments.is_empty());
    assert_eq!(effective.first_use_minutes, None);
    assert_eq!(effective.bounds(), (None, None));
    for at in [
        DateTime::<Utc>::MIN_UTC,
        utc("1970-01-01 00:00"),
        utc("2027-03-28 01:30"),
        utc("9999-12-31 23:59"),
    ] {
        assert!(effective.is_active_at(at), "{at}");
        assert_eq!(effective.next_change_after(at), None, "{at}");
        assert!(!effective.has_ended_by(at));
    }
    assert_eq!(effective.intervals_from(utc("2027-01-01 00:00")).count(), 1);
}

#[test]
fn permanent_admits_until_the_use_limit() {
    let effective = compile(&Schedule::Permanent, &lock("UTC"));
    let at = utc("2027-05-01 12:00");
    let used = |uses| Usage {
        uses,
        first_used_at: Some(utc("2027-01-01 00:00")),
    };
    assert!(effective.admits(at, &Usage::default(), None));
    assert!(effective.admits(at, &used(9_999), None));
    assert!(effective.admits(at, &used(4), Some(5)));
    assert!(!effective.admits(at, &used(5), Some(5)));
    assert!(!effective.admits(at, &used(6), Some(5)));
    // Spent: no use left, so it holds no room on a lock and no PIN.
    assert!(!effective.is_spent(at, &used(4), Some(5)));
    assert!(effective.is_spent(at, &used(5), Some(5)));
    assert!(!effective.is_spent(at, &used(9_999), None));
}

#[test]
fn a_code_is_spent_when_it_can_never_open_again() {
    let zone = lock("UTC");
    let before = utc("2027-05-01 08:00");
    let first_use = |at| Usage {
        uses: 1,
        first_used_at: Some(at),
    };
    let once = compile(
        &Schedule::OneTime {
            start: local("2027-05-01 09:00"),
            end: local("2027-05-01 17:00"),
        },
        &zone,
    );
    assert!(!once.is_spent(before, &Usage::default(), None));
    assert!(once.is_spent(before, &first_use(utc("2027-05-01 10:00")), None));
    assert!(
        once.is_spent(utc("2027-05-01 17:00"), &Usage::default(), None),
        "ended unused"
    );

    let expiring = compile(
        &Schedule::ExpiringAfterFirstUse {
            minutes: 30,
            start: local("2027-05-01 09:00"),
            end: local("2027-05-08 09:00"),
        },
        &zone,
    );
    let used = first_use(utc("2027-05-01 10:00"));
    assert!(!expiring.is_spent(utc("2027-05-01 10:29"), &used, None));
    assert!(expiring.is_spent(utc("2027-05-01 10:30"), &used, None));
    assert!(!expiring.is_spent(utc("2027-05-01 10:30"), &Usage::default(), None));
}

// ---------------------------------------------------------------------------------
// Window: zones and offsets

#[test]
fn window_in_utc_has_exact_edges_changes_and_bounds() {
    let effective = compile(&window("2027-05-01 09:00", "2027-05-01 17:30"), &lock("UTC"));
    assert_eq!(effective.kind, ScheduleKind::Window);
    let expected = span("2027-05-01 09:00", "2027-05-01 17:30");
    assert_eq!(interval(&effective), expected);
    assert!(effective.adjustments.is_empty());
    assert_edges(&effective, expected);
    assert_eq!(
        effective.bounds(),
        (Some(utc("2027-05-01 09:00")), Some(utc("2027-05-01 17:30")))
    );
    assert_eq!(
        effective.next_change_after(utc("2027-04-01 00:00")),
        Some(utc("2027-05-01 09:00"))
    );
    assert_eq!(
        effective.next_change_after(utc("2027-05-01 09:00") - sec(1)),
        Some(utc("2027-05-01 09:00"))
    );
    assert_eq!(
        effective.next_change_after(utc("2027-05-01 09:00")),
        Some(utc("2027-05-01 17:30"))
    );
    assert_eq!(
        effective.next_change_after(utc("2027-05-01 17:30") - sec(1)),
        Some(utc("2027-05-01 17:30"))
    );
    assert_eq!(effective.next_change_after(utc("2027-05-01 17:30")), None);
    assert!(!effective.has_ended_by(utc("2027-05-01 17:29")));
    assert!(effective.has_ended_by(utc("2027-05-01 17:30")));
}

#[test]
fn window_resolves_in_the_locks_zone() {
    // (zone, local start, local end, UTC start, UTC end)
    let cases = [
        // CET (+1) in winter, CEST (+2) in summer.
        (
            "Europe/Berlin",
            "2027-01-15 09:00",
            "2027-01-15 17:00",
            "2027-01-15 08:00",
            "2027-01-15 16:00",
        ),
        (
            "Europe/Berlin",
            "2027-07-01 09:00",
            "2027-07-01 17:00",
            "2027-07-01 07:00",
            "2027-07-01 15:00",
        ),
        // EST (-5) / EDT (-4).
        (
            "America/New_York",
            "2027-01-15 09:00",
            "2027-01-15 17:00",
            "2027-01-15 14:00",
            "2027-01-15 22:00",
        ),
        (
            "America/New_York",
            "2027-07-01 09:00",
            "2027-07-01 17:00",
            "2027-07-01 13:00",
            "2027-07-01 21:00",
        ),
        // +11:00 in the southern summer, +10:30 in winter.
        (
            "Australia/Lord_Howe",
            "2027-01-10 09:00",
            "2027-01-10 17:00",
            "2027-01-09 22:00",
            "2027-01-10 06:00",
        ),
        (
            "Australia/Lord_Howe",
            "2027-07-10 09:00",
            "2027-07-10 17:00",
            "2027-07-09 22:30",
            "2027-07-10 06:30",
        ),
        // +05:45.
        (
            "Asia/Kathmandu",
            "2027-01-10 09:00",
            "2027-01-10 17:00",
            "2027-01-10 03:15",
            "2027-01-10 11:15",
        ),
        // +13:45 / +12:45.
        (
            "Pacific/Chatham",
            "2027-01-10 09:00",
            "2027-01-10 17:00",
            "2027-01-09 19:15",
            "2027-01-10 03:15",
        ),
        (
            "Pacific/Chatham",
            "2027-07-10 09:00",
            "2027-07-10 17:00",
            "2027-07-09 20:15",
            "2027-07-10 04:15",
        ),
        // -02 in the 2018 summer, -03 in winter.
        (
            "America/Sao_Paulo",
            "2018-12-01 09:00",
            "2018-12-01 17:00",
            "2018-12-01 11:00",
            "2018-12-01 19:00",
        ),
        (
            "America/Sao_Paulo",
            "2018-07-01 09:00",
            "2018-07-01 17:00",
            "2018-07-01 12:00",
            "2018-07-01 20:00",
        ),
        (
            "UTC",
            "2027-07-01 09:00",
            "2027-07-01 17:00",
            "2027-07-01 09:00",
            "2027-07-01 17:00",
        ),
    ];
    for (zone, start, end, utc_start, utc_end) in cases {
        let effective = compile(&window(start, end), &lock(zone));
        assert_eq!(interval(&effective), span(utc_start, utc_end), "{zone} {start}");
        assert!(
            effective.adjustments.is_empty(),
            "{zone}: {:?}",
            effective.adjustments
        );
        assert_edges(&effective, span(utc_start, utc_end));
    }
}

#[test]
fn window_spanning_a_dst_change_keeps_the_wall_times() {
    // Saturday 10:00 CET to Monday 10:00 CEST: 47 hours, not 48.
    let effective = compile(
        &window("2027-03-27 10:00", "2027-03-29 10:00"),
        &lock("Europe/Berlin"),
    );
    assert_eq!(interval(&effective), span("2027-03-27 09:00", "2027-03-29 08:00"));
    assert!(effective.adjustments.is_empty());
    // And 25 hours across the autumn change in New York.
    let effective = compile(
        &window("2026-10-31 12:00", "2026-11-01 12:00"),
        &lock("America/New_York"),
    );
    assert_eq!(interval(&effective), span("2026-10-31 16:00", "2026-11-01 17:00"));
}

// ---------------------------------------------------------------------------------
// Window: DST gaps (compatible rule: forward by the length of the gap)

#[test]
fn window_starting_in_a_gap_moves_forward_by_the_gap() {
    // (zone, local start in the gap, local end, UTC start, wall time it moved to, UTC end)
    let cases = [
        // One-hour gaps.
        (
            "Europe/Berlin",
            "2027-03-28 02:30",
            "2027-03-28 06:00",
            "2027-03-28 01:30",
            "2027-03-28 03:30",
            "2027-03-28 04:00",
        ),
        (
            "America/New_York",
            "2027-03-14 02:30",
            "2027-03-14 06:00",
            "2027-03-14 07:30",
            "2027-03-14 03:30",
            "2027-03-14 10:00",
        ),
        // Half-hour gap 02:00 -> 02:30.
        (
            "Australia/Lord_Howe",
            "2026-10-04 02:15",
            "2026-10-04 06:00",
            "2026-10-03 15:45",
            "2026-10-04 02:45",
            "2026-10-03 19:00",
        ),
        // Gap 02:45 -> 03:45 at +12:45.
        (
            "Pacific/Chatham",
            "2027-09-26 03:00",
            "2027-09-26 06:00",
            "2027-09-25 14:15",
            "2027-09-26 04:00",
            "2027-09-25 16:15",
        ),
        // The gap is midnight itself: 00:00 -> 01:00.
        (
            "America/Sao_Paulo",
            "2018-11-04 00:00",
            "2018-11-04 08:00",
            "2018-11-04 03:00",
            "2018-11-04 01:00",
            "2018-11-04 10:00",
        ),
    ];
    for (zone, start, end, utc_start, moved_to, utc_end) in cases {
        let effective = compile(&window(start, end), &lock(zone));
        assert_eq!(interval(&effective), span(utc_start, utc_end), "{zone}");
        assert_eq!(
            effective.adjustments,
            vec![gap(Edge::Start, start, moved_to)],
            "{zone}"
        );
        assert_edges(&effective, span(utc_start, utc_end));
    }
}

#[test]
fn window_ending_in_a_gap_moves_forward_by_the_gap() {
    let cases = [
        (
            "Europe/Berlin",
            "2027-03-27 22:00",
            "2027-03-28 02:15",
            "2027-03-27 21:00",
            "2027-03-28 01:15",
            "2027-03-28 03:15",
        ),
        (
            "America/New_York",
            "2027-03-13 22:00",
            "2027-03-14 02:59",
            "2027-03-14 03:00",
            "2027-03-14 07:59",
            "2027-03-14 03:59",
        ),
        (
            "Australia/Lord_Howe",
            "2026-10-03 22:00",
            "2026-10-04 02:10",
            "2026-10-03 11:30",
            "2026-10-03 15:40",
            "2026-10-04 02:40",
        ),
        (
            "Pacific/Chatham",
            "2027-09-25 22:00",
            "2027-09-26 02:45",
            "2027-09-25 09:15",
            "2027-09-25 14:00",
            "2027-09-26 03:45",
        ),
        (
            "America/Sao_Paulo",
            "2018-11-03 20:00",
            "2018-11-04 00:30",
            "2018-11-03 23:00",
            "2018-11-04 03:30",
            "2018-11-04 01:30",
        ),
    ];
    for (zone, start, end, utc_start, utc_end, moved_to) in cases {
        let effective = compile(&window(start, end), &lock(zone));
        assert_eq!(interval(&effective), span(utc_start, utc_end), "{zone}");
        assert_eq!(
            effective.adjustments,
            vec![gap(Edge::End, end, moved_to)],
            "{zone}"
        );
    }
}

#[test]
fn window_wholly_inside_a_gap_keeps_its_length_after_the_gap() {
    // 02:10-02:50 does not exist in Berlin on 2027-03-28: both edges move forward an hour.
    let effective = compile(
        &window("2027-03-28 02:10", "2027-03-28 02:50"),
        &lock("Europe/Berlin"),
    );
    assert_eq!(interval(&effective), span("2027-03-28 01:10", "2027-03-28 01:50"));
    assert_eq!(
        effective.adjustments,
        vec![
            gap(Edge::Start, "2027-03-28 02:10", "2027-03-28 03:10"),
            gap(Edge::End, "2027-03-28 02:50", "2027-03-28 03:50"),
        ]
    );
}

#[test]
fn window_whose_gap_start_passes_its_end_is_refused() {
    // 02:30 moves to 03:30 CEST, after the requested end 03:15.
    let reason = invalid(EffectiveSchedule::compile(
        &window("2027-03-28 02:30", "2027-03-28 03:15"),
        &lock("Europe/Berlin"),
        CompileOptions::default(),
    ));
    assert!(reason.contains("daylight-saving"), "{reason}");
}

// ---------------------------------------------------------------------------------
// Window: DST overlaps (the earlier instant)

#[test]
fn window_edges_in_an_overlap_take_the_earlier_instant() {
    // (zone, local time that happens twice, earlier UTC, later UTC)
    let cases = [
        (
            "America/New_York",
            "2026-11-01 01:30",
            "2026-11-01 05:30",
            "2026-11-01 06:30",
        ),
        (
            "Europe/Berlin",
            "2027-10-31 02:30",
            "2027-10-31 00:30",
            "2027-10-31 01:30",
        ),
        (
            "Australia/Lord_Howe",
            "2027-04-04 01:45",
            "2027-04-03 14:45",
            "2027-04-03 15:15",
        ),
        (
            "Pacific/Chatham",
            "2027-04-04 03:00",
            "2027-04-03 13:15",
            "2027-04-03 14:15",
        ),
        (
            "America/Sao_Paulo",
            "2018-02-17 23:30",
            "2018-02-18 01:30",
            "2018-02-18 02:30",
        ),
    ];
    for (zone, twice, earlier, later) in cases {
        let at = local(twice);
        let lock = lock(zone);
        // As the start.
        let effective = compile(
            &window(twice, &(at + Duration::hours(6)).to_string()[..16]),
            &lock,
        );
        assert_eq!(interval(&effective).start, utc(earlier), "{zone}");
        assert_eq!(
            effective.adjustments,
            vec![overlap(Edge::Start, twice, earlier, later)],
            "{zone}"
        );
        assert!(!effective.is_active_at(utc(earlier) - sec(1)));
        assert!(effective.is_active_at(utc(earlier)));
        // As the end: access stops at the first time the clock shows it.
        let effective = compile(
            &window(&(at - Duration::hours(6)).to_string()[..16], twice),
            &lock,
        );
        assert_eq!(interval(&effective).end, utc(earlier), "{zone}");
        assert_eq!(
            effective.adjustments,
            vec![overlap(Edge::End, twice, earlier, later)],
            "{zone}"
        );
        assert!(effective.is_active_at(utc(earlier) - sec(1)));
        assert!(!effective.is_active_at(utc(earlier)));
        assert!(!effective.is_active_at(utc(later)));
    }
}

// ---------------------------------------------------------------------------------
// Window: rounding to the lock's granularity

#[test]
fn hour_granularity_shrinks_and_says_so() {
    let lock = lock_in("Europe/Berlin", Granularity::Hour);
    let effective = compile(&window("2027-07-01 09:20", "2027-07-01 17:40"), &lock);
    assert_eq!(interval(&effective), span("2027-07-01 08:00", "2027-07-01 15:00"));
    assert_eq!(
        effective.adjustments,
        vec![
            rounded(
                Edge::Start,
                Granularity::Hour,
                "2027-07-01 09:20",
                "2027-07-01 10:00"
            ),
            rounded(
                Edge::End,
                Granularity::Hour,
                "2027-07-01 17:40",
                "2027-07-01 17:00"
            ),
        ]
    );
    // Times already on the hour are left alone.
    let effective = compile(&window("2027-07-01 09:00", "2027-07-01 17:00"), &lock);
    assert_eq!(interval(&effective), span("2027-07-01 07:00", "2027-07-01 15:00"));
    assert!(effective.adjustments.is_empty());
}

#[test]
fn hour_granularity_widens_only_when_allowed() {
    let lock = lock_in("Europe/Berlin", Granularity::Hour);
    let effective = compile_widening(&window("2027-07-01 09:20", "2027-07-01 17:40"), &lock);
    assert_eq!(interval(&effective), span("2027-07-01 07:00", "2027-07-01 16:00"));
    assert_eq!(
        effective.adjustments,
        vec![
            rounded(
                Edge::Start,
                Granularity::Hour,
                "2027-07-01 09:20",
                "2027-07-01 09:00"
            ),
            rounded(
                Edge::End,
                Granularity::Hour,
                "2027-07-01 17:40",
                "2027-07-01 18:00"
            ),
        ]
    );
}

#[test]
fn day_granularity_shrinks_to_whole_local_days() {
    let lock = lock_in("Europe/Berlin", Granularity::Day);
    let schedule = window("2027-07-01 09:20", "2027-07-04 17:40");
    let effective = compile(&schedule, &lock);
    // Local midnights at +02:00.
    assert_eq!(interval(&effective), span("2027-07-01 22:00", "2027-07-03 22:00"));
    assert_eq!(
        effective.adjustments,
        vec![
            rounded(
                Edge::Start,
                Granularity::Day,
                "2027-07-01 09:20",
                "2027-07-02 00:00"
            ),
            rounded(
                Edge::End,
                Granularity::Day,
                "2027-07-04 17:40",
                "2027-07-04 00:00"
            ),
        ]
    );
    let effective = compile_widening(&schedule, &lock);
    assert_eq!(interval(&effective), span("2027-06-30 22:00", "2027-07-04 22:00"));
    assert_eq!(
        effective.adjustments,
        vec![
            rounded(
                Edge::Start,
                Granularity::Day,
                "2027-07-01 09:20",
                "2027-07-01 00:00"
            ),
            rounded(
                Edge::End,
                Granularity::Day,
                "2027-07-04 17:40",
                "2027-07-05 00:00"
            ),
        ]
    );
}

#[test]
fn rounding_that_empties_a_window_is_refused_unless_widening() {
    let hourly = lock_in("Europe/Berlin", Granularity::Hour);
    let reason = invalid(EffectiveSchedule::compile(
        &window("2027-07-01 09:10", "2027-07-01 09:50"),
        &hourly,
        CompileOptions::default(),
    ));
    assert!(reason.contains("whole hours"), "{reason}");
    let effective = compile_widening(&window("2027-07-01 09:10", "2027-07-01 09:50"), &hourly);
    assert_eq!(interval(&effective), span("2027-07-01 07:00", "2027-07-01 08:00"));

    let daily = lock_in("Europe/Berlin", Granularity::Day);
    let reason = invalid(EffectiveSchedule::compile(
        &window("2027-07-01 09:00", "2027-07-01 18:00"),
        &daily,
        CompileOptions::default(),
    ));
    assert!(reason.contains("whole days"), "{reason}");
    // Crossing one midnight is not enough for a whole day either.
    invalid(EffectiveSchedule::compile(
        &window("2027-07-01 18:00", "2027-07-02 09:00"),
        &daily,
        CompileOptions::default(),
    ));
    let effective = compile_widening(&window("2027-07-01 18:00", "2027-07-02 09:00"), &daily);
    assert_eq!(interval(&effective), span("2027-06-30 22:00", "2027-07-02 22:00"));
}

#[test]
fn kathmandu_rounds_in_local_wall_time() {
    // Whole local hours are at :15 UTC in Kathmandu (+05:45).
    let lock = lock_in("Asia/Kathmandu", Granularity::Hour);
    let effective = compile(&window("2027-01-10 09:20", "2027-01-10 17:40"), &lock);
    assert_eq!(interval(&effective), span("2027-01-10 04:15", "2027-01-10 11:15"));
    assert_eq!(
        effective.adjustments,
        vec![
            rounded(
                Edge::Start,
                Granularity::Hour,
                "2027-01-10 09:20",
                "2027-01-10 10:00"
            ),
            rounded(
                Edge::End,
                Granularity::Hour,
                "2027-01-10 17:40",
                "2027-01-10 17:00"
            ),
        ]
    );
    let effective = compile_widening(&window("2027-01-10 09:20", "2027-01-10 17:40"), &lock);
    assert_eq!(interval(&effective), span("2027-01-10 03:15", "2027-01-10 12:15"));
    // Whole local days start at 18:15 UTC the day before.
    let lock = lock_in("Asia/Kathmandu", Granularity::Day);
    let effective = compile(&window("2027-01-10 09:20", "2027-01-13 17:40"), &lock);
    assert_eq!(interval(&effective), span("2027-01-10 18:15", "2027-01-12 18:15"));
}

#[test]
fn chatham_rounds_in_local_wall_time() {
    let lock = lock_in("Pacific/Chatham", Granularity::Hour);
    let effective = compile(&window("2027-07-10 09:30", "2027-07-10 17:30"), &lock);
    // +12:45: 10:00 local is 21:15 UTC the day before.
    assert_eq!(interval(&effective), span("2027-07-09 21:15", "2027-07-10 04:15"));
}

#[test]
fn rounding_never_lets_a_gap_widen_the_window() {
    // Regression: 02:30 on Berlin's spring-forward day is 03:30 CEST (01:30 UTC).
    // Rounding the wall time up to 03:00 gave 01:00 UTC, half an hour earlier than
    // asked. The start must be the next whole hour at or after 03:30: 04:00 CEST.
    let lock = lock_in("Europe/Berlin", Granularity::Hour);
    let effective = compile(&window("2027-03-28 02:30", "2027-03-28 08:00"), &lock);
    assert_eq!(interval(&effective), span("2027-03-28 02:00", "2027-03-28 06:00"));
    assert_eq!(
        effective.adjustments,
        vec![
            gap(Edge::Start, "2027-03-28 02:30", "2027-03-28 03:30"),
            rounded(
                Edge::Start,
                Granularity::Hour,
                "2027-03-28 02:30",
                "2027-03-28 04:00"
            ),
        ]
    );
    // Widening an end in the gap: ceiling 03:00 would end before the asked 03:30.
    let effective = compile_widening(&window("2027-03-28 00:00", "2027-03-28 02:30"), &lock);
    assert_eq!(interval(&effective), span("2027-03-27 23:00", "2027-03-28 02:00"));
    assert_eq!(
        effective.adjustments,
        vec![
            gap(Edge::End, "2027-03-28 02:30", "2027-03-28 03:30"),
            rounded(
                Edge::End,
                Granularity::Hour,
                "2027-03-28 02:30",
                "2027-03-28 04:00"
            ),
        ]
    );
    // Regression: Chatham's gap is 02:45-03:45, so the whole hour 03:00 lies inside it.
    // An end at 03:50 (14:05 UTC) rounded down to 03:00 moved forward to 04:00
    // (14:15 UTC), ten minutes past what was asked. The end must be 02:00.
    let lock = lock_in("Pacific/Chatham", Granularity::Hour);
    let effective = compile(&window("2027-09-26 01:00", "2027-09-26 03:50"), &lock);
    assert_eq!(interval(&effective), span("2027-09-25 12:15", "2027-09-25 13:15"));
    assert_eq!(
        effective.adjustments,
        vec![rounded(
            Edge::End,
            Granularity::Hour,
            "2027-09-26 03:50",
            "2027-09-26 02:00"
        )]
    );
}

#[test]
fn rounding_onto_a_dst_change_reports_both() {
    // The whole hour 02:00 does not exist on Berlin's spring-forward day: an end at
    // 02:40 rounds down to 02:00, which the compatible rule makes 03:00 CEST.
    let lock = lock_in("Europe/Berlin", Granularity::Hour);
    let effective = compile(&window("2027-03-27 20:00", "2027-03-28 02:40"), &lock);
    assert_eq!(interval(&effective), span("2027-03-27 19:00", "2027-03-28 01:00"));
    assert_eq!(
        effective.adjustments,
        vec![
            gap(Edge::End, "2027-03-28 02:40", "2027-03-28 03:40"),
            rounded(
                Edge::End,
                Granularity::Hour,
                "2027-03-28 02:40",
                "2027-03-28 02:00"
            ),
            gap(Edge::End, "2027-03-28 02:00", "2027-03-28 03:00"),
        ]
    );
    // New York falls back at 02:00 EDT to 01:00 EST: a start at 01:30 (the earlier,
    // 05:30 UTC) rounds up to 02:00 EST (07:00 UTC).
    let lock = lock_in("America/New_York", Granularity::Hour);
    let effective = compile(&window("2026-11-01 01:30", "2026-11-01 09:00"), &lock);
    assert_eq!(interval(&effective), span("2026-11-01 07:00", "2026-11-01 14:00"));
    assert_eq!(
        effective.adjustments,
        vec![
            overlap(
                Edge::Start,
                "2026-11-01 01:30",
                "2026-11-01 05:30",
                "2026-11-01 06:30"
            ),
            rounded(
                Edge::Start,
                Granularity::Hour,
                "2026-11-01 01:30",
                "2026-11-01 02:00"
            ),
        ]
    );
}

#[test]
fn sub_minute_times_round_without_widening() {
    let lock = lock("UTC");
    let start = local("2027-05-01 09:00") + Duration::milliseconds(500);
    let end = local("2027-05-01 10:00") + Duration::milliseconds(500);
    let effective = compile(&Schedule::Window { start, end }, &lock);
    assert_eq!(interval(&effective), span("2027-05-01 09:01", "2027-05-01 10:00"));
    // Weekly: 09:00:00.5 starts at 09:01, not half a second early.
    let half = Duration::milliseconds(500);
    let schedule = Schedule::Weekly {
        days: Weekdays::EVERY_DAY,
        start_time: time("09:00") + half,
        end_time: time("10:00") + half,
        first_date: date("2027-05-01"),
        last_date: date("2027-05-01"),
    };
    let effective = compile(&schedule, &lock);
    assert_eq!(
        all_intervals(&effective),
        vec![span("2027-05-01 09:01", "2027-05-01 10:00")]
    );
    let effective = compile_widening(&schedule, &lock);
    assert_eq!(
        all_intervals(&effective),
        vec![span("2027-05-01 09:00", "2027-05-01 10:01")]
    );
}

// ---------------------------------------------------------------------------------
// One-time and expiring-after-first-use

#[test]
fn one_time_admits_a_single_entry_inside_its_window() {
    let schedule = Schedule::OneTime {
        start: local("2027-06-05 14:00"),
        end: local("2027-06-05 18:00"),
    };
    let effective = compile(&schedule, &lock("America/New_York"));
    assert_eq!(effective.kind, ScheduleKind::OneTime);
    let expected = span("2027-06-05 18:00", "2027-06-05 22:00");
    assert_eq!(interval(&effective), expected);
    assert_edges(&effective, expected);
    assert_eq!(effective.bounds(), (Some(expected.start), Some(expected.end)));
    let inside = utc("2027-06-05 19:00");
    assert!(effective.admits(inside, &Usage::default(), None));
    let once = Usage {
        uses: 1,
        first_used_at: Some(utc("2027-06-05 18:30")),
    };
    assert!(!effective.admits(inside, &once, None), "second use");
    assert!(!effective.admits(utc("2027-06-05 17:59"), &Usage::default(), None));
    assert!(!effective.admits(expected.end, &Usage::default(), None));
}

#[test]
fn expiring_code_is_refused_its_minutes_after_first_use() {
    let schedule = Schedule::ExpiringAfterFirstUse {
        minutes: 90,
        start: local("2027-06-05 08:00"),
        end: local("2027-06-07 20:00"),
    };
    let effective = compile(&schedule, &lock("Asia/Kathmandu"));
    assert_eq!(effective.kind, ScheduleKind::ExpiringAfterFirstUse);
    assert_eq!(effective.first_use_minutes, Some(90));
    let expected = span("2027-06-05 02:15", "2027-06-07 14:15");
    assert_eq!(interval(&effective), expected);
    // Before first use: the whole window.
    assert!(effective.admits(expected.start, &Usage::default(), None));
    assert!(effective.admits(expected.end - sec(1), &Usage::default(), None));
    assert!(!effective.admits(expected.end, &Usage::default(), None));
    let first = utc("2027-06-06 10:00");
    let used = Usage {
        uses: 1,
        first_used_at: Some(first),
    };
    assert!(effective.admits(first + Duration::minutes(30), &used, None));
    assert!(effective.admits(first + Duration::minutes(90) - sec(1), &used, None));
    assert!(!effective.admits(first + Duration::minutes(90), &used, None));
    assert!(!effective.admits(first + Duration::hours(5), &used, None));
    assert!(!effective.admits(first + Duration::minutes(30), &used, Some(1)));
    // Never beyond the window's end, however recent the first use.
    let late = Usage {
        uses: 1,
        first_used_at: Some(expected.end - Duration::minutes(10)),
    };
    assert!(effective.admits(expected.end - sec(1), &late, None));
    assert!(!effective.admits(expected.end, &late, None));
    assert!(!effective.admits(expected.end + Duration::minutes(30), &late, None));
}

#[test]
fn window_admits_up_to_its_use_limit() {
    let effective = compile(&window("2027-06-05 08:00", "2027-06-06 08:00"), &lock("UTC"));
    let at = utc("2027-06-05 12:00");
    let used = |uses| Usage {
        uses,
        first_used_at: Some(utc("2027-06-05 09:00")),
    };
    assert!(effective.admits(at, &used(2), Some(3)));
    assert!(!effective.admits(at, &used(3), Some(3)));
    assert!(effective.admits(at, &used(300), None));
    assert!(!effective.admits(utc("2027-06-06 08:00"), &used(0), Some(3)));
}

// ---------------------------------------------------------------------------------
// Capabilities and invalid schedules

#[test]
fn kinds_the_lock_lacks_are_not_supported() {
    let capabilities = LockCapabilities {
        schedule_kinds: vec![ScheduleKind::Permanent, ScheduleKind::Window],
        ..LockCapabilities::default()
    };
    let lock = Lock::new("Gate", "Europe/Berlin", capabilities).unwrap();
    let cases = [
        (
            Schedule::OneTime {
                start: local("2027-06-05 08:00"),
                end: local("2027-06-05 09:00"),
            },
            ScheduleKind::OneTime,
        ),
        (
            Schedule::ExpiringAfterFirstUse {
                minutes: 60,
                start: local("2027-06-05 08:00"),
                end: local("2027-06-05 09:00"),
            },
            ScheduleKind::ExpiringAfterFirstUse,
        ),
        (
            weekly("mon-fri", "09:00", "17:00", "2027-01-04", "2027-03-26"),
            ScheduleKind::Weekly,
        ),
    ];
    for (schedule, kind) in cases {
        assert_eq!(
            EffectiveSchedule::compile(&schedule, &lock, CompileOptions::default()),
            Err(Error::ScheduleNotSupported { kind })
        );
    }
    assert!(EffectiveSchedule::compile(&Schedule::Permanent, &lock, CompileOptions::default()).is_ok());
    let only_weekly = LockCapabilities {
        schedule_kinds: vec![ScheduleKind::Weekly],
        ..LockCapabilities::default()
    };
    let lock = Lock::new("Gate", "UTC", only_weekly).unwrap();
    assert_eq!(
        EffectiveSchedule::compile(&Schedule::Permanent, &lock, CompileOptions::default()),
        Err(Error::ScheduleNotSupported {
            kind: ScheduleKind::Permanent
        })
    );
    assert_eq!(
        EffectiveSchedule::compile(
            &window("2027-06-05 08:00", "2027-06-05 09:00"),
            &lock,
            CompileOptions::default()
        ),
        Err(Error::ScheduleNotSupported {
            kind: ScheduleKind::Window
        })
    );
}

#[test]
fn invalid_schedules_are_refused() {
    let lock = lock("Europe/Berlin");
    let compile =
        |schedule: Schedule| EffectiveSchedule::compile(&schedule, &lock, CompileOptions::default());
    let (a, b) = (local("2027-06-05 10:00"), local("2027-06-05 09:00"));
    // (schedule, words the reason must contain)
    let cases = [
        (Schedule::Window { start: a, end: b }, "ends before it starts"),
        (Schedule::Window { start: a, end: a }, "ends before it starts"),
        (Schedule::OneTime { start: a, end: b }, "ends before it starts"),
        (
            Schedule::ExpiringAfterFirstUse {
                minutes: 60,
                start: a,
                end: b,
            },
            "ends before it starts",
        ),
        (
            Schedule::ExpiringAfterFirstUse {
                minutes: 0,
                start: b,
                end: a,
            },
            "minutes after first use",
        ),
        (
            Schedule::ExpiringAfterFirstUse {
                minutes: MAX_FIRST_USE_MINUTES + 1,
                start: b,
                end: a,
            },
            "minutes after first use",
        ),
        (
            Schedule::Weekly {
                days: Weekdays::default(),
                start_time: time("09:00"),
                end_time: time("17:00"),
                first_date: date("2027-01-04"),
                last_date: date("2027-03-26"),
            },
            "at least one weekday",
        ),
        (
            weekly("mon", "09:00", "17:00", "2027-03-26", "2027-01-04"),
            "last date is before the first",
        ),
        (
            weekly("mon", "09:00", "17:00", "2027-01-04", "2038-01-04"),
            "at most",
        ),
        // Tuesday to Saturday of one week holds no Monday.
        (
            weekly("mon", "09:00", "17:00", "2027-01-05", "2027-01-09"),
            "none of the weekdays",
        ),
        (
            window("1969-12-31 23:00", "1970-01-01 01:00"),
            "outside the years",
        ),
        (
            Schedule::Window {
                start: local("9999-12-31 23:00"),
                end: year_10000(),
            },
            "outside the years",
        ),
        (
            weekly("mon", "09:00", "17:00", "1969-12-29", "1970-01-31"),
            "outside the years",
        ),
    ];
    for (schedule, words) in cases {
        let reason = invalid(compile(schedule.clone()));
        assert!(reason.contains(words), "{schedule:?}: {reason}");
    }
    // The longest allowed weekly range is accepted.
    let last = date("2027-01-04") + Duration::days(MAX_WEEKLY_DAYS - 1);
    assert!(compile(weekly("mon", "09:00", "17:00", "2027-01-04", &last.to_string())).is_ok());
}

#[test]
fn extreme_but_allowed_years_compile() {
    let lock = lock_in("America/New_York", Granularity::Day);
    let effective = compile_widening(&window("1970-01-01 00:30", "9999-12-31 23:30"), &lock);
    assert_eq!(
        interval(&effective),
        Interval {
            start: utc("1970-01-01 05:00"),
            end: (year_10000() + Duration::hours(5)).and_utc(),
        }
    );
    let effective = compile(
        &weekly("thu", "00:00", "00:00", "1970-01-01", "1970-01-31"),
        &lock,
    );
    assert_eq!(effective.bounds().0, Some(utc("1970-01-01 05:00")));
}

// ---------------------------------------------------------------------------------
// Weekly

#[test]
fn weekly_occurrences_bounds_and_changes() {
    // Mondays, Wednesdays and Fridays 09:00-17:00 in Berlin winter (+01:00) for two weeks.
    let effective = compile(
        &weekly("mon,wed,fri", "09:00", "17:00", "2027-01-04", "2027-01-15"),
        &lock("Europe/Berlin"),
    );
    assert_eq!(effective.kind, ScheduleKind::Weekly);
    assert!(effective.adjustments.is_empty());
    assert_eq!(
        effective.weekly_rule(),
        Some(&WeeklyRule {
            days: [Weekday::Mon, Weekday::Wed, Weekday::Fri].into_iter().collect(),
            start_time: time("09:00"),
            duration_seconds: 8 * 3_600,
            first_date: date("2027-01-04"),
            last_date: date("2027-01-15"),
        })
    );
    let days = ["01-04", "01-06", "01-08", "01-11", "01-13", "01-15"];
    let expected: Vec<Interval> = days
        .iter()
        .map(|d| span(&format!("2027-{d} 08:00"), &format!("2027-{d} 16:00")))
        .collect();
    assert_eq!(all_intervals(&effective), expected);
    for interval in &expected {
        assert_edges(&effective, *interval);
    }
    assert!(!effective.is_active_at(utc("2027-01-05 12:00")), "a Tuesday");
    assert_eq!(
        effective.bounds(),
        (Some(utc("2027-01-04 08:00")), Some(utc("2027-01-15 16:00")))
    );
    // next_change_after walks start, end, start, end ...
    let mut walk = Vec::new();
    let mut at = utc("2027-01-01 00:00");
    while let Some(next) = effective.next_change_after(at) {
        assert_ne!(effective.is_active_at(next), effective.is_active_at(at), "{next}");
        walk.push(next);
        at = next;
    }
    let flat: Vec<DateTime<Utc>> = expected.iter().flat_map(|i| [i.start, i.end]).collect();
    assert_eq!(walk, flat);
    // From the middle of an occurrence, and from its last second.
    assert_eq!(
        effective.next_change_after(utc("2027-01-06 12:00")),
        Some(utc("2027-01-06 16:00"))
    );
    assert_eq!(
        effective.next_change_after(utc("2027-01-06 16:00") - sec(1)),
        Some(utc("2027-01-06 16:00"))
    );
    assert_eq!(
        effective.next_change_after(utc("2027-01-06 16:00")),
        Some(utc("2027-01-08 08:00"))
    );
    // Intervals from a point inside an occurrence start with that occurrence.
    let from: Vec<Interval> = effective.intervals_from(utc("2027-01-13 10:00")).collect();
    assert_eq!(from, expected[4..].to_vec());
    assert!(effective.has_ended_by(utc("2027-01-15 16:00")));
}

#[test]
fn weekly_range_crossing_midnight() {
    // Friday night shifts 22:00-06:00 in New York (EST, -05:00).
    let effective = compile(
        &weekly("fri", "22:00", "06:00", "2027-01-01", "2027-01-15"),
        &lock("America/New_York"),
    );
    assert_eq!(effective.weekly_rule().unwrap().duration_seconds, 8 * 3_600);
    assert_eq!(effective.weekly_rule().unwrap().end_time(), time("06:00"));
    assert_eq!(
        all_intervals(&effective),
        vec![
            span("2027-01-02 03:00", "2027-01-02 11:00"),
            span("2027-01-09 03:00", "2027-01-09 11:00"),
            span("2027-01-16 03:00", "2027-01-16 11:00"),
        ]
    );
    // Saturday 02:00 local belongs to Friday's shift; the last shift ends after last_date.
    assert!(effective.is_active_at(utc("2027-01-09 07:00")));
    assert!(effective.is_active_at(utc("2027-01-16 10:59")));
    assert!(!effective.is_active_at(utc("2027-01-16 11:00")));
    assert_eq!(
        effective.bounds(),
        (Some(utc("2027-01-02 03:00")), Some(utc("2027-01-16 11:00")))
    );
    assert_eq!(
        effective.summary(),
        "Fri 22:00-06:00 next day (America/New_York), 2027-01-01 to 2027-01-15"
    );
}

#[test]
fn weekly_across_spring_forward_moves_with_the_wall_clock() {
    // Every day 02:30-06:00 in Berlin; clocks go forward on Sunday 2027-03-28.
    let effective = compile(
        &weekly("daily", "02:30", "06:00", "2027-03-26", "2027-03-30"),
        &lock("Europe/Berlin"),
    );
    assert_eq!(
        all_intervals(&effective),
        vec![
            span("2027-03-26 01:30", "2027-03-26 05:00"),
            span("2027-03-27 01:30", "2027-03-27 05:00"),
            // 02:30 does not exist: 03:30 CEST, and the occurrence is an hour shorter.
            span("2027-03-28 01:30", "2027-03-28 04:00"),
            span("2027-03-29 00:30", "2027-03-29 04:00"),
            span("2027-03-30 00:30", "2027-03-30 04:00"),
        ]
    );
    assert_eq!(
        effective.adjustments,
        vec![gap(Edge::Start, "2027-03-28 02:30", "2027-03-28 03:30")]
    );
    assert!(!effective.is_active_at(utc("2027-03-28 01:30") - sec(1)));
    assert!(effective.is_active_at(utc("2027-03-28 01:30")));
}

#[test]
fn weekly_across_fall_back_takes_the_earlier_instant() {
    let effective = compile(
        &weekly("daily", "02:30", "06:00", "2027-10-30", "2027-11-01"),
        &lock("Europe/Berlin"),
    );
    assert_eq!(
        all_intervals(&effective),
        vec![
            span("2027-10-30 00:30", "2027-10-30 04:00"),
            // 02:30 happens twice; the first (CEST) is used: 4.5 hours.
            span("2027-10-31 00:30", "2027-10-31 05:00"),
            span("2027-11-01 01:30", "2027-11-01 05:00"),
        ]
    );
    assert_eq!(
        effective.adjustments,
        vec![overlap(
            Edge::Start,
            "2027-10-31 02:30",
            "2027-10-31 00:30",
            "2027-10-31 01:30"
        )]
    );
}

#[test]
fn weekly_occurrences_in_a_gap_move_or_vanish() {
    // 02:10-02:50 does not exist on 2027-03-28 in Berlin: both edges move forward an
    // hour, so that Sunday's occurrence is 03:10-03:50 CEST.
    let effective = compile(
        &weekly("sun", "02:10", "02:50", "2027-03-21", "2027-04-04"),
        &lock("Europe/Berlin"),
    );
    assert_eq!(
        all_intervals(&effective),
        vec![
            span("2027-03-21 01:10", "2027-03-21 01:50"),
            span("2027-03-28 01:10", "2027-03-28 01:50"),
            span("2027-04-04 00:10", "2027-04-04 00:50"),
        ]
    );
    assert_eq!(
        effective.adjustments,
        vec![
            gap(Edge::Start, "2027-03-28 02:10", "2027-03-28 03:10"),
            gap(Edge::End, "2027-03-28 02:50", "2027-03-28 03:50"),
        ]
    );
    // 02:30-03:15: the start moves to 03:30 CEST, after the end; that Sunday has no access.
    let effective = compile(
        &weekly("sun", "02:30", "03:15", "2027-03-21", "2027-04-04"),
        &lock("Europe/Berlin"),
    );
    assert_eq!(
        all_intervals(&effective),
        vec![
            span("2027-03-21 01:30", "2027-03-21 02:15"),
            span("2027-04-04 00:30", "2027-04-04 01:15"),
        ]
    );
    assert!(!effective.is_active_at(utc("2027-03-28 01:10")));
    assert_eq!(
        effective.next_change_after(utc("2027-03-21 02:15")),
        Some(utc("2027-04-04 00:30"))
    );
}

#[test]
fn weekly_with_the_gap_at_midnight_in_sao_paulo() {
    // Whole days, back to back, across 2018-11-04 when 00:00 became 01:00.
    let effective = compile(
        &weekly("daily", "00:00", "00:00", "2018-11-02", "2018-11-05"),
        &lock("America/Sao_Paulo"),
    );
    assert_eq!(effective.weekly_rule().unwrap().duration_seconds, 86_400);
    assert_eq!(
        all_intervals(&effective),
        vec![
            span("2018-11-02 03:00", "2018-11-03 03:00"),
            span("2018-11-03 03:00", "2018-11-04 03:00"),
            // 23 hours: midnight did not exist, the day started at 01:00 -02.
            span("2018-11-04 03:00", "2018-11-05 02:00"),
            span("2018-11-05 02:00", "2018-11-06 02:00"),
        ]
    );
    assert_eq!(
        effective.adjustments,
        vec![
            gap(Edge::End, "2018-11-04 00:00", "2018-11-04 01:00"),
            gap(Edge::Start, "2018-11-04 00:00", "2018-11-04 01:00"),
        ]
    );
    // Back-to-back occurrences are one stretch of access for next_change_after.
    assert_eq!(
        effective.next_change_after(utc("2018-11-01 00:00")),
        Some(utc("2018-11-02 03:00"))
    );
    for at in [
        "2018-11-02 03:00",
        "2018-11-03 03:00",
        "2018-11-04 12:00",
        "2018-11-05 02:00",
    ] {
        assert_eq!(
            effective.next_change_after(utc(at)),
            Some(utc("2018-11-06 02:00")),
            "{at}"
        );
    }
    assert_eq!(effective.next_change_after(utc("2018-11-06 02:00")), None);
}

#[test]
fn back_to_back_whole_days_merge_until_a_day_is_missing() {
    // Monday to Wednesday and Friday, whole days, in UTC.
    let effective = compile(
        &weekly("mon-wed,fri", "00:00", "00:00", "2027-01-04", "2027-01-17"),
        &lock("UTC"),
    );
    let mut walk = Vec::new();
    let mut at = utc("2027-01-01 00:00");
    while let Some(next) = effective.next_change_after(at) {
        walk.push(next);
        at = next;
    }
    assert_eq!(
        walk,
        [
            "2027-01-04 00:00",
            "2027-01-07 00:00",
            "2027-01-08 00:00",
            "2027-01-09 00:00",
            "2027-01-11 00:00",
            "2027-01-14 00:00",
            "2027-01-15 00:00",
            "2027-01-16 00:00",
        ]
        .map(utc)
    );
}

#[test]
fn weekly_rounding_in_local_time() {
    let lock = lock_in("Europe/Berlin", Granularity::Hour);
    let schedule = weekly("mon", "09:20", "17:40", "2027-01-04", "2027-01-11");
    let effective = compile(&schedule, &lock);
    assert_eq!(
        all_intervals(&effective),
        vec![
            span("2027-01-04 09:00", "2027-01-04 16:00"),
            span("2027-01-11 09:00", "2027-01-11 16:00"),
        ]
    );
    assert_eq!(
        effective.adjustments,
        vec![
            rounded_daily(Edge::Start, Granularity::Hour, "09:20", "10:00", false),
            rounded_daily(Edge::End, Granularity::Hour, "17:40", "17:00", false),
        ]
    );
    let effective = compile_widening(&schedule, &lock);
    assert_eq!(effective.weekly_rule().unwrap().start_time, time("09:00"));
    assert_eq!(effective.weekly_rule().unwrap().duration_seconds, 9 * 3_600);
    assert_eq!(
        effective.adjustments,
        vec![
            rounded_daily(Edge::Start, Granularity::Hour, "09:20", "09:00", false),
            rounded_daily(Edge::End, Granularity::Hour, "17:40", "18:00", false),
        ]
    );
    // Kathmandu: whole local hours.
    let effective = compile(&schedule, &lock_in("Asia/Kathmandu", Granularity::Hour));
    assert_eq!(
        all_intervals(&effective)[0],
        span("2027-01-04 04:15", "2027-01-04 11:15")
    );
    // Empty after rounding.
    let reason = invalid(EffectiveSchedule::compile(
        &weekly("mon", "09:10", "09:50", "2027-01-04", "2027-01-11"),
        &lock,
        CompileOptions::default(),
    ));
    assert!(reason.contains("whole hours"), "{reason}");
}

#[test]
fn weekly_start_rounded_past_midnight_moves_to_the_next_day() {
    // Monday nights 23:30-06:10, hour granularity: the shift becomes Tuesday 00:00-06:00.
    let effective = compile(
        &weekly("mon", "23:30", "06:10", "2027-01-04", "2027-01-11"),
        &lock_in("Europe/Berlin", Granularity::Hour),
    );
    assert_eq!(
        effective.weekly_rule(),
        Some(&WeeklyRule {
            days: [Weekday::Tue].into_iter().collect(),
            start_time: time("00:00"),
            duration_seconds: 6 * 3_600,
            first_date: date("2027-01-05"),
            last_date: date("2027-01-12"),
        })
    );
    assert_eq!(
        effective.adjustments,
        vec![
            rounded_daily(Edge::Start, Granularity::Hour, "23:30", "00:00", true),
            rounded_daily(Edge::End, Granularity::Hour, "06:10", "06:00", false),
        ]
    );
    assert_eq!(
        all_intervals(&effective),
        vec![
            span("2027-01-04 23:00", "2027-01-05 05:00"),
            span("2027-01-11 23:00", "2027-01-12 05:00"),
        ]
    );
}

// ---------------------------------------------------------------------------------
// may_overlap

fn overlaps(a: &Schedule, b: &Schedule, zone: &str) -> bool {
    let lock = lock(zone);
    let (a, b) = (compile(a, &lock), compile(b, &lock));
    let forward = a.may_overlap(&b);
    assert_eq!(forward, b.may_overlap(&a), "may_overlap must be symmetric");
    forward
}

#[test]
fn may_overlap_window_and_window() {
    let base = window("2027-06-05 10:00", "2027-06-05 14:00");
    let z = "Europe/Berlin";
    assert!(overlaps(
        &base,
        &window("2027-06-05 13:59", "2027-06-05 18:00"),
        z
    ));
    assert!(overlaps(
        &base,
        &window("2027-06-05 11:00", "2027-06-05 12:00"),
        z
    ));
    assert!(overlaps(
        &base,
        &window("2027-06-01 00:00", "2027-06-30 00:00"),
        z
    ));
    assert!(overlaps(&base, &base, z));
    // Touching edges: half-open intervals do not overlap.
    assert!(!overlaps(
        &base,
        &window("2027-06-05 14:00", "2027-06-05 18:00"),
        z
    ));
    assert!(!overlaps(
        &base,
        &window("2027-06-05 06:00", "2027-06-05 10:00"),
        z
    ));
    assert!(!overlaps(
        &base,
        &window("2027-06-06 10:00", "2027-06-06 14:00"),
        z
    ));
    // One-time and expiring codes use their windows.
    let one_time = Schedule::OneTime {
        start: local("2027-06-05 12:00"),
        end: local("2027-06-05 20:00"),
    };
    let expiring = Schedule::ExpiringAfterFirstUse {
        minutes: 30,
        start: local("2027-06-05 14:00"),
        end: local("2027-06-05 20:00"),
    };
    assert!(overlaps(&base, &one_time, z));
    assert!(!overlaps(&base, &expiring, z));
    assert!(overlaps(&one_time, &expiring, z));
}

#[test]
fn may_overlap_weekly_and_window() {
    let z = "America/New_York";
    let office = weekly("mon-fri", "09:00", "17:00", "2027-01-04", "2027-03-26");
    // Tuesday 2027-01-12.
    assert!(overlaps(
        &office,
        &window("2027-01-12 16:00", "2027-01-12 18:00"),
        z
    ));
    assert!(!overlaps(
        &office,
        &window("2027-01-12 17:00", "2027-01-12 20:00"),
        z
    ));
    assert!(!overlaps(
        &office,
        &window("2027-01-12 06:00", "2027-01-12 09:00"),
        z
    ));
    // The weekend of 2027-01-09/10.
    assert!(!overlaps(
        &office,
        &window("2027-01-08 17:00", "2027-01-11 09:00"),
        z
    ));
    assert!(overlaps(
        &office,
        &window("2027-01-08 16:59", "2027-01-11 09:00"),
        z
    ));
    // Before the first date and after the last.
    assert!(!overlaps(
        &office,
        &window("2026-12-28 09:00", "2027-01-04 09:00"),
        z
    ));
    assert!(!overlaps(
        &office,
        &window("2027-03-26 17:00", "2027-12-31 17:00"),
        z
    ));
    assert!(overlaps(
        &office,
        &window("2027-03-26 16:00", "2027-12-31 17:00"),
        z
    ));
}

#[test]
fn may_overlap_weekly_and_weekly() {
    let z = "Europe/Berlin";
    let morning = weekly("mon", "09:00", "12:00", "2027-01-04", "2027-12-27");
    let afternoon = weekly("mon", "12:00", "17:00", "2027-01-04", "2027-12-27");
    let lunch = weekly("mon", "11:00", "13:00", "2027-01-04", "2027-12-27");
    let tuesday = weekly("tue", "09:00", "17:00", "2027-01-04", "2027-12-27");
    let monday_night = weekly("mon", "22:00", "06:00", "2027-01-04", "2027-12-27");
    let tuesday_dawn = weekly("tue", "05:00", "07:00", "2027-01-04", "2027-12-27");
    // Adjacent shifts on the same day share no instant.
    assert!(!overlaps(&morning, &afternoon, z));
    assert!(overlaps(&morning, &lunch, z));
    assert!(overlaps(&afternoon, &lunch, z));
    assert!(!overlaps(&morning, &tuesday, z));
    // A night shift reaches into the next day.
    assert!(overlaps(&monday_night, &tuesday_dawn, z));
    assert!(!overlaps(&monday_night, &tuesday, z));
    // Same times, disjoint date ranges.
    let later_morning = weekly("mon", "09:00", "12:00", "2028-01-03", "2028-06-26");
    assert!(!overlaps(&morning, &later_morning, z));
    // Only one day in common, late in the range.
    let last_monday = weekly("mon-fri", "10:00", "11:00", "2027-12-27", "2028-01-31");
    assert!(overlaps(&morning, &last_monday, z));
}

#[test]
fn may_overlap_permanent() {
    let z = "Pacific/Chatham";
    let permanent = Schedule::Permanent;
    assert!(overlaps(&permanent, &permanent, z));
    assert!(overlaps(
        &permanent,
        &window("2027-06-05 10:00", "2027-06-05 14:00"),
        z
    ));
    assert!(overlaps(
        &permanent,
        &weekly("sat", "09:00", "12:00", "2027-01-04", "2027-01-31"),
        z
    ));
    assert!(overlaps(
        &permanent,
        &window("1970-01-01 13:00", "1970-01-01 14:00"),
        z
    ));
}

// ---------------------------------------------------------------------------------
// Preview

fn zoned(zone: Tz, local_time: &str, offset_seconds: i32, abbreviation: &str) -> ZonedTime {
    ZonedTime {
        zone,
        local: local(local_time),
        utc_offset_seconds: offset_seconds,
        abbreviation: abbreviation.to_owned(),
    }
}

#[test]
fn preview_shows_lock_and_viewer_times() {
    use chrono_tz::{America, Europe};
    // Berlin lock across the spring change, viewer in New York (already on EDT).
    let effective = compile(
        &window("2027-03-27 10:00", "2027-03-29 10:00"),
        &lock("Europe/Berlin"),
    );
    let preview = effective.preview(utc("2027-03-01 00:00"), Some(America::New_York), 5);
    assert_eq!(preview.kind, ScheduleKind::Window);
    assert_eq!(preview.lock_zone, Europe::Berlin);
    assert_eq!(preview.viewer_zone, Some(America::New_York));
    assert!(!preview.more);
    assert_eq!(preview.occurrences.len(), 1);
    let occurrence = &preview.occurrences[0];
    assert_eq!(occurrence.start.instant, utc("2027-03-27 09:00"));
    assert_eq!(
        occurrence.start.lock,
        zoned(Europe::Berlin, "2027-03-27 10:00", 3_600, "CET")
    );
    assert_eq!(
        occurrence.start.viewer,
        Some(zoned(America::New_York, "2027-03-27 05:00", -4 * 3_600, "EDT"))
    );
    assert_eq!(occurrence.end.instant, utc("2027-03-29 08:00"));
    assert_eq!(
        occurrence.end.lock,
        zoned(Europe::Berlin, "2027-03-29 10:00", 7_200, "CEST")
    );
    assert_eq!(
        occurrence.end.viewer,
        Some(zoned(America::New_York, "2027-03-29 04:00", -4 * 3_600, "EDT"))
    );
    assert_eq!(
        occurrence.start.lock.to_string(),
        "Sat 2027-03-27 10:00 CET (UTC+01:00)"
    );
    assert_eq!(
        occurrence.end.viewer.as_ref().unwrap().to_string(),
        "Mon 2027-03-29 04:00 EDT (UTC-04:00)"
    );
    assert_eq!(
        preview.summary,
        "from Sat 2027-03-27 10:00 CET (UTC+01:00) until Mon 2027-03-29 10:00 CEST (UTC+02:00)"
    );
    // No viewer zone: lock times only.
    let preview = effective.preview(utc("2027-03-01 00:00"), None, 5);
    assert_eq!(preview.occurrences[0].start.viewer, None);
    // After the window: nothing left.
    let preview = effective.preview(utc("2027-03-29 08:00"), None, 5);
    assert!(preview.occurrences.is_empty());
}

#[test]
fn preview_offsets_without_abbreviations() {
    use chrono_tz::{America, Asia, Australia, Pacific};
    let effective = compile(
        &window("2027-01-10 09:00", "2027-01-10 17:00"),
        &lock("Asia/Kathmandu"),
    );
    let preview = effective.preview(utc("2027-01-01 00:00"), Some(Pacific::Chatham), 1);
    let start = &preview.occurrences[0].start;
    assert_eq!(
        start.lock,
        zoned(Asia::Kathmandu, "2027-01-10 09:00", 20_700, "+0545")
    );
    assert_eq!(start.lock.utc_offset(), "UTC+05:45");
    assert_eq!(start.lock.to_string(), "Sun 2027-01-10 09:00 (UTC+05:45)");
    // 03:15 UTC is 17:00 at +13:45 in Chatham's summer.
    let viewer = start.viewer.as_ref().unwrap();
    assert_eq!(
        *viewer,
        zoned(Pacific::Chatham, "2027-01-10 17:00", 49_500, "+1345")
    );
    assert_eq!(viewer.to_string(), "Sun 2027-01-10 17:00 (UTC+13:45)");
    assert_eq!(
        preview.summary,
        "from Sun 2027-01-10 09:00 (UTC+05:45) until Sun 2027-01-10 17:00 (UTC+05:45)"
    );
    // Lord Howe and Sao Paulo viewers: half-hour and negative offsets.
    let preview = effective.preview(utc("2027-01-01 00:00"), Some(Australia::Lord_Howe), 1);
    assert_eq!(
        preview.occurrences[0].start.viewer,
        Some(zoned(Australia::Lord_Howe, "2027-01-10 14:15", 39_600, "+11"))
    );
    let winter = compile(&window("2027-07-10 09:00", "2027-07-10 17:00"), &lock("UTC"));
    let preview = winter.preview(utc("2027-01-01 00:00"), Some(Australia::Lord_Howe), 1);
    let viewer = preview.occurrences[0].start.viewer.clone().unwrap();
    assert_eq!(
        viewer,
        zoned(Australia::Lord_Howe, "2027-07-10 19:30", 37_800, "+1030")
    );
    assert_eq!(viewer.utc_offset(), "UTC+10:30");
    assert_eq!(
        preview.occurrences[0].start.lock.to_string(),
        "Sat 2027-07-10 09:00 UTC (UTC+00:00)"
    );
    let sao_paulo = compile(
        &window("2018-12-01 09:00", "2018-12-01 17:00"),
        &lock("America/Sao_Paulo"),
    );
    let preview = sao_paulo.preview(utc("2018-01-01 00:00"), Some(America::Sao_Paulo), 1);
    let start = &preview.occurrences[0].start;
    assert_eq!(
        start.lock,
        zoned(America::Sao_Paulo, "2018-12-01 09:00", -7_200, "-02")
    );
    assert_eq!(start.lock.to_string(), "Sat 2018-12-01 09:00 (UTC-02:00)");
}

#[test]
fn preview_of_weekly_lists_the_next_occurrences() {
    use chrono_tz::Europe;
    let effective = compile(
        &weekly("daily", "02:30", "06:00", "2027-03-26", "2027-03-30"),
        &lock("Europe/Berlin"),
    );
    let preview = effective.preview(utc("2027-03-27 03:00"), None, 2);
    assert!(preview.more);
    assert_eq!(preview.occurrences.len(), 2);
    // The running occurrence first, then the one moved by the gap.
    assert_eq!(
        preview.occurrences[0].start.lock,
        zoned(Europe::Berlin, "2027-03-27 02:30", 3_600, "CET")
    );
    assert_eq!(
        preview.occurrences[1].start.lock,
        zoned(Europe::Berlin, "2027-03-28 03:30", 7_200, "CEST")
    );
    assert_eq!(
        preview.occurrences[1].end.lock,
        zoned(Europe::Berlin, "2027-03-28 06:00", 7_200, "CEST")
    );
    assert_eq!(preview.adjustments, effective.adjustments);
    assert_eq!(
        preview.summary,
        "every day 02:30-06:00 (Europe/Berlin), 2027-03-26 to 2027-03-30"
    );
    let preview = effective.preview(utc("2027-03-27 03:00"), None, 4);
    assert!(!preview.more);
    assert_eq!(preview.occurrences.len(), 4);
}

#[test]
fn preview_of_permanent_one_time_and_expiring() {
    let lock = lock("Europe/Berlin");
    let preview = compile(&Schedule::Permanent, &lock).preview(utc("2027-01-01 00:00"), None, 3);
    assert!(preview.occurrences.is_empty());
    assert!(!preview.more);
    assert_eq!(preview.summary, "always, until revoked");

    let one_time = Schedule::OneTime {
        start: local("2027-07-01 09:00"),
        end: local("2027-07-01 12:00"),
    };
    let preview = compile(&one_time, &lock).preview(utc("2027-01-01 00:00"), None, 3);
    assert_eq!(preview.kind, ScheduleKind::OneTime);
    assert_eq!(
        preview.summary,
        "one entry between Thu 2027-07-01 09:00 CEST (UTC+02:00) and Thu 2027-07-01 12:00 CEST (UTC+02:00)"
    );
    let expiring = Schedule::ExpiringAfterFirstUse {
        minutes: 90,
        start: local("2027-07-01 09:00"),
        end: local("2027-07-03 12:00"),
    };
    let preview = compile(&expiring, &lock).preview(utc("2027-01-01 00:00"), None, 3);
    assert_eq!(preview.first_use_minutes, Some(90));
    assert_eq!(
        preview.summary,
        "for 1 h 30 min after the first entry, which must be between \
         Thu 2027-07-01 09:00 CEST (UTC+02:00) and Sat 2027-07-03 12:00 CEST (UTC+02:00)"
    );
    assert_eq!(preview.occurrences.len(), 1);
}

#[test]
fn preview_lists_the_compilers_adjustments() {
    let lock = lock_in("Europe/Berlin", Granularity::Hour);
    let effective = compile(&window("2027-07-01 09:20", "2027-07-01 17:00"), &lock);
    let preview = effective.preview(utc("2027-01-01 00:00"), None, 1);
    assert_eq!(
        preview.adjustments,
        vec![rounded(
            Edge::Start,
            Granularity::Hour,
            "2027-07-01 09:20",
            "2027-07-01 10:00"
        )]
    );
    assert_eq!(
        preview.adjustments[0].to_string(),
        "start rounded from 2027-07-01 09:20 to 2027-07-01 10:00 (the lock keeps whole hours)"
    );
}
