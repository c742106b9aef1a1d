//! Offline-first sync against a real `tessera-cloud` process, driven through the
//! `tessera` command as owners use it.

#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};
use tessera_e2e::{Cloud, PASSWORD, Tessera, http};

struct Setup {
    dir: tempfile::TempDir,
    cloud: Cloud,
}

fn setup(cloud_args: &[&str]) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let cloud = Cloud::start(dir.path(), cloud_args);
    Setup { dir, cloud }
}

impl Setup {
    fn device(&self, name: &str) -> Tessera {
        Tessera::new(&self.dir.path().join(name))
    }
}

fn sign_up(tessera: &Tessera, cloud: &Cloud, email: &str) -> Value {
    tessera.json(&["signup", "--cloud", &cloud.url(), "--email", email])
}

fn log_in(tessera: &Tessera, cloud: &Cloud, email: &str) -> Value {
    tessera.json(&["login", "--cloud", &cloud.url(), "--email", email])
}

fn add_lock(tessera: &Tessera) -> Value {
    tessera.json(&[
        "lock",
        "add",
        "--name",
        "Front door",
        "--tz",
        "Europe/Berlin",
        "--max-codes",
        "1000",
    ])
}

fn create(tessera: &Tessera, label: &str) -> Value {
    tessera.json(&[
        "code",
        "create",
        "--lock",
        "Front door",
        "--label",
        label,
        "--permanent",
        "--pin-length",
        "8",
    ])
}

/// The codes the cloud holds for the account's lock, read over plain HTTP.
fn codes_on_cloud(cloud: &Cloud, email: &str, lock: &str) -> Vec<Value> {
    let body = json!({ "email": email, "password": PASSWORD });
    let (status, tokens) = http("POST", &format!("{}/v1/sessions", cloud.url()), None, Some(&body));
    assert_eq!(status, 200, "{tokens}");
    let token = tokens["access_token"].as_str().unwrap();
    let (status, codes) = http(
        "GET",
        &format!("{}/v1/locks/{lock}/codes", cloud.url()),
        Some(token),
        None,
    );
    assert_eq!(status, 200, "{codes}");
    codes.as_array().unwrap().clone()
}

fn code_ids(codes: &[Value]) -> BTreeSet<String> {
    codes
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn sign_up_log_in_wrong_password_and_rate_limit() {
    let setup = setup(&[]);
    let phone = setup.device("phone");
    let account = sign_up(&phone, &setup.cloud, "owner@example.com");
    assert_eq!(account["account"]["email"], "owner@example.com");
    assert_eq!(phone.json(&["account"])["account"]["email"], "owner@example.com");

    let again = phone.run(&[
        "--json",
        "signup",
        "--cloud",
        &setup.cloud.url(),
        "--email",
        "owner@example.com",
    ]);
    assert_eq!(again.error_json()["error"]["code"], "email_taken");

    let laptop = setup.device("laptop");
    log_in(&laptop, &setup.cloud, "owner@example.com");

    let wrong = |tessera: &Tessera| {
        tessera
            .command(&[
                "--json",
                "login",
                "--cloud",
                &setup.cloud.url(),
                "--email",
                "owner@example.com",
            ])
            .env("TESSERA_PASSWORD", "not the password")
            .output()
            .unwrap()
    };
    let intruder = setup.device("intruder");
    let first = wrong(&intruder);
    assert_eq!(first.status.code(), Some(1));
    let error: Value = serde_json::from_slice(&first.stderr).unwrap();
    assert_eq!(error["error"]["code"], "invalid_credentials");
    let codes: Vec<String> = (0..10)
        .map(|_| {
            let output = wrong(&intruder);
            let error: Value = serde_json::from_slice(&output.stderr).unwrap();
            error["error"]["code"].as_str().unwrap().to_owned()
        })
        .collect();
    assert!(
        codes.iter().any(|code| code == "rate_limited"),
        "never rate limited: {codes:?}"
    );
}

#[test]
fn a_hundred_codes_made_offline_reach_the_cloud_exactly_once() {
    let mut setup = setup(&[]);
    let phone = setup.device("phone");
    sign_up(&phone, &setup.cloud, "owner@example.com");
    let lock = add_lock(&phone);
    let lock_id = lock["id"].as_str().unwrap().to_owned();
    assert_eq!(lock["sync_run"]["state"], "synced");

    setup.cloud.stop();
    let mut made = BTreeSet::new();
    for i in 0..100 {
        let code = create(&phone, &format!("Guest {i}"));
        assert_eq!(code["sync_run"]["state"], "offline", "{code}");
        made.insert(code["id"].as_str().unwrap().to_owned());
    }
    let offline = phone.run(&["--json", "sync"]);
    assert_eq!(offline.code, 1);
    assert_eq!(offline.error_json()["error"]["code"], "offline");
    assert_eq!(phone.json(&["account"])["sync"]["pending"], 100);

    setup.cloud.restart();
    let report = phone.json(&["sync"]);
    assert_eq!(report["pushed"], 100);
    assert_eq!(report["sync"]["pending"], 0);
    let on_cloud = codes_on_cloud(&setup.cloud, "owner@example.com", &lock_id);
    assert_eq!(code_ids(&on_cloud), made);
    let local = phone.json(&["code", "list"]);
    assert!(
        local
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["sync"]["state"] == "synced")
    );
}

#[test]
fn a_sync_killed_midway_resumes_without_duplicates() {
    let mut setup = setup(&[]);
    let phone = setup.device("phone");
    sign_up(&phone, &setup.cloud, "owner@example.com");
    let lock_id = add_lock(&phone)["id"].as_str().unwrap().to_owned();
    setup.cloud.stop();
    let made: BTreeSet<String> = (0..100)
        .map(|i| {
            create(&phone, &format!("Guest {i}"))["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    setup.cloud.restart();

    // Kill the syncing process (SIGKILL) at different moments.
    let mut pending_seen = Vec::new();
    for delay in [40, 90, 150, 250] {
        let mut sync = phone.command(&["sync"]).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = sync.kill();
        let _ = sync.wait();
        pending_seen.push(phone.json(&["account"])["sync"]["pending"].as_u64().unwrap());
    }
    assert!(
        pending_seen.iter().any(|p| *p > 0 && *p < 100) || pending_seen.first() == Some(&100),
        "no kill landed mid-sync: pending after each kill {pending_seen:?}"
    );
    let report = phone.json(&["sync"]);
    assert_eq!(report["sync"]["pending"], 0);
    let on_cloud = codes_on_cloud(&setup.cloud, "owner@example.com", &lock_id);
    assert_eq!(on_cloud.len(), 100, "exactly 100 codes, no duplicates");
    assert_eq!(code_ids(&on_cloud), made);
}

#[test]
fn two_devices_converge_after_concurrent_offline_edits() {
    let mut setup = setup(&[]);
    let phone = setup.device("phone");
    let tablet = setup.device("tablet");
    sign_up(&phone, &setup.cloud, "owner@example.com");
    add_lock(&phone);
    let cleaner = create(&phone, "Cleaner")["id"].as_str().unwrap().to_owned();
    let nanny = create(&phone, "Nanny")["id"].as_str().unwrap().to_owned();
    log_in(&tablet, &setup.cloud, "owner@example.com");
    assert_eq!(tablet.json(&["code", "list"]).as_array().unwrap().len(), 2);

    setup.cloud.stop();
    // The phone renames the cleaner's code; the tablet changes its PIN.
    phone.json(&["code", "edit", &cleaner, "--label", "Cleaning team"]);
    tablet.json(&["code", "edit", &cleaner, "--pin", "73916482"]);
    // The phone revokes the nanny's code while the tablet renames it.
    phone.json(&["code", "revoke", &nanny]);
    tablet.json(&["code", "edit", &nanny, "--label", "Nanny (weekends)"]);
    setup.cloud.restart();

    tablet.json(&["sync"]);
    phone.json(&["sync"]);
    tablet.json(&["sync"]);

    for id in [&cleaner, &nanny] {
        let on_phone = phone.json(&["code", "show", id]);
        let on_tablet = tablet.json(&["code", "show", id]);
        for field in ["label", "pin", "status", "schedule", "version"] {
            assert_eq!(on_phone[field], on_tablet[field], "{field} of {id} differs");
        }
    }
    let cleaner = phone.json(&["code", "show", &cleaner]);
    assert_eq!(cleaner["label"], "Cleaning team", "the phone's edit survives");
    assert_eq!(cleaner["pin"], "73916482", "the tablet's edit survives");
    let nanny = phone.json(&["code", "show", &nanny]);
    assert_eq!(nanny["status"], "revoked", "a revoke wins over an edit");
}

#[test]
fn tokens_refresh_on_their_own_and_a_replayed_refresh_token_ends_the_session() {
    let setup = setup(&["--access-token-ttl", "1"]);
    let phone = setup.device("phone");
    sign_up(&phone, &setup.cloud, "owner@example.com");
    add_lock(&phone);
    // The access token has expired: the client refreshes and carries on.
    std::thread::sleep(Duration::from_millis(1_500));
    create(&phone, "Guest");
    assert_eq!(phone.json(&["sync"])["sync"]["pending"], 0);

    // A copy of the phone's data (a stolen backup) replays the same refresh token.
    let copy = setup.device("copy");
    copy_dir(phone.data_dir(), copy.data_dir());
    std::thread::sleep(Duration::from_millis(1_500));
    phone.json(&["sync"]); // rotates the refresh token
    std::thread::sleep(Duration::from_millis(1_500));
    let replay = copy.run(&["--json", "sync"]);
    assert_eq!(replay.error_json()["error"]["code"], "signed_out");
    assert_eq!(
        copy.json(&["code", "list"]),
        json!([]),
        "an ended session leaves no data behind"
    );
    // The cloud ended the whole session, so the phone is signed out too.
    std::thread::sleep(Duration::from_millis(1_500));
    let phone_sync = phone.run(&["--json", "sync"]);
    assert_eq!(phone_sync.error_json()["error"]["code"], "signed_out");
}

#[test]
fn logging_out_wipes_the_accounts_data() {
    let setup = setup(&[]);
    let phone = setup.device("phone");
    sign_up(&phone, &setup.cloud, "owner@example.com");
    add_lock(&phone);
    create(&phone, "Guest");
    let out = phone.json(&["logout"]);
    assert_eq!(out["signed_out"], "owner@example.com");
    assert_eq!(phone.json(&["lock", "list"]), json!([]));
    assert_eq!(phone.json(&["account"])["account"], Value::Null);
    assert!(!phone.data_dir().join("secrets/tessera.session").exists());
    // Signing in again brings the data back from the cloud.
    log_in(&phone, &setup.cloud, "owner@example.com");
    assert_eq!(phone.json(&["code", "list"]).as_array().unwrap().len(), 1);
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
