//! The store's schema and its migrations. Each migration runs once, in order, in a
//! transaction; `PRAGMA user_version` records how far a database has come.

use rusqlite::Transaction;
use rusqlite_migration::{HookError, M, Migrations};
use tessera_model::EffectiveSchedule;

use super::codes;
use super::locks;

/// `PRAGMA application_id` of a Tessera store ("TESS"): tells our files from others'.
pub(crate) const APPLICATION_ID: i32 = 0x5445_5353;

/// The schema version this build writes: the number of migrations.
pub(crate) const LATEST: i64 = 2;

pub(crate) fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        // 1: locks, codes with encrypted PINs, the outbox of pending mutations.
        M::up(
            "CREATE TABLE meta (
                key   TEXT PRIMARY KEY NOT NULL,
                value BLOB NOT NULL
            ) WITHOUT ROWID;
            CREATE TABLE locks (
                id           BLOB PRIMARY KEY NOT NULL,
                name         TEXT NOT NULL,
                time_zone    TEXT NOT NULL,
                capabilities TEXT NOT NULL,
                created_at   INTEGER NOT NULL,
                updated_at   INTEGER NOT NULL,
                version      INTEGER NOT NULL
            ) WITHOUT ROWID;
            CREATE TABLE codes (
                id                BLOB PRIMARY KEY NOT NULL,
                lock_id           BLOB NOT NULL REFERENCES locks(id),
                label             TEXT NOT NULL,
                pin               BLOB NOT NULL,
                schedule_kind     TEXT NOT NULL,
                starts_local      INTEGER,
                ends_local        INTEGER,
                weekdays          INTEGER,
                daily_start       INTEGER,
                daily_end         INTEGER,
                first_date        INTEGER,
                last_date         INTEGER,
                first_use_minutes INTEGER,
                allow_widening    INTEGER NOT NULL,
                max_uses          INTEGER,
                status            TEXT NOT NULL,
                created_at        INTEGER NOT NULL,
                updated_at        INTEGER NOT NULL,
                version           INTEGER NOT NULL
            ) WITHOUT ROWID;
            CREATE INDEX codes_by_lock ON codes(lock_id, id);
            CREATE TABLE outbox (
                seq         INTEGER PRIMARY KEY AUTOINCREMENT,
                mutation_id BLOB NOT NULL UNIQUE,
                operation   TEXT NOT NULL,
                entity_id   BLOB NOT NULL,
                created_at  INTEGER NOT NULL
            );",
        ),
        // 2: each code's first and last instant of access, so the PIN rules read only
        // the codes that can be live at the same time as a new one.
        M::up_with_hook(
            "ALTER TABLE codes ADD COLUMN active_from INTEGER;
            ALTER TABLE codes ADD COLUMN active_until INTEGER;
            CREATE INDEX codes_live ON codes(lock_id, status, active_until);",
            fill_active_bounds,
        ),
    ])
}

/// Compiles every existing code's schedule for its lock to fill the new columns.
fn fill_active_bounds(tx: &Transaction) -> Result<(), HookError> {
    let hook_error = |e: crate::Error| HookError::Hook(e.to_string());
    for lock in locks::all(tx).map_err(hook_error)? {
        for (id, schedule, options) in codes::schedules_of_lock(tx, lock.id).map_err(hook_error)? {
            let effective =
                EffectiveSchedule::compile(&schedule, &lock, options).map_err(|e| hook_error(e.into()))?;
            codes::set_active_bounds(tx, id, &effective).map_err(hook_error)?;
        }
    }
    Ok(())
}
