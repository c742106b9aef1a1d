//! Password hashing with Argon2id (OWASP parameters: 19 MiB, 2 passes, 1 lane).
//!
//! Hashing is slow on purpose, so it runs on the blocking pool, a few at a time
//! (each takes 19 MiB). Verifying an unknown account's password still spends a
//! hash, against a decoy, so response times do not reveal which emails have accounts.

use std::sync::Arc;

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use crate::error::{ApiError, ApiResult};

const MEMORY_KIB: u32 = 19_456;
const PASSES: u32 = 2;
const LANES: u32 = 1;
/// Hashes computed at once; more wait.
const CONCURRENT_HASHES: usize = 4;

#[derive(Debug, Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    decoy: Arc<String>,
}

impl Passwords {
    pub fn new() -> ApiResult<Self> {
        let decoy = hash_blocking(b"decoy password nobody has")?;
        Ok(Passwords {
            permits: Arc::new(Semaphore::new(CONCURRENT_HASHES)),
            decoy: Arc::new(decoy),
        })
    }

    /// The PHC string of a new password.
    pub async fn hash(&self, password: &str) -> ApiResult<String> {
        let password = Zeroizing::new(password.as_bytes().to_vec());
        let _permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        tokio::task::spawn_blocking(move || hash_blocking(&password))
            .await
            .map_err(ApiError::internal)?
    }

    /// Whether `password` matches `stored` (`None`: no such account, always false,
    /// after as much work as a real check).
    pub async fn verify(&self, password: &str, stored: Option<String>) -> ApiResult<bool> {
        let password = Zeroizing::new(password.as_bytes().to_vec());
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.decoy.as_str().to_owned());
        let _permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        let matches = tokio::task::spawn_blocking(move || {
            let parsed = PasswordHash::new(&hash).map_err(ApiError::internal)?;
            Ok::<_, ApiError>(hasher()?.verify_password(&password, &parsed).is_ok())
        })
        .await
        .map_err(ApiError::internal)??;
        Ok(known && matches)
    }
}

fn hasher() -> ApiResult<Argon2<'static>> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None).map_err(ApiError::internal)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_blocking(password: &[u8]) -> ApiResult<String> {
    let hash = hasher()?.hash_password(password).map_err(ApiError::internal)?;
    Ok(hash.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_only_its_password() {
        let passwords = Passwords::new().unwrap();
        let hash = passwords.hash("correct horse battery").await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(
            passwords
                .verify("correct horse battery", Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(!passwords.verify("wrong horse battery", Some(hash)).await.unwrap());
        assert!(!passwords.verify("decoy password nobody has", None).await.unwrap());
    }
}
