//! PINs: the secret type, the lock's keypad rules, weak-PIN rules, clashes with
//! other codes, and the generator.

mod rules;
mod weak;

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::lock::MAX_PIN_DIGITS;
use crate::{Error, Result};

pub use rules::{PinRules, TakenPin};
pub use weak::{WeakPinRule, weakness};

/// The digits of an access code. A secret: no `Debug` or `Display` of the digits,
/// no serialization, wiped from memory on drop. Leading zeros are kept.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Pin(String);

impl Pin {
    /// Parses a PIN typed by an owner: ASCII digits only, at most 12 of them.
    pub fn parse(digits: &str) -> Result<Self> {
        if digits.is_empty() {
            return Err(Error::InvalidPin {
                reason: "it is empty".to_owned(),
            });
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::InvalidPin {
                reason: "it must contain digits only".to_owned(),
            });
        }
        if digits.len() > usize::from(MAX_PIN_DIGITS) {
            return Err(Error::InvalidPin {
                reason: format!("it is longer than {MAX_PIN_DIGITS} digits"),
            });
        }
        Ok(Pin(digits.to_owned()))
    }

    /// A PIN from digit values 0-9 (the generator's output).
    pub(crate) fn from_digits(digits: &[u8]) -> Self {
        Pin(digits.iter().map(|d| char::from(b'0' + d)).collect())
    }

    /// The digits, for the few places that must show or store them.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Digit values 0-9.
    pub(crate) fn digits(&self) -> impl Iterator<Item = u8> + '_ {
        self.0.bytes().map(|b| b - b'0')
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pin(<{} digits>)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_digits() {
        let pin = Pin::parse("048213").unwrap();
        assert_eq!(format!("{pin:?}"), "Pin(<6 digits>)");
        assert_eq!(pin.expose(), "048213");
    }

    #[test]
    fn parse_refuses_what_is_not_a_pin() {
        for bad in ["", "12a4", "12 34", "١٢٣٤", "1234567890123"] {
            assert!(
                matches!(Pin::parse(bad), Err(Error::InvalidPin { .. })),
                "{bad:?}"
            );
        }
    }
}
