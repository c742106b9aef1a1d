//! The optional access log (`--access-log PATH`): one line per request with the
//! time, the method, the path with its query, and the status. Never a body and
//! never a header (they carry passwords, tokens, PINs and access keys). Paths
//! carry no secret by design: a share link's secret lives in the URL fragment,
//! which browsers do not send, and tests read this log to prove it.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use chrono::{SecondsFormat, Utc};

#[derive(Debug)]
pub struct AccessLog {
    file: Mutex<File>,
}

impl AccessLog {
    /// Appends to `path`, creating it if needed.
    pub fn open(path: &Path) -> std::io::Result<Arc<Self>> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Arc::new(AccessLog {
            file: Mutex::new(file),
        }))
    }

    fn write(&self, line: &str) {
        let mut file = self.file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Err(error) = file.write_all(line.as_bytes()) {
            tracing::warn!(%error, "cannot write the access log");
        }
    }
}

/// The middleware: add with `middleware::from_fn_with_state(log, access_log::record)`.
pub async fn record(State(log): State<Arc<AccessLog>>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let target = request
        .uri()
        .path_and_query()
        .map_or_else(|| request.uri().path().to_owned(), |pq| pq.as_str().to_owned());
    let response = next.run(request).await;
    let at = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    log.write(&format!(
        "{at} {method} {target} {}\n",
        response.status().as_u16()
    ));
    response
}
