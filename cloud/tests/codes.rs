//! Access codes: create, update, revoke; idempotency; the domain's rules; PINs
//! sealed at rest.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Cloud, Session, code_body, future_window, new_id};
use serde_json::{Value, json};

async fn owner_with_lock(cloud: &Cloud) -> (Session, String) {
    let owner = cloud.sign_up("owner@example.com").await;
    let lock = cloud.register_lock(&owner.access, "Front door").await;
    (owner, lock)
}

fn codes_path(lock: &str) -> String {
    format!("/v1/locks/{lock}/codes")
}

#[tokio::test]
async fn a_code_is_created_read_updated_and_revoked() {
    let cloud = Cloud::start();
    let (owner, lock) = owner_with_lock(&cloud).await;
    let id = new_id();
    let body = json!({
        "id": id, "label": "  Anna's visit ", "pin": "048213",
        "schedule": future_window(3, 2), "max_uses": 5,
    });
    let created = cloud.post(&codes_path(&lock), &owner.access, body).await;
    assert_eq!(created.status, 201, "{created:?}");
    let view: tessera_api::CodeView = serde_json::from_value(created.body.clone()).unwrap();
    assert_eq!(view.id.to_string(), id);
    assert_eq!(view.lock_id.to_string(), lock);
    assert_eq!(view.label, "Anna's visit");
    assert_eq!(view.pin.expose(), "048213");
    assert_eq!(
        (view.version, view.max_uses, view.allow_widening),
        (1, Some(5), false)
    );
    assert_eq!(view.status, tessera_model::CodeStatus::Active);
    assert_eq!(view.set_on_lock_at, None);

    let read = cloud.get(&format!("/v1/codes/{id}"), &owner.access).await;
    assert_eq!(read.body, created.body);
    let list = cloud.get(&codes_path(&lock), &owner.access).await;
    assert_eq!(list.body, json!([created.body]));

    let code_path = format!("/v1/codes/{id}");
    let renamed = cloud
        .patch(
            &code_path,
            &owner.access,
            json!({"label": "Anna", "max_uses": null}),
        )
        .await;
    assert_eq!(renamed.status, 200, "{renamed:?}");
    assert_eq!(renamed.body["label"], "Anna");
    assert_eq!(renamed.body["max_uses"], Value::Null);
    assert_eq!(renamed.body["version"], 2);
    assert_eq!(renamed.body["pin"], "048213");
    assert_eq!(renamed.body["schedule"], created.body["schedule"]);
    assert!(renamed.body["updated_at"].as_str() >= created.body["updated_at"].as_str());

    // Nothing to change: nothing changes.
    let same = cloud
        .patch(&code_path, &owner.access, json!({"label": "Anna"}))
        .await;
    assert_eq!(same.body["version"], 2);
    let empty = cloud.patch(&code_path, &owner.access, json!({})).await;
    assert_eq!(empty.body["version"], 2);

    let new_pin = cloud
        .patch(
            &code_path,
            &owner.access,
            json!({"pin": "95173028", "schedule": {"kind": "permanent"}}),
        )
        .await;
    assert_eq!(new_pin.status, 200, "{new_pin:?}");
    assert_eq!(
        (new_pin.body["pin"].as_str(), new_pin.body["version"].as_u64()),
        (Some("95173028"), Some(3))
    );
    assert_eq!(new_pin.body["schedule"], json!({"kind": "permanent"}));

    let revoked = cloud
        .post(&format!("{code_path}/revoke"), &owner.access, json!({}))
        .await;
    assert_eq!(revoked.status, 200);
    assert_eq!(
        (revoked.body["status"].as_str(), revoked.body["version"].as_u64()),
        (Some("revoked"), Some(4))
    );
    let again = cloud
        .post(&format!("{code_path}/revoke"), &owner.access, json!({}))
        .await;
    assert_eq!(again.body, revoked.body);
    cloud
        .patch(&code_path, &owner.access, json!({"label": "Too late"}))
        .await
        .assert_error(409, "code_revoked");

    // A revoked code's PIN is free again.
    let reused = cloud.create_code(&owner.access, &lock, "Bob", "95173028").await;
    assert_eq!(reused["status"], "active");
}

#[tokio::test]
async fn the_same_idempotency_key_gives_the_same_code() {
    let cloud = Cloud::start();
    let (owner, lock) = owner_with_lock(&cloud).await;
    let body = code_body(&new_id(), "Anna", "482916", json!({"kind": "permanent"}));
    let send = |key: &'static str, body: Value| {
        let request = cloud
            .request(reqwest::Method::POST, &codes_path(&lock))
            .bearer_auth(&owner.access)
            .header("Idempotency-Key", key)
            .json(&body);
        cloud.send(request)
    };
    let first = send("create-anna-1", body.clone()).await;
    assert_eq!(first.status, 201, "{first:?}");
    let second = send("create-anna-1", body.clone()).await;
    assert_eq!(second.status, 200);
    assert_eq!(second.body, first.body);

    // The key with another request is refused; the id with other content is a conflict.
    let mut other = body.clone();
    other["label"] = json!("Bob");
    let reused = send("create-anna-1", other.clone()).await;
    reused.assert_error(422, "idempotency_key_reused");
    assert_eq!(reused.field(), Some("Idempotency-Key"));
    let conflict = send("create-bob-1", other).await;
    conflict.assert_error(409, "conflict");

    // The same code sent again without a key (an outbox replay) changes nothing.
    let replay = cloud.post(&codes_path(&lock), &owner.access, body.clone()).await;
    assert_eq!(replay.status, 200);
    assert_eq!(replay.body, first.body);

    let codes = cloud.get(&codes_path(&lock), &owner.access).await;
    assert_eq!(codes.body.as_array().unwrap().len(), 1);

    // A bad key is a bad request.
    let empty = send("", body.clone()).await;
    empty.assert_error(400, "invalid_request");
    assert_eq!(empty.field(), Some("Idempotency-Key"));
}

#[tokio::test]
async fn twenty_concurrent_identical_requests_make_one_code() {
    let cloud = Cloud::start();
    let (owner, lock) = owner_with_lock(&cloud).await;
    let body = code_body(&new_id(), "Anna", "482916", json!({"kind": "permanent"}));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let request = cloud
            .request(reqwest::Method::POST, &codes_path(&lock))
            .bearer_auth(&owner.access)
            .header("Idempotency-Key", "one-code-please")
            .json(&body);
        tasks.spawn(async move { common::Reply::read(request.send().await.unwrap()).await });
    }
    let replies = tasks.join_all().await;
    let created = replies.iter().filter(|r| r.status == 201).count();
    let replayed = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!((created, replayed), (1, 19), "{replies:?}");
    assert!(
        replies
            .iter()
            .all(|r| r.body["id"] == body["id"] && r.body["version"] == 1)
    );
    let codes = cloud.get(&codes_path(&lock), &owner.access).await;
    assert_eq!(codes.body.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_domain_rules_refuse_codes_with_the_right_code_and_field() {
    let cloud = Cloud::start();
    let (owner, lock) = owner_with_lock(&cloud).await;
    cloud.create_code(&owner.access, &lock, "Anna", "482916").await;
    let permanent = json!({"kind": "permanent"});
    let cases = [
        ("1234", permanent.clone(), "Weak", "weak_pin", Some("pin")),
        ("1111", permanent.clone(), "Weak", "weak_pin", Some("pin")),
        (
            "482916",
            permanent.clone(),
            "Same PIN",
            "pin_conflict",
            Some("pin"),
        ),
        ("4829", permanent.clone(), "Prefix", "pin_conflict", Some("pin")),
        (
            "75482916",
            permanent.clone(),
            "Suffix",
            "pin_conflict",
            Some("pin"),
        ),
        ("12a4", permanent.clone(), "Letters", "invalid_pin", Some("pin")),
        ("905", permanent.clone(), "Short", "pin_length", Some("pin")),
        (
            "905173",
            json!({"kind": "window", "start": "2031-05-02T10:00:00", "end": "2031-05-01T10:00:00"}),
            "Backwards",
            "invalid_schedule",
            Some("schedule"),
        ),
        (
            "905173",
            json!({"kind": "window", "start": "2001-05-01T10:00:00", "end": "2001-05-02T10:00:00"}),
            "Past",
            "invalid_schedule",
            Some("schedule"),
        ),
        ("905173", permanent.clone(), "   ", "invalid_input", Some("label")),
    ];
    for (pin, schedule, label, code, field) in cases {
        let body = code_body(&new_id(), label, pin, schedule);
        let reply = cloud.post(&codes_path(&lock), &owner.access, body).await;
        reply.assert_error(422, code);
        assert_eq!(reply.field(), field, "{label}: {reply:?}");
    }
    let mut body = code_body(&new_id(), "Too many", "905173", permanent.clone());
    body["max_uses"] = json!(0);
    let reply = cloud.post(&codes_path(&lock), &owner.access, body).await;
    reply.assert_error(422, "invalid_input");
    assert_eq!(reply.field(), Some("max_uses"));

    // A code active at another time may reuse a PIN: no clash.
    let later = code_body(&new_id(), "Later", "905173", future_window(10, 1));
    let earlier = code_body(&new_id(), "Earlier", "905173", future_window(2, 1));
    assert_eq!(
        cloud.post(&codes_path(&lock), &owner.access, later).await.status,
        201
    );
    assert_eq!(
        cloud
            .post(&codes_path(&lock), &owner.access, earlier)
            .await
            .status,
        201
    );

    // Updates are admitted again, the code itself left out.
    let bob = cloud.create_code(&owner.access, &lock, "Bob", "73915462").await;
    let bob_path = format!("/v1/codes/{}", bob["id"].as_str().unwrap());
    let clash = cloud
        .patch(&bob_path, &owner.access, json!({"pin": "482916"}))
        .await;
    clash.assert_error(422, "pin_conflict");
    assert_eq!(clash.field(), Some("pin"));
    let bad = cloud.patch(&bob_path, &owner.access, json!({"schedule": {"kind": "window", "start": "2031-05-02T10:00:00", "end": "2031-05-01T10:00:00"}})).await;
    bad.assert_error(422, "invalid_schedule");
    assert_eq!(bad.field(), Some("schedule"));
    let unchanged = cloud.get(&bob_path, &owner.access).await;
    assert_eq!(unchanged.body, bob);
    // Its own PIN is no clash for itself.
    let relabel = cloud
        .patch(
            &bob_path,
            &owner.access,
            json!({"label": "Bob B.", "pin": "73915462"}),
        )
        .await;
    assert_eq!(relabel.status, 200, "{relabel:?}");
}

#[tokio::test]
async fn a_lock_refuses_codes_beyond_its_capacity_and_kinds() {
    let cloud = Cloud::start();
    let owner = cloud.sign_up("owner@example.com").await;
    let lock = new_id();
    let mut capabilities = serde_json::to_value(tessera_model::LockCapabilities::default()).unwrap();
    capabilities["max_codes"] = json!(1);
    capabilities["schedule_kinds"] = json!(["permanent"]);
    let body =
        json!({"id": lock, "name": "Tiny", "time_zone": "America/New_York", "capabilities": capabilities});
    assert_eq!(cloud.post("/v1/locks", &owner.access, body).await.status, 201);
    let window = code_body(&new_id(), "Window", "905173", future_window(1, 1));
    let reply = cloud.post(&codes_path(&lock), &owner.access, window).await;
    reply.assert_error(422, "schedule_not_supported");
    assert_eq!(reply.field(), Some("schedule"));
    cloud.create_code(&owner.access, &lock, "One", "905173").await;
    let second = code_body(&new_id(), "Two", "73915462", json!({"kind": "permanent"}));
    let reply = cloud.post(&codes_path(&lock), &owner.access, second).await;
    reply.assert_error(422, "capacity_exceeded");
}

#[tokio::test]
async fn locks_are_registered_once_and_renamed() {
    let cloud = Cloud::start();
    let owner = cloud.sign_up("owner@example.com").await;
    let id = new_id();
    let body = common::lock_body(&id, "  Front door ");
    let created = cloud.post("/v1/locks", &owner.access, body.clone()).await;
    assert_eq!(created.status, 201, "{created:?}");
    let view: tessera_api::LockView = serde_json::from_value(created.body.clone()).unwrap();
    assert_eq!(
        (view.name.as_str(), view.role, view.version),
        ("Front door", tessera_api::Role::Owner, 1)
    );
    let replay = cloud.post("/v1/locks", &owner.access, body.clone()).await;
    assert_eq!((replay.status, &replay.body), (200, &created.body));
    let mut different = body.clone();
    different["time_zone"] = json!("Asia/Tokyo");
    cloud
        .post("/v1/locks", &owner.access, different)
        .await
        .assert_error(409, "conflict");

    let path = format!("/v1/locks/{id}");
    let renamed = cloud
        .patch(&path, &owner.access, json!({"name": "Back door"}))
        .await;
    assert_eq!(
        (renamed.body["name"].as_str(), renamed.body["version"].as_u64()),
        (Some("Back door"), Some(2))
    );
    // The registration replayed after a rename is still the same registration.
    assert_eq!(cloud.post("/v1/locks", &owner.access, body).await.status, 200);
    let blank = cloud.patch(&path, &owner.access, json!({"name": "  "})).await;
    blank.assert_error(422, "invalid_input");
    assert_eq!(blank.field(), Some("name"));

    let cases = [
        (json!("Mars/Olympus_Mons"), None, "unknown_time_zone", "time_zone"),
        (
            json!("Europe/Berlin"),
            Some(json!({"min": 0, "max": 4})),
            "invalid_input",
            "capabilities",
        ),
    ];
    for (zone, lengths, code, field) in cases {
        let mut body = common::lock_body(&new_id(), "Door");
        body["time_zone"] = zone;
        if let Some(lengths) = lengths {
            body["capabilities"]["pin_lengths"] = lengths;
        }
        let reply = cloud.post("/v1/locks", &owner.access, body).await;
        reply.assert_error(422, code);
        assert_eq!(reply.field(), Some(field));
    }
}

#[tokio::test]
async fn pins_are_never_stored_in_plaintext() {
    let cloud = Cloud::start();
    let (owner, lock) = owner_with_lock(&cloud).await;
    let pins = ["90817263", "51739046", "62480135"];
    for (i, pin) in pins.iter().enumerate() {
        let request = cloud
            .request(reqwest::Method::POST, &codes_path(&lock))
            .bearer_auth(&owner.access)
            .header("Idempotency-Key", format!("key-{i}"))
            .json(&code_body(&new_id(), "Guest", pin, json!({"kind": "permanent"})));
        assert_eq!(cloud.send(request).await.status, 201);
    }
    let listed = cloud
        .get(&codes_path(&lock), &owner.access)
        .await
        .body
        .to_string();
    assert!(
        pins.iter().all(|pin| listed.contains(pin)),
        "the API returns the PINs"
    );

    let (dir, _) = cloud.stop();
    let mut checked = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("cloud.db") || name.ends_with(".key") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        checked += bytes.len();
        for pin in pins {
            assert!(
                !bytes.windows(pin.len()).any(|w| w == pin.as_bytes()),
                "PIN {pin} found in {name}"
            );
        }
    }
    assert!(checked > 10_000, "the database files were read ({checked} bytes)");
}
