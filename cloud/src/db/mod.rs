//! Storage: one SQLite database (WAL) through sqlx, one module per table group.
//!
//! All writes go through a single connection in `BEGIN IMMEDIATE` transactions:
//! SQLite takes one writer at a time anyway, and queuing in the pool instead of
//! in SQLite's busy loop keeps concurrent requests (20 identical code creations)
//! strictly one after another. Reads use their own connections and see the last
//! committed state. Every function takes the connection it works on, so a route
//! composes them in one transaction.

pub mod accounts;
pub mod changes;
pub mod codes;
pub mod events;
pub mod idempotency;
pub mod locks;
pub mod members;
pub mod sessions;
pub mod shares;

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Sqlite, SqlitePool, Transaction};
use uuid::Uuid;

use crate::crypto::{CloudKey, PinCipher, RequestDigester};
use crate::error::ApiError;

/// Where the database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbLocation {
    /// Gone when the cloud stops (tests, demos).
    Memory,
    File(PathBuf),
}

impl DbLocation {
    /// `:memory:` or a file path, as the command line gives it.
    pub fn parse(text: &str) -> Self {
        if text == ":memory:" {
            DbLocation::Memory
        } else {
            DbLocation::File(PathBuf::from(text))
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("opening the database: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migrating the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the key does not open this database (it was created with another key file)")]
    WrongKey,
    #[error("sealing the key check: {0}")]
    Seal(#[from] crate::crypto::SealError),
}

pub type Tx = Transaction<'static, Sqlite>;

const READERS: u32 = 4;
const KEY_CHECK: &str = "key_check";

/// The database and the ciphers its rows need.
#[derive(Debug)]
pub struct Database {
    writer: SqlitePool,
    reader: SqlitePool,
    /// In memory: a connection of its own that is never used, so the database
    /// outlives every pool connection (the pool closes one whose request was
    /// abandoned mid-transaction, and a new one must find the same tables).
    _memory_keeper: Option<std::sync::Mutex<SqliteConnection>>,
    pub cipher: PinCipher,
    pub digester: RequestDigester,
}

impl Database {
    pub async fn open(location: &DbLocation, key: &CloudKey) -> Result<Self, OpenError> {
        let (writer, reader, keeper) = match location {
            DbLocation::Memory => {
                // sqlx names each `sqlite::memory:` database and opens it with a shared
                // cache: every connection with these options sees the same one, for as
                // long as one of them is open.
                let options = SqliteConnectOptions::from_str("sqlite::memory:")?
                    .foreign_keys(true)
                    .disable_statement_logging();
                let keeper = options.connect().await?;
                let pool = SqlitePoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .connect_with(options)
                    .await?;
                (pool.clone(), pool, Some(std::sync::Mutex::new(keeper)))
            }
            DbLocation::File(path) => {
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .busy_timeout(Duration::from_secs(10))
                    // Statements are logged by no one: the request span says what happened.
                    .disable_statement_logging();
                let writer = SqlitePoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_with(
                        options
                            .clone()
                            .create_if_missing(true)
                            .journal_mode(SqliteJournalMode::Wal)
                            // WAL with NORMAL may lose the last commits on power loss, never consistency.
                            .synchronous(SqliteSynchronous::Normal)
                            .foreign_keys(true),
                    )
                    .await?;
                // Readers open lazily, after the writer has created the file and set WAL.
                let reader = SqlitePoolOptions::new()
                    .max_connections(READERS)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_lazy_with(options.read_only(true));
                (writer, reader, None)
            }
        };
        sqlx::migrate!("./migrations").run(&writer).await?;
        let database = Database {
            writer,
            reader,
            _memory_keeper: keeper,
            cipher: PinCipher::new(key),
            digester: RequestDigester::new(key),
        };
        database.check_key().await?;
        Ok(database)
    }

    /// Stamps a new database with a value only this key opens; refuses another key.
    async fn check_key(&self) -> Result<(), OpenError> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let stored: Option<Vec<u8>> = sqlx::query_scalar("SELECT value FROM meta WHERE key = ?1")
            .bind(KEY_CHECK)
            .fetch_optional(&mut *tx)
            .await?;
        match stored {
            Some(check) if self.cipher.verify_key_check(&check) => {}
            Some(_) => return Err(OpenError::WrongKey),
            None => {
                sqlx::query("INSERT INTO meta (key, value) VALUES (?1, ?2)")
                    .bind(KEY_CHECK)
                    .bind(self.cipher.key_check()?)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// A write transaction; it waits for the one before it.
    pub async fn write(&self) -> Result<Tx, ApiError> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// A connection for a single read.
    pub async fn read(&self) -> Result<PoolConnection<Sqlite>, ApiError> {
        Ok(self.reader.acquire().await?)
    }

    /// A read transaction: several reads from one snapshot.
    pub async fn snapshot(&self) -> Result<Tx, ApiError> {
        Ok(self.reader.begin().await?)
    }

    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

/// The current time at the database's precision (milliseconds), so that what a
/// call returns equals what reading it back later returns.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

pub fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub fn from_millis(ms: i64) -> Result<DateTime<Utc>, ApiError> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| ApiError::internal(format!("timestamp {ms} out of range")))
}

pub fn parse_uuid(text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text).map_err(|_| ApiError::internal(format!("stored id {text:?} is not a UUID")))
}

pub fn version(stored: i64) -> Result<u64, ApiError> {
    u64::try_from(stored).map_err(|_| ApiError::internal(format!("stored version {stored} is negative")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The pool closes a connection whose request was abandoned mid-transaction; an
    /// in-memory database must survive that (it did not: "no such table" under load).
    #[tokio::test]
    async fn an_in_memory_database_outlives_a_closed_pool_connection() {
        let database = Database::open(&DbLocation::Memory, &CloudKey::generate().unwrap())
            .await
            .unwrap();
        database.writer.acquire().await.unwrap().close().await.unwrap();
        let mut conn = database.read().await.unwrap();
        let key_checks: i64 = sqlx::query_scalar("SELECT count(*) FROM meta WHERE key = ?1")
            .bind(KEY_CHECK)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(key_checks, 1);
    }
}
