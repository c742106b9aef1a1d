//! A set of weekdays.

use std::fmt;
use std::str::FromStr;

use chrono::Weekday;
use serde::{Deserialize, Serialize};

use crate::Error;

/// A set of weekdays; bit 0 is Monday. Serialized as a list of names.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(into = "Vec<Weekday>", from = "Vec<Weekday>")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(value_type = Vec<String>, example = json!(["Mon", "Thu"])))]
pub struct Weekdays(u8);

impl Weekdays {
    pub const EVERY_DAY: Weekdays = Weekdays(0b111_1111);

    pub fn from_bits(bits: u8) -> Self {
        Weekdays(bits & 0b111_1111)
    }

    pub fn bits(self) -> u8 {
        self.0
    }

    pub fn contains(self, day: Weekday) -> bool {
        self.0 & (1 << day.num_days_from_monday()) != 0
    }

    pub fn insert(&mut self, day: Weekday) {
        self.0 |= 1 << day.num_days_from_monday();
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The set moved one day later (Monday becomes Tuesday, Sunday becomes Monday).
    pub fn next_days(self) -> Self {
        Weekdays(((self.0 << 1) | (self.0 >> 6)) & 0b111_1111)
    }

    pub fn iter(self) -> impl Iterator<Item = Weekday> {
        (0..7u8)
            .filter(move |bit| self.0 & (1 << bit) != 0)
            .filter_map(|bit| Weekday::try_from(bit).ok())
    }
}

impl FromIterator<Weekday> for Weekdays {
    fn from_iter<I: IntoIterator<Item = Weekday>>(days: I) -> Self {
        let mut set = Weekdays::default();
        for day in days {
            set.insert(day);
        }
        set
    }
}

impl From<Vec<Weekday>> for Weekdays {
    fn from(days: Vec<Weekday>) -> Self {
        days.into_iter().collect()
    }
}

impl From<Weekdays> for Vec<Weekday> {
    fn from(days: Weekdays) -> Self {
        days.iter().collect()
    }
}

impl fmt::Debug for Weekdays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl fmt::Display for Weekdays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Weekdays::EVERY_DAY {
            return f.write_str("every day");
        }
        let names: Vec<String> = self.iter().map(|d| d.to_string()).collect();
        f.write_str(&names.join(", "))
    }
}

/// Parses `mon,wed,fri`, ranges such as `mon-fri` (wrapping: `fri-mon`), or `daily`.
impl FromStr for Weekdays {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let day = |name: &str| {
            name.trim()
                .parse::<Weekday>()
                .map_err(|_| Error::schedule(format!("{:?} is not a weekday", crate::excerpt(name.trim()))))
        };
        let mut set = Weekdays::default();
        for part in s.split(',') {
            match part.trim().to_ascii_lowercase().as_str() {
                "daily" | "every day" => set = Weekdays::EVERY_DAY,
                _ => match part.split_once('-') {
                    Some((from, to)) => {
                        let (mut d, to) = (day(from)?, day(to)?);
                        set.insert(d);
                        while d != to {
                            d = d.succ();
                            set.insert(d);
                        }
                    }
                    None => set.insert(day(part)?),
                },
            }
        }
        if set.is_empty() {
            return Err(Error::schedule("no weekdays given"));
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_and_ranges() {
        let set: Weekdays = "mon-wed, sat".parse().unwrap();
        assert_eq!(
            Vec::<Weekday>::from(set),
            vec![Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Sat]
        );
        let wrap: Weekdays = "fri-mon".parse().unwrap();
        assert_eq!(wrap.bits(), 0b111_0001);
        assert_eq!("daily".parse::<Weekdays>().unwrap(), Weekdays::EVERY_DAY);
        assert!(matches!(
            "mon,funday".parse::<Weekdays>(),
            Err(Error::InvalidSchedule { .. })
        ));
    }

    #[test]
    fn shifts_to_the_next_day_with_wrap() {
        let set: Weekdays = "mon,sun".parse().unwrap();
        assert_eq!(
            Vec::<Weekday>::from(set.next_days()),
            vec![Weekday::Mon, Weekday::Tue]
        );
    }
}
