//! The cloud's secrets at rest: the key file, PINs sealed with AES-256-GCM, and
//! keyed digests of requests (idempotency) that contain PINs.
//!
//! One 32-byte key (the key file) is never used directly: a subkey is derived
//! for each purpose, so the cipher key and the digest key are independent.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use tessera_model::{CodeId, Pin};
use zeroize::{Zeroize, Zeroizing};

const KEY_LEN: usize = 32;
const FORMAT: u8 = 1;
const NONCE_LEN: usize = 12;
const PIN_KEY_LABEL: &[u8] = b"tessera/cloud/pin-key/v1";
const DIGEST_KEY_LABEL: &[u8] = b"tessera/cloud/request-digest-key/v1";
const PIN_CONTEXT: &[u8] = b"tessera/cloud/pin/v1";
const KEY_CHECK_CONTEXT: &[u8] = b"tessera/cloud/key-check/v1";
const KEY_CHECK_TEXT: &[u8] = b"this key opens this cloud database";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("reading the key file {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("the key file {path} must hold exactly {KEY_LEN} bytes")]
    WrongLength { path: String },
    #[error("no randomness from the operating system: {0}")]
    Randomness(String),
}

/// The cloud's 256-bit master key. Wiped on drop; never printed.
#[derive(Clone, Zeroize)]
#[zeroize(drop)]
pub struct CloudKey([u8; KEY_LEN]);

impl CloudKey {
    /// A fresh random key (an in-memory cloud's, which dies with it).
    pub fn generate() -> Result<Self, KeyError> {
        let mut key = [0u8; KEY_LEN];
        fill_random(&mut key)?;
        Ok(CloudKey(key))
    }

    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        CloudKey(bytes)
    }

    /// Reads the key file, or creates it (mode 0600, 32 random bytes) if it does not exist.
    pub fn load_or_create(path: &Path) -> Result<Self, KeyError> {
        let io = |source| KeyError::Io {
            path: path.display().to_string(),
            source,
        };
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(mut file) => {
                let key = CloudKey::generate()?;
                file.write_all(&key.0).map_err(io)?;
                file.sync_all().map_err(io)?;
                Ok(key)
            }
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                let mut bytes = Zeroizing::new(Vec::with_capacity(KEY_LEN));
                std::fs::File::open(path)
                    .and_then(|mut f| f.read_to_end(&mut bytes))
                    .map_err(io)?;
                let key: [u8; KEY_LEN] = bytes.as_slice().try_into().map_err(|_| KeyError::WrongLength {
                    path: path.display().to_string(),
                })?;
                Ok(CloudKey(key))
            }
            Err(error) => Err(io(error)),
        }
    }

    fn subkey(&self, label: &[u8]) -> Zeroizing<[u8; KEY_LEN]> {
        let mut subkey = Zeroizing::new([0u8; KEY_LEN]);
        subkey.copy_from_slice(&hmac(&self.0, &[label]));
        subkey
    }
}

impl std::fmt::Debug for CloudKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CloudKey(<redacted>)")
    }
}

/// Seals PINs (and the key check) with AES-256-GCM. The code id is associated
/// data, so a sealed PIN copied to another row does not open.
pub struct PinCipher(Aes256Gcm);

impl std::fmt::Debug for PinCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PinCipher(<redacted>)")
    }
}

/// Sealing or opening failed: no randomness, or a value that does not open.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SealError(&'static str);

impl PinCipher {
    pub fn new(key: &CloudKey) -> Self {
        let subkey = key.subkey(PIN_KEY_LABEL);
        PinCipher(Aes256Gcm::new(&Key::<Aes256Gcm>::from(*subkey)))
    }

    pub fn seal_pin(&self, code: CodeId, pin: &Pin) -> Result<Vec<u8>, SealError> {
        self.seal(&[PIN_CONTEXT, code.as_bytes()].concat(), pin.expose().as_bytes())
    }

    pub fn open_pin(&self, code: CodeId, sealed: &[u8]) -> Result<Pin, SealError> {
        let digits = self
            .open(&[PIN_CONTEXT, code.as_bytes()].concat(), sealed)
            .ok_or(SealError("a stored PIN failed its integrity check"))?;
        let digits = Zeroizing::new(digits);
        let digits = std::str::from_utf8(&digits).map_err(|_| SealError("a stored PIN is not text"))?;
        Pin::parse(digits).map_err(|_| SealError("a stored PIN is not a PIN"))
    }

    /// A value proving which key the database was created with.
    pub fn key_check(&self) -> Result<Vec<u8>, SealError> {
        self.seal(KEY_CHECK_CONTEXT, KEY_CHECK_TEXT)
    }

    pub fn verify_key_check(&self, sealed: &[u8]) -> bool {
        self.open(KEY_CHECK_CONTEXT, sealed)
            .is_some_and(|text| text == KEY_CHECK_TEXT)
    }

    fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| SealError("no randomness"))?;
        let ciphertext = self
            .0
            .encrypt(&Nonce::from(nonce), Payload { msg: plaintext, aad })
            .map_err(|_| SealError("encryption failed"))?;
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        sealed.push(FORMAT);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    fn open(&self, aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        let [FORMAT, rest @ ..] = sealed else {
            return None;
        };
        if rest.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce).ok()?;
        self.0.decrypt(&nonce, Payload { msg: ciphertext, aad }).ok()
    }
}

/// Digests of requests for telling a replay from a different request. Keyed,
/// because requests carry PINs: an unkeyed hash of a 6-digit PIN is a lookup away.
pub struct RequestDigester(Zeroizing<[u8; KEY_LEN]>);

impl std::fmt::Debug for RequestDigester {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequestDigester(<redacted>)")
    }
}

impl RequestDigester {
    pub fn new(key: &CloudKey) -> Self {
        RequestDigester(key.subkey(DIGEST_KEY_LABEL))
    }

    /// HMAC-SHA256 over the parts (each length-prefixed, so parts cannot run together), hex.
    pub fn digest(&self, parts: &[&[u8]]) -> String {
        let framed: Vec<Vec<u8>> = parts
            .iter()
            .map(|part| [&(part.len() as u64).to_be_bytes()[..], part].concat())
            .collect();
        let framed: Vec<&[u8]> = framed.iter().map(Vec::as_slice).collect();
        hex::encode(hmac(&*self.0, &framed))
    }
}

/// SHA-256 of a bearer token, hex: what the database keeps instead of the token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn fill_random(bytes: &mut [u8]) -> Result<(), KeyError> {
    getrandom::fill(bytes).map_err(|e| KeyError::Randomness(e.to_string()))
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes keys of any length, so this cannot fail; the fallback keeps it total.
    let mut mac = match <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return [0u8; 32],
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_pin_opens_only_for_its_code() {
        let cipher = PinCipher::new(&CloudKey::from_bytes([7; 32]));
        let (a, b) = (CodeId::new(), CodeId::new());
        let pin = Pin::parse("048213").unwrap();
        let sealed = cipher.seal_pin(a, &pin).unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"048213"));
        assert_eq!(cipher.open_pin(a, &sealed).unwrap().expose(), "048213");
        assert!(cipher.open_pin(b, &sealed).is_err());
    }

    #[test]
    fn key_check_tells_keys_apart() {
        let check = PinCipher::new(&CloudKey::from_bytes([1; 32]))
            .key_check()
            .unwrap();
        assert!(PinCipher::new(&CloudKey::from_bytes([1; 32])).verify_key_check(&check));
        assert!(!PinCipher::new(&CloudKey::from_bytes([2; 32])).verify_key_check(&check));
    }

    #[test]
    fn digests_are_keyed_and_framed() {
        let one = RequestDigester::new(&CloudKey::from_bytes([1; 32]));
        let two = RequestDigester::new(&CloudKey::from_bytes([2; 32]));
        assert_eq!(one.digest(&[b"a", b"bc"]), one.digest(&[b"a", b"bc"]));
        assert_ne!(one.digest(&[b"a", b"bc"]), one.digest(&[b"ab", b"c"]));
        assert_ne!(one.digest(&[b"a"]), two.digest(&[b"a"]));
    }

    #[test]
    fn the_key_file_is_created_private_and_read_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cloud.key");
        let created = CloudKey::load_or_create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let read = CloudKey::load_or_create(&path).unwrap();
        assert_eq!(created.0, read.0);
        std::fs::write(&path, b"short").unwrap();
        assert!(matches!(
            CloudKey::load_or_create(&path),
            Err(KeyError::WrongLength { .. })
        ));
    }
}
