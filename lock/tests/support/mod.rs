//! Test support: real `tessera-lock` processes (spawned, SIGKILLed, started
//! again on the same state directory), their command-line test hooks (keypad,
//! clock, status), and a small blocking TCP client driving tessera-protocol's
//! `ClientConnection`. No mocks: everything goes through the binary.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::fs::File;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::Value;
use tempfile::TempDir;
use tessera_protocol::wire::{LockEvent, Request, Response};
use tessera_protocol::{ClientConnection, ClientEvent, PairingKey, ProtocolError};

/// The setup code the test locks are started with.
pub const SETUP_CODE: &str = "73910482";

/// How a lock process is started.
#[derive(Debug, Clone)]
pub struct Options {
    pub setup_code: String,
    pub zone: Option<String>,
    /// `RUST_LOG` for the process (none: its default, info).
    pub log: Option<String>,
    pub args: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            setup_code: SETUP_CODE.to_owned(),
            zone: Some("Europe/Berlin".to_owned()),
            log: None,
            args: Vec::new(),
        }
    }
}

/// A `tessera-lock serve` process and its state directory; killed on drop.
pub struct LockProcess {
    child: Option<Child>,
    _stdout: Option<BufReader<ChildStdout>>,
    dir: TempDir,
    pub options: Options,
    pub addr: SocketAddr,
    starts: usize,
}

impl LockProcess {
    pub fn start() -> LockProcess {
        LockProcess::start_with(Options::default())
    }

    pub fn start_with(options: Options) -> LockProcess {
        let dir = tempfile::Builder::new().prefix("lock").tempdir().unwrap();
        let mut lock = LockProcess {
            child: None,
            _stdout: None,
            dir,
            options,
            addr: "127.0.0.1:0".parse().unwrap(),
            starts: 0,
        };
        lock.spawn();
        lock
    }

    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    pub fn control(&self) -> PathBuf {
        self.dir.path().join("control.sock")
    }

    fn log_path(&self, start: usize) -> PathBuf {
        self.dir.path().join(format!("lock-{start}.log"))
    }

    /// Everything every start of this lock wrote to stderr.
    pub fn logs(&self) -> String {
        (0..self.starts)
            .map(|start| std::fs::read_to_string(self.log_path(start)).unwrap_or_default())
            .collect()
    }

    fn spawn(&mut self) {
        assert!(self.child.is_none(), "the lock is running");
        let log_path = self.log_path(self.starts);
        self.starts += 1;
        let log = File::create(&log_path).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_tessera-lock"));
        command
            .arg("serve")
            .arg("--state")
            .arg(self.state_dir())
            .args(["--bind", "127.0.0.1:0", "--control"])
            .arg(self.control())
            .arg("--no-announce")
            .args(&self.options.args)
            .env_remove("TESSERA_SETUP_CODE")
            .env_remove("TESSERA_DEVICE_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        // No setup code given: the lock uses (or makes) DIR/setup-code.
        if !self.options.setup_code.is_empty() {
            command.args(["--setup-code", &self.options.setup_code]);
        }
        if let Some(zone) = &self.options.zone {
            command.args(["--zone", zone]);
        }
        match &self.options.log {
            Some(filter) => command.env("RUST_LOG", filter),
            None => command.env_remove("RUST_LOG"),
        };
        let mut child = command.spawn().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let Some(addr) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the lock did not start: {line:?}\n{}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            );
        };
        self.addr = addr.parse().unwrap();
        self.child = Some(child);
        self._stdout = Some(stdout);
    }

    /// Runs another `tessera-lock serve` on this lock's state directory, expecting
    /// it not to start: its exit status and stderr.
    pub fn serve_fails(&self) -> (ExitStatus, String) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tessera-lock"))
            .arg("serve")
            .arg("--state")
            .arg(self.state_dir())
            .args(["--bind", "127.0.0.1:0", "--no-announce"])
            .args(if self.options.setup_code.is_empty() {
                Vec::new()
            } else {
                vec!["--setup-code", self.options.setup_code.as_str()]
            })
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("it started");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stdout = String::new();
        child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
        assert!(!stdout.contains("listening on"), "{stdout}");
        let mut stderr = String::new();
        child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
        (status, stderr)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// SIGKILL, and wait for it to be gone.
    pub fn kill9(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        let _ = child.kill();
        self._stdout = None;
        child.wait().unwrap()
    }

    /// SIGTERM (a clean stop), and wait for it to be gone.
    pub fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        let sent = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        self._stdout = None;
        child.wait().unwrap()
    }

    /// Waits for a process killed by someone else.
    pub fn wait_killed(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        self._stdout = None;
        child.wait().unwrap()
    }

    /// Starts the lock again on the same state directory.
    pub fn restart(&mut self) {
        if self.child.is_some() {
            self.kill9();
        }
        self.spawn();
    }

    /// `tessera-lock keypad --control SOCK DIGITS`: what it printed, and whether
    /// it said the door opened (exit 0).
    pub fn keypad(&self, digits: &str) -> String {
        let (out, status) = self.cli(&["keypad", digits]);
        assert_eq!(
            status.success(),
            out == "open",
            "exit status {status} for {out:?}"
        );
        out
    }

    /// `tessera-lock clock --control SOCK --advance SECONDS`
    pub fn advance_clock(&self, seconds: i64) -> DateTime<Utc> {
        let (out, status) = self.cli(&["clock", "--advance", &seconds.to_string()]);
        assert!(status.success(), "{out}");
        out.parse().unwrap()
    }

    /// `tessera-lock clock --control SOCK --set TIME`
    pub fn set_clock(&self, at: &str) -> DateTime<Utc> {
        let (out, status) = self.cli(&["clock", "--set", at]);
        assert!(status.success(), "{out}");
        out.parse().unwrap()
    }

    /// `tessera-lock status --control SOCK`
    pub fn status(&self) -> Value {
        let (out, status) = self.cli(&["status"]);
        assert!(status.success(), "{out}");
        serde_json::from_str(&out).unwrap()
    }

    /// The lock's clock, from `status`.
    pub fn clock(&self) -> DateTime<Utc> {
        self.status()["clock"].as_str().unwrap().parse().unwrap()
    }

    /// Runs a control command; its stdout (trimmed) and exit status.
    pub fn cli(&self, args: &[&str]) -> (String, ExitStatus) {
        cli(&self.control(), args)
    }

    /// Pairs `phone` with this lock's setup code.
    pub fn pair(&self, phone: [u8; 16]) -> PairingKey {
        let (_, key) = pair(self.addr, phone, &self.options.setup_code).expect("paired");
        key
    }

    pub fn session(&self, phone: [u8; 16], key: &PairingKey) -> Session {
        Session::open(self.addr, phone, key.clone()).expect("a session")
    }
}

impl Drop for LockProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs `tessera-lock ARGS --control SOCK`.
pub fn cli(control: &Path, args: &[&str]) -> (String, ExitStatus) {
    let (command, rest) = args.split_first().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_tessera-lock"))
        .arg(command)
        .arg("--control")
        .arg(control)
        .args(rest)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let out = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    let err = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() && out.is_empty() {
        return (format!("stderr: {}", err.trim()), output.status);
    }
    (out, output.status)
}

/// A phone id for tests.
pub fn phone(n: u8) -> [u8; 16] {
    [n; 16]
}

/// A connection to a lock over TCP, driving `ClientConnection` (blocking).
pub struct Connection {
    pub stream: TcpStream,
    pub client: ClientConnection,
    start: Instant,
    /// Events seen but not yet taken.
    events: Vec<ClientEvent>,
}

impl Connection {
    fn new(addr: SocketAddr, client: ClientConnection, start: Instant) -> Connection {
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_nodelay(true).unwrap();
        Connection {
            stream,
            client,
            start,
            events: Vec::new(),
        }
    }

    pub fn now(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap()
    }

    /// Writes what the state machine has to send.
    fn flush(&mut self) {
        while let Some(bytes) = self.client.poll_transmit() {
            if self.stream.write_all(&bytes).is_err() {
                self.client.handle_close();
            }
        }
    }

    /// Moves bytes until an event `wanted` picks arrives (or the connection
    /// fails: then `Err` with the failure).
    pub fn until<T>(
        &mut self,
        mut wanted: impl FnMut(&ClientEvent) -> Option<T>,
    ) -> Result<T, ProtocolError> {
        let mut buffer = [0u8; 4096];
        loop {
            self.flush();
            while let Some(event) = self.client.poll_event() {
                if let Some(found) = wanted(&event) {
                    return Ok(found);
                }
                if let ClientEvent::Failed(error) = event {
                    return Err(error);
                }
                self.events.push(event);
            }
            let wait = self.client.next_deadline().map_or(Duration::from_secs(60), |at| {
                Duration::from_millis(at.saturating_sub(self.now()).max(1))
            });
            self.stream.set_read_timeout(Some(wait)).unwrap();
            match self.stream.read(&mut buffer) {
                Ok(0) => self.client.handle_close(),
                Ok(n) => {
                    let now = self.now();
                    self.client.handle_input(&buffer[..n], now);
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    let now = self.now();
                    self.client.handle_timeout(now);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => self.client.handle_close(),
            }
        }
    }

    /// Waits for the end of the connection; returns why it ended.
    pub fn closed(&mut self) -> ProtocolError {
        match self.until(|_| None::<()>) {
            Err(error) => error,
            Ok(()) => unreachable!(),
        }
    }
}

/// Pairs `phone` with the lock at `addr` using `setup_code`; the lock's id and
/// the pairing key, or why it failed.
pub fn pair(
    addr: SocketAddr,
    phone: [u8; 16],
    setup_code: &str,
) -> Result<([u8; 16], PairingKey), ProtocolError> {
    let start = Instant::now();
    let client = ClientConnection::pair(phone, setup_code, 0, &mut rand::rng());
    let mut connection = Connection::new(addr, client, start);
    let paired = connection.until(|event| match event {
        ClientEvent::Paired { lock_id, key } => Some((*lock_id, key.clone())),
        _ => None,
    })?;
    // The session that follows pairing comes up too.
    connection.until(|event| matches!(event, ClientEvent::Ready { .. }).then_some(()))?;
    Ok(paired)
}

/// An open session with a lock.
pub struct Session {
    pub connection: Connection,
}

impl Session {
    pub fn open(addr: SocketAddr, phone: [u8; 16], key: PairingKey) -> Result<Session, ProtocolError> {
        let start = Instant::now();
        let client = ClientConnection::resume(phone, key, None, 0, &mut rand::rng());
        let mut connection = Connection::new(addr, client, start);
        connection.until(|event| matches!(event, ClientEvent::Ready { .. }).then_some(()))?;
        Ok(Session { connection })
    }

    /// Sends a request and waits for its answer.
    pub fn request(&mut self, request: Request) -> Result<Response, ProtocolError> {
        let now = self.connection.now();
        let id = self.connection.client.send(request, now)?;
        self.answer(id)
    }

    /// Waits for the answer to request `id`.
    pub fn answer(&mut self, id: u32) -> Result<Response, ProtocolError> {
        self.connection.until(|event| match event {
            ClientEvent::Response {
                id: answered,
                response,
            } if *answered == id => Some(response.clone()),
            _ => None,
        })
    }

    /// Seals requests into frames without sending them: the bytes an attacker
    /// on the path would see (and can replay, alter or reorder); their ids.
    pub fn seal(&mut self, requests: Vec<Request>) -> Vec<(u32, Vec<u8>)> {
        requests
            .into_iter()
            .map(|request| {
                let now = self.connection.now();
                let id = self.connection.client.send(request, now).unwrap();
                let frame = self.connection.client.poll_transmit().expect("a frame");
                assert!(self.connection.client.poll_transmit().is_none());
                (id, frame)
            })
            .collect()
    }

    /// Writes raw bytes to the lock.
    pub fn write_raw(&mut self, bytes: &[u8]) {
        self.connection.stream.write_all(bytes).unwrap();
    }

    /// Every event of the lock's log.
    pub fn events(&mut self) -> Vec<LockEvent> {
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            match self.request(Request::ReadEvents { after, limit: 256 }).unwrap() {
                Response::Events(events) if events.is_empty() => return all,
                Response::Events(events) => {
                    after = events.last().unwrap().seq;
                    all.extend(events);
                }
                other => panic!("{other:?}"),
            }
        }
    }
}

/// Polls `check` until it gives a value (at most `timeout`; then panics with `what`).
/// Not a timing assertion: the deadline only stops a test that would hang.
pub fn eventually<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Seconds since 1970-01-01T00:00 of a naive local time (the wire's encoding).
pub fn local(text: &str) -> i64 {
    text.parse::<chrono::NaiveDateTime>()
        .unwrap()
        .and_utc()
        .timestamp()
}
