//! Which PINs a lock accepts given its hardware rules and the codes it already holds,
//! and a generator that draws uniformly from exactly that set.

use rand::{CryptoRng, RngExt};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{Pin, weak::weakness};
use crate::lock::{Keypad, LockCapabilities, MAX_PIN_DIGITS, PinConstraint};
use crate::{CodeId, Error, Result};

/// Random draws before the generator concludes the rules leave (almost) nothing.
const DRAWS: usize = 2_000;
/// Longest PIN whose whole space is enumerated when random draws keep failing.
const ENUMERABLE_DIGITS: u8 = 6;

/// Another code of the same lock whose schedule can be active at the same time.
#[derive(Debug, Clone, Copy)]
pub struct TakenPin<'a> {
    pub code: CodeId,
    pub pin: &'a Pin,
}

/// A PIN as the sequence of buttons pressed; what the lock actually compares.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
struct Presses {
    len: usize,
    buttons: [u8; MAX_PIN_DIGITS as usize],
}

impl Presses {
    fn new(keypad: Keypad, digits: impl Iterator<Item = u8>) -> Self {
        let mut presses = Presses {
            len: 0,
            buttons: [0; MAX_PIN_DIGITS as usize],
        };
        for digit in digits.take(MAX_PIN_DIGITS.into()) {
            presses.buttons[presses.len] = keypad.button(digit);
            presses.len += 1;
        }
        presses
    }

    fn as_slice(&self) -> &[u8] {
        &self.buttons[..self.len]
    }

    /// Same presses, or one is a prefix or suffix of the other: a keypad without
    /// Enter opens on the last n presses, some firmware on the first n.
    fn clashes_with(&self, other: &Presses) -> bool {
        let (a, b) = (self.as_slice(), other.as_slice());
        let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
        long.starts_with(short) || long.ends_with(short)
    }
}

/// The rules for one new code on one lock.
pub struct PinRules<'a> {
    capabilities: &'a LockCapabilities,
    taken: Vec<(CodeId, Presses)>,
}

impl std::fmt::Debug for PinRules<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PinRules")
            .field("capabilities", self.capabilities)
            .field("taken", &self.taken.len())
            .finish()
    }
}

impl<'a> PinRules<'a> {
    /// `taken`: the lock's other codes that can be active while the new one is.
    pub fn new<'p>(
        capabilities: &'a LockCapabilities,
        taken: impl IntoIterator<Item = TakenPin<'p>>,
    ) -> Self {
        let taken = taken
            .into_iter()
            .map(|t| (t.code, Presses::new(capabilities.keypad, t.pin.digits())))
            .collect();
        PinRules { capabilities, taken }
    }

    /// Checks an owner-chosen PIN, naming the first rule it breaks.
    pub fn check(&self, pin: &Pin) -> Result<()> {
        self.check_length(pin.len())?;
        let mut digits = [0u8; MAX_PIN_DIGITS as usize];
        for (slot, digit) in digits.iter_mut().zip(pin.digits()) {
            *slot = digit;
        }
        let result = self.check_digits(&digits[..pin.len()]);
        digits.zeroize();
        result
    }

    /// Draws a PIN of `length` digits uniformly from every PIN the rules accept.
    pub fn generate<R: CryptoRng + ?Sized>(&self, length: u8, rng: &mut R) -> Result<Pin> {
        self.check_length(length.into())?;
        let mut digits = [0u8; MAX_PIN_DIGITS as usize];
        let candidate = &mut digits[..length.into()];
        let mut found = None;
        for _ in 0..DRAWS {
            candidate.iter_mut().for_each(|d| *d = rng.random_range(0..10));
            if self.check_digits(candidate).is_ok() {
                found = Some(Pin::from_digits(candidate));
                break;
            }
        }
        digits.zeroize();
        match found {
            Some(pin) => Ok(pin),
            // Rejection sampling stays uniform whichever way it ends: when the draws
            // all failed, pick uniformly from the enumerated space instead.
            None if length <= ENUMERABLE_DIGITS => self.pick_from_all(length, rng),
            None => Err(Error::NoPinAvailable { length }),
        }
    }

    fn pick_from_all<R: CryptoRng + ?Sized>(&self, length: u8, rng: &mut R) -> Result<Pin> {
        let space = 10u32.pow(length.into());
        let accepted: Vec<u32> = (0..space)
            .filter(|n| self.check_digits(&to_digits(*n, length)).is_ok())
            .collect();
        if accepted.is_empty() {
            return Err(Error::NoPinAvailable { length });
        }
        let n = accepted[rng.random_range(0..accepted.len())];
        Ok(Pin::from_digits(&to_digits(n, length)))
    }

    fn check_length(&self, length: usize) -> Result<()> {
        let lengths = self.capabilities.pin_lengths;
        // Capabilities are plain data (deserialized, built in code) and may not have
        // been validated: never accept more digits than a PIN can hold.
        if lengths.contains(length) && length <= usize::from(MAX_PIN_DIGITS) {
            Ok(())
        } else {
            Err(Error::PinLength {
                length,
                min: lengths.min,
                max: lengths.max,
            })
        }
    }

    fn check_digits(&self, digits: &[u8]) -> Result<()> {
        if let Some(constraint) = self
            .capabilities
            .constraints
            .iter()
            .find(|c| !satisfies(c, digits))
        {
            return Err(Error::ConstraintViolated {
                constraint: constraint.clone(),
            });
        }
        if let Some(rule) = weakness(digits) {
            return Err(Error::WeakPin { rule });
        }
        let presses = Presses::new(self.capabilities.keypad, digits.iter().copied());
        if let Some((other_code, _)) = self.taken.iter().find(|(_, p)| p.clashes_with(&presses)) {
            return Err(Error::PinConflict {
                other_code: *other_code,
            });
        }
        Ok(())
    }
}

fn to_digits(mut n: u32, length: u8) -> Vec<u8> {
    let mut digits = vec![0u8; length.into()];
    for slot in digits.iter_mut().rev() {
        *slot = (n % 10) as u8;
        n /= 10;
    }
    digits
}

fn satisfies(constraint: &PinConstraint, digits: &[u8]) -> bool {
    match constraint {
        PinConstraint::NoZeros => !digits.contains(&0),
        PinConstraint::CannotStartWith { prefix } => {
            !(digits.len() >= prefix.len() && prefix.bytes().zip(digits).all(|(p, d)| p == b'0' + *d))
        }
        PinConstraint::NoSequentialRun { length } => {
            // `validate` refuses runs shorter than 2; `windows(0)` would panic.
            let run = usize::from(*length).max(1);
            let steps = |step: i8| {
                digits
                    .windows(run)
                    .any(|w| w.windows(2).all(|p| p[1] as i8 - p[0] as i8 == step))
            };
            run > digits.len() || !(steps(1) || steps(-1))
        }
        PinConstraint::NoTripleRepeat => !digits.windows(3).any(|w| w[0] == w[1] && w[1] == w[2]),
        PinConstraint::MinDistinctDigits { count } => {
            let seen = digits.iter().fold(0u16, |set, d| set | 1 << d);
            seen.count_ones() >= u32::from(*count)
        }
    }
}
