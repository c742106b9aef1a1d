//! Offline codes on the facade: issued with no network at all, from the secret
//! pairing fetched; remembered here so a slot is never issued twice by this device.

use tessera_model::LockId;

use super::{TesseraClient, now};
use crate::local;
use crate::offline::{self, OfflineCode, OfflinePin, OfflineRequest};
use crate::store::IssuedOffline;
use crate::{Error, Result};

impl TesseraClient {
    /// Issues an offline code for a paired lock: no network needed. The result says,
    /// before it is shared, what it grants: its window, the deadline for its first
    /// use, and how many more codes this start hour and class allow.
    pub fn issue_offline_code(&self, lock_id: LockId, request: OfflineRequest) -> Result<OfflineCode> {
        let lock = self.lock(lock_id)?;
        let secret = local::offline_secret(self.secure.as_ref(), lock_id)?.ok_or_else(|| {
            Error::OfflineCodesUnavailable {
                lock: lock_id.to_string(),
            }
        })?;
        let at = now();
        let code = self.write(|db| {
            let code = offline::issue(lock_id, lock.time_zone, &secret, &request, at, |hour| {
                db.offline_slots_issued(lock_id, secret.epoch, hour, request.class.code())
            })?;
            db.record_offline_code(&IssuedOffline {
                lock_id,
                epoch: code.epoch,
                start_hour: code.start_hour,
                class: code.class.code(),
                slot: code.slot,
                label: code.label.clone(),
                issued_at: at,
            })?;
            Ok(code)
        })?;
        tracing::info!(lock = %lock_id, class = offline::class_name(code.class), "issued an offline code");
        Ok(code)
    }

    /// Offline codes issued on this device for a lock, newest first, with their
    /// PINs when they belong to the lock's current epoch (older ones were revoked).
    pub fn offline_codes(&self, lock_id: LockId) -> Result<Vec<(IssuedOffline, Option<OfflinePin>)>> {
        let issued = self.store.read(|db| {
            db.lock(lock_id)?;
            db.offline_codes_of_lock(lock_id)
        })?;
        let secret = local::offline_secret(self.secure.as_ref(), lock_id)?;
        Ok(issued
            .into_iter()
            .map(|code| {
                let pin = secret
                    .as_ref()
                    .filter(|s| s.epoch == code.epoch)
                    .and_then(|secret| {
                        let class = offline::OfflineClass::from_code(code.class)?;
                        Some(offline::pin_of(
                            lock_id,
                            secret,
                            code.start_hour,
                            class,
                            code.slot,
                        ))
                    });
                (code, pin)
            })
            .collect())
    }
}
