//! The domain's types as the local protocol carries them, and back.

use chrono::{DateTime, Utc};
use tessera_model::{AccessCode, CodeId};
use tessera_protocol::schedule::to_wire;
use tessera_protocol::wire::{EventKind, LockCode, LockEvent};

use crate::store::{LockActivity, LockLogEntry};

/// A code as the lock holds it: its PIN and the schedule as the owner stated it, in
/// the lock's wall-clock time (the lock evaluates it with the same rules).
pub(crate) fn lock_code(code: &AccessCode) -> LockCode {
    LockCode {
        id: *code.id.as_bytes(),
        pin: code.pin.expose().to_owned(),
        schedule: to_wire(&code.schedule),
        max_uses: code.max_uses,
    }
}

fn instant(unix_ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(unix_ms).unwrap_or_default()
}

/// An entry of the lock's log as the store keeps it.
pub(crate) fn log_entry(event: &LockEvent) -> LockLogEntry {
    let code = |id: &[u8; 16]| CodeId::from_bytes(*id);
    let activity = match &event.kind {
        EventKind::CodeUsed { id } => LockActivity::CodeUsed { code: code(id) },
        EventKind::OfflineCodeUsed {
            start_hour,
            class,
            slot,
        } => LockActivity::OfflineCodeUsed {
            start_hour: *start_hour,
            class: *class,
            slot: *slot,
        },
        EventKind::EntryRefused => LockActivity::EntryRefused,
        EventKind::LockedOut { until_unix_ms } => LockActivity::LockedOut {
            until: instant(*until_unix_ms),
        },
        EventKind::CodeSet { id } => LockActivity::CodeSet { code: code(id) },
        EventKind::CodeRemoved { id } => LockActivity::CodeRemoved { code: code(id) },
        EventKind::ClockSet {
            from_unix_ms,
            to_unix_ms,
        } => LockActivity::ClockSet {
            from: instant(*from_unix_ms),
            to: instant(*to_unix_ms),
        },
        EventKind::EpochRotated { epoch } => LockActivity::EpochRotated { epoch: *epoch },
        EventKind::Paired { phone } => LockActivity::Paired { phone: hex(phone) },
        EventKind::PairingFailed => LockActivity::PairingFailed,
        EventKind::Locked => LockActivity::Locked,
        EventKind::Unlocked => LockActivity::Unlocked,
    };
    LockLogEntry {
        seq: event.seq,
        at: instant(event.at_unix_ms),
        activity,
    }
}

/// Lower-case hex, as lock ids are written in TXT records and key names.
pub fn hex(bytes: &[u8]) -> String {
    ::hex::encode(bytes)
}

/// 32 hex digits as a lock id.
pub fn parse_lock_id(text: &str) -> Option<[u8; 16]> {
    let mut id = [0u8; 16];
    ::hex::decode_to_slice(text.trim(), &mut id).ok()?;
    Some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_ids_round_trip_through_hex() {
        let id = [0xa0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xff];
        assert_eq!(hex(&id), "a00102030405060708090a0b0c0d0eff");
        assert_eq!(parse_lock_id(&hex(&id)), Some(id));
        for bad in [
            "",
            "a0",
            "zz0102030405060708090a0b0c0d0eff",
            "é00102030405060708090a0b0c0d0eff",
        ] {
            assert_eq!(parse_lock_id(bad), None, "{bad:?}");
        }
    }
}
