//! tessera-cloud: the reference cloud. Owners' phones sign in, register locks,
//! share them with other accounts, create and revoke access codes, and sync
//! everything through a change feed; locks report events with a device
//! credential. The HTTP contract is tessera-api; the rules codes must pass are
//! tessera-model's.
//!
//! Embedding (tests, the CLI demo, benchmarks):
//!
//! ```no_run
//! # async fn run() -> Result<(), tessera_cloud::Error> {
//! let config = tessera_cloud::CloudConfig::in_memory()?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let cloud = tessera_cloud::start(config, listener).await?;
//! println!("{}", cloud.url());
//! cloud.shutdown().await?;
//! # Ok(())
//! # }
//! ```
//!
//! The visitor page for share links (cloud/web/) is served at `/s/`.
//!
//! Layout: `routes/` (one module per resource) over `access` (authorization) and
//! `auth/` (passwords, tokens, sessions, rate limits), over `db/` (one module per
//! table group); `crypto` seals PINs; `error` maps every failure to an `ErrorBody`.

mod access;
mod access_log;
mod auth;
mod crypto;
mod db;
mod error;
mod extract;
pub mod logging;
mod openapi;
mod routes;
mod state;

use std::net::SocketAddr;
use std::time::Duration;

use chrono::TimeDelta;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use auth::rate_limit::RateLimits;
pub use crypto::{CloudKey, KeyError};
pub use db::{DbLocation, OpenError};

/// How long an access token lives unless configured.
pub const DEFAULT_ACCESS_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);
/// How long a refresh token (and so an idle session) lives.
pub const DEFAULT_REFRESH_TOKEN_TTL: Duration = Duration::from_secs(30 * 24 * 60 * 60);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Database(#[from] OpenError),
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
    #[error("building the service: {0}")]
    Setup(String),
}

/// What a cloud needs to start.
#[derive(Debug, Clone)]
pub struct CloudConfig {
    pub db: DbLocation,
    /// Seals PINs at rest; must be the key the database was created with.
    pub key: CloudKey,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub rate_limits: RateLimits,
    /// Where to append one line per request (method, path and query, status).
    pub access_log: Option<std::path::PathBuf>,
}

impl CloudConfig {
    pub fn new(db: DbLocation, key: CloudKey) -> Self {
        CloudConfig {
            db,
            key,
            access_token_ttl: DEFAULT_ACCESS_TOKEN_TTL,
            refresh_token_ttl: DEFAULT_REFRESH_TOKEN_TTL,
            rate_limits: RateLimits::default(),
            access_log: None,
        }
    }

    /// A cloud that forgets everything when it stops, with a random key.
    pub fn in_memory() -> Result<Self, Error> {
        Ok(CloudConfig::new(DbLocation::Memory, CloudKey::generate()?))
    }
}

/// A cloud serving on its listener until shut down.
#[derive(Debug)]
pub struct RunningCloud {
    address: SocketAddr,
    stop: oneshot::Sender<()>,
    server: JoinHandle<std::io::Result<()>>,
    state: state::AppState,
}

impl RunningCloud {
    /// `http://ADDRESS`, the address it actually listens on.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// Stops taking connections, lets requests in flight finish, closes the database.
    pub async fn shutdown(self) -> Result<(), Error> {
        // The server may have stopped on its own (listener error): then there is no one to tell.
        let _ = self.stop.send(());
        let served = self
            .server
            .await
            .map_err(|e| Error::Setup(format!("the server task failed: {e}")))?;
        self.state.db.close().await;
        Ok(served?)
    }
}

/// Opens (or creates) the database and serves the API on `listener`.
pub async fn start(config: CloudConfig, listener: TcpListener) -> Result<RunningCloud, Error> {
    let ttl = |d: Duration| TimeDelta::from_std(d).map_err(|e| Error::Setup(format!("token lifetime: {e}")));
    let database = db::Database::open(&config.db, &config.key).await?;
    let passwords = auth::passwords::Passwords::new().map_err(|e| Error::Setup(e.message))?;
    let state = state::AppState::new(state::Services {
        db: database,
        passwords,
        limiter: auth::rate_limit::RateLimiter::new(config.rate_limits),
        access_token_ttl: ttl(config.access_token_ttl)?,
        refresh_token_ttl: ttl(config.refresh_token_ttl)?,
    });
    let access_log = config
        .access_log
        .as_deref()
        .map(access_log::AccessLog::open)
        .transpose()?;
    let app = routes::router(state.clone(), access_log)
        .map_err(|e| Error::Setup(format!("the OpenAPI document: {e}")))?;
    let address = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    tracing::info!(%address, "serving");
    Ok(RunningCloud {
        address,
        stop,
        server,
        state,
    })
}
