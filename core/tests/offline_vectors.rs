//! The phone's side of the offline-code known answers (protocol/tests/vectors): the
//! PIN tessera-core gives the owner for each header is the one lock makers expect.

#![allow(clippy::unwrap_used)]

use serde_json::Value;
use tessera_core::model::LockId;
use tessera_core::offline::{OfflineClass, OfflineSecret, pin_of};

const VECTORS: &str = include_str!("../../protocol/tests/vectors/offline-codes-v1.json");

fn bytes<const N: usize>(hex: &str) -> [u8; N] {
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

#[test]
fn the_phone_derives_every_known_answer() {
    let vectors: Value = serde_json::from_str(VECTORS).unwrap();
    let lock = LockId::from_bytes(bytes(vectors["lock_id"].as_str().unwrap()));
    let root = bytes(vectors["root"].as_str().unwrap());
    let cases = vectors["cases"].as_array().unwrap();
    assert!(cases.len() >= 90, "every class, two slots, three keys");
    for case in cases {
        let number = |field: &str| case[field].as_u64().unwrap();
        let secret = OfflineSecret {
            root,
            epoch: u32::try_from(number("epoch")).unwrap(),
            digits: u8::try_from(number("digits")).unwrap(),
            standard_offset_seconds: 0,
        };
        let class = OfflineClass::from_code(u8::try_from(number("class")).unwrap()).unwrap();
        let pin = pin_of(
            lock,
            &secret,
            u32::try_from(number("start_hour")).unwrap(),
            class,
            u8::try_from(number("slot")).unwrap(),
        );
        assert_eq!(pin.expose(), case["pin"].as_str().unwrap(), "{case}");
    }
}
