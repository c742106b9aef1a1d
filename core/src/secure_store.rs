//! Where the platform keeps secrets: the keychain on iOS, keystore-backed storage
//! on Android, a 0600 file for the CLI. Tessera keeps there the store key (which
//! seals the PINs on disk) and the session tokens; nothing else holds them.

use std::collections::HashMap;
use std::sync::Mutex;

use zeroize::Zeroizing;

use crate::store::StoreKey;
use crate::{Error, Result};

/// Entry holding the key that seals PINs in the local store.
pub const STORE_KEY: &str = "tessera.store-key";
/// Entry holding the signed-in session (account, tokens).
pub const SESSION: &str = "tessera.session";

/// A platform's secret storage: bytes by key. Implementations must be safe to call
/// from any thread.
pub trait SecureStore: Send + Sync {
    fn get(&self, key: &str) -> std::result::Result<Option<Vec<u8>>, SecureStoreError>;
    fn put(&self, key: &str, value: &[u8]) -> std::result::Result<(), SecureStoreError>;
    /// Deleting an entry that does not exist succeeds.
    fn delete(&self, key: &str) -> std::result::Result<(), SecureStoreError>;
}

/// A secure store failed; `reason` is the platform's explanation (never a secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct SecureStoreError {
    pub reason: String,
}

impl From<SecureStoreError> for Error {
    fn from(error: SecureStoreError) -> Self {
        Error::SecureStore { reason: error.reason }
    }
}

/// The store key kept in `secure`; made for a new store, never for an existing one
/// (a new key could not open it).
pub(crate) fn store_key(secure: &dyn SecureStore, store_exists: bool) -> Result<StoreKey> {
    match secure.get(STORE_KEY)? {
        Some(bytes) => StoreKey::from_slice(&Zeroizing::new(bytes)),
        None if store_exists => Err(Error::StoreKeyMissing),
        None => {
            let key = StoreKey::generate()?;
            secure.put(STORE_KEY, key.as_bytes())?;
            Ok(key)
        }
    }
}

/// Secrets kept in memory only, gone when the process ends: for tests, and for a
/// client that must not leave anything behind.
#[derive(Default)]
pub struct MemorySecureStore {
    entries: Mutex<HashMap<String, Zeroizing<Vec<u8>>>>,
}

impl std::fmt::Debug for MemorySecureStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemorySecureStore").finish_non_exhaustive()
    }
}

impl SecureStore for MemorySecureStore {
    fn get(&self, key: &str) -> std::result::Result<Option<Vec<u8>>, SecureStoreError> {
        Ok(self.entries().get(key).map(|value| value.to_vec()))
    }

    fn put(&self, key: &str, value: &[u8]) -> std::result::Result<(), SecureStoreError> {
        self.entries()
            .insert(key.to_owned(), Zeroizing::new(value.to_vec()));
        Ok(())
    }

    fn delete(&self, key: &str) -> std::result::Result<(), SecureStoreError> {
        self.entries().remove(key);
        Ok(())
    }
}

impl MemorySecureStore {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Zeroizing<Vec<u8>>>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
