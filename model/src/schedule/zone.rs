//! Wall-clock time to instants, with the "compatible" rule for DST gaps and overlaps
//! (RFC 5545, JavaScript Temporal): a wall time inside a gap moves forward by the
//! length of the gap; a wall time inside an overlap takes the earlier instant.

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// How a wall-clock time became an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resolved {
    /// The wall time exists exactly once.
    Exact(DateTime<Utc>),
    /// The wall time does not exist (clocks jumped over it); `local` is the wall
    /// time of the instant it moved to.
    Gap {
        instant: DateTime<Utc>,
        local: NaiveDateTime,
    },
    /// The wall time exists twice; the earlier instant is taken.
    Overlap {
        earlier: DateTime<Utc>,
        later: DateTime<Utc>,
    },
}

impl Resolved {
    pub(crate) fn instant(self) -> DateTime<Utc> {
        match self {
            Resolved::Exact(instant) | Resolved::Gap { instant, .. } => instant,
            Resolved::Overlap { earlier, .. } => earlier,
        }
    }
}

pub(crate) fn resolve(zone: Tz, local: NaiveDateTime) -> Resolved {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(at) => Resolved::Exact(at.to_utc()),
        LocalResult::Ambiguous(a, b) => {
            let (earlier, later) = if a <= b { (a, b) } else { (b, a) };
            Resolved::Overlap {
                earlier: earlier.to_utc(),
                later: later.to_utc(),
            }
        }
        LocalResult::None => {
            // The offset in force before the gap: gaps are hours long and transitions
            // months apart, so a day earlier is safely before this one.
            let before = zone.offset_from_utc_datetime(&(local - Duration::days(1))).fix();
            let instant = (local - before).and_utc();
            Resolved::Gap {
                instant,
                local: instant.with_timezone(&zone).naive_local(),
            }
        }
    }
}

/// The instant a wall-clock time denotes under the compatible rule.
pub(crate) fn instant(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    resolve(zone, local).instant()
}

/// UTC offset at local noon of `date`, in seconds.
fn noon_offset(zone: Tz, date: NaiveDate) -> i32 {
    let noon = date.and_time(NaiveTime::from_hms_opt(12, 0, 0).unwrap_or_default());
    instant(zone, noon)
        .with_timezone(&zone)
        .offset()
        .fix()
        .local_minus_utc()
}

/// Local dates in `first..=last` whose noon offset differs from the day before:
/// the days on which the zone changed its clocks. Samples weekly, then walks the week.
pub(crate) fn offset_changes(zone: Tz, first: NaiveDate, last: NaiveDate) -> Vec<NaiveDate> {
    let mut changes = Vec::new();
    let Some(mut day) = first.pred_opt() else {
        return changes;
    };
    let mut offset = noon_offset(zone, day);
    while day < last {
        let next = (day + Duration::days(7)).min(last);
        let next_offset = noon_offset(zone, next);
        if next_offset != offset {
            let mut walk = day;
            let mut walk_offset = offset;
            while walk < next {
                walk = walk.succ_opt().unwrap_or(walk);
                let here = noon_offset(zone, walk);
                if here != walk_offset {
                    changes.push(walk);
                    walk_offset = here;
                }
            }
        }
        day = next;
        offset = next_offset;
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        at(s).and_utc()
    }

    #[test]
    fn gap_moves_forward_by_its_length() {
        // Berlin springs forward 2027-03-28 02:00 -> 03:00.
        let r = resolve(chrono_tz::Europe::Berlin, at("2027-03-28 02:30"));
        assert_eq!(
            r,
            Resolved::Gap {
                instant: utc("2027-03-28 01:30"),
                local: at("2027-03-28 03:30")
            }
        );
    }

    #[test]
    fn overlap_takes_the_earlier_instant() {
        // New York falls back 2026-11-01 02:00 -> 01:00.
        let r = resolve(chrono_tz::America::New_York, at("2026-11-01 01:30"));
        assert_eq!(
            r,
            Resolved::Overlap {
                earlier: utc("2026-11-01 05:30"),
                later: utc("2026-11-01 06:30")
            }
        );
    }

    #[test]
    fn half_hour_gap_on_lord_howe() {
        // Lord Howe goes from +10:30 to +11:00 at 02:00 on 2026-10-04.
        let r = resolve(chrono_tz::Australia::Lord_Howe, at("2026-10-04 02:15"));
        assert_eq!(
            r,
            Resolved::Gap {
                instant: utc("2026-10-03 15:45"),
                local: at("2026-10-04 02:45")
            }
        );
    }

    #[test]
    fn finds_the_days_clocks_change() {
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let changes = offset_changes(chrono_tz::Europe::Berlin, d("2027-01-01"), d("2027-12-31"));
        assert_eq!(changes, vec![d("2027-03-28"), d("2027-10-31")]);
        assert!(offset_changes(chrono_tz::Asia::Kathmandu, d("2027-01-01"), d("2027-12-31")).is_empty());
    }
}
