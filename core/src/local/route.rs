//! The local route for codes: makes the lock hold what the store says. It reads
//! what the lock holds, removes revoked and expired codes, sets new and changed
//! ones, and records per code what the lock confirmed: a code is "set on lock"
//! only after the lock's acknowledgement, and only for the version acknowledged.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use tessera_model::{CodeId, CodeStatus, EffectiveSchedule, LockId};

use super::session::LocalLock;
use super::transport::LocalTransport;
use super::wire;
use crate::store::{CodeSync, Store};
use crate::{Error, Result};

/// What one push did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushReport {
    /// Codes the lock now holds that it did not (or held in another version).
    pub set: usize,
    /// Revoked or expired codes the lock dropped.
    pub removed: usize,
    /// Codes the lock already held as they are.
    pub unchanged: usize,
    /// Codes the lock refused, with its reason (the code shows it too).
    pub refused: Vec<(CodeId, String)>,
    /// Codes on the lock this device does not know (set by another phone); left alone.
    pub unknown_on_lock: usize,
}

/// Brings the lock in line with the store's codes for it.
pub async fn push_codes<T: LocalTransport>(
    store: &Store,
    session: &mut LocalLock<T>,
    lock_id: LockId,
    now: DateTime<Utc>,
) -> Result<PushReport> {
    let (lock, records) = store.read(|db| Ok((db.lock(lock_id)?, db.codes_of_lock(lock_id)?)))?;
    let mut on_lock: HashMap<[u8; 16], _> = session
        .list_codes()
        .await?
        .into_iter()
        .map(|code| (code.id, code))
        .collect();
    let mut report = PushReport::default();
    let (mut wanted, mut unwanted) = (Vec::new(), Vec::new());
    for record in records {
        let ended = EffectiveSchedule::compile(&record.code.schedule, &lock, record.code.compile_options())
            .map(|effective| effective.has_ended_by(now))
            .unwrap_or(false);
        let held = on_lock.remove(record.code.id.as_bytes());
        if record.code.status == CodeStatus::Active && !ended {
            wanted.push((record, held));
        } else {
            unwanted.push((record, held.is_some(), ended));
        }
    }
    report.unknown_on_lock = on_lock.len();

    // Removals first: they free room, and a new code may reuse a revoked one's PIN.
    for (record, held, ended) in unwanted {
        let code = &record.code;
        if held {
            session.remove_code(*code.id.as_bytes()).await?;
            report.removed += 1;
        }
        store.write(|db| {
            if code.status == CodeStatus::Revoked {
                db.confirm_on_lock(lock_id, code, now)
            } else if ended {
                db.unconfirm_on_lock(lock_id, code.id)
            } else {
                Ok(())
            }
        })?;
    }
    for (record, held) in wanted {
        let code = &record.code;
        let desired = wire::lock_code(code);
        if held.as_ref() == Some(&desired) {
            report.unchanged += 1;
            store.write(|db| db.confirm_on_lock(lock_id, code, now))?;
            continue;
        }
        match session.set_code(desired).await {
            Ok(()) => {
                report.set += 1;
                store.write(|db| db.confirm_on_lock(lock_id, code, now))?;
            }
            Err(Error::LockRefused { reason }) => {
                tracing::warn!(code = %code.id, %reason, "the lock refused a code");
                store.write(|db| {
                    db.unconfirm_on_lock(lock_id, code.id)?;
                    db.set_code_sync(
                        code.id,
                        CodeSync::Failed {
                            reason: format!("the lock refused: {reason}"),
                        },
                        record.server_version,
                    )
                })?;
                report.refused.push((code.id, reason));
            }
            Err(error) => return Err(error),
        }
    }
    Ok(report)
}
