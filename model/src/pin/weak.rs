//! Weak-PIN rules: PINs a thief would try first. They apply to generated and
//! owner-chosen codes alike. Sources and figures: shared/notes/security.md.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a PIN is considered easy to guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum WeakPinRule {
    /// `1111`
    SameDigit,
    /// `1234`, `7890`, `0987` (wrapping past 9 to 0 counts).
    Sequence,
    /// `1212`, `123123`, `112233`.
    RepeatedBlock,
    /// `1987`: years 1900-2039.
    Year,
    /// `0412`, `1204`, `120487`, `19870412`.
    Date,
    /// `2580`, `1379`, `147258`: lines and shapes on a phone-style keypad.
    KeypadPattern,
    /// On the published lists of most-used PINs.
    CommonPin,
}

impl fmt::Display for WeakPinRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WeakPinRule::SameDigit => "all digits are the same",
            WeakPinRule::Sequence => "the digits count up or down in sequence",
            WeakPinRule::RepeatedBlock => "it repeats a block of digits",
            WeakPinRule::Year => "it looks like a year",
            WeakPinRule::Date => "it looks like a date",
            WeakPinRule::KeypadPattern => "it traces a line or shape on the keypad",
            WeakPinRule::CommonPin => "it is one of the most commonly used PINs",
        })
    }
}

/// A weak-PIN rule and the test of whether digits break it.
type Rule = (WeakPinRule, fn(&[u8]) -> bool);

/// The first weak-PIN rule `digits` (values 0-9) breaks, if any.
pub fn weakness(digits: &[u8]) -> Option<WeakPinRule> {
    let rules: [Rule; 7] = [
        (WeakPinRule::SameDigit, same_digit),
        (WeakPinRule::Sequence, sequence),
        (WeakPinRule::RepeatedBlock, repeated_block),
        (WeakPinRule::Year, year),
        (WeakPinRule::Date, date),
        (WeakPinRule::KeypadPattern, keypad_pattern),
        (WeakPinRule::CommonPin, common),
    ];
    rules
        .into_iter()
        .find_map(|(rule, breaks)| breaks(digits).then_some(rule))
}

fn same_digit(d: &[u8]) -> bool {
    d.windows(2).all(|w| w[0] == w[1])
}

fn sequence(d: &[u8]) -> bool {
    let step_is = |step: u8| d.windows(2).all(|w| (w[0] + step) % 10 == w[1]);
    d.len() >= 3 && (step_is(1) || step_is(9))
}

fn repeated_block(d: &[u8]) -> bool {
    let n = d.len();
    // A block repeated: 1212, 123123.
    let repeats = (2..n)
        .filter(|b| n.is_multiple_of(*b))
        .any(|b| d.chunks(b).all(|c| c == &d[..b]));
    // Each digit stuttered: 1122, 112233, 111222.
    let stutters = (2..n)
        .filter(|k| n.is_multiple_of(*k))
        .any(|k| d.chunks(k).all(|c| c.iter().all(|x| *x == c[0])));
    repeats || stutters
}

fn number(d: &[u8]) -> u32 {
    d.iter().fold(0, |acc, x| acc * 10 + u32::from(*x))
}

fn year(d: &[u8]) -> bool {
    d.len() == 4 && (1900..=2039).contains(&number(d))
}

fn month_day(month: u32, day: u32) -> bool {
    let days = match month {
        2 => 29,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return false,
    };
    (1..=days).contains(&day)
}

fn date(d: &[u8]) -> bool {
    let n = |range: std::ops::Range<usize>| number(&d[range]);
    let full_year = |y: u32| (1900..=2099).contains(&y);
    match d.len() {
        4 => month_day(n(0..2), n(2..4)) || month_day(n(2..4), n(0..2)),
        // DDMMYY, MMDDYY, YYMMDD
        6 => month_day(n(2..4), n(0..2)) || month_day(n(0..2), n(2..4)) || month_day(n(2..4), n(4..6)),
        // DDMMYYYY, MMDDYYYY, YYYYMMDD
        8 => {
            (full_year(n(4..8)) && (month_day(n(2..4), n(0..2)) || month_day(n(0..2), n(2..4))))
                || (full_year(n(0..4)) && month_day(n(4..6), n(6..8)))
        }
        _ => false,
    }
}

/// Grid position of a digit on a phone-style keypad (0 below 8).
fn position(digit: u8) -> (i8, i8) {
    match digit {
        0 => (1, 3),
        d => {
            let i = (d as i8) - 1;
            (i % 3, i / 3)
        }
    }
}

/// A straight walk across the keypad with a constant step: 147, 2580, 159, 753.
fn keypad_line(d: &[u8]) -> bool {
    if d.len() < 3 {
        return false;
    }
    let step = |a: u8, b: u8| {
        let ((ax, ay), (bx, by)) = (position(a), position(b));
        (bx - ax, by - ay)
    };
    let first = step(d[0], d[1]);
    first.0.abs() <= 1
        && first.1.abs() <= 1
        && first != (0, 0)
        && d.windows(2).all(|w| step(w[0], w[1]) == first)
}

fn keypad_pattern(d: &[u8]) -> bool {
    let is_permutation_of = |set: [u8; 4]| {
        let mut sorted = [0u8; 4];
        sorted.copy_from_slice(d);
        sorted.sort_unstable();
        sorted == set
    };
    match d.len() {
        // The four corners (1379, 1397 ...), the four edge midpoints (2468 ...),
        // or the zigzag 1357 (either way).
        4 => {
            keypad_line(d)
                || is_permutation_of([1, 3, 7, 9])
                || is_permutation_of([2, 4, 6, 8])
                || d == [1, 3, 5, 7]
                || d == [7, 5, 3, 1]
        }
        // Two lines of three: 147258, 159357, 147852.
        6 => keypad_line(&d[..3]) && keypad_line(&d[3..]),
        _ => keypad_line(d),
    }
}

const COMMON: &[&[u8]] = &[
    b"1234",
    b"1111",
    b"0000",
    b"1212",
    b"7777",
    b"1004",
    b"2000",
    b"4444",
    b"2222",
    b"6969",
    b"9999",
    b"3333",
    b"5555",
    b"6666",
    b"1122",
    b"1313",
    b"8888",
    b"4321",
    b"2001",
    b"1010",
    b"2580",
    b"5150",
    b"1337",
    b"8008",
    b"0007",
    b"1001",
    b"2112",
    b"0911",
    b"1470",
    b"3690",
    b"123456",
    b"654321",
    b"111111",
    b"000000",
    b"123123",
    b"121212",
    b"112233",
    b"666666",
    b"696969",
    b"159753",
    b"147258",
    b"789456",
    b"123321",
    b"102030",
    b"520520",
    b"131313",
    b"007007",
    b"456789",
    b"987654",
    b"252525",
    b"12345678",
    b"87654321",
    b"11111111",
    b"00000000",
    b"12341234",
    b"11223344",
    b"12121212",
    b"88888888",
    b"69696969",
];

fn common(d: &[u8]) -> bool {
    COMMON
        .iter()
        .any(|pin| pin.len() == d.len() && pin.iter().zip(d).all(|(a, b)| a - b'0' == *b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pin: &str) -> Option<WeakPinRule> {
        let digits: Vec<u8> = pin.bytes().map(|b| b - b'0').collect();
        weakness(&digits)
    }

    #[test]
    fn names_the_rule_each_weak_pin_breaks() {
        use WeakPinRule::*;
        let cases = [
            ("1111", SameDigit),
            ("000000", SameDigit),
            ("1234", Sequence),
            ("7890", Sequence),
            ("8901", Sequence),
            ("0987", Sequence),
            ("654321", Sequence),
            ("1212", RepeatedBlock),
            ("123123", RepeatedBlock),
            ("121212", RepeatedBlock),
            ("112233", RepeatedBlock),
            ("111222", RepeatedBlock),
            ("1987", Year),
            ("2039", Year),
            ("0412", Date),
            ("3112", Date),
            ("241287", Date),
            ("19870412", Date),
            ("2580", KeypadPattern),
            ("0852", KeypadPattern),
            ("1379", KeypadPattern),
            ("1397", KeypadPattern),
            ("2468", KeypadPattern),
            ("1357", KeypadPattern),
            ("7531", KeypadPattern),
            ("147258", KeypadPattern),
            ("159357", KeypadPattern),
            ("5150", CommonPin),
            ("1337", CommonPin),
            ("0007", CommonPin),
        ];
        for (pin, rule) in cases {
            assert_eq!(check(pin), Some(rule), "{pin}");
        }
    }

    #[test]
    fn ordinary_pins_pass() {
        for pin in [
            "4937", "8362", "5804", "937164", "470583", "93716482", "2049", "3299",
        ] {
            assert_eq!(check(pin), None, "{pin}");
        }
    }

    #[test]
    fn refuses_a_fair_share_but_not_most_four_digit_pins() {
        let weak = (0..10_000u32)
            .filter(|n| {
                let digits = [n / 1000, n / 100 % 10, n / 10 % 10, n % 10].map(|d| d as u8);
                weakness(&digits).is_some()
            })
            .count();
        assert!((500..2_000).contains(&weak), "{weak} weak four-digit PINs");
    }
}
