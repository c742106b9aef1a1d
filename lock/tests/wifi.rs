//! Wi-Fi mode: a real `tessera-lock` process against a real tessera-cloud (the
//! library, serving on a loopback port, as the cloud's embedding API offers). A
//! code created in the cloud is set on the lock, the cloud hears it is, the
//! keypad opens with it and the cloud hears that too; a code revoked in the
//! cloud leaves the lock.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{LockProcess, Options, eventually, phone};
use tessera_protocol::wire::{Request, Response};

const WAIT: Duration = Duration::from_secs(60);
const PIN: &str = "48291635";

/// The cloud, and blocking calls to its HTTP API.
struct Cloud {
    runtime: tokio::runtime::Runtime,
    running: Option<tessera_cloud::RunningCloud>,
    http: reqwest::Client,
    url: String,
}

impl Cloud {
    fn start(access_log: Option<std::path::PathBuf>) -> Cloud {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let running = runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mut config = tessera_cloud::CloudConfig::in_memory().unwrap();
            config.access_log = access_log;
            tessera_cloud::start(config, listener).await.unwrap()
        });
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let url = running.url();
        Cloud {
            runtime,
            running: Some(running),
            http,
            url,
        }
    }

    fn call(&self, method: reqwest::Method, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
        self.runtime.block_on(async {
            let mut request = self
                .http
                .request(method, format!("{}{path}", self.url))
                .bearer_auth(token);
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let bytes = response.bytes().await.unwrap();
            let body = if bytes.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&bytes).unwrap()
            };
            (status, body)
        })
    }

    fn post(&self, path: &str, token: &str, body: Value) -> Value {
        let (status, body) = self.call(reqwest::Method::POST, path, token, Some(body));
        assert!((200..300).contains(&status), "POST {path}: {status} {body}");
        body
    }

    fn get(&self, path: &str, token: &str) -> Value {
        let (status, body) = self.call(reqwest::Method::GET, path, token, None);
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    fn events(&self, lock: &str, token: &str) -> Vec<Value> {
        self.get(&format!("/v1/locks/{lock}/events?limit=100"), token)
            .as_array()
            .unwrap()
            .clone()
    }
}

impl Drop for Cloud {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = self.runtime.block_on(running.shutdown());
        }
    }
}

/// A Wi-Fi lock of `cloud`: registered by its owner, with a device credential,
/// polling every `poll_ms`, online. Its id, the owner's token and the device token.
fn wifi_lock(cloud: &Cloud, poll_ms: u64) -> (LockProcess, String, String, String) {
    // The lock exists first (its id is on its label, or the phone learns it when
    // pairing); the owner registers it with that id.
    let mut lock = LockProcess::start_with(Options {
        log: Some("info,tessera_lock=debug".to_owned()),
        ..Options::default()
    });
    let lock_id = lock.status()["cloud_id"].as_str().unwrap().to_owned();
    lock.kill9();

    let (status, tokens) = cloud.call(
        reqwest::Method::POST,
        "/v1/accounts",
        "",
        Some(json!({"email": "owner@example.com", "password": "correct horse battery staple", "device_name": "phone"})),
    );
    assert_eq!(status, 201, "{tokens}");
    let owner = tokens["access_token"].as_str().unwrap().to_owned();
    cloud.post(
        "/v1/locks",
        &owner,
        json!({
            "id": lock_id,
            "name": "Front door",
            "time_zone": "Europe/Berlin",
            "capabilities": serde_json::to_value(tessera_model::LockCapabilities::default()).unwrap(),
        }),
    );
    let credential = cloud.post(
        &format!("/v1/locks/{lock_id}/device-credentials"),
        &owner,
        json!({}),
    );
    let device_token = credential["device_token"].as_str().unwrap().to_owned();

    lock.options.args = vec![
        "--cloud".into(),
        cloud.url.clone(),
        "--device-token".into(),
        device_token.clone(),
        "--cloud-poll-ms".into(),
        poll_ms.to_string(),
    ];
    lock.restart();
    eventually("the lock to come online", WAIT, || {
        cloud
            .events(&lock_id, &owner)
            .iter()
            .any(|event| event["kind"] == "lock_online")
            .then_some(())
    });
    (lock, lock_id, owner, device_token)
}

#[test]
fn a_code_created_in_the_cloud_is_set_on_the_wifi_lock_and_its_use_comes_back() {
    let cloud = Cloud::start(None);
    let (mut lock, lock_id, owner, device_token) = wifi_lock(&cloud, 100);

    let code_id = tessera_model::CodeId::new().to_string();
    cloud.post(
        &format!("/v1/locks/{lock_id}/codes"),
        &owner,
        json!({"id": code_id, "label": "Anna", "pin": PIN, "schedule": {"kind": "permanent"}}),
    );

    // The lock holds it ...
    eventually("the lock to hold the code", WAIT, || {
        (lock.status()["codes"] == 1).then_some(())
    });
    let key = lock.pair(phone(1));
    let mut session = lock.session(phone(1), &key);
    let Ok(Response::Codes(codes)) = session.request(Request::ListCodes) else {
        panic!("no list")
    };
    assert_eq!(codes.len(), 1);
    assert_eq!(
        tessera_model::CodeId::from_bytes(codes[0].id).to_string(),
        code_id
    );
    assert_eq!(codes[0].pin, PIN);
    // ... and the cloud knows.
    let set_on_lock = eventually("the cloud to show the code set on the lock", WAIT, || {
        let view = cloud.get(&format!("/v1/codes/{code_id}"), &owner);
        view["set_on_lock_at"].as_str().map(str::to_owned)
    });
    assert!(!set_on_lock.is_empty());

    // Someone types it in: the cloud hears of it.
    assert_eq!(lock.keypad(PIN), "open");
    eventually("code_used to reach the cloud", WAIT, || {
        cloud
            .events(&lock_id, &owner)
            .iter()
            .any(|event| event["kind"] == "code_used" && event["code_id"] == code_id.as_str())
            .then_some(())
    });
    // A wrong entry is not a code event.
    assert_eq!(lock.keypad("11223344"), "refused");

    // Restarted once all is reported, the lock reports nothing twice and keeps
    // the code. (Killed between reporting and saving how far it got, it reports
    // the rest again: at least once, never lost.)
    eventually("the lock to have reported everything", WAIT, || {
        let status = lock.status();
        (status["cloud_reported_seq"] == status["last_event_seq"]).then_some(())
    });
    lock.kill9();
    lock.restart();
    eventually("the lock to come online again", WAIT, || {
        let online = cloud
            .events(&lock_id, &owner)
            .iter()
            .filter(|event| event["kind"] == "lock_online")
            .count();
        (online == 2).then_some(())
    });
    assert_eq!(lock.status()["codes"], 1);

    // Revoked in the cloud: it leaves the lock, and the cloud hears that.
    cloud.post(&format!("/v1/codes/{code_id}/revoke"), &owner, json!({}));
    eventually("the lock to drop the revoked code", WAIT, || {
        (lock.status()["codes"] == 0).then_some(())
    });
    assert_eq!(lock.keypad(PIN), "refused");
    eventually("the cloud to hear of the removal", WAIT, || {
        let view = cloud.get(&format!("/v1/codes/{code_id}"), &owner);
        view["set_on_lock_at"].is_null().then_some(())
    });

    let events = cloud.events(&lock_id, &owner);
    let kinds = |kind: &str| events.iter().filter(|event| event["kind"] == kind).count();
    assert_eq!(kinds("code_used"), 1, "{events:?}");
    assert_eq!(kinds("code_removed"), 1, "{events:?}");

    assert_eq!(kinds("code_set"), 1, "{events:?}");

    // A window code, in the lock's wall-clock time: the cloud and the lock read
    // it the same way (tessera-model's rules on both sides).
    let tomorrow = (chrono::Utc::now() + chrono::TimeDelta::days(1)).date_naive();
    let window_id = tessera_model::CodeId::new().to_string();
    cloud.post(
        &format!("/v1/locks/{lock_id}/codes"),
        &owner,
        json!({"id": window_id, "label": "Courier", "pin": "71938264", "schedule": {
            "kind": "window", "start": format!("{tomorrow}T10:00:00"), "end": format!("{tomorrow}T12:00:00"),
        }}),
    );
    eventually("the lock to hold the window code", WAIT, || {
        (lock.status()["codes"] == 1).then_some(())
    });
    assert_eq!(lock.keypad("71938264"), "refused", "not yet");
    // 10:30 in Berlin tomorrow (the offset of that day, as chrono-tz says).
    let berlin: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    let inside = tomorrow
        .and_hms_opt(10, 30, 0)
        .unwrap()
        .and_local_timezone(berlin)
        .single()
        .unwrap()
        .with_timezone(&chrono::Utc);
    lock.set_clock(&inside.to_rfc3339());
    assert_eq!(lock.keypad("71938264"), "open");
    eventually("code_used of the window code to reach the cloud", WAIT, || {
        cloud
            .events(&lock_id, &owner)
            .iter()
            .any(|event| event["kind"] == "code_used" && event["code_id"] == window_id.as_str())
            .then_some(())
    });
    lock.set_clock(&(inside + chrono::TimeDelta::hours(2)).to_rfc3339());
    assert_eq!(lock.keypad("71938264"), "refused", "12:30, over");

    // A clean stop tells the cloud the lock is going offline.
    assert!(lock.terminate().success());
    eventually("lock_offline to reach the cloud", WAIT, || {
        cloud
            .events(&lock_id, &owner)
            .iter()
            .any(|event| event["kind"] == "lock_offline")
            .then_some(())
    });
    assert!(!lock.control().exists(), "the control socket is removed");

    let logs = lock.logs();
    assert!(logs.contains("connected to the cloud"), "{logs}");
    assert!(
        !logs.contains(&device_token),
        "the device token is in the lock's log"
    );
    assert!(!logs.contains(PIN), "a PIN is in the lock's log");
}

#[test]
fn the_lock_polls_at_its_interval_and_when_something_happens_not_in_a_loop() {
    let dir = tempfile::tempdir().unwrap();
    let access_log = dir.path().join("access.log");
    let cloud = Cloud::start(Some(access_log.clone()));
    // An hour between polls: the lock asks at start, and when it has news.
    let (lock, lock_id, owner, _) = wifi_lock(&cloud, 3_600_000);
    let polls = || {
        std::fs::read_to_string(&access_log)
            .unwrap_or_default()
            .lines()
            .filter(|line| line.contains("GET /v1/device/codes "))
            .count()
    };
    let code_id = tessera_model::CodeId::new().to_string();
    cloud.post(
        &format!("/v1/locks/{lock_id}/codes"),
        &owner,
        json!({"id": code_id, "label": "Anna", "pin": PIN, "schedule": {"kind": "permanent"}}),
    );
    // Something happens at the lock (an entry): it syncs, and gets the new code.
    assert_eq!(lock.keypad("11223344"), "refused");
    eventually("the lock to hold the code", WAIT, || {
        (lock.status()["codes"] == 1).then_some(())
    });
    eventually("the cloud to show the code set on the lock", WAIT, || {
        let view = cloud.get(&format!("/v1/codes/{code_id}"), &owner);
        view["set_on_lock_at"].as_str().map(str::to_owned)
    });
    // Once at start, once for the entry, perhaps once more for what the sync
    // itself logged: not once per loop turn.
    let count = polls();
    assert!((2..=4).contains(&count), "{count} polls of the cloud");
    assert_eq!(lock.keypad(PIN), "open");
    eventually("code_used to reach the cloud", WAIT, || {
        cloud
            .events(&lock_id, &owner)
            .iter()
            .any(|event| event["kind"] == "code_used")
            .then_some(())
    });
    // (It reports first, then asks for codes: that request may still be on its way.)
    let after = polls();
    assert!(after <= count + 3, "{after} polls of the cloud");
}

#[test]
fn a_refused_device_credential_is_said_once_and_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let access_log = dir.path().join("access.log");
    let cloud = Cloud::start(Some(access_log.clone()));
    let token = "tsd_not-a-credential-the-cloud-issued";
    let lock = LockProcess::start_with(Options {
        args: vec![
            "--cloud".into(),
            cloud.url.clone(),
            "--device-token".into(),
            token.into(),
            "--cloud-poll-ms".into(),
            "50".into(),
        ],
        ..Options::default()
    });
    // At the default log level, the first failure is a warning ...
    let warning = "the cloud is out of reach; retrying error=the cloud does not accept the lock's device credential (401)";
    eventually("the warning", WAIT, || {
        lock.logs().contains(warning).then_some(())
    });
    // ... and the lock keeps working as a lock meanwhile.
    assert_eq!(lock.keypad("11223344"), "refused");
    eventually("a few more refused tries", WAIT, || {
        let log = std::fs::read_to_string(&access_log).unwrap_or_default();
        (log.lines().filter(|line| line.ends_with(" 401")).count() >= 4).then_some(())
    });
    assert_eq!(lock.status()["cloud_reported_seq"], 0);
    let logs = lock.logs();
    assert_eq!(logs.matches(warning).count(), 1, "said once: {logs}");
    assert!(!logs.contains(token), "the device token is in the lock's log");
}

#[test]
fn a_code_a_phone_removed_is_not_put_back_by_a_cloud_that_has_not_heard_yet() {
    let cloud = Cloud::start(None);
    let (mut lock, lock_id, owner, _device_token) = wifi_lock(&cloud, 100);
    let code_id = tessera_model::CodeId::new().to_string();
    cloud.post(
        &format!("/v1/locks/{lock_id}/codes"),
        &owner,
        json!({"id": code_id, "label": "Cleaner", "pin": PIN, "schedule": {"kind": "permanent"}}),
    );
    eventually("the lock to hold the code", WAIT, || {
        (lock.status()["codes"] == 1).then_some(())
    });

    // The owner revokes it on the phone, next to the lock, with no internet: the
    // phone removes it over the local route; the cloud still lists it.
    let key = lock.pair(phone(1));
    let mut session = lock.session(phone(1), &key);
    let id = *code_id.parse::<tessera_model::CodeId>().unwrap().as_bytes();
    assert_eq!(session.request(Request::RemoveCode { id }), Ok(Response::Done));
    drop(session);
    // Polls come and go (and a restart in between): the code stays off the lock.
    let polled = cloud.get(&format!("/v1/codes/{code_id}"), &owner);
    assert_eq!(
        polled["status"], "active",
        "the cloud has not heard of the revoke"
    );
    lock.kill9();
    lock.restart();
    eventually("the lock to report the removal", WAIT, || {
        cloud
            .events(&lock_id, &owner)
            .iter()
            .any(|event| event["kind"] == "code_removed")
            .then_some(())
    });
    // Five polls' time for the old behaviour to put it back.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(lock.status()["codes"], 0);
    assert_eq!(lock.keypad(PIN), "refused");

    // The revoke reaches the cloud; a new code with the same PIN later is set as usual.
    cloud.post(&format!("/v1/codes/{code_id}/revoke"), &owner, json!({}));
    let again = tessera_model::CodeId::new().to_string();
    cloud.post(
        &format!("/v1/locks/{lock_id}/codes"),
        &owner,
        json!({"id": again, "label": "Cleaner", "pin": PIN, "schedule": {"kind": "permanent"}}),
    );
    eventually("the lock to hold the new code", WAIT, || {
        (lock.status()["codes"] == 1).then_some(())
    });
    assert_eq!(lock.keypad(PIN), "open");
}
