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
pub(crate) const LATEST: i64 = 4;

pub(crate) fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(SCHEMA_1),
        migration_2(),
        M::up(SCHEMA_3),
        M::up(SCHEMA_4),
    ])
}

/// The migrations for a file that holds nothing yet: the first one also marks the file
/// as a Tessera store (application id, key check) in the transaction that creates the
/// schema. Marked in a later transaction, a crash in between would leave our tables in
/// an unmarked file, which every later open refuses as another program's.
pub(crate) fn migrations_for_new_store(key_check: Vec<u8>) -> Migrations<'static> {
    let stamp = move |tx: &Transaction| -> Result<(), HookError> {
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)",
            rusqlite::params![super::KEY_CHECK, key_check],
        )?;
        Ok(())
    };
    Migrations::new(vec![
        M::up_with_hook(SCHEMA_1, stamp),
        migration_2(),
        M::up(SCHEMA_3),
        M::up(SCHEMA_4),
    ])
}

/// 1: locks, codes with encrypted PINs, the outbox of pending mutations.
const SCHEMA_1: &str = "CREATE TABLE meta (
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
            );";

/// 2: each code's first and last instant of access, so the PIN rules read only the
/// codes that can be live at the same time as a new one.
fn migration_2() -> M<'static> {
    M::up_with_hook(
        "ALTER TABLE codes ADD COLUMN active_from INTEGER;
            ALTER TABLE codes ADD COLUMN active_until INTEGER;
            CREATE INDEX codes_live ON codes(lock_id, status, active_until);",
        fill_active_bounds,
    )
}

/// 3: the cloud. Per code, how far it got (sync state, the cloud's version, when the
/// lock confirmed it); per outbox entry, which fields an edit changed (the cloud keeps
/// the others); the events locks report.
const SCHEMA_3: &str = "ALTER TABLE codes ADD COLUMN sync_state TEXT NOT NULL DEFAULT 'pending';
    ALTER TABLE codes ADD COLUMN sync_error TEXT;
    ALTER TABLE codes ADD COLUMN server_version INTEGER;
    ALTER TABLE codes ADD COLUMN set_on_lock_at INTEGER;
    ALTER TABLE locks ADD COLUMN server_version INTEGER;
    ALTER TABLE outbox ADD COLUMN fields TEXT NOT NULL DEFAULT '';
    CREATE INDEX outbox_by_entity ON outbox(entity_id);
    CREATE TABLE events (
        id          BLOB PRIMARY KEY NOT NULL,
        lock_id     BLOB NOT NULL REFERENCES locks(id),
        kind        TEXT NOT NULL,
        code_id     BLOB,
        at          INTEGER NOT NULL,
        recorded_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX events_by_lock ON events(lock_id, at);";

/// 4: locks reached directly (network or Bluetooth). Per lock, its local route and
/// how far its event log was read; per lock and code, what the lock confirmed it
/// holds (a keyed fingerprint of the code as set, never the PIN); the lock's log as
/// read over the local route; the offline codes issued here (headers only: the PIN
/// is derived again from the lock's secret, which lives in the secure store).
const SCHEMA_4: &str = "CREATE TABLE local_locks (
        lock_id         BLOB PRIMARY KEY NOT NULL REFERENCES locks(id),
        address         TEXT,
        ble_device      TEXT,
        paired_at       INTEGER NOT NULL,
        last_reached_at INTEGER,
        events_after    INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE TABLE lock_codes (
        lock_id      BLOB NOT NULL REFERENCES locks(id),
        code_id      BLOB NOT NULL,
        fingerprint  BLOB NOT NULL,
        confirmed_at INTEGER NOT NULL,
        PRIMARY KEY (lock_id, code_id)
    ) WITHOUT ROWID;
    CREATE TABLE lock_log (
        lock_id BLOB NOT NULL REFERENCES locks(id),
        seq     INTEGER NOT NULL,
        at      INTEGER NOT NULL,
        kind    TEXT NOT NULL,
        detail  TEXT NOT NULL,
        PRIMARY KEY (lock_id, seq)
    ) WITHOUT ROWID;
    CREATE TABLE offline_codes (
        lock_id    BLOB NOT NULL REFERENCES locks(id),
        epoch      INTEGER NOT NULL,
        start_hour INTEGER NOT NULL,
        class      INTEGER NOT NULL,
        slot       INTEGER NOT NULL,
        label      TEXT NOT NULL,
        issued_at  INTEGER NOT NULL,
        PRIMARY KEY (lock_id, epoch, start_hour, class, slot)
    ) WITHOUT ROWID;";

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

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc, Weekday};
    use rusqlite::{Connection, params};
    use tessera_model::{
        AccessCode, CodeId, CodeStatus, Granularity, Lock, LockCapabilities, Pin, Schedule, Weekdays,
    };

    use super::*;
    use crate::store::cipher::PinCipher;
    use crate::store::{KEY_CHECK, Store, StoreKey};

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn time(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        at(s).and_utc()
    }

    type SchemaRow = (String, String, String, Option<String>);

    fn schema_of(conn: &Connection) -> Vec<SchemaRow> {
        conn.prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn pragma(conn: &Connection, name: &str) -> i64 {
        conn.pragma_query_value(None, name, |row| row.get(0)).unwrap()
    }

    /// Writes a lock as schema version 1 stored it.
    fn insert_v1_lock(conn: &Connection, lock: &Lock) {
        conn.execute(
            "INSERT INTO locks (id, name, time_zone, capabilities, created_at, updated_at, version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5, 1)",
            params![
                lock.id.as_bytes(),
                lock.name,
                lock.time_zone.name(),
                serde_json::to_string(&lock.capabilities).unwrap(),
                1_767_225_600_000_i64
            ],
        )
        .unwrap();
    }

    /// Writes a code with the columns of schema version 1, spelled out by hand.
    fn insert_v1_code(conn: &Connection, cipher: &PinCipher, code: &AccessCode) {
        let local = |t: &NaiveDateTime| t.and_utc().timestamp();
        let (mut starts, mut ends, mut weekdays, mut daily_start, mut daily_end) =
            (None, None, None, None, None);
        let (mut first_date, mut last_date, mut minutes) = (None, None, None);
        match &code.schedule {
            Schedule::Permanent => {}
            Schedule::Window { start, end } | Schedule::OneTime { start, end } => {
                (starts, ends) = (Some(local(start)), Some(local(end)));
            }
            Schedule::ExpiringAfterFirstUse {
                minutes: m,
                start,
                end,
            } => {
                (starts, ends, minutes) = (Some(local(start)), Some(local(end)), Some(*m));
            }
            Schedule::Weekly {
                days,
                start_time,
                end_time,
                first_date: first,
                last_date: last,
            } => {
                weekdays = Some(days.bits());
                daily_start = Some(start_time.num_seconds_from_midnight());
                daily_end = Some(end_time.num_seconds_from_midnight());
                first_date = Some(first.num_days_from_ce());
                last_date = Some(last.num_days_from_ce());
            }
        }
        conn.execute(
            "INSERT INTO codes (id, lock_id, label, pin, schedule_kind, starts_local, ends_local,
                 weekdays, daily_start, daily_end, first_date, last_date, first_use_minutes,
                 allow_widening, max_uses, status, created_at, updated_at, version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
            params![
                code.id.as_bytes(),
                code.lock_id.as_bytes(),
                code.label,
                cipher.seal_pin(code.id, &code.pin).unwrap(),
                code.schedule.kind().as_str(),
                starts,
                ends,
                weekdays,
                daily_start,
                daily_end,
                first_date,
                last_date,
                minutes,
                code.allow_widening,
                code.max_uses,
                code.status.as_str(),
                code.created_at.timestamp_millis(),
                code.updated_at.timestamp_millis(),
                i64::try_from(code.version).unwrap(),
            ],
        )
        .unwrap();
    }

    fn code(lock: &Lock, label: &str, pin: &str, schedule: Schedule) -> AccessCode {
        let created = Utc.with_ymd_and_hms(2026, 3, 1, 8, 30, 15).unwrap();
        AccessCode {
            id: CodeId::new(),
            lock_id: lock.id,
            label: label.to_owned(),
            pin: Pin::parse(pin).unwrap(),
            schedule,
            allow_widening: false,
            max_uses: None,
            status: CodeStatus::Active,
            created_at: created,
            updated_at: created,
            version: 1,
        }
    }

    #[test]
    fn latest_is_the_number_of_migrations() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(i64::from(migrations().pending_migrations(&conn).unwrap()), LATEST);
        assert_eq!(
            i64::from(
                migrations_for_new_store(Vec::new())
                    .pending_migrations(&conn)
                    .unwrap()
            ),
            LATEST
        );
        let beyond = usize::try_from(LATEST + 1).unwrap();
        assert!(migrations().to_version(&mut conn, beyond).is_err());
        migrations().to_latest(&mut conn).unwrap();
        assert_eq!(pragma(&conn, "user_version"), LATEST);
        // A new store is marked as ours by the same migrations.
        let store = tempfile::tempdir().unwrap();
        let path = store.path().join("new.db");
        drop(Store::open(&path, &StoreKey::from_bytes([3; 32])).unwrap());
        let conn = Connection::open(&path).unwrap();
        assert_eq!(pragma(&conn, "user_version"), LATEST);
        assert_eq!(pragma(&conn, "application_id"), i64::from(APPLICATION_ID));
    }

    #[test]
    fn a_version_1_store_migrates_to_the_latest_schema() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("old.db");
        let key = StoreKey::from_bytes([9; 32]);
        let cipher = PinCipher::new(&key);

        let berlin = Lock::new("Front door", "Europe/Berlin", LockCapabilities::default()).unwrap();
        let new_york = Lock::new(
            "Garage",
            "America/New_York",
            LockCapabilities {
                granularity: Granularity::Hour,
                ..LockCapabilities::default()
            },
        )
        .unwrap();
        let weekdays = |days: &[Weekday]| days.iter().copied().collect::<Weekdays>();
        let mut codes = vec![
            code(&berlin, "Cleaner", "482916", Schedule::Permanent),
            code(
                &berlin,
                "Plumber",
                "90517364",
                Schedule::Window {
                    start: at("2031-06-10 09:00"),
                    end: at("2031-06-10 17:30"),
                },
            ),
            code(
                &berlin,
                "Night nurse",
                "7305",
                Schedule::Weekly {
                    days: weekdays(&[Weekday::Fri, Weekday::Sat]),
                    start_time: time("22:00"),
                    end_time: time("06:00"),
                    first_date: date("2031-03-01"),
                    last_date: date("2031-04-30"),
                },
            ),
            code(
                &new_york,
                "Delivery",
                "735819",
                Schedule::Window {
                    start: at("2031-06-10 10:07"),
                    end: at("2031-06-10 12:53"),
                },
            ),
            code(
                &new_york,
                "Party",
                "381916",
                Schedule::OneTime {
                    start: at("2031-07-04 18:00"),
                    end: at("2031-07-05 02:00"),
                },
            ),
            code(
                &new_york,
                "Weekend guest",
                "4718",
                Schedule::ExpiringAfterFirstUse {
                    minutes: 120,
                    start: at("2031-11-01 12:00"),
                    end: at("2031-11-03 12:00"),
                },
            ),
        ];
        codes[1].max_uses = Some(5);
        codes[3].allow_widening = true;
        codes[4].status = CodeStatus::Revoked;
        codes[4].version = 2;
        codes[4].updated_at = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();

        {
            let mut conn = Connection::open(&old).unwrap();
            conn.pragma_update(None, "journal_mode", "WAL").unwrap();
            migrations().to_version(&mut conn, 1).unwrap();
            assert_eq!(pragma(&conn, "user_version"), 1);
            conn.pragma_update(None, "application_id", APPLICATION_ID)
                .unwrap();
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                params![KEY_CHECK, cipher.key_check().unwrap()],
            )
            .unwrap();
            insert_v1_lock(&conn, &berlin);
            insert_v1_lock(&conn, &new_york);
            for code in &codes {
                insert_v1_code(&conn, &cipher, code);
            }
            let columns: Vec<String> = conn
                .prepare("SELECT name FROM pragma_table_info('codes')")
                .unwrap()
                .query_map([], |row| row.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert!(!columns.iter().any(|c| c.starts_with("active_")), "{columns:?}");
        }

        // The wrong key does not migrate it.
        assert!(matches!(
            Store::open(&old, &StoreKey::from_bytes([8; 32])),
            Err(crate::Error::WrongKey)
        ));
        let store = Store::open(&old, &key).unwrap();
        for expected in &codes {
            let actual = store.read(|db| db.code(expected.id)).unwrap();
            assert_eq!(actual.code.lock_id, expected.lock_id);
            assert_eq!(actual.code.label, expected.label);
            assert_eq!(actual.code.pin.expose(), expected.pin.expose());
            assert_eq!(actual.code.schedule, expected.schedule);
            assert_eq!(actual.code.allow_widening, expected.allow_widening);
            assert_eq!(actual.code.max_uses, expected.max_uses);
            assert_eq!(actual.code.status, expected.status);
            assert_eq!(actual.code.created_at, expected.created_at);
            assert_eq!(actual.code.updated_at, expected.updated_at);
            assert_eq!(actual.code.version, expected.version);
        }
        assert_eq!(
            store.read(|db| db.locks()).unwrap(),
            [berlin.clone(), new_york.clone()]
        );
        drop(store);

        let conn = Connection::open(&old).unwrap();
        assert_eq!(pragma(&conn, "user_version"), LATEST);
        assert_eq!(pragma(&conn, "application_id"), i64::from(APPLICATION_ID));
        let bounds = |id: CodeId| -> (Option<i64>, Option<i64>) {
            conn.query_row(
                "SELECT active_from, active_until FROM codes WHERE id = ?1",
                [id.as_bytes()],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap()
        };
        for code in &codes {
            let lock = if code.lock_id == berlin.id {
                &berlin
            } else {
                &new_york
            };
            let (from, until) = EffectiveSchedule::compile(&code.schedule, lock, code.compile_options())
                .unwrap()
                .bounds();
            let expected = (
                from.map(|t| t.timestamp_millis()),
                until.map(|t| t.timestamp_millis()),
            );
            assert_eq!(bounds(code.id), expected, "{}", code.label);
        }
        // By hand, for a few: the lock's zone and granularity were applied.
        let ms = |s: &str| Some(utc(s).timestamp_millis());
        assert_eq!(bounds(codes[0].id), (None, None));
        // Berlin in June is UTC+2.
        assert_eq!(
            bounds(codes[1].id),
            (ms("2031-06-10 07:00"), ms("2031-06-10 15:30"))
        );
        // New York in June is UTC-4; whole hours, widened: 10:00-13:00 local.
        assert_eq!(
            bounds(codes[3].id),
            (ms("2031-06-10 14:00"), ms("2031-06-10 17:00"))
        );
        // Fridays and Saturdays 22:00-06:00 in March and April 2031: the first begins
        // Sat 2031-03-01 (UTC+1), the last Sat 2031-04-26 (UTC+2).
        assert_eq!(
            bounds(codes[2].id),
            (ms("2031-03-01 21:00"), ms("2031-04-27 04:00"))
        );

        // The migrated schema is exactly the one a new store gets.
        let fresh = dir.path().join("fresh.db");
        drop(Store::open(&fresh, &key).unwrap());
        let fresh = Connection::open(&fresh).unwrap();
        let migrated = schema_of(&conn);
        assert_eq!(migrated, schema_of(&fresh));
        assert!(migrated.iter().any(|(_, name, _, _)| name == "codes_live"));
        assert_eq!(pragma(&conn, "user_version"), pragma(&fresh, "user_version"));
    }
}
