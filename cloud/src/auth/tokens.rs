//! Bearer tokens: 32 random bytes, base64url, behind a prefix that says what the
//! token is for (so a device credential is refused by account routes before any
//! lookup, and a leaked token is recognizable in a secret scanner). The cloud
//! keeps only their SHA-256.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tessera_api::Secret;
use zeroize::Zeroizing;

use crate::crypto::{fill_random, token_hash};
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Short-lived; authorizes account routes.
    Access,
    /// Single-use; exchanged for a new pair.
    Refresh,
    /// A lock's credential for reporting its events.
    Device,
}

impl TokenKind {
    pub fn prefix(self) -> &'static str {
        match self {
            TokenKind::Access => "tsa_",
            TokenKind::Refresh => "tsr_",
            TokenKind::Device => "tsd_",
        }
    }

    /// Whether `token` looks like one of this kind.
    pub fn marks(self, token: &str) -> bool {
        token.starts_with(self.prefix())
    }
}

/// A new token and the hash the database keeps.
#[derive(Debug)]
pub struct IssuedToken {
    pub token: Secret,
    pub hash: String,
}

pub fn issue(kind: TokenKind) -> ApiResult<IssuedToken> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    fill_random(bytes.as_mut()).map_err(ApiError::internal)?;
    let token = format!("{}{}", kind.prefix(), URL_SAFE_NO_PAD.encode(bytes.as_ref()));
    let hash = token_hash(&token);
    Ok(IssuedToken {
        token: Secret::new(token),
        hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_hashed() {
        let a = issue(TokenKind::Access).unwrap();
        let b = issue(TokenKind::Access).unwrap();
        assert!(TokenKind::Access.marks(a.token.expose()));
        assert!(!TokenKind::Device.marks(a.token.expose()));
        assert_eq!(a.token.expose().len(), 4 + 43);
        assert_ne!(a.token, b.token);
        assert_eq!(a.hash, token_hash(a.token.expose()));
        assert_eq!(a.hash.len(), 64);
    }
}
