//! The share-link capsule. A fresh 32-byte secret per link gives, by HKDF-SHA256,
//! an encryption key (AES-256-GCM over the pass) and an access key (proof of the
//! link for the cloud, which keeps only its SHA-256). The link id, the format
//! version and the expiry are associated data: a ciphertext moved to another id or
//! given another expiry does not open. The secret travels only in the URL fragment,
//! which browsers never send.
//!
//! Links:
//! - hosted: `https://HOST/s/ID#SECRET.EXPIRY` (the cloud keeps the ciphertext);
//! - self-contained: `https://HOST/s/#1.PAYLOAD`, PAYLOAD = secret, expiry and
//!   ciphertext together (no cloud, so no revocation there).
//!
//! Base64 is URL-safe without padding throughout. The browser page implements the
//! same steps with WebCrypto; known-answer vectors keep both in step.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Utc};
use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::pass::VisitorPass;
use crate::{Error, Result};

pub const SECRET_LEN: usize = 32;
const NONCE_LEN: usize = 12;
const ID_LEN: usize = 16;
const SALT: &[u8] = b"tessera/share/v1";
/// The self-contained format's tag, before the payload in the fragment.
const SELF_CONTAINED_TAG: &str = "1.";
/// The id self-contained capsules are sealed under (they have no cloud id).
const SELF_CONTAINED_ID: &str = "local";
/// Largest fragment accepted (a pass is a few KiB at most).
const MAX_FRAGMENT: usize = 16 * 1024;

/// A link's secret. Wiped on drop; never printed.
#[derive(Clone)]
pub struct ShareSecret(Zeroizing<[u8; SECRET_LEN]>);

impl std::fmt::Debug for ShareSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ShareSecret(<redacted>)")
    }
}

impl ShareSecret {
    pub fn generate() -> Result<Self> {
        let mut bytes = Zeroizing::new([0u8; SECRET_LEN]);
        getrandom::fill(bytes.as_mut()).map_err(|e| Error::storage(format!("no randomness: {e}")))?;
        Ok(ShareSecret(bytes))
    }

    pub fn from_bytes(bytes: [u8; SECRET_LEN]) -> Self {
        ShareSecret(Zeroizing::new(bytes))
    }

    fn keys(&self) -> Keys {
        let hkdf = Hkdf::<Sha256>::new(Some(SALT), self.0.as_ref());
        let mut keys = Keys {
            encryption: Zeroizing::new([0; 32]),
            access: Zeroizing::new([0; 32]),
        };
        // 32-byte outputs are always within HKDF-SHA256's limit.
        let _ = hkdf.expand(b"encryption", keys.encryption.as_mut());
        let _ = hkdf.expand(b"access", keys.access.as_mut());
        keys
    }

    /// What the cloud asks for to release the ciphertext.
    pub fn access_key(&self) -> Zeroizing<[u8; 32]> {
        self.keys().access
    }

    fn encoded(&self) -> Zeroizing<String> {
        Zeroizing::new(B64.encode(self.0.as_ref()))
    }
}

struct Keys {
    encryption: Zeroizing<[u8; 32]>,
    access: Zeroizing<[u8; 32]>,
}

/// What the cloud keeps instead of the access key.
pub fn access_key_hash(access_key: &[u8]) -> [u8; 32] {
    Sha256::digest(access_key).into()
}

/// A fresh random link id: 16 bytes, 22 characters.
pub fn new_link_id() -> Result<String> {
    let mut id = [0u8; ID_LEN];
    getrandom::fill(&mut id).map_err(|e| Error::storage(format!("no randomness: {e}")))?;
    Ok(B64.encode(id))
}

fn associated_data(id: &str, expires_at: i64) -> Vec<u8> {
    format!("tessera-share/1|{id}|{expires_at}").into_bytes()
}

/// Encrypts a pass for link `id`: nonce followed by ciphertext.
pub fn seal(pass: &VisitorPass, id: &str, secret: &ShareSecret) -> Result<Vec<u8>> {
    pass.validate()?;
    let plaintext = Zeroizing::new(serde_json::to_vec(pass).map_err(|e| Error::storage(e.to_string()))?);
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|e| Error::storage(format!("no randomness: {e}")))?;
    seal_with_nonce(&plaintext, id, pass.expires_at.timestamp(), secret, nonce)
}

pub(crate) fn seal_with_nonce(
    plaintext: &[u8],
    id: &str,
    expires_at: i64,
    secret: &ShareSecret,
    nonce: [u8; NONCE_LEN],
) -> Result<Vec<u8>> {
    let keys = secret.keys();
    let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(*keys.encryption));
    let aad = associated_data(id, expires_at);
    let ciphertext = cipher
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: plaintext,
                aad: &aad,
            },
        )
        .map_err(|_| Error::storage("encryption failed"))?;
    Ok([nonce.as_slice(), &ciphertext].concat())
}

/// Decrypts and validates a pass; any change to the ciphertext, the id or the expiry
/// fails as a damaged link.
pub fn open(sealed: &[u8], id: &str, expires_at: i64, secret: &ShareSecret) -> Result<VisitorPass> {
    if sealed.len() <= NONCE_LEN {
        return Err(damaged("the sealed pass is truncated"));
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_from(nonce).map_err(|_| damaged("bad nonce"))?;
    let keys = secret.keys();
    let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(*keys.encryption));
    let aad = associated_data(id, expires_at);
    let plaintext = Zeroizing::new(
        cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| damaged("the link's key does not open this pass (damaged or wrong link)"))?,
    );
    let pass: VisitorPass =
        serde_json::from_slice(&plaintext).map_err(|e| damaged(&format!("the pass is malformed: {e}")))?;
    pass.validate().map_err(|e| damaged(&e.to_string()))?;
    if pass.expires_at.timestamp() != expires_at {
        return Err(damaged("the pass and its link disagree on the expiry"));
    }
    Ok(pass)
}

fn damaged(reason: &str) -> Error {
    Error::ShareLinkInvalid {
        reason: reason.to_owned(),
    }
}

/// A parsed share link.
#[derive(Debug, Clone)]
pub enum ShareLink {
    Hosted {
        /// `https://HOST` (scheme and authority, plus any path prefix).
        base: String,
        id: String,
        secret: ShareSecret,
        expires_at: i64,
    },
    SelfContained {
        base: String,
        secret: ShareSecret,
        expires_at: i64,
        sealed: Vec<u8>,
    },
}

impl ShareLink {
    /// The URL to share. The secret is in the fragment only.
    pub fn url(&self) -> Zeroizing<String> {
        Zeroizing::new(match self {
            ShareLink::Hosted {
                base,
                id,
                secret,
                expires_at,
            } => format!("{base}/s/{id}#{}.{expires_at}", secret.encoded().as_str()),
            ShareLink::SelfContained {
                base,
                secret,
                expires_at,
                sealed,
            } => {
                let payload =
                    Zeroizing::new([secret.0.as_slice(), &expires_at.to_be_bytes(), sealed].concat());
                format!("{base}/s/#{SELF_CONTAINED_TAG}{}", B64.encode(payload.as_slice()))
            }
        })
    }

    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        let (ShareLink::Hosted { expires_at, .. } | ShareLink::SelfContained { expires_at, .. }) = self;
        DateTime::from_timestamp(*expires_at, 0)
    }

    /// Parses a link strictly: `http(s)://HOST/s/ID#SECRET.EXPIRY` or `.../s/#1.PAYLOAD`.
    pub fn parse(url: &str) -> Result<Self> {
        let url = url.trim();
        let (without_fragment, fragment) = url
            .split_once('#')
            .ok_or_else(|| damaged("the link has no key"))?;
        if fragment.len() > MAX_FRAGMENT {
            return Err(damaged("the link is too long"));
        }
        let parsed =
            reqwest::Url::parse(without_fragment).map_err(|e| damaged(&format!("not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "https" | "http")
            || parsed.host_str().is_none()
            || parsed.query().is_some()
        {
            return Err(damaged("not a share link address"));
        }
        let (prefix, rest) = parsed
            .path()
            .rsplit_once("/s/")
            .ok_or_else(|| damaged("not a share link address"))?;
        let base = format!("{}{}", parsed.origin().ascii_serialization(), prefix);
        if rest.is_empty() {
            let payload = fragment
                .strip_prefix(SELF_CONTAINED_TAG)
                .ok_or_else(|| damaged("unknown link format"))?;
            let bytes = Zeroizing::new(B64.decode(payload).map_err(|_| damaged("the link is garbled"))?);
            if bytes.len() <= SECRET_LEN + 8 + NONCE_LEN {
                return Err(damaged("the link is truncated"));
            }
            let (secret, rest) = bytes.split_at(SECRET_LEN);
            let (expiry, sealed) = rest.split_at(8);
            return Ok(ShareLink::SelfContained {
                base,
                secret: secret_from(secret)?,
                expires_at: i64::from_be_bytes(expiry.try_into().map_err(|_| damaged("bad expiry"))?),
                sealed: sealed.to_vec(),
            });
        }
        let id = rest;
        let id_ok = B64.decode(id).is_ok_and(|bytes| bytes.len() == ID_LEN);
        if !id_ok {
            return Err(damaged("the link id is malformed"));
        }
        let (secret, expiry) = fragment
            .split_once('.')
            .ok_or_else(|| damaged("the link's key is malformed"))?;
        let secret = Zeroizing::new(
            B64.decode(secret)
                .map_err(|_| damaged("the link's key is garbled"))?,
        );
        let expires_at = expiry
            .parse::<i64>()
            .ok()
            .filter(|at| DateTime::from_timestamp(*at, 0).is_some())
            .ok_or_else(|| damaged("the link's expiry is malformed"))?;
        Ok(ShareLink::Hosted {
            base,
            id: id.to_owned(),
            secret: secret_from(&secret)?,
            expires_at,
        })
    }

    /// Opens a self-contained link (no network).
    pub fn open_self_contained(&self) -> Result<Option<VisitorPass>> {
        match self {
            ShareLink::SelfContained {
                secret,
                expires_at,
                sealed,
                ..
            } => open(sealed, SELF_CONTAINED_ID, *expires_at, secret).map(Some),
            ShareLink::Hosted { .. } => Ok(None),
        }
    }
}

/// Seals a pass into a self-contained link.
pub fn self_contained(base: &str, pass: &VisitorPass) -> Result<ShareLink> {
    let secret = ShareSecret::generate()?;
    let sealed = seal(pass, SELF_CONTAINED_ID, &secret)?;
    Ok(ShareLink::SelfContained {
        base: base.trim_end_matches('/').to_owned(),
        secret,
        expires_at: pass.expires_at.timestamp(),
        sealed,
    })
}

fn secret_from(bytes: &[u8]) -> Result<ShareSecret> {
    let bytes: [u8; SECRET_LEN] = bytes
        .try_into()
        .map_err(|_| damaged("the link's key has the wrong length"))?;
    Ok(ShareSecret::from_bytes(bytes))
}
