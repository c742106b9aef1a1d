//! What a Wi-Fi lock fetches with its device credential: its live codes, with
//! PINs; nothing of another lock; nothing revoked.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Cloud, code_body, new_id};
use serde_json::{Value, json};

fn ids(reply: &common::Reply) -> Vec<String> {
    reply
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|code| code["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_lock_fetches_its_live_codes_with_pins() {
    let cloud = Cloud::start();
    let owner = cloud.sign_up("owner@example.com").await;
    let lock = cloud.register_lock(&owner.access, "Front door").await;
    let device = cloud.device_token(&owner.access, &lock).await;

    let empty = cloud.get("/v1/device/codes", &device).await;
    assert_eq!((empty.status, empty.body.clone()), (200, json!([])));

    let kept = cloud.create_code(&owner.access, &lock, "Anna", "482916").await;
    let revoked = cloud.create_code(&owner.access, &lock, "Bob", "739154").await;
    let window_id = new_id();
    // A window around now, in the lock's wall-clock time (Berlin is UTC+1 or +2).
    let berlin_now = chrono::Utc::now().naive_utc() + chrono::Duration::hours(1);
    let window = json!({
        "kind": "window",
        "start": (berlin_now - chrono::Duration::days(2)).format("%Y-%m-%dT%H:%M:00").to_string(),
        "end": (berlin_now + chrono::Duration::days(1)).format("%Y-%m-%dT%H:%M:00").to_string(),
    });
    let body = code_body(&window_id, "Courier", "61829374", window);
    let created = cloud
        .post(&format!("/v1/locks/{lock}/codes"), &owner.access, body)
        .await;
    assert_eq!(created.status, 201, "{created:?}");
    let revoke = cloud
        .post(
            &format!("/v1/codes/{}/revoke", revoked["id"].as_str().unwrap()),
            &owner.access,
            json!({}),
        )
        .await;
    assert_eq!(revoke.status, 200, "{revoke:?}");

    let listed = cloud.get("/v1/device/codes", &device).await;
    assert_eq!(listed.status, 200, "{listed:?}");
    let listed_ids = ids(&listed);
    assert_eq!(
        listed_ids,
        vec![kept["id"].as_str().unwrap().to_owned(), window_id.clone()],
        "revoked codes are not the lock's to hold"
    );
    let anna: &Value = &listed.body[0];
    assert_eq!(anna["pin"], "482916");
    assert_eq!(anna["schedule"], json!({"kind": "permanent"}));

    // Another lock's credential sees only its own (none); account tokens are refused.
    let stranger = cloud.sign_up("stranger@example.com").await;
    let shed = cloud.register_lock(&stranger.access, "Shed").await;
    let shed_device = cloud.device_token(&stranger.access, &shed).await;
    let other = cloud.get("/v1/device/codes", &shed_device).await;
    assert_eq!((other.status, other.body.clone()), (200, json!([])));
    cloud
        .get("/v1/device/codes", &owner.access)
        .await
        .assert_error(401, "unauthorized");
}
