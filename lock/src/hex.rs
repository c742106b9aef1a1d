//! Lower-case hex for ids and keys in the state file and on the console.

use serde::{Deserialize, Deserializer, Serializer};

pub fn encode(bytes: &[u8]) -> String {
    ::hex::encode(bytes)
}

/// Exactly `N` bytes, in either case.
pub fn decode<const N: usize>(text: &str) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    ::hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

/// `#[serde(with = "crate::hex::bytes")]` for fixed-size byte arrays.
pub mod bytes {
    use super::*;

    pub fn serialize<S: Serializer, const N: usize>(
        value: &[u8; N],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&encode(value))
    }

    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        deserializer: D,
    ) -> Result<[u8; N], D::Error> {
        let text = zeroize::Zeroizing::new(String::deserialize(deserializer)?);
        decode(&text).ok_or_else(|| serde::de::Error::custom(format!("expected {N} bytes in hex")))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn round_trips() {
        let bytes = [0x00, 0x7f, 0xa5, 0xff];
        assert_eq!(encode(&bytes), "007fa5ff");
        assert_eq!(decode::<4>("007FA5ff").unwrap(), bytes);
        assert!(decode::<4>("007fa5f").is_none());
        assert!(decode::<4>("007fa5fg").is_none());
    }
}
