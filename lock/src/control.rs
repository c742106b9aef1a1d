//! The control socket: a test hook of the reference lock, not part of the
//! protocol (a real lock has a keypad and a crystal instead). A Unix socket
//! (0600) speaking JSON lines: one request per line, one answer per line.
//!
//! ```text
//! {"op":"keypad","digits":"482916"}        -> {"ok":true,"result":"open","by":{"code":"..."}}
//!                                          -> {"ok":true,"result":"refused"}
//!                                          -> {"ok":true,"result":"locked_out","until":"2031-..Z"}
//! {"op":"clock","advance_seconds":3600}    -> {"ok":true,"clock":"2031-..Z"}
//! {"op":"clock","set":"2031-03-28T09:00:00Z"}
//! {"op":"status"}                          -> {"ok":true,"status":{...}}
//! anything else                            -> {"ok":false,"error":"..."}
//! ```

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;
use zeroize::Zeroizing;

use crate::lock::{KeypadResult, LockHandle, Status};
use crate::{Error, Result};

/// Longest request line taken.
const MAX_LINE: usize = 4096;

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum ControlRequest {
    Keypad {
        digits: String,
    },
    Clock {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        advance_seconds: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        set: Option<DateTime<Utc>>,
    },
    Status,
}

impl std::fmt::Debug for ControlRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ControlRequest::Keypad { digits } => write!(f, "Keypad(<{} digits>)", digits.len()),
            ControlRequest::Clock { advance_seconds, set } => f
                .debug_struct("Clock")
                .field("advance_seconds", advance_seconds)
                .field("set", set)
                .finish(),
            ControlRequest::Status => f.write_str("Status"),
        }
    }
}

/// An answer on the control socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ControlAnswer {
    Keypad {
        ok: bool,
        #[serde(flatten)]
        result: KeypadResult,
    },
    Clock {
        ok: bool,
        clock: DateTime<Utc>,
    },
    Status {
        ok: bool,
        status: Status,
    },
    Error {
        ok: bool,
        error: String,
    },
}

impl LockHandle {
    /// Serves the control socket at `path` (replacing a stale one) until the
    /// future is dropped.
    pub async fn serve_control(&self, path: &Path) -> Result<()> {
        let listener = self.bind_control(path)?;
        self.serve_control_on(listener).await
    }

    /// Binds the control socket (0600), so that it exists before the lock says
    /// it is listening.
    pub fn bind_control(&self, path: &Path) -> Result<UnixListener> {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(path, e)),
        }
        let listener = UnixListener::bind(path).map_err(|e| Error::io(path, e))?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::io(path, e))?;
        Ok(listener)
    }

    pub async fn serve_control_on(&self, listener: UnixListener) -> Result<()> {
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "control socket: accepting failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let lock = self.clone();
            tokio::spawn(async move {
                let (reader, mut writer) = stream.into_split();
                let mut reader = tokio::io::BufReader::new(reader).take(u64::MAX);
                loop {
                    let mut line = Zeroizing::new(Vec::new());
                    reader.set_limit(MAX_LINE as u64 + 1);
                    match reader.read_until(b'\n', &mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    let too_long = line.len() > MAX_LINE;
                    let answer = if too_long {
                        ControlAnswer::Error {
                            ok: false,
                            error: "the request is too long".to_owned(),
                        }
                    } else {
                        lock.control(&line)
                    };
                    let mut out = match serde_json::to_vec(&answer) {
                        Ok(out) => out,
                        Err(_) => return,
                    };
                    out.push(b'\n');
                    if writer.write_all(&out).await.is_err() || too_long {
                        return;
                    }
                }
            });
        }
    }

    /// Answers one control request (a JSON line).
    pub fn control(&self, line: &[u8]) -> ControlAnswer {
        let error = |error: String| ControlAnswer::Error { ok: false, error };
        let request: ControlRequest = match serde_json::from_slice(line) {
            Ok(request) => request,
            // Not echoing serde's message: it may quote the digits.
            Err(e) => return error(format!("not a control request ({:?} error)", e.classify())),
        };
        match request {
            ControlRequest::Keypad { digits } => {
                let digits = Zeroizing::new(digits);
                match self.enter(&digits) {
                    Ok(result) => ControlAnswer::Keypad { ok: true, result },
                    Err(e) => error(e.to_string()),
                }
            }
            ControlRequest::Clock { advance_seconds, set } => {
                let moved = match (advance_seconds, set) {
                    (Some(seconds), None) => match TimeDelta::try_seconds(seconds) {
                        Some(by) => self.shift_clock(by),
                        None => return error("advance_seconds is out of range".to_owned()),
                    },
                    (None, Some(at)) => self.set_clock(at),
                    _ => return error("give exactly one of advance_seconds and set".to_owned()),
                };
                match moved {
                    Ok(clock) => ControlAnswer::Clock { ok: true, clock },
                    Err(e) => error(e.to_string()),
                }
            }
            ControlRequest::Status => ControlAnswer::Status {
                ok: true,
                status: self.status(),
            },
        }
    }
}

/// Sends one request to the control socket at `path`; returns the answer's JSON.
pub fn call(path: &Path, request: &ControlRequest) -> Result<serde_json::Value> {
    let failed = |e: std::io::Error| Error::Control(format!("{}: {e}", path.display()));
    let mut stream = UnixStream::connect(path).map_err(failed)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(failed)?;
    let mut line = Zeroizing::new(serde_json::to_vec(request).map_err(|e| Error::Control(e.to_string()))?);
    line.push(b'\n');
    stream.write_all(&line).map_err(failed)?;
    let mut answer = String::new();
    BufReader::new(&stream).read_line(&mut answer).map_err(failed)?;
    let answer: serde_json::Value = serde_json::from_str(&answer)
        .map_err(|_| Error::Control("the lock's answer is not JSON".to_owned()))?;
    if answer["ok"] == serde_json::Value::Bool(true) {
        Ok(answer)
    } else {
        Err(Error::Control(
            answer["error"]
                .as_str()
                .unwrap_or("the lock refused the request")
                .to_owned(),
        ))
    }
}
