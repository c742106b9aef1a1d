//! The conflict rules, as pure functions: what a code becomes when the cloud's
//! version meets this device's.
//!
//! - The cloud wins on every field the owner did not change on this device since
//!   the last sync (another phone's edit arrives whole).
//! - The owner's pending edits win on the fields they touched: they are pushed
//!   after the pull and the cloud applies them on top.
//! - A revoke wins over any edit, whichever side made it: a revoked code never
//!   comes back.
//! - A refused change stays marked failed until the cloud has something newer.

use chrono::{DateTime, Utc};
use tessera_model::{AccessCode, CodeStatus};

use crate::store::{CodeField, CodeRecord, CodeSync, Operation, OutboxEntry};

/// A code as the cloud has it.
#[derive(Debug, Clone)]
pub(crate) struct RemoteCode {
    pub code: AccessCode,
    pub set_on_lock_at: Option<DateTime<Utc>>,
    pub version: u64,
}

/// What to store.
#[derive(Debug, Clone)]
pub(crate) struct Merged {
    pub code: AccessCode,
    pub sync: CodeSync,
    pub server_version: u64,
}

pub(crate) fn merge_code(local: Option<&CodeRecord>, pending: &[OutboxEntry], remote: RemoteCode) -> Merged {
    let remote_sync = match remote.set_on_lock_at {
        Some(at) => CodeSync::SetOnLock { at },
        None => CodeSync::Synced,
    };
    let Some(local) = local else {
        return Merged {
            code: remote.code,
            sync: remote_sync,
            server_version: remote.version,
        };
    };
    if pending.is_empty() {
        let nothing_newer = local.server_version.is_some_and(|known| known >= remote.version);
        let sync = match &local.sync {
            CodeSync::Failed { .. } if nothing_newer => local.sync.clone(),
            _ => remote_sync,
        };
        return Merged {
            code: remote.code,
            sync,
            server_version: remote.version,
        };
    }
    let mut code = remote.code;
    for field in touched_fields(pending) {
        match field {
            CodeField::Label => code.label.clone_from(&local.code.label),
            CodeField::Pin => code.pin = local.code.pin.clone(),
            CodeField::Schedule => code.schedule = local.code.schedule.clone(),
            CodeField::AllowWidening => code.allow_widening = local.code.allow_widening,
            CodeField::MaxUses => code.max_uses = local.code.max_uses,
        }
    }
    if local.code.status == CodeStatus::Revoked {
        code.status = CodeStatus::Revoked;
    }
    code.updated_at = code.updated_at.max(local.code.updated_at);
    Merged {
        code,
        sync: CodeSync::Pending,
        server_version: remote.version,
    }
}

/// The fields pending entries changed; a code created here owns all of them.
fn touched_fields(pending: &[OutboxEntry]) -> Vec<CodeField> {
    if pending
        .iter()
        .any(|entry| entry.operation == Operation::CreateCode)
    {
        return CodeField::ALL.to_vec();
    }
    let mut fields: Vec<CodeField> = Vec::new();
    for field in pending.iter().flat_map(|entry| entry.fields.iter().copied()) {
        if !fields.contains(&field) {
            fields.push(field);
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use tessera_model::{CodeId, LockId, Pin, Schedule};
    use uuid::Uuid;

    use super::*;

    fn code(label: &str, pin: &str) -> AccessCode {
        let now = Utc::now();
        AccessCode {
            id: CodeId::from_bytes([1; 16]),
            lock_id: LockId::from_bytes([2; 16]),
            label: label.to_owned(),
            pin: Pin::parse(pin).unwrap(),
            schedule: Schedule::Permanent,
            allow_widening: false,
            max_uses: None,
            status: CodeStatus::Active,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    fn record(code: AccessCode, sync: CodeSync, server_version: Option<u64>) -> CodeRecord {
        CodeRecord {
            code,
            sync,
            server_version,
        }
    }

    fn entry(operation: Operation, fields: &[CodeField]) -> OutboxEntry {
        OutboxEntry {
            seq: 1,
            mutation_id: Uuid::now_v7(),
            operation,
            entity_id: Uuid::from_bytes([1; 16]),
            fields: fields.to_vec(),
            created_at: Utc::now(),
        }
    }

    fn remote(code: AccessCode, version: u64) -> RemoteCode {
        RemoteCode {
            code,
            set_on_lock_at: None,
            version,
        }
    }

    #[test]
    fn the_cloud_wins_when_nothing_is_pending_here() {
        let local = record(code("Cleaner", "482916"), CodeSync::Synced, Some(1));
        let merged = merge_code(Some(&local), &[], remote(code("Cleaning team", "573920"), 2));
        assert_eq!(merged.code.label, "Cleaning team");
        assert_eq!(merged.code.pin.expose(), "573920");
        assert_eq!(merged.sync, CodeSync::Synced);
        assert_eq!(merged.server_version, 2);
    }

    #[test]
    fn local_edits_keep_their_fields_and_the_cloud_fills_the_rest() {
        let mut mine = code("Anna", "482916");
        mine.max_uses = Some(3);
        let local = record(mine, CodeSync::Pending, Some(1));
        let pending = [entry(Operation::UpdateCode, &[CodeField::Label])];
        let mut theirs = code("Cleaner", "573920");
        theirs.max_uses = Some(9);
        let merged = merge_code(Some(&local), &pending, remote(theirs, 2));
        assert_eq!(merged.code.label, "Anna", "the owner's pending label wins");
        assert_eq!(merged.code.pin.expose(), "573920", "the cloud's PIN fills in");
        assert_eq!(merged.code.max_uses, Some(9));
        assert_eq!(merged.sync, CodeSync::Pending);
    }

    #[test]
    fn a_local_revoke_wins_over_a_remote_edit() {
        let mut mine = code("Anna", "482916");
        mine.status = CodeStatus::Revoked;
        let local = record(mine, CodeSync::Pending, Some(1));
        let pending = [entry(Operation::RevokeCode, &[])];
        let merged = merge_code(Some(&local), &pending, remote(code("Anna (edited)", "482916"), 2));
        assert_eq!(merged.code.status, CodeStatus::Revoked);
        assert_eq!(merged.code.label, "Anna (edited)");
    }

    #[test]
    fn a_remote_revoke_wins_over_a_local_edit() {
        let local = record(code("Anna", "482916"), CodeSync::Pending, Some(1));
        let pending = [entry(Operation::UpdateCode, &[CodeField::Label])];
        let mut theirs = code("Anna", "482916");
        theirs.status = CodeStatus::Revoked;
        let merged = merge_code(Some(&local), &pending, remote(theirs, 2));
        assert_eq!(merged.code.status, CodeStatus::Revoked);
    }

    #[test]
    fn a_code_created_here_keeps_every_field() {
        let local = record(code("Anna", "482916"), CodeSync::Pending, None);
        let pending = [entry(Operation::CreateCode, &[])];
        let merged = merge_code(Some(&local), &pending, remote(code("Other", "573920"), 1));
        assert_eq!(merged.code.label, "Anna");
        assert_eq!(merged.code.pin.expose(), "482916");
    }

    #[test]
    fn a_failure_stays_until_the_cloud_has_something_newer() {
        let failed = CodeSync::Failed {
            reason: "weak PIN".to_owned(),
        };
        let local = record(code("Anna", "482916"), failed.clone(), Some(3));
        let same = merge_code(Some(&local), &[], remote(code("Anna", "482916"), 3));
        assert_eq!(same.sync, failed);
        let mut newer = remote(code("Anna", "573920"), 4);
        newer.set_on_lock_at = Some(Utc::now() - Duration::minutes(1));
        let merged = merge_code(Some(&local), &[], newer);
        assert!(matches!(merged.sync, CodeSync::SetOnLock { .. }));
    }
}
