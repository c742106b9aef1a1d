//! Pushing the outbox: each pending mutation, in order, with its idempotency key,
//! built from the entity's current row. What the cloud answers decides the entry's
//! fate: applied, refused (kept as a failure the owner can see), or left for later.

use tessera_api::ErrorCode;
use tessera_model::{CodeId, LockId};

use super::Interrupted;
use crate::Result;
use crate::cloud::{CloudError, Session, wire};
use crate::store::{CodeSync, Operation, OutboxEntry, Store};

/// What became of one entry.
enum Outcome {
    /// The cloud has it; for codes, its new version and lock state.
    Applied(Option<tessera_api::CodeView>),
    /// The cloud already had it (a retry after a lost answer).
    AlreadyApplied,
    /// The cloud refused it for good; the owner sees why.
    Refused(String),
    /// The entity is gone here (its lock was taken away): nothing to push.
    Moot,
}

/// Pushes every pending entry; returns how many were applied and refused.
pub(super) async fn push(
    store: &Store,
    session: &Session,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<(usize, usize), Interrupted> {
    let entries = store.read(|db| db.outbox())?;
    let (mut applied, mut refused) = (0, 0);
    for (done, entry) in entries.iter().enumerate() {
        progress(done, entries.len());
        // An earlier refusal may have dropped this entry (a refused create drops its edits).
        if !store
            .read(|db| db.outbox_for(entry.entity_id))?
            .iter()
            .any(|e| e.seq == entry.seq)
        {
            continue;
        }
        let outcome = match send(store, session, entry).await {
            Ok(outcome) => outcome,
            Err(CloudError::Rejected {
                code: ErrorCode::Conflict | ErrorCode::IdempotencyKeyReused,
                ..
            }) if matches!(entry.operation, Operation::CreateLock | Operation::CreateCode) => {
                Outcome::AlreadyApplied
            }
            Err(CloudError::Rejected {
                code: ErrorCode::CodeRevoked,
                ..
            }) => Outcome::Moot,
            Err(error) if error.is_transient() => return Err(Interrupted::Transient(error)),
            Err(CloudError::SignedOut) => return Err(Interrupted::SignedOut),
            Err(CloudError::Rejected { message, .. }) => Outcome::Refused(message),
            Err(error) => Outcome::Refused(error.to_string()),
        };
        if matches!(outcome, Outcome::Refused(_)) {
            refused += 1;
        } else {
            applied += 1;
        }
        record(store, entry, outcome)?;
    }
    progress(entries.len(), entries.len());
    Ok((applied, refused))
}

async fn send(store: &Store, session: &Session, entry: &OutboxEntry) -> Result<Outcome, CloudError> {
    let key = entry.mutation_id;
    let local = |e: crate::Error| CloudError::Local {
        reason: e.to_string(),
    };
    match entry.operation {
        Operation::CreateLock | Operation::RenameLock => {
            let id = LockId::from_uuid(entry.entity_id);
            let lock = match store.read(|db| db.lock(id)) {
                Ok(lock) => lock,
                Err(crate::Error::NotFound { .. }) => return Ok(Outcome::Moot),
                Err(e) => return Err(local(e)),
            };
            if entry.operation == Operation::CreateLock {
                let body = wire::new_lock(&lock);
                session
                    .call(|api, token| {
                        let body = body.clone();
                        async move { api.create_lock(&token, &body, key).await }
                    })
                    .await?;
            } else {
                let patch = tessera_api::LockPatch {
                    name: Some(lock.name.clone()),
                };
                session
                    .call(|api, token| {
                        let patch = patch.clone();
                        async move { api.patch_lock(&token, id, &patch, key).await }
                    })
                    .await?;
            }
            Ok(Outcome::Applied(None))
        }
        Operation::CreateCode | Operation::UpdateCode | Operation::RevokeCode => {
            let id = CodeId::from_uuid(entry.entity_id);
            let record = match store.read(|db| db.code(id)) {
                Ok(record) => record,
                Err(crate::Error::NotFound { .. }) => return Ok(Outcome::Moot),
                Err(e) => return Err(local(e)),
            };
            let code = record.code;
            let view = match entry.operation {
                Operation::CreateCode => {
                    let body = wire::new_code(&code);
                    let lock = code.lock_id;
                    session
                        .call(|api, token| {
                            let body = body.clone();
                            async move { api.create_code(&token, lock, &body, key).await }
                        })
                        .await?
                }
                Operation::UpdateCode => {
                    let patch = wire::code_patch(&code, &entry.fields);
                    session
                        .call(|api, token| {
                            let patch = patch.clone();
                            async move { api.patch_code(&token, id, &patch, key).await }
                        })
                        .await?
                }
                _ => {
                    session
                        .call(|api, token| async move { api.revoke_code(&token, id, key).await })
                        .await?
                }
            };
            Ok(Outcome::Applied(Some(view)))
        }
    }
}

/// Records an entry's outcome in one transaction.
fn record(store: &Store, entry: &OutboxEntry, outcome: Outcome) -> Result<()> {
    let code = CodeId::from_uuid(entry.entity_id);
    let is_code = matches!(
        entry.operation,
        Operation::CreateCode | Operation::UpdateCode | Operation::RevokeCode
    );
    store.write(|db| {
        db.remove_outbox_entry(entry.seq)?;
        if !is_code {
            return Ok(());
        }
        let Ok(record) = db.code(code) else {
            return Ok(());
        };
        let still_pending = !db.outbox_for(entry.entity_id)?.is_empty();
        match outcome {
            Outcome::Applied(Some(view)) => {
                let sync = match (still_pending, view.set_on_lock_at) {
                    (true, _) => CodeSync::Pending,
                    (false, Some(at)) => CodeSync::SetOnLock { at },
                    (false, None) => CodeSync::Synced,
                };
                db.set_code_sync(code, sync, Some(view.version))
            }
            Outcome::Applied(None) | Outcome::AlreadyApplied | Outcome::Moot => {
                let sync = if still_pending {
                    CodeSync::Pending
                } else {
                    CodeSync::Synced
                };
                db.set_code_sync(code, sync, record.server_version.or(Some(0)))
            }
            Outcome::Refused(reason) => {
                if entry.operation == Operation::CreateCode {
                    // The cloud never had the code: its later edits cannot apply either.
                    db.remove_outbox_for(entry.entity_id)?;
                }
                db.set_code_sync(code, CodeSync::Failed { reason }, record.server_version)
            }
        }
    })
}
