//! PIN rules: owner-chosen PINs get the exact error for what is wrong with them;
//! generated PINs honour every rule, avoid every taken PIN, and are uniform over
//! exactly the PINs the rules accept.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]

use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use tessera_model::{
    CodeId, Error, Keypad, LockCapabilities, Pin, PinConstraint, PinLengths, PinRules, TakenPin, WeakPinRule,
};

fn pin(digits: &str) -> Pin {
    Pin::parse(digits).unwrap()
}

fn caps() -> LockCapabilities {
    LockCapabilities::default()
}

fn with_constraints(constraints: Vec<PinConstraint>) -> LockCapabilities {
    LockCapabilities {
        constraints,
        ..LockCapabilities::default()
    }
}

fn check(
    capabilities: &LockCapabilities,
    taken: &[(CodeId, Pin)],
    digits: &str,
) -> tessera_model::Result<()> {
    let taken = taken.iter().map(|(code, pin)| TakenPin { code: *code, pin });
    PinRules::new(capabilities, taken).check(&pin(digits))
}

fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

// ---------------------------------------------------------------------------------
// Owner-chosen PINs: each error, exactly

#[test]
fn parse_refuses_what_is_not_a_pin() {
    let cases = [
        ("", "it is empty"),
        ("12a4", "it must contain digits only"),
        (" 1234", "it must contain digits only"),
        ("1234 ", "it must contain digits only"),
        ("12.4", "it must contain digits only"),
        ("-123", "it must contain digits only"),
        ("+123", "it must contain digits only"),
        ("١٢٣٤", "it must contain digits only"),
        ("１２３４", "it must contain digits only"),
        ("1234567890123", "it is longer than 12 digits"),
    ];
    for (input, reason) in cases {
        match Pin::parse(input) {
            Err(Error::InvalidPin { reason: got }) => assert_eq!(got, reason, "{input:?}"),
            Err(other) => panic!("{input:?}: {other:?}"),
            Ok(_) => panic!("{input:?} parsed"),
        }
    }
    assert_eq!(pin("123456789012").len(), 12);
}

#[test]
fn parse_keeps_leading_zeros() {
    let p = pin("0042");
    assert_eq!(p.expose(), "0042");
    assert_eq!(p.len(), 4);
    assert_eq!(format!("{p:?}"), "Pin(<4 digits>)");
}

#[test]
fn pins_of_the_wrong_length() {
    let capabilities = caps();
    assert_eq!(
        check(&capabilities, &[], "493"),
        Err(Error::PinLength {
            length: 3,
            min: 4,
            max: 8
        })
    );
    assert_eq!(
        check(&capabilities, &[], "493817205"),
        Err(Error::PinLength {
            length: 9,
            min: 4,
            max: 8
        })
    );
    let rules = PinRules::new(&capabilities, []);
    for length in [0, 3, 9, 12, 13, 255] {
        assert_eq!(
            rules.generate(length, &mut rng(1)).map(|p| p.len()),
            Err(Error::PinLength {
                length: length.into(),
                min: 4,
                max: 8
            })
        );
    }
    // The length is checked before anything else.
    assert!(matches!(
        check(&capabilities, &[], "111"),
        Err(Error::PinLength { .. })
    ));
}

#[test]
fn unvalidated_lengths_beyond_twelve_digits_are_refused_not_a_panic() {
    // Regression: capabilities are plain data; `generate(13)` used to index past the
    // 12-digit buffer when a lock claimed to take up to 20 digits.
    let capabilities = LockCapabilities {
        pin_lengths: PinLengths { min: 4, max: 20 },
        ..LockCapabilities::default()
    };
    let rules = PinRules::new(&capabilities, []);
    assert_eq!(
        rules.generate(13, &mut rng(1)).map(|p| p.len()),
        Err(Error::PinLength {
            length: 13,
            min: 4,
            max: 20
        })
    );
    assert_eq!(rules.generate(12, &mut rng(1)).map(|p| p.len()), Ok(12));
}

#[test]
fn weak_pins_name_the_rule_they_break() {
    use WeakPinRule::*;
    let capabilities = LockCapabilities {
        pin_lengths: PinLengths { min: 3, max: 12 },
        ..LockCapabilities::default()
    };
    let cases = [
        ("1111", SameDigit),
        ("7777", SameDigit),
        ("000000", SameDigit),
        ("3456", Sequence),
        ("7890", Sequence),
        ("8901", Sequence),
        ("0987", Sequence),
        ("6543", Sequence),
        ("23456789", Sequence),
        ("3737", RepeatedBlock),
        ("294294", RepeatedBlock),
        ("121212", RepeatedBlock),
        ("667788", RepeatedBlock),
        ("111222", RepeatedBlock),
        ("1987", Year),
        ("1900", Year),
        ("2039", Year),
        ("0412", Date),
        ("3112", Date),
        ("1231", Date),
        ("241287", Date),
        ("122587", Date),
        ("871224", Date),
        ("19870412", Date),
        ("24121987", Date),
        ("12251999", Date),
        ("2580", KeypadPattern),
        ("0852", KeypadPattern),
        ("1379", KeypadPattern),
        ("1397", KeypadPattern),
        ("2468", KeypadPattern),
        ("8642", KeypadPattern),
        ("1357", KeypadPattern),
        ("159", KeypadPattern),
        ("357", KeypadPattern),
        ("147258", KeypadPattern),
        ("159357", KeypadPattern),
        ("5150", CommonPin),
        ("1337", CommonPin),
        ("8008", CommonPin),
        ("1470", CommonPin),
        ("3690", CommonPin),
    ];
    for (digits, rule) in cases {
        assert_eq!(
            check(&capabilities, &[], digits),
            Err(Error::WeakPin { rule }),
            "{digits}"
        );
    }
    // Ordinary PINs pass, including ones that look a little like the rules.
    for digits in [
        "4937", "8362", "5804", "2040", "1899", "3299", "937164", "93716482", "0583",
    ] {
        assert_eq!(check(&capabilities, &[], digits), Ok(()), "{digits}");
    }
}

#[test]
fn each_keypad_constraint_is_named() {
    let cases = [
        (PinConstraint::NoZeros, "4903", "4937"),
        (
            PinConstraint::CannotStartWith {
                prefix: "49".to_owned(),
            },
            "4937",
            "9437",
        ),
        (PinConstraint::NoSequentialRun { length: 3 }, "4569", "4593"),
        (PinConstraint::NoSequentialRun { length: 3 }, "8764", "8746"),
        (PinConstraint::NoTripleRepeat, "4447", "4474"),
        (PinConstraint::MinDistinctDigits { count: 4 }, "4947", "4937"),
    ];
    for (constraint, refused, accepted) in cases {
        let capabilities = with_constraints(vec![constraint.clone()]);
        assert_eq!(
            check(&capabilities, &[], refused),
            Err(Error::ConstraintViolated {
                constraint: constraint.clone()
            }),
            "{refused}"
        );
        assert_eq!(check(&capabilities, &[], accepted), Ok(()), "{accepted}");
    }
    // A forbidden prefix longer than the PIN does not apply.
    let capabilities = with_constraints(vec![PinConstraint::CannotStartWith {
        prefix: "49371".to_owned(),
    }]);
    assert_eq!(check(&capabilities, &[], "4937"), Ok(()));
    // Constraints come before weak-PIN rules, and the first one broken is named.
    let capabilities = with_constraints(vec![
        PinConstraint::MinDistinctDigits { count: 3 },
        PinConstraint::NoZeros,
    ]);
    assert_eq!(
        check(&capabilities, &[], "0000"),
        Err(Error::ConstraintViolated {
            constraint: PinConstraint::MinDistinctDigits { count: 3 }
        })
    );
    assert_eq!(
        check(&capabilities, &[], "1230"),
        Err(Error::ConstraintViolated {
            constraint: PinConstraint::NoZeros
        })
    );
}

#[test]
fn unvalidated_constraints_do_not_panic() {
    // Regression: `NoSequentialRun { length: 0 }` panicked in `windows(0)`, and a
    // non-digit forbidden prefix overflowed a subtraction.
    let capabilities = with_constraints(vec![PinConstraint::NoSequentialRun { length: 0 }]);
    assert!(matches!(
        check(&capabilities, &[], "4937"),
        Err(Error::ConstraintViolated { .. })
    ));
    let capabilities = with_constraints(vec![PinConstraint::CannotStartWith {
        prefix: " 4".to_owned(),
    }]);
    assert_eq!(check(&capabilities, &[], "4937"), Ok(()));
}

#[test]
fn clashes_with_codes_active_at_the_same_time() {
    let capabilities = caps();
    let (a, b) = (CodeId::new(), CodeId::new());
    let conflict = |code| Err(Error::PinConflict { other_code: code });
    // Equal.
    assert_eq!(check(&capabilities, &[(a, pin("4937"))], "4937"), conflict(a));
    // Prefix, both ways.
    assert_eq!(check(&capabilities, &[(a, pin("493781"))], "4937"), conflict(a));
    assert_eq!(check(&capabilities, &[(a, pin("4937"))], "493781"), conflict(a));
    // Suffix, both ways.
    assert_eq!(check(&capabilities, &[(a, pin("814937"))], "4937"), conflict(a));
    assert_eq!(check(&capabilities, &[(a, pin("4937"))], "814937"), conflict(a));
    // Inside, but neither prefix nor suffix: fine.
    assert_eq!(check(&capabilities, &[(a, pin("84937162"))], "4937"), Ok(()));
    assert_eq!(check(&capabilities, &[(a, pin("9374"))], "4937"), Ok(()));
    // The clashing code is the one named.
    assert_eq!(
        check(&capabilities, &[(a, pin("8362")), (b, pin("493700"))], "4937"),
        conflict(b)
    );
    assert_eq!(
        check(&capabilities, &[(a, pin("8362")), (b, pin("5804"))], "4937"),
        Ok(())
    );
}

#[test]
fn leading_zeros_count() {
    let capabilities = caps();
    let a = CodeId::new();
    // As numbers 0583 and 583 would be equal and 583 a prefix of 58390; as PINs only
    // the suffix clash is real.
    assert_eq!(
        check(&capabilities, &[(a, pin("583"))], "0583"),
        Err(Error::PinConflict { other_code: a })
    );
    assert_eq!(
        check(&capabilities, &[(a, pin("05839"))], "0583"),
        Err(Error::PinConflict { other_code: a })
    );
    assert_eq!(check(&capabilities, &[(a, pin("58390"))], "0583"), Ok(()));
    assert_eq!(check(&capabilities, &[(a, pin("5830"))], "0583"), Ok(()));
}

#[test]
fn two_digits_per_button_compares_presses() {
    let two = LockCapabilities {
        keypad: Keypad::TwoDigitsPerButton,
        ..LockCapabilities::default()
    };
    let one = caps();
    let a = CodeId::new();
    // 1357 and 2468 are the same presses on a 1|2 3|4 5|6 7|8 9|0 keypad.
    let presses = |digits: &str| -> Vec<u8> {
        digits
            .bytes()
            .map(|b| Keypad::TwoDigitsPerButton.button(b - b'0'))
            .collect()
    };
    assert_eq!(presses("1357"), presses("2468"));
    assert_eq!(presses("0"), presses("9"));
    // Both are weak, so the clash is shown with a longer PIN that starts with those presses.
    let clash = Err(Error::PinConflict { other_code: a });
    assert_eq!(check(&two, &[(a, pin("2468"))], "13579"), clash);
    assert_eq!(check(&one, &[(a, pin("2468"))], "13579"), Ok(()));
    assert_eq!(check(&two, &[(a, pin("1357"))], "24680"), clash);
    assert_eq!(check(&one, &[(a, pin("1357"))], "24680"), Ok(()));
    // Equal presses: 5173 vs 6284; 5190 vs 6209 (9 and 0 share a button).
    assert_eq!(check(&two, &[(a, pin("6284"))], "5173"), clash);
    assert_eq!(check(&one, &[(a, pin("6284"))], "5173"), Ok(()));
    assert_eq!(check(&two, &[(a, pin("6209"))], "5190"), clash);
    assert_eq!(check(&one, &[(a, pin("6209"))], "5190"), Ok(()));
    // Suffix after mapping.
    assert_eq!(check(&two, &[(a, pin("84"))], "5173"), clash);
    assert_eq!(check(&one, &[(a, pin("84"))], "5173"), Ok(()));
}

// ---------------------------------------------------------------------------------
// Generated PINs

/// Independent re-check of the constraints on digit values.
fn satisfies(constraint: &PinConstraint, digits: &[u8]) -> bool {
    match constraint {
        PinConstraint::NoZeros => !digits.contains(&0),
        PinConstraint::CannotStartWith { prefix } => {
            let prefix: Vec<u8> = prefix.bytes().map(|b| b - b'0').collect();
            !digits.starts_with(&prefix)
        }
        PinConstraint::NoSequentialRun { length } => {
            let run = usize::from(*length);
            !(0..digits.len()).any(|i| {
                digits.len() - i >= run
                    && ([1i8, -1]
                        .iter()
                        .any(|step| (1..run).all(|k| digits[i + k] as i8 - digits[i + k - 1] as i8 == *step)))
            })
        }
        PinConstraint::NoTripleRepeat => {
            !(2..digits.len()).any(|i| digits[i] == digits[i - 1] && digits[i] == digits[i - 2])
        }
        PinConstraint::MinDistinctDigits { count } => {
            let mut seen = [false; 10];
            digits.iter().for_each(|d| seen[usize::from(*d)] = true);
            seen.iter().filter(|s| **s).count() >= usize::from(*count)
        }
    }
}

/// Independent clash check: same presses, or one a prefix or suffix of the other.
fn clashes(keypad: Keypad, a: &str, b: &str) -> bool {
    let presses = |s: &str| -> Vec<u8> { s.bytes().map(|d| keypad.button(d - b'0')).collect() };
    let (a, b) = (presses(a), presses(b));
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    long.starts_with(&short) || long.ends_with(&short)
}

fn digits_of(pin: &Pin) -> Vec<u8> {
    pin.expose().bytes().map(|b| b - b'0').collect()
}

#[test]
fn generated_pins_honour_lengths_constraints_and_taken_pins() {
    let constraints = vec![
        PinConstraint::NoZeros,
        PinConstraint::CannotStartWith {
            prefix: "9".to_owned(),
        },
        PinConstraint::NoSequentialRun { length: 3 },
        PinConstraint::NoTripleRepeat,
        PinConstraint::MinDistinctDigits { count: 3 },
    ];
    for keypad in [Keypad::OneDigitPerButton, Keypad::TwoDigitsPerButton] {
        let capabilities = LockCapabilities {
            constraints: constraints.clone(),
            keypad,
            ..LockCapabilities::default()
        };
        let taken_pins = ["48", "5", "37261", "7364", "826154"].map(pin);
        let codes: Vec<CodeId> = taken_pins.iter().map(|_| CodeId::new()).collect();
        let rules = PinRules::new(
            &capabilities,
            codes
                .iter()
                .zip(&taken_pins)
                .map(|(code, pin)| TakenPin { code: *code, pin }),
        );
        let mut rng = rng(7);
        for length in 4..=8u8 {
            for _ in 0..200 {
                let generated = rules.generate(length, &mut rng).unwrap();
                assert_eq!(generated.len(), usize::from(length));
                assert!(generated.expose().bytes().all(|b| b.is_ascii_digit()));
                assert_eq!(rules.check(&generated), Ok(()));
                let digits = digits_of(&generated);
                for constraint in &constraints {
                    assert!(satisfies(constraint, &digits), "{constraint:?}");
                }
                for taken in &taken_pins {
                    assert!(!clashes(keypad, generated.expose(), taken.expose()));
                }
            }
        }
    }
}

#[test]
fn generated_pins_keep_leading_zeros() {
    let capabilities = caps();
    let rules = PinRules::new(&capabilities, []);
    let mut rng = rng(11);
    let pins: Vec<Pin> = (0..400).map(|_| rules.generate(6, &mut rng).unwrap()).collect();
    assert!(pins.iter().all(|p| p.len() == 6));
    // About a tenth start with a zero (P(none of 400) ~ 5e-19).
    let leading_zero = pins.iter().filter(|p| p.expose().starts_with('0')).count();
    assert!((10..80).contains(&leading_zero), "{leading_zero}");
}

#[test]
fn no_pin_available_when_nothing_fits() {
    let mut rng = rng(3);
    // Four digits cannot hold five different ones.
    let capabilities = with_constraints(vec![PinConstraint::MinDistinctDigits { count: 5 }]);
    assert_eq!(
        PinRules::new(&capabilities, [])
            .generate(4, &mut rng)
            .map(|p| p.len()),
        Err(Error::NoPinAvailable { length: 4 })
    );
    // No zeros, and no first digit 1-9 either.
    let mut constraints = vec![PinConstraint::NoZeros];
    constraints.extend((1..=9).map(|d| PinConstraint::CannotStartWith {
        prefix: d.to_string(),
    }));
    let capabilities = with_constraints(constraints);
    for length in [4, 5, 8] {
        assert_eq!(
            PinRules::new(&capabilities, [])
                .generate(length, &mut rng)
                .map(|p| p.len()),
            Err(Error::NoPinAvailable { length })
        );
    }
    // Every one-digit PIN is taken: each new PIN would start with one of them.
    let capabilities = caps();
    let taken_pins: Vec<Pin> = (0..10).map(|d| pin(&d.to_string())).collect();
    let codes: Vec<CodeId> = taken_pins.iter().map(|_| CodeId::new()).collect();
    let rules = PinRules::new(
        &capabilities,
        codes
            .iter()
            .zip(&taken_pins)
            .map(|(code, pin)| TakenPin { code: *code, pin }),
    );
    assert_eq!(
        rules.generate(4, &mut rng).map(|p| p.len()),
        Err(Error::NoPinAvailable { length: 4 })
    );
}

#[test]
fn a_single_remaining_pin_is_found() {
    // Forbid every start but 9998 (9999 is weak): random draws almost never hit it, so
    // the generator must fall back to enumerating the space.
    let mut constraints: Vec<PinConstraint> = Vec::new();
    let forbid = |prefix: String| PinConstraint::CannotStartWith { prefix };
    constraints.extend((0..=8).map(|d| forbid(format!("{d}"))));
    constraints.extend((0..=8).map(|d| forbid(format!("9{d}"))));
    constraints.extend((0..=8).map(|d| forbid(format!("99{d}"))));
    constraints.extend((0..=7).map(|d| forbid(format!("999{d}"))));
    let capabilities = with_constraints(constraints);
    let rules = PinRules::new(&capabilities, []);
    let accepted: Vec<u32> = (0..10_000)
        .filter(|n| rules.check(&pin(&format!("{n:04}"))).is_ok())
        .collect();
    assert_eq!(accepted, vec![9998]);
    for seed in 0..10 {
        assert_eq!(rules.generate(4, &mut rng(seed)).unwrap().expose(), "9998");
    }
}

#[test]
fn capacity_is_checked() {
    let capabilities = caps();
    assert_eq!(capabilities.max_codes, 250);
    assert_eq!(capabilities.check_capacity(0), Ok(()));
    assert_eq!(capabilities.check_capacity(249), Ok(()));
    assert_eq!(
        capabilities.check_capacity(250),
        Err(Error::CapacityExceeded { max: 250 })
    );
    assert_eq!(
        capabilities.check_capacity(10_000),
        Err(Error::CapacityExceeded { max: 250 })
    );
    let one = LockCapabilities {
        max_codes: 1,
        ..LockCapabilities::default()
    };
    assert_eq!(one.check_capacity(0), Ok(()));
    assert_eq!(one.check_capacity(1), Err(Error::CapacityExceeded { max: 1 }));
}

// ---------------------------------------------------------------------------------
// Uniformity

/// Upper critical value of the chi-square distribution with `df` degrees of freedom at
/// `alpha` = 0.001, by the Wilson-Hilferty approximation.
fn chi_square_critical_0_001(df: f64) -> f64 {
    const Z: f64 = 3.090_232_306; // standard normal quantile at 0.999
    let a = 2.0 / (9.0 * df);
    df * (1.0 - a + Z * a.sqrt()).powi(3)
}

#[test]
fn wilson_hilferty_matches_known_critical_values() {
    // Exact: chi2(0.999; 10) = 29.588, (100) = 149.449, (1000) = 1143.917.
    assert!((chi_square_critical_0_001(10.0) - 29.588).abs() < 0.3);
    assert!((chi_square_critical_0_001(100.0) - 149.449).abs() < 0.2);
    assert!((chi_square_critical_0_001(1000.0) - 1143.917).abs() < 0.5);
}

#[test]
fn generated_pins_are_uniform_over_the_accepted_set() {
    let capabilities = caps();
    let taken_pins = ["4937", "049", "83620", "7"].map(pin);
    let codes: Vec<CodeId> = taken_pins.iter().map(|_| CodeId::new()).collect();
    let rules = PinRules::new(
        &capabilities,
        codes
            .iter()
            .zip(&taken_pins)
            .map(|(code, pin)| TakenPin { code: *code, pin }),
    );
    let accepted: Vec<bool> = (0..10_000)
        .map(|n| rules.check(&pin(&format!("{n:04}"))).is_ok())
        .collect();
    let cells = accepted.iter().filter(|a| **a).count();
    // 10,000 minus weak PINs, minus those starting or ending in 7 (or with 049, 4937, 8362).
    assert!((4_000..8_000).contains(&cells), "{cells} accepted");
    assert!(!accepted[4937] && !accepted[490] && !accepted[1049] && !accepted[8362] && !accepted[7123]);

    let expected_per_cell = 20.0;
    let draws = (cells as f64 * expected_per_cell).ceil() as usize;
    let mut counts = vec![0u32; 10_000];
    let mut rng = rng(0x07e5_5e7a);
    for _ in 0..draws {
        let generated = rules.generate(4, &mut rng).unwrap();
        let n: usize = generated.expose().parse().unwrap();
        counts[n] += 1;
    }
    for (n, count) in counts.iter().enumerate() {
        assert!(
            accepted[n] || *count == 0,
            "rejected PIN {n:04} was generated {count} times"
        );
    }
    let expected = draws as f64 / cells as f64;
    assert!(expected >= 20.0);
    let statistic: f64 = counts
        .iter()
        .zip(&accepted)
        .filter(|(_, a)| **a)
        .map(|(o, _)| (f64::from(*o) - expected).powi(2) / expected)
        .sum();
    let critical = chi_square_critical_0_001((cells - 1) as f64);
    println!("chi-square {statistic:.1}, {cells} cells, {draws} draws, critical {critical:.1} (alpha 0.001)");
    assert!(
        statistic < critical,
        "chi-square {statistic:.1} over {cells} cells exceeds {critical:.1}"
    );
    // And not suspiciously perfect (a generator cycling through the set would be).
    let lower = (cells - 1) as f64 - 5.0 * (2.0 * (cells - 1) as f64).sqrt();
    assert!(
        statistic > lower,
        "chi-square {statistic:.1} is implausibly small"
    );
}

// ---------------------------------------------------------------------------------
// Property: whatever the rules and taken PINs, a generated PIN passes them

fn constraint() -> impl Strategy<Value = PinConstraint> {
    prop_oneof![
        Just(PinConstraint::NoZeros),
        "[0-9]{1,2}".prop_map(|prefix| PinConstraint::CannotStartWith { prefix }),
        (2u8..=5).prop_map(|length| PinConstraint::NoSequentialRun { length }),
        Just(PinConstraint::NoTripleRepeat),
        (1u8..=6).prop_map(|count| PinConstraint::MinDistinctDigits { count }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn generated_pins_pass_check_and_never_clash(
        constraints in prop::collection::vec(constraint(), 0..3),
        two_digit_keypad in any::<bool>(),
        min in 4u8..=6,
        extra in 0u8..=2,
        taken in prop::collection::vec("[0-9]{2,8}", 0..40),
        length_pick in any::<prop::sample::Index>(),
        seed in any::<u64>(),
    ) {
        let keypad = if two_digit_keypad { Keypad::TwoDigitsPerButton } else { Keypad::OneDigitPerButton };
        let capabilities = LockCapabilities {
            pin_lengths: PinLengths { min, max: min + extra },
            constraints: constraints.clone(),
            keypad,
            ..LockCapabilities::default()
        };
        let taken_pins: Vec<Pin> = taken.iter().map(|d| pin(d)).collect();
        let codes: Vec<CodeId> = taken_pins.iter().map(|_| CodeId::new()).collect();
        let rules = PinRules::new(
            &capabilities,
            codes.iter().zip(&taken_pins).map(|(code, pin)| TakenPin { code: *code, pin }),
        );
        let length = min + length_pick.index(usize::from(extra) + 1) as u8;
        let mut rng = StdRng::seed_from_u64(seed);
        match rules.generate(length, &mut rng) {
            Ok(generated) => {
                prop_assert_eq!(generated.len(), usize::from(length));
                prop_assert_eq!(rules.check(&generated), Ok(()));
                let digits = digits_of(&generated);
                for constraint in &constraints {
                    prop_assert!(satisfies(constraint, &digits), "{:?}", constraint);
                }
                for taken in &taken_pins {
                    prop_assert!(!clashes(keypad, generated.expose(), taken.expose()), "clashes with a taken PIN");
                }
            }
            Err(error) => {
                prop_assert_eq!(&error, &Error::NoPinAvailable { length });
                if length == 4 {
                    let any = (0..10_000).any(|n| rules.check(&pin(&format!("{n:04}"))).is_ok());
                    prop_assert!(!any, "a PIN was available");
                }
            }
        }
    }
}
