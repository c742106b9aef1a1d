//! Secrets the lock holds outside its state file: the setup code printed on its
//! label, and the device token of the Wi-Fi mode. No `Debug` or `Display` of
//! their value; wiped on drop.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::{Error, Result};

/// Digits of a generated setup code.
pub const SETUP_CODE_DIGITS: usize = 8;

/// The setup code printed on the lock's label: the password of pairing.
///
/// Separators a label prints for reading (`-`, spaces) are not part of it: the
/// lock and the phone both pair with [`SetupCode::normalized`] (the code without
/// `-` and whitespace), so `4829-1305` and `48291305` are the same code.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct SetupCode(String);

impl SetupCode {
    /// A code as given on the command line or read from the label file: 6 to 64
    /// visible ASCII characters once separators are removed.
    pub fn parse(text: &str) -> Result<Self> {
        let code = SetupCode(normalize(text));
        let length = code.0.len();
        if !(6..=64).contains(&length) || !code.0.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::Config(
                "a setup code has 6 to 64 visible ASCII characters (besides `-` and spaces)".to_owned(),
            ));
        }
        Ok(code)
    }

    /// A fresh random code of [`SETUP_CODE_DIGITS`] digits.
    pub fn generate() -> Result<Self> {
        let mut digits = String::with_capacity(SETUP_CODE_DIGITS);
        let mut bytes = [0u8; 1];
        while digits.len() < SETUP_CODE_DIGITS {
            getrandom::fill(&mut bytes).map_err(|e| Error::Randomness(e.to_string()))?;
            // 250 = 25 * 10: rejecting 250..=255 keeps the digits uniform.
            if bytes[0] < 250 {
                digits.push(char::from(b'0' + bytes[0] % 10));
            }
        }
        bytes.zeroize();
        Ok(SetupCode(digits))
    }

    /// The code as the PAKE uses it (no separators).
    pub fn normalized(&self) -> &str {
        &self.0
    }

    /// The code, for the few places that must show it (the label file, the demo).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Removes the separators a label prints for reading: `-` and whitespace.
pub fn normalize(text: &str) -> String {
    text.chars().filter(|c| *c != '-' && !c.is_whitespace()).collect()
}

impl fmt::Debug for SetupCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SetupCode(<redacted>)")
    }
}

/// The Wi-Fi lock's device credential (`tsd_...`), issued by the owner in the cloud.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct DeviceToken(String);

impl DeviceToken {
    pub fn new(token: impl Into<String>) -> Self {
        DeviceToken(token.into().trim().to_owned())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DeviceToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DeviceToken(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn separators_are_not_part_of_the_code() {
        assert_eq!(
            SetupCode::parse("4829-1305").unwrap(),
            SetupCode::parse(" 48291305 ").unwrap()
        );
        assert!(SetupCode::parse("12-34").is_err());
        assert!(SetupCode::parse("12345é78").is_err());
    }

    #[test]
    fn generated_codes_are_digits_and_never_printed() {
        let code = SetupCode::generate().unwrap();
        assert_eq!(code.expose().len(), SETUP_CODE_DIGITS);
        assert!(code.expose().bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(format!("{code:?}"), "SetupCode(<redacted>)");
        assert_eq!(
            format!("{:?}", DeviceToken::new("tsd_x")),
            "DeviceToken(<redacted>)"
        );
    }
}
