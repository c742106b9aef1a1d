//! `tessera-lock`: the reference lock as a process, and the commands that use
//! its control socket (a test hook; see `tessera_lock::control`).

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};
use tessera_lock::control::{self, ControlRequest};
use tessera_lock::{CloudLink, DeviceToken, Lock, LockConfig, SetupCode};
use zeroize::Zeroizing;

#[derive(Debug, Parser)]
#[command(name = "tessera-lock", version, about = "The Tessera reference lock")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the lock: serve the local protocol, announce it over mDNS, and (with
    /// --cloud) act as a Wi-Fi lock. Prints `listening on ADDR` once ready.
    Serve(Serve),
    /// Type DIGITS on the keypad and press Enter. Prints `open`, `refused` or
    /// `locked out until TIME`; exits 0 when the door opened, 1 when not.
    Keypad {
        #[arg(long)]
        control: PathBuf,
        digits: String,
    },
    /// Move the lock's clock (a test hook: no tolerance check).
    Clock {
        #[arg(long)]
        control: PathBuf,
        /// Seconds to move it by (negative: back).
        #[arg(
            long,
            allow_negative_numbers = true,
            conflicts_with = "set",
            required_unless_present = "set"
        )]
        advance: Option<i64>,
        /// The time to set, RFC 3339 (`2031-03-28T09:00:00Z`).
        #[arg(long)]
        set: Option<DateTime<Utc>>,
    },
    /// Print the lock's status as JSON (id, name, zone, clock, epoch, codes,
    /// paired phones, lockout).
    Status {
        #[arg(long)]
        control: PathBuf,
    },
}

// Not `Debug`-derived: it holds the setup code and the device token.
#[derive(Args)]
struct Serve {
    /// The lock's state directory (created on first start).
    #[arg(long)]
    state: PathBuf,
    /// Address for the local protocol; port 0 picks a free one.
    #[arg(long, default_value = "0.0.0.0:7541")]
    bind: SocketAddr,
    /// The lock's name (sets it, also on a lock that exists).
    #[arg(long)]
    name: Option<String>,
    /// IANA time zone of the lock's schedules (default UTC on a new lock).
    #[arg(long)]
    zone: Option<String>,
    /// The setup code on the label; default: DIR/setup-code, generated (0600)
    /// on first start.
    #[arg(long, env = "TESSERA_SETUP_CODE", hide_env_values = true)]
    setup_code: Option<String>,
    /// A Unix socket for the keypad, clock and status commands (test hook).
    #[arg(long)]
    control: Option<PathBuf>,
    /// Do not announce the lock over mDNS (phones then connect by address).
    #[arg(long)]
    no_announce: bool,
    /// Act as a Wi-Fi lock of this tessera-cloud.
    #[arg(long, requires = "device_token")]
    cloud: Option<String>,
    /// The lock's device credential in that cloud.
    #[arg(
        long,
        env = "TESSERA_DEVICE_TOKEN",
        hide_env_values = true,
        requires = "cloud"
    )]
    device_token: Option<String>,
    /// Milliseconds between polls of the cloud.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(50..))]
    cloud_poll_ms: u64,
    /// Codes the lock holds (a new lock only).
    #[arg(long)]
    capacity: Option<u32>,
    /// Offline codes remembered after their first use.
    #[arg(long)]
    offline_capacity: Option<u32>,
}

impl std::fmt::Debug for Serve {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |secret: &Option<String>| secret.as_ref().map(|_| "<redacted>");
        f.debug_struct("Serve")
            .field("state", &self.state)
            .field("bind", &self.bind)
            .field("name", &self.name)
            .field("zone", &self.zone)
            .field("setup_code", &redacted(&self.setup_code))
            .field("control", &self.control)
            .field("no_announce", &self.no_announce)
            .field("cloud", &self.cloud)
            .field("device_token", &redacted(&self.device_token))
            .field("cloud_poll_ms", &self.cloud_poll_ms)
            .field("capacity", &self.capacity)
            .field("offline_capacity", &self.offline_capacity)
            .finish()
    }
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Serve(serve) => run_serve(serve),
        Command::Keypad { control, digits } => {
            let digits = Zeroizing::new(digits);
            run_control(
                &control,
                &ControlRequest::Keypad {
                    digits: digits.to_string(),
                },
            )
        }
        Command::Clock {
            control,
            advance,
            set,
        } => run_control(
            &control,
            &ControlRequest::Clock {
                advance_seconds: advance,
                set,
            },
        ),
        Command::Status { control } => run_control(&control, &ControlRequest::Status),
    }
}

fn run_control(path: &Path, request: &ControlRequest) -> ExitCode {
    let answer = match control::call(path, request) {
        Ok(answer) => answer,
        Err(error) => return fail(&error.to_string()),
    };
    let mut out = std::io::stdout();
    let printed = match request {
        ControlRequest::Keypad { .. } => {
            let result = answer["result"].as_str().unwrap_or_default();
            let line = match result {
                "locked_out" => format!("locked out until {}", answer["until"].as_str().unwrap_or("?")),
                other => other.to_owned(),
            };
            let printed = writeln!(out, "{line}");
            if printed.is_ok() && result != "open" {
                return ExitCode::from(1);
            }
            printed
        }
        ControlRequest::Clock { .. } => writeln!(out, "{}", answer["clock"].as_str().unwrap_or_default()),
        ControlRequest::Status => match serde_json::to_string_pretty(&answer["status"]) {
            Ok(json) => writeln!(out, "{json}"),
            Err(error) => return fail(&error.to_string()),
        },
    };
    match printed {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error.to_string()),
    }
}

fn run_serve(serve: Serve) -> ExitCode {
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => return fail(&format!("starting the runtime: {error}")),
    };
    match runtime.block_on(serve_lock(serve)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}

async fn serve_lock(serve: Serve) -> Result<(), String> {
    let setup_code = serve
        .setup_code
        .as_deref()
        .map(SetupCode::parse)
        .transpose()
        .map_err(|e| e.to_string())?;
    let mut config = LockConfig::new(&serve.state);
    config.name = serve.name;
    config.time_zone = serve.zone;
    config.setup_code = setup_code;
    config.capacity = serve.capacity;
    config.offline_capacity = serve.offline_capacity;
    let lock = Lock::open(config).map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind(serve.bind)
        .await
        .map_err(|e| format!("binding {}: {e}", serve.bind))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let control = match &serve.control {
        Some(path) => Some(lock.bind_control(path).map_err(|e| e.to_string())?),
        None => None,
    };
    let _announcement = if serve.no_announce {
        None
    } else {
        match lock.announce(address) {
            Ok(announcement) => Some(announcement),
            Err(error) => {
                tracing::warn!(%error, "not announced over mDNS: phones connect by address");
                None
            }
        }
    };
    let link = match (serve.cloud, serve.device_token) {
        (Some(url), Some(token)) => {
            let mut link = CloudLink::new(url, DeviceToken::new(token));
            link.poll_interval = Duration::from_millis(serve.cloud_poll_ms);
            Some(link)
        }
        _ => None,
    };
    tracing::info!(lock = %lock.id_hex(), %address, "lock ready");
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on {address}").map_err(|e| e.to_string())?;
    stdout.flush().map_err(|e| e.to_string())?;

    let mut tasks = tokio::task::JoinSet::new();
    let serving = lock.clone();
    tasks.spawn(async move { serving.serve(listener).await.map_err(|e| format!("serving: {e}")) });
    if let Some(listener) = control {
        let serving = lock.clone();
        tasks.spawn(async move {
            serving
                .serve_control_on(listener)
                .await
                .map_err(|e| e.to_string())
        });
    }
    if let Some(link) = link.clone() {
        let syncing = lock.clone();
        tasks.spawn(async move { syncing.run_cloud(link).await.map_err(|e| e.to_string()) });
    }
    let outcome = tokio::select! {
        () = shutdown_signal() => Ok(()),
        Some(ended) = tasks.join_next() => match ended {
            Ok(result) => result,
            Err(error) => Err(format!("a task failed: {error}")),
        },
    };
    tracing::info!("shutting down");
    tasks.abort_all();
    if let Some(link) = &link {
        let _ = tokio::time::timeout(Duration::from_secs(2), lock.report_offline(link)).await;
    }
    if let Some(path) = &serve.control {
        let _ = std::fs::remove_file(path);
    }
    outcome
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Colours only on a terminal: logs sent to a file stay plain text.
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}

fn fail(message: &str) -> ExitCode {
    eprintln!("tessera-lock: {message}");
    ExitCode::from(2)
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
