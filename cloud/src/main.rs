//! `tessera-cloud serve`: the reference cloud as a process.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use tessera_cloud::logging::{self, LogFormat};
use tessera_cloud::{CloudConfig, CloudKey, DbLocation};

#[derive(Debug, Parser)]
#[command(name = "tessera-cloud", version, about = "The Tessera reference cloud")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API until SIGTERM or Ctrl-C.
    Serve {
        /// Address to listen on; port 0 picks a free one (printed at start).
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: String,
        /// SQLite database file (created if missing), or `:memory:`.
        #[arg(long)]
        db: String,
        /// The key that seals PINs at rest: 32 bytes, created (0600) if missing.
        /// Default: the database path plus `.key`; a random one for `:memory:`.
        #[arg(long)]
        key_file: Option<PathBuf>,
        /// Lifetime of access tokens, in seconds.
        #[arg(long, default_value_t = 900, value_parser = clap::value_parser!(u64).range(1..))]
        access_token_ttl: u64,
        /// Log format on stderr (filter with RUST_LOG, default `info`).
        #[arg(long, value_enum, default_value_t = LogFormat::Text)]
        log_format: LogFormat,
        /// Append one line per request to this file: time, method, path with
        /// query, status (never bodies or headers).
        #[arg(long)]
        access_log: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let Command::Serve {
        bind,
        db,
        key_file,
        access_token_ttl,
        log_format,
        access_log,
    } = Cli::parse().command;
    logging::init(log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => return fail(&format!("starting the runtime: {error}")),
    };
    let outcome = runtime.block_on(async {
        let location = DbLocation::parse(&db);
        let key = match (&location, key_file) {
            (_, Some(path)) => CloudKey::load_or_create(&path)?,
            (DbLocation::Memory, None) => CloudKey::generate()?,
            (DbLocation::File(path), None) => {
                let mut key_path = path.clone().into_os_string();
                key_path.push(".key");
                CloudKey::load_or_create(&PathBuf::from(key_path))?
            }
        };
        let mut config = CloudConfig::new(location, key);
        config.access_token_ttl = Duration::from_secs(access_token_ttl);
        config.access_log = access_log;
        let listener = tokio::net::TcpListener::bind(&bind).await?;
        let cloud = tessera_cloud::start(config, listener).await?;
        let mut stdout = std::io::stdout();
        writeln!(stdout, "listening on {}", cloud.url())?;
        stdout.flush()?;
        shutdown_signal().await;
        tracing::info!("shutting down");
        cloud.shutdown().await
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error.to_string()),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("tessera-cloud: {message}");
    ExitCode::FAILURE
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(signal) => signal,
        Err(error) => {
            tracing::warn!(%error, "cannot listen for SIGTERM; stop with Ctrl-C");
            let _ = interrupt.await;
            return;
        }
    };
    tokio::select! {
        _ = interrupt => {}
        _ = terminate.recv() => {}
    }
}
