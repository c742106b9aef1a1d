//! Known-answer vectors for share links, shared with the visitor page's script
//! (`cloud/web/tests`): fixed secrets and nonces, the exact keys, ciphertexts and
//! links both sides must produce. Regenerate with
//! `TESSERA_WRITE_VECTORS=1 cargo test -p tessera-core share::vectors` only when
//! the format changes on purpose (and bump its version).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};

use super::capsule::{self, ShareSecret};

const VECTORS: &str = include_str!("../../tests/vectors/share-links-v1.json");
const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/share-links-v1.json");

fn pass_json(expires_at: i64) -> Value {
    json!({
        "version": 1,
        "lock_name": "Front door",
        "label": "Anna",
        "code": "048213",
        "kind": "window",
        "lock_zone": "Europe/Berlin",
        "summary": "from Fri 2031-03-28 17:00 CET (UTC+01:00) until Mon 2031-03-31 10:00 CEST (UTC+02:00)",
        "intervals": [{ "start": "2031-03-28T16:00:00Z", "end": "2031-03-31T08:00:00Z" }],
        "first_use_minutes": null,
        "first_use_by": null,
        "address": "Kastanienallee 12, Berlin",
        "instructions": "Keypad left of the door; press # after the code.",
        "host_note": null,
        "host_contact": "+49 30 1234567",
        "issued_at": "2031-03-20T12:00:00Z",
        "expires_at": chrono::DateTime::from_timestamp(expires_at, 0).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
    })
}

fn generate() -> Value {
    let cases = [
        ("hosted", "AAECAwQFBgcICQoLDA0ODw", 0u8),
        ("self-contained", "local", 7u8),
    ];
    let expires_at = 1_932_969_600; // 2031-04-03T08:00:00Z
    let vectors: Vec<Value> = cases
        .iter()
        .map(|(name, id, seed)| {
            let secret_bytes: [u8; 32] = std::array::from_fn(|i| seed.wrapping_add(i as u8));
            let secret = ShareSecret::from_bytes(secret_bytes);
            let nonce: [u8; 12] = std::array::from_fn(|i| 0xa0 + i as u8);
            let pass = pass_json(expires_at);
            let plaintext = serde_json::to_vec(&pass).unwrap_or_default();
            let sealed =
                capsule::seal_with_nonce(&plaintext, id, expires_at, &secret, nonce).unwrap_or_default();
            let access = secret.access_key();
            let base = "https://share.example".to_owned();
            let link = if *id == "local" {
                capsule::ShareLink::SelfContained {
                    base,
                    secret: secret.clone(),
                    expires_at,
                    sealed: sealed.clone(),
                }
            } else {
                capsule::ShareLink::Hosted {
                    base,
                    id: (*id).to_owned(),
                    secret: secret.clone(),
                    expires_at,
                }
            };
            json!({
                "name": name,
                "id": id,
                "secret": B64.encode(secret_bytes),
                "expires_at": expires_at,
                "nonce": B64.encode(nonce),
                "access_key": B64.encode(access.as_slice()),
                "access_key_hash": B64.encode(capsule::access_key_hash(access.as_slice())),
                "associated_data": format!("tessera-share/1|{id}|{expires_at}"),
                "plaintext": String::from_utf8(plaintext).unwrap_or_default(),
                "sealed": B64.encode(&sealed),
                "link": link.url().as_str(),
            })
        })
        .collect();
    json!({ "format": "tessera share links v1", "vectors": vectors })
}

#[test]
fn the_capsule_matches_its_known_answer_vectors() {
    let expected = generate();
    if std::env::var_os("TESSERA_WRITE_VECTORS").is_some() {
        let text = serde_json::to_string_pretty(&expected).unwrap_or_default() + "\n";
        std::fs::write(PATH, text).unwrap_or_else(|e| panic!("{e}"));
        return;
    }
    let stored: Value = serde_json::from_str(VECTORS).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        stored, expected,
        "the share-link format changed; see this file's header"
    );
    // And each stored vector opens with the real `open`.
    for vector in stored["vectors"].as_array().into_iter().flatten() {
        let secret: [u8; 32] = B64
            .decode(vector["secret"].as_str().unwrap_or_default())
            .unwrap_or_default()
            .try_into()
            .unwrap_or([0; 32]);
        let sealed = B64
            .decode(vector["sealed"].as_str().unwrap_or_default())
            .unwrap_or_default();
        let pass = capsule::open(
            &sealed,
            vector["id"].as_str().unwrap_or_default(),
            vector["expires_at"].as_i64().unwrap_or_default(),
            &ShareSecret::from_bytes(secret),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(pass.code.expose(), "048213");
        assert_eq!(pass.lock_name, "Front door");
        let parsed = capsule::ShareLink::parse(vector["link"].as_str().unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.url().as_str(), vector["link"].as_str().unwrap_or_default());
    }
}
