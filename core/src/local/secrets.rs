//! What pairing leaves on the phone: the phone's id (in the store: not a secret,
//! the lock knows it), and per lock the pairing key and the offline-code secret
//! (in the secure store, never in the database).

use tessera_model::LockId;
use tessera_protocol::PairingKey;
use tessera_protocol::wire::OfflineSecret;
use zeroize::Zeroizing;

use crate::secure_store::SecureStore;
use crate::store::{Db, PHONE_ID};
use crate::{Error, Result};

/// Secure-store entry of a lock's pairing key.
pub fn pairing_key_entry(lock: LockId) -> String {
    format!("tessera.lock.{}", super::wire::hex(lock.as_bytes()))
}

/// Secure-store entry of a lock's offline-code secret.
pub fn offline_secret_entry(lock: LockId) -> String {
    format!("tessera.offline.{}", super::wire::hex(lock.as_bytes()))
}

/// This device's id towards locks: 16 random bytes, made once and kept.
pub(crate) fn phone_id(db: &Db) -> Result<[u8; 16]> {
    if let Some(bytes) = db.meta(PHONE_ID)?
        && let Ok(id) = <[u8; 16]>::try_from(bytes.as_slice())
    {
        return Ok(id);
    }
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).map_err(|e| Error::storage(format!("no randomness: {e}")))?;
    db.set_meta(PHONE_ID, &id)?;
    Ok(id)
}

pub(crate) fn save_pairing_key(secure: &dyn SecureStore, lock: LockId, key: &PairingKey) -> Result<()> {
    Ok(secure.put(&pairing_key_entry(lock), &key.0)?)
}

pub(crate) fn pairing_key(secure: &dyn SecureStore, lock: LockId) -> Result<Option<PairingKey>> {
    let Some(bytes) = secure.get(&pairing_key_entry(lock))? else {
        return Ok(None);
    };
    let bytes = Zeroizing::new(bytes);
    let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| Error::SecureStore {
        reason: "a stored pairing key has the wrong length".to_owned(),
    })?;
    Ok(Some(PairingKey(key)))
}

const SECRET_FORMAT: u8 = 1;
const SECRET_LEN: usize = 1 + 32 + 4 + 1 + 4;

pub(crate) fn save_offline_secret(
    secure: &dyn SecureStore,
    lock: LockId,
    secret: &OfflineSecret,
) -> Result<()> {
    let mut bytes = Zeroizing::new(Vec::with_capacity(SECRET_LEN));
    bytes.push(SECRET_FORMAT);
    bytes.extend_from_slice(&secret.root);
    bytes.extend_from_slice(&secret.epoch.to_be_bytes());
    bytes.push(secret.digits);
    bytes.extend_from_slice(&secret.standard_offset_seconds.to_be_bytes());
    Ok(secure.put(&offline_secret_entry(lock), &bytes)?)
}

pub(crate) fn offline_secret(secure: &dyn SecureStore, lock: LockId) -> Result<Option<OfflineSecret>> {
    let Some(bytes) = secure.get(&offline_secret_entry(lock))? else {
        return Ok(None);
    };
    let bytes = Zeroizing::new(bytes);
    let damaged = || Error::SecureStore {
        reason: "a stored offline secret is damaged".to_owned(),
    };
    if bytes.len() != SECRET_LEN || bytes[0] != SECRET_FORMAT {
        return Err(damaged());
    }
    let mut root = [0u8; 32];
    root.copy_from_slice(&bytes[1..33]);
    let word = |at: usize| -> Result<[u8; 4]> { bytes[at..at + 4].try_into().map_err(|_| damaged()) };
    Ok(Some(OfflineSecret {
        root,
        epoch: u32::from_be_bytes(word(33)?),
        digits: bytes[37],
        standard_offset_seconds: i32::from_be_bytes(word(38)?),
    }))
}

/// Forgets a lock's secrets (after the lock was removed from this device).
pub(crate) fn forget(secure: &dyn SecureStore, lock: LockId) -> Result<()> {
    secure.delete(&pairing_key_entry(lock))?;
    secure.delete(&offline_secret_entry(lock))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemorySecureStore;

    #[test]
    fn secrets_round_trip_through_the_secure_store() {
        let secure = MemorySecureStore::default();
        let lock = LockId::from_bytes([7; 16]);
        assert!(pairing_key(&secure, lock).unwrap().is_none());
        save_pairing_key(&secure, lock, &PairingKey([9; 32])).unwrap();
        assert_eq!(pairing_key(&secure, lock).unwrap(), Some(PairingKey([9; 32])));
        let secret = OfflineSecret {
            root: [3; 32],
            epoch: 7,
            digits: 10,
            standard_offset_seconds: -18_000,
        };
        save_offline_secret(&secure, lock, &secret).unwrap();
        assert_eq!(offline_secret(&secure, lock).unwrap(), Some(secret));
        assert_eq!(
            pairing_key_entry(lock),
            "tessera.lock.07070707070707070707070707070707"
        );
        forget(&secure, lock).unwrap();
        assert!(offline_secret(&secure, lock).unwrap().is_none());
        assert!(pairing_key(&secure, lock).unwrap().is_none());
    }
}
