//! Test helpers: a real `tessera-cloud` process on a loopback port, and a small
//! HTTP client for it. No mocks: every test talks to the binary over TCP.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod routes;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tempfile::TempDir;

pub const PASSWORD: &str = "correct horse battery staple";

/// A `tessera-cloud serve` child process, killed on drop.
pub struct Cloud {
    child: Child,
    pub url: String,
    pub dir: TempDir,
    pub db_path: PathBuf,
    pub log_path: PathBuf,
    client: reqwest::Client,
}

/// How to start the process.
#[derive(Default)]
pub struct Options<'a> {
    pub args: Vec<&'a str>,
    pub env: Vec<(&'a str, &'a str)>,
    /// Reuse a directory (and its database) from an earlier process.
    pub dir: Option<TempDir>,
}

impl Cloud {
    pub fn start() -> Cloud {
        Cloud::start_with(Options::default())
    }

    pub fn start_with(options: Options) -> Cloud {
        let dir = options.dir.unwrap_or_else(|| tempfile::tempdir().unwrap());
        let db_path = dir.path().join("cloud.db");
        let log_path = dir.path().join(format!("cloud-{}.log", uuid::Uuid::now_v7()));
        let (child, url) = spawn(&db_path, &log_path, &options.args, &options.env)
            .unwrap_or_else(|message| panic!("the cloud did not start: {message}"));
        Cloud {
            child,
            url,
            dir,
            db_path,
            log_path,
            client: client(),
        }
    }

    /// Stops the process (SIGTERM) and waits for it to exit; returns its directory.
    pub fn stop(mut self) -> (TempDir, std::process::ExitStatus) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = wait_with_timeout(&mut self.child, Duration::from_secs(10));
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        (dir, exit)
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<&Value>) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        Reply::read(request.send().await.unwrap()).await
    }

    /// A request built by the caller (headers, raw bodies).
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        Reply::read(request.send().await.unwrap()).await
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.url))
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(token), Some(&body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(token), Some(&body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    pub async fn sign_up(&self, email: &str) -> Session {
        let body = json!({"email": email, "password": PASSWORD, "device_name": "test phone"});
        let reply = self.call(Method::POST, "/v1/accounts", None, Some(&body)).await;
        assert_eq!(reply.status, 201, "{reply:?}");
        Session::from_tokens(&reply.body)
    }

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        let body = json!({"email": email, "password": password});
        self.call(Method::POST, "/v1/sessions", None, Some(&body)).await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Reply {
        let body = json!({"refresh_token": refresh_token});
        self.call(Method::POST, "/v1/sessions/refresh", None, Some(&body))
            .await
    }

    /// Registers a new lock with default capabilities; returns its id.
    pub async fn register_lock(&self, token: &str, name: &str) -> String {
        let id = new_id();
        let reply = self.post("/v1/locks", token, lock_body(&id, name)).await;
        assert_eq!(reply.status, 201, "{reply:?}");
        id
    }

    /// Creates a permanent code with this PIN; returns its view.
    pub async fn create_code(&self, token: &str, lock: &str, label: &str, pin: &str) -> Value {
        let body = code_body(&new_id(), label, pin, json!({"kind": "permanent"}));
        let reply = self.post(&format!("/v1/locks/{lock}/codes"), token, body).await;
        assert_eq!(reply.status, 201, "{reply:?}");
        reply.body
    }

    pub async fn device_token(&self, token: &str, lock: &str) -> String {
        let reply = self
            .post(&format!("/v1/locks/{lock}/device-credentials"), token, json!({}))
            .await;
        assert_eq!(reply.status, 201, "{reply:?}");
        reply.body["device_token"].as_str().unwrap().to_owned()
    }

    /// Every change after `cursor`, page by page; returns them and the last cursor.
    pub async fn sync_all(&self, token: &str, cursor: u64, limit: u32) -> (Vec<Value>, u64) {
        let mut cursor = cursor;
        let mut changes = Vec::new();
        loop {
            let reply = self
                .get(&format!("/v1/sync?cursor={cursor}&limit={limit}"), token)
                .await;
            assert_eq!(reply.status, 200, "{reply:?}");
            let page: tessera_api::SyncPage = serde_json::from_value(reply.body.clone()).unwrap();
            assert!(page.changes.len() <= limit as usize);
            assert!(page.cursor >= cursor, "the cursor went back");
            changes.extend(reply.body["changes"].as_array().unwrap().iter().cloned());
            cursor = page.cursor;
            if !page.has_more {
                return (changes, cursor);
            }
        }
    }
}

impl Drop for Cloud {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary and reads its `listening on` line.
pub fn spawn(
    db_path: &Path,
    log_path: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<(Child, String), String> {
    let log = File::create(log_path).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_tessera-cloud"));
    command
        .args(["serve", "--bind", "127.0.0.1:0", "--db"])
        .arg(db_path)
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log));
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    match line.trim().strip_prefix("listening on ") {
        Some(url) => Ok((child, url.to_owned())),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            Err(std::fs::read_to_string(log_path).unwrap_or_default())
        }
    }
}

fn wait_with_timeout(child: &mut Child, timeout: Duration) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(std::time::Instant::now() < deadline, "the cloud did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn client() -> reqwest::Client {
    // reqwest is built without a bundled TLS provider; these tests speak plain HTTP,
    // but building a client still wants one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// An answer, with its body parsed (JSON, or `Null` when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub async fn read(response: reqwest::Response) -> Reply {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| panic!("status {status}: not JSON: {}", String::from_utf8_lossy(&bytes)))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    /// The `error.code` of an error answer.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("<no error code>")
    }

    pub fn field(&self) -> Option<&str> {
        self.body["error"]["field"].as_str()
    }

    /// Asserts the status and error code (and that the body is a contract `ErrorBody`).
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!((self.status, self.code()), (status, code), "{self:?}");
        let _: tessera_api::ErrorBody = serde_json::from_value(self.body.clone())
            .unwrap_or_else(|e| panic!("not an ErrorBody ({e}): {self:?}"));
    }
}

/// A signed-in account.
#[derive(Debug, Clone)]
pub struct Session {
    pub access: String,
    pub refresh: String,
    pub account_id: String,
    pub session_id: String,
    pub email: String,
}

impl Session {
    pub fn from_tokens(body: &Value) -> Session {
        let tokens: tessera_api::Tokens = serde_json::from_value(body.clone()).unwrap();
        Session {
            access: tokens.access_token.expose().to_owned(),
            refresh: tokens.refresh_token.expose().to_owned(),
            account_id: tokens.account.id.to_string(),
            session_id: tokens.session_id.to_string(),
            email: tokens.account.email,
        }
    }
}

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub fn lock_body(id: &str, name: &str) -> Value {
    json!({
        "id": id,
        "name": name,
        "time_zone": "Europe/Berlin",
        "capabilities": serde_json::to_value(tessera_model::LockCapabilities::default()).unwrap(),
    })
}

pub fn code_body(id: &str, label: &str, pin: &str, schedule: Value) -> Value {
    json!({"id": id, "label": label, "pin": pin, "schedule": schedule})
}

/// A window some days ahead, in the lock's wall-clock time.
pub fn future_window(days_ahead: i64, days_long: i64) -> Value {
    let start = (chrono::Utc::now() + chrono::Duration::days(days_ahead)).date_naive();
    let end = start + chrono::Duration::days(days_long);
    json!({"kind": "window", "start": format!("{start}T10:00:00"), "end": format!("{end}T10:00:00")})
}

/// A pass sealed with tessera-core's real capsule, and what uploading and
/// opening it take.
pub struct SealedLink {
    pub id: String,
    pub secret: tessera_core::share::ShareSecret,
    /// Unix seconds, as in the link and the associated data.
    pub expires_at: i64,
    /// The `NewShare` body.
    pub body: Value,
    /// The access key, base64url (what the visitor's page sends).
    pub access_key: String,
    pub pin: String,
}

impl SealedLink {
    /// The `OpenShare` body.
    pub fn open_body(&self) -> Value {
        json!({"access_key": self.access_key})
    }

    /// The hosted link's URL on this cloud.
    pub fn url(&self, cloud: &Cloud) -> String {
        tessera_core::share::ShareLink::Hosted {
            base: cloud.url.clone(),
            id: self.id.clone(),
            secret: self.secret.clone(),
            expires_at: self.expires_at,
        }
        .url()
        .to_string()
    }
}

pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A visitor pass for `pin`, expiring at `expires_at` (whole seconds).
pub fn visitor_pass(pin: &str, expires_at: i64) -> tessera_core::share::VisitorPass {
    let issued = (chrono::Utc::now().timestamp() - 60).min(expires_at - 60);
    tessera_core::share::VisitorPass {
        version: tessera_core::share::PASS_VERSION,
        lock_name: "Front door".to_owned(),
        label: "Anna".to_owned(),
        code: tessera_model::Pin::parse(pin).unwrap(),
        kind: tessera_model::ScheduleKind::Permanent,
        lock_zone: "Europe/Berlin".to_owned(),
        summary: "at any time".to_owned(),
        intervals: Vec::new(),
        first_use_minutes: None,
        first_use_by: None,
        address: Some("Kastanienallee 12, Berlin".to_owned()),
        instructions: Some("Press # after the code.".to_owned()),
        host_note: None,
        host_contact: Some("+49 30 1234567".to_owned()),
        issued_at: chrono::DateTime::from_timestamp(issued, 0).unwrap(),
        expires_at: chrono::DateTime::from_timestamp(expires_at, 0).unwrap(),
    }
}

/// Seals a pass for `code_id` with a fresh secret and link id, as a phone does.
pub fn seal_share(code_id: &str, pin: &str, expires_at: i64, max_views: Option<u32>) -> SealedLink {
    use tessera_core::share;
    let id = share::new_link_id().unwrap();
    let secret = share::ShareSecret::generate().unwrap();
    let sealed = share::seal(&visitor_pass(pin, expires_at), &id, &secret).unwrap();
    let access_key = secret.access_key();
    let body = json!({
        "id": id,
        "code_id": code_id,
        "sealed": b64(&sealed),
        "access_key_hash": b64(&share::access_key_hash(access_key.as_slice())),
        "expires_at": chrono::DateTime::from_timestamp(expires_at, 0).unwrap(),
        "max_views": max_views,
    });
    SealedLink {
        id,
        secret,
        expires_at,
        body,
        access_key: b64(access_key.as_slice()),
        pin: pin.to_owned(),
    }
}

/// Unix seconds `seconds` from now.
pub fn seconds_from_now(seconds: i64) -> i64 {
    chrono::Utc::now().timestamp() + seconds
}

impl Cloud {
    /// Uploads a sealed share; asserts it was created.
    pub async fn create_share(&self, token: &str, link: &SealedLink) -> Value {
        let reply = self.post("/v1/shares", token, link.body.clone()).await;
        assert_eq!(reply.status, 201, "{reply:?}");
        reply.body
    }

    /// Opens a share as a visitor's page does (no credentials).
    pub async fn open_share(&self, id: &str, body: &Value) -> Reply {
        self.call(Method::POST, &format!("/v1/shares/{id}/open"), None, Some(body))
            .await
    }
}
