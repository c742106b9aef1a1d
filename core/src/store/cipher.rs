//! Encryption of PINs at rest: AES-256-GCM under the store key, bound to the code's id.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tessera_model::{AccessCode, CodeId, Pin};
use zeroize::{Zeroize, Zeroizing};

use crate::{Error, Result};

const FORMAT: u8 = 1;
const NONCE_LEN: usize = 12;
const PIN_CONTEXT: &[u8] = b"tessera/store/pin/v1";
const KEY_CHECK_CONTEXT: &[u8] = b"tessera/store/key-check/v1";
const KEY_CHECK_TEXT: &[u8] = b"this key opens this store";
const FINGERPRINT_CONTEXT: &[u8] = b"tessera/store/lock-fingerprint/v1";

/// The 256-bit key that encrypts PINs in the store. The platform keeps it
/// (keychain, keystore, a 0600 file for the CLI). Wiped on drop; never printed.
#[derive(Clone, Zeroize)]
#[zeroize(drop)]
pub struct StoreKey([u8; 32]);

impl StoreKey {
    /// A fresh random key from the operating system.
    pub fn generate() -> Result<Self> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| Error::storage(format!("no randomness: {e}")))?;
        Ok(StoreKey(key))
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        StoreKey(bytes)
    }

    /// Reads a key from a platform blob; refuses anything but exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| Error::WrongKey)?;
        Ok(StoreKey(bytes))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(<redacted>)")
    }
}

/// Seals and opens PINs. The code id is associated data, so a sealed PIN moved
/// to another row does not open. Also makes fingerprints of codes as a lock holds
/// them: keyed, so the stored fingerprint of a 4-digit PIN cannot be searched.
pub(crate) struct PinCipher(Aes256Gcm, Hmac<Sha256>);

impl PinCipher {
    pub(crate) fn new(key: &StoreKey) -> Self {
        // A block-sized key: HMAC takes it as it is, and the constructor cannot fail.
        let mut fingerprint_key = Zeroizing::new([0u8; 64]);
        // 64 bytes are always within HKDF-SHA256's output limit.
        let _ =
            Hkdf::<Sha256>::new(None, key.as_bytes()).expand(FINGERPRINT_CONTEXT, fingerprint_key.as_mut());
        PinCipher(
            Aes256Gcm::new(&Key::<Aes256Gcm>::from(*key.as_bytes())),
            <Hmac<Sha256> as hmac::KeyInit>::new(&(*fingerprint_key).into()),
        )
    }

    /// A keyed fingerprint of what a lock holds for `code`: its PIN, schedule, use
    /// limit and whether it is revoked. Equal fingerprints: the lock holds this
    /// version of the code (or, revoked, has removed it).
    pub(crate) fn fingerprint(&self, code: &AccessCode) -> Vec<u8> {
        let mut mac = self.1.clone();
        let schedule = serde_json::to_vec(&code.schedule).unwrap_or_default();
        let length = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes();
        mac.update(code.id.as_bytes());
        mac.update(&length(code.pin.len()));
        mac.update(code.pin.expose().as_bytes());
        mac.update(&length(schedule.len()));
        mac.update(&schedule);
        mac.update(&code.max_uses.map_or([0; 5], |n| {
            let mut bytes = [1; 5];
            bytes[1..].copy_from_slice(&n.to_be_bytes());
            bytes
        }));
        mac.update(code.status.as_str().as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    pub(crate) fn seal_pin(&self, code: CodeId, pin: &Pin) -> Result<Vec<u8>> {
        self.seal(&aad(PIN_CONTEXT, code.as_bytes()), pin.expose().as_bytes())
    }

    pub(crate) fn open_pin(&self, code: CodeId, sealed: &[u8]) -> Result<Pin> {
        let digits = self
            .open(&aad(PIN_CONTEXT, code.as_bytes()), sealed)
            .ok_or_else(|| Error::storage(format!("the PIN of code {code} failed its integrity check")))?;
        let digits = Zeroizing::new(digits);
        let digits = std::str::from_utf8(&digits).map_err(|_| Error::storage("a stored PIN is not text"))?;
        Ok(Pin::parse(digits)?)
    }

    /// A token proving which key the store was created with.
    pub(crate) fn key_check(&self) -> Result<Vec<u8>> {
        self.seal(KEY_CHECK_CONTEXT, KEY_CHECK_TEXT)
    }

    pub(crate) fn verify_key_check(&self, sealed: &[u8]) -> Result<()> {
        match self.open(KEY_CHECK_CONTEXT, sealed) {
            Some(text) if text == KEY_CHECK_TEXT => Ok(()),
            _ => Err(Error::WrongKey),
        }
    }

    fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| Error::storage(format!("no randomness: {e}")))?;
        let ciphertext = self
            .0
            .encrypt(&Nonce::from(nonce), Payload { msg: plaintext, aad })
            .map_err(|_| Error::storage("encryption failed"))?;
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        sealed.push(FORMAT);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// The plaintext, or `None` if the value is malformed, altered or sealed under another key.
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

fn aad(context: &[u8], id: &[u8]) -> Vec<u8> {
    [context, id].concat()
}
