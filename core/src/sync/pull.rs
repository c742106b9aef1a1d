//! Pulling the change feed: page by page from the stored cursor, each page applied
//! in one transaction together with the cursor it ends at, so a crash anywhere
//! resumes from the last page applied.

use std::collections::HashSet;

use chrono::Utc;
use tessera_api::{Change, ErrorCode, LockView, SyncPage};
use tessera_model::{EffectiveSchedule, LockId};

use super::Interrupted;
use super::reconcile::{RemoteCode, merge_code};
use crate::cloud::{CloudError, Session, wire};
use crate::store::{Db, Operation, Store};
use crate::{Error, Result};

/// Changes per page.
const PAGE: u32 = 1_000;
const CURSOR: &str = "sync_cursor";

/// Pulls every change since the stored cursor; returns how many were applied.
pub(super) async fn pull(
    store: &Store,
    session: &Session,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<usize, Interrupted> {
    let mut cursor = stored_cursor(store)?;
    let mut pulled = 0;
    loop {
        let page: SyncPage = session
            .call(|api, token| async move { api.sync_page(&token, cursor, PAGE).await })
            .await
            .map_err(Interrupted::from)?;
        let missing = missing_locks(store, session, &page).await?;
        store.write(|db| {
            for lock in &missing {
                apply(db, &Change::Lock(lock.clone()))?;
            }
            for change in &page.changes {
                apply(db, change)?;
            }
            db.set_meta(CURSOR, &page.cursor.to_be_bytes())
        })?;
        pulled += page.changes.len();
        progress(pulled);
        cursor = Some(page.cursor);
        if !page.has_more {
            return Ok(pulled);
        }
    }
}

fn stored_cursor(store: &Store) -> Result<Option<u64>> {
    let bytes = store.read(|db| db.meta(CURSOR))?;
    Ok(bytes.and_then(|bytes| <[u8; 8]>::try_from(bytes.as_slice()).ok().map(u64::from_be_bytes)))
}

/// Locks this device does not have yet that codes on the page belong to. The feed
/// lists a lock where it last changed, which may be after its codes (a rename).
async fn missing_locks(
    store: &Store,
    session: &Session,
    page: &SyncPage,
) -> Result<Vec<LockView>, Interrupted> {
    let on_page: HashSet<LockId> = page
        .changes
        .iter()
        .filter_map(|change| match change {
            Change::Lock(lock) => Some(lock.id),
            _ => None,
        })
        .collect();
    let known: HashSet<LockId> = store.read(|db| db.locks())?.iter().map(|lock| lock.id).collect();
    let mut wanted: Vec<LockId> = page
        .changes
        .iter()
        .filter_map(|change| match change {
            Change::Code(code) => Some(code.lock_id),
            Change::Event(event) => Some(event.lock_id),
            _ => None,
        })
        .filter(|id| !on_page.contains(id) && !known.contains(id))
        .collect();
    wanted.sort();
    wanted.dedup();
    let mut found = Vec::new();
    for id in wanted {
        match session
            .call(|api, token| async move { api.lock(&token, id).await })
            .await
        {
            Ok(lock) => found.push(lock),
            // Access was taken away since: its changes are skipped.
            Err(CloudError::Rejected {
                code: ErrorCode::NotFound,
                ..
            }) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(found)
}

fn apply(db: &Db, change: &Change) -> Result<()> {
    match change {
        Change::Lock(view) => {
            let Ok(mut lock) = wire::lock_from_view(view) else {
                tracing::warn!(lock = %view.id, "skipped a lock the cloud sent with an unknown time zone");
                return Ok(());
            };
            let renamed_here = db
                .outbox_for(*view.id.as_uuid())?
                .iter()
                .any(|entry| entry.operation == Operation::RenameLock);
            if renamed_here && let Ok(local) = db.lock(view.id) {
                lock.name = local.name;
            }
            db.save_lock_from_cloud(&lock, view.version, Utc::now())
        }
        Change::LockRemoved { lock_id } => match db.delete_lock(*lock_id) {
            Err(Error::NotFound { .. }) => Ok(()),
            other => other,
        },
        Change::Code(view) => {
            let Ok(lock) = db.lock(view.lock_id) else {
                return Ok(());
            };
            let code = match wire::code_from_view(view) {
                Ok(code) => code,
                Err(reason) => {
                    tracing::warn!(code = %view.id, %reason, "skipped a code the cloud sent");
                    return Ok(());
                }
            };
            let local = db.code(view.id).ok();
            let pending = db.outbox_for(*view.id.as_uuid())?;
            let merged = merge_code(
                local.as_ref(),
                &pending,
                RemoteCode {
                    code,
                    set_on_lock_at: view.set_on_lock_at,
                    version: view.version,
                },
            );
            // A schedule this build cannot compile for the lock still counts, as
            // always active, so the PIN rules stay on the safe side.
            let span =
                EffectiveSchedule::compile(&merged.code.schedule, &lock, merged.code.compile_options())
                    .map(|effective| effective.bounds())
                    .unwrap_or((None, None));
            db.save_code_from_cloud(&merged.code, span, merged.sync, merged.server_version)
        }
        Change::Event(event) => {
            if db.lock(event.lock_id).is_ok() {
                db.insert_event(event)?;
            }
            Ok(())
        }
        Change::Member(_) | Change::MemberRemoved { .. } => Ok(()),
    }
}

impl From<CloudError> for Interrupted {
    fn from(error: CloudError) -> Self {
        match error {
            CloudError::SignedOut => Interrupted::SignedOut,
            error if error.is_transient() => Interrupted::Transient(error),
            error => Interrupted::Failed(error.into()),
        }
    }
}

impl From<Error> for Interrupted {
    fn from(error: Error) -> Self {
        Interrupted::Failed(error)
    }
}
