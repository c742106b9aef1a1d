//! The change feed: one entry per changed entity with its latest state, paged by
//! cursor; members see a lock's history when granted and lose it when taken back;
//! lock events flow into codes and the feed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;

use common::{Cloud, new_id};
use serde_json::{Value, json};

/// The changes of one type, by id (`data.id`, or lock and account for members).
fn by_key(changes: &[Value]) -> HashMap<String, Value> {
    let mut map = HashMap::new();
    for change in changes {
        let data = &change["data"];
        let key = match change["type"].as_str().unwrap() {
            "member" | "member_removed" => format!("member:{}:{}", data["lock_id"], data["account_id"]),
            "lock_removed" => format!("lock_removed:{}", data["lock_id"]),
            kind => format!("{kind}:{}", data["id"]),
        };
        assert!(
            map.insert(key.clone(), change.clone()).is_none(),
            "{key} appears twice"
        );
    }
    map
}

fn of_type<'a>(changes: &'a [Value], kind: &str) -> Vec<&'a Value> {
    changes.iter().filter(|c| c["type"] == kind).collect()
}

#[tokio::test]
async fn the_feed_carries_each_changed_entity_once_with_its_latest_state() {
    let cloud = Cloud::start();
    let owner = cloud.sign_up("owner@example.com").await;
    let lock = cloud.register_lock(&owner.access, "Front door").await;
    let pins = ["482916", "739154", "905173", "61829374", "50738291"];
    let mut codes = Vec::new();
    for (i, pin) in pins.iter().enumerate() {
        codes.push(
            cloud
                .create_code(&owner.access, &lock, &format!("Guest {i}"), pin)
                .await,
        );
    }
    let code_path = |i: usize| format!("/v1/codes/{}", codes[i]["id"].as_str().unwrap());
    cloud
        .patch(&code_path(1), &owner.access, json!({"label": "Renamed once"}))
        .await;
    cloud
        .patch(&code_path(1), &owner.access, json!({"label": "Renamed twice"}))
        .await;
    cloud
        .post(&format!("{}/revoke", code_path(2)), &owner.access, json!({}))
        .await;
    cloud
        .patch(
            &format!("/v1/locks/{lock}"),
            &owner.access,
            json!({"name": "Back door"}),
        )
        .await;

    // Pages of two: every entity once, in its latest state.
    let (changes, cursor) = cloud.sync_all(&owner.access, 0, 2).await;
    let map = by_key(&changes);
    assert_eq!(
        map.len(),
        1 + 1 + pins.len(),
        "lock, owner membership, codes: {changes:#?}"
    );
    assert_eq!(of_type(&changes, "lock")[0]["data"]["name"], "Back door");
    assert_eq!(of_type(&changes, "lock")[0]["data"]["version"], 2);
    assert_eq!(of_type(&changes, "member")[0]["data"]["role"], "owner");
    let code = |i: usize| map[&format!("code:{}", codes[i]["id"])].clone();
    assert_eq!(code(1)["data"]["label"], "Renamed twice");
    assert_eq!(code(1)["data"]["version"], 3);
    assert_eq!(code(2)["data"]["status"], "revoked");
    assert_eq!(code(0)["data"]["pin"], "482916");
    // Oldest change first: the lock was renamed last.
    assert_eq!(changes.last().unwrap()["type"], "lock");

    // Nothing new: an empty page at the same cursor.
    let (none, same) = cloud.sync_all(&owner.access, cursor, 2).await;
    assert!(none.is_empty());
    assert_eq!(same, cursor);

    // One more change: only it.
    cloud
        .patch(&code_path(4), &owner.access, json!({"label": "Latest"}))
        .await;
    let (delta, next) = cloud.sync_all(&owner.access, cursor, 500).await;
    assert_eq!(delta.len(), 1);
    assert_eq!(delta[0]["data"]["label"], "Latest");
    assert!(next > cursor);

    // A cursor from the middle resumes there.
    let first = cloud.get("/v1/sync?limit=3", &owner.access).await;
    assert_eq!(first.body["has_more"], true);
    assert_eq!(first.body["changes"].as_array().unwrap().len(), 3);
    let resume = first.body["cursor"].as_u64().unwrap();
    let (rest, _) = cloud.sync_all(&owner.access, resume, 1000).await;
    assert_eq!(rest.len(), map.len() - 3);
}

#[tokio::test]
async fn a_new_member_receives_the_history_and_a_removed_one_forgets_the_lock() {
    let cloud = Cloud::start();
    let owner = cloud.sign_up("owner@example.com").await;
    let member = cloud.sign_up("member@example.com").await;
    let lock = cloud.register_lock(&owner.access, "Front door").await;
    let anna = cloud.create_code(&owner.access, &lock, "Anna", "482916").await;
    let bob = cloud.create_code(&owner.access, &lock, "Bob", "739154").await;
    let own_lock = cloud.register_lock(&member.access, "Shed").await;

    // The member has synced its own things; the owner's lock is not among them.
    let (before, cursor) = cloud.sync_all(&member.access, 0, 100).await;
    assert!(!Value::from(before).to_string().contains(&lock));

    let granted = cloud
        .post(
            &format!("/v1/locks/{lock}/members"),
            &owner.access,
            json!({"email": "member@example.com"}),
        )
        .await;
    assert_eq!(granted.status, 201, "{granted:?}");
    let (history, cursor) = cloud.sync_all(&member.access, cursor, 2).await;
    let map = by_key(&history);
    assert_eq!(map[&format!("lock:\"{lock}\"")]["data"]["role"], "member");
    assert_eq!(map[&format!("code:{}", anna["id"])]["data"]["pin"], "482916");
    assert_eq!(map[&format!("code:{}", bob["id"])]["data"]["label"], "Bob");
    let members = of_type(&history, "member");
    let roles: Vec<_> = members
        .iter()
        .map(|m| m["data"]["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles.len(), 2, "{members:?}");
    assert!(roles.contains(&"owner") && roles.contains(&"member"));

    // Changes by either side reach both.
    cloud
        .patch(
            &format!("/v1/codes/{}", anna["id"].as_str().unwrap()),
            &member.access,
            json!({"label": "Anna M."}),
        )
        .await;
    let (owner_view, owner_cursor) = cloud.sync_all(&owner.access, 0, 1000).await;
    assert!(owner_view.iter().any(|c| c["data"]["label"] == "Anna M."));

    // Taken back: the member is told to forget the lock and sees nothing more of it.
    let removed = cloud
        .delete(
            &format!("/v1/locks/{lock}/members/{}", member.account_id),
            &owner.access,
        )
        .await;
    assert_eq!(removed.status, 204);
    let (gone, cursor) = cloud.sync_all(&member.access, cursor, 100).await;
    assert_eq!(
        gone,
        vec![json!({"type": "lock_removed", "data": {"lock_id": lock}})]
    );
    cloud.create_code(&owner.access, &lock, "Carol", "905173").await;
    cloud
        .patch(
            &format!("/v1/locks/{lock}"),
            &owner.access,
            json!({"name": "Renamed"}),
        )
        .await;
    let (after, _) = cloud.sync_all(&member.access, cursor, 100).await;
    assert!(after.is_empty(), "{after:?}");
    let (from_start, _) = cloud.sync_all(&member.access, 0, 100).await;
    let text = Value::from(from_start.clone()).to_string();
    assert!(
        !text.contains("Carol") && !text.contains("482916"),
        "{from_start:?}"
    );
    assert!(text.contains(&own_lock));

    // The owner sees the member removed.
    let (owner_delta, _) = cloud.sync_all(&owner.access, owner_cursor, 100).await;
    let removed = of_type(&owner_delta, "member_removed");
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0]["data"]["account_id"], member.account_id.as_str());

    // Granted again: everything comes back, from wherever the member's cursor is.
    cloud
        .post(
            &format!("/v1/locks/{lock}/members"),
            &owner.access,
            json!({"email": "member@example.com"}),
        )
        .await;
    let (back, _) = cloud.sync_all(&member.access, cursor, 100).await;
    let text = Value::from(back).to_string();
    assert!(text.contains("Carol") && text.contains("Renamed") && !text.contains("lock_removed"));
}

#[tokio::test]
async fn lock_events_are_recorded_listed_and_mark_codes_set_on_the_lock() {
    let cloud = Cloud::start();
    let owner = cloud.sign_up("owner@example.com").await;
    let lock = cloud.register_lock(&owner.access, "Front door").await;
    let code = cloud.create_code(&owner.access, &lock, "Anna", "482916").await;
    let code_id = code["id"].as_str().unwrap();
    let device = cloud.device_token(&owner.access, &lock).await;
    assert!(device.starts_with("tsd_"));
    let (_, cursor) = cloud.sync_all(&owner.access, 0, 100).await;

    let events_path = format!("/v1/locks/{lock}/events");
    let set_at = "2031-01-02T03:04:05.678Z";
    let set = cloud
        .post(
            &events_path,
            &device,
            json!({"kind": "code_set", "code_id": code_id, "at": set_at}),
        )
        .await;
    assert_eq!(set.status, 201, "{set:?}");
    let event: tessera_api::LockEventView = serde_json::from_value(set.body.clone()).unwrap();
    assert_eq!(event.kind, tessera_api::LockEventKind::CodeSet);

    let (changes, cursor) = cloud.sync_all(&owner.access, cursor, 100).await;
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!(changes[0]["type"], "code");
    assert_eq!(changes[0]["data"]["set_on_lock_at"], set_at);
    assert_eq!(changes[0]["data"]["version"], 2);
    assert_eq!(changes[1]["type"], "event");
    assert_eq!(changes[1]["data"], set.body);

    // A change the lock must hear of waits for it again; a label does not.
    let code_path = format!("/v1/codes/{code_id}");
    let relabelled = cloud
        .patch(&code_path, &owner.access, json!({"label": "Anna B."}))
        .await;
    assert_eq!(relabelled.body["set_on_lock_at"], set_at);
    let new_pin = cloud
        .patch(&code_path, &owner.access, json!({"pin": "73915462"}))
        .await;
    assert_eq!(new_pin.body["set_on_lock_at"], Value::Null);

    for (kind, at) in [
        ("code_set", "2031-01-02T04:00:00Z"),
        ("code_used", "2031-01-02T05:00:00Z"),
        ("code_removed", "2031-01-02T06:00:00Z"),
    ] {
        let reply = cloud
            .post(
                &events_path,
                &device,
                json!({"kind": kind, "code_id": code_id, "at": at}),
            )
            .await;
        assert_eq!(reply.status, 201, "{reply:?}");
    }
    let online = cloud
        .post(
            &events_path,
            &device,
            json!({"kind": "lock_online", "at": "2031-01-02T07:00:00Z"}),
        )
        .await;
    assert_eq!(online.status, 201);
    let read = cloud.get(&code_path, &owner.access).await;
    assert_eq!(read.body["set_on_lock_at"], Value::Null);
    let (changes, _) = cloud.sync_all(&owner.access, cursor, 100).await;
    assert_eq!(of_type(&changes, "event").len(), 4);
    assert_eq!(of_type(&changes, "code").len(), 1);

    // Newest first, a page at a time.
    let page = cloud.get(&format!("{events_path}?limit=2"), &owner.access).await;
    let kinds: Vec<_> = page
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["lock_online", "code_removed"]);
    let last = page.body[1]["id"].as_str().unwrap();
    let next = cloud
        .get(&format!("{events_path}?limit=10&before={last}"), &owner.access)
        .await;
    let kinds: Vec<_> = next
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["code_used", "code_set", "code_set"]);
    let unknown = cloud
        .get(&format!("{events_path}?before={}", new_id()), &owner.access)
        .await;
    unknown.assert_error(400, "invalid_request");
    assert_eq!(unknown.field(), Some("before"));

    // Code events name a code of this lock; others name none.
    let other_lock = cloud.register_lock(&owner.access, "Shed").await;
    let foreign = cloud
        .create_code(&owner.access, &other_lock, "Shed code", "905173")
        .await;
    let cases = [
        json!({"kind": "code_used", "at": "2031-01-02T07:00:00Z"}),
        json!({"kind": "lock_offline", "code_id": code_id, "at": "2031-01-02T07:00:00Z"}),
        json!({"kind": "code_used", "code_id": foreign["id"], "at": "2031-01-02T07:00:00Z"}),
        json!({"kind": "code_used", "code_id": new_id(), "at": "2031-01-02T07:00:00Z"}),
    ];
    for body in cases {
        let reply = cloud.post(&events_path, &device, body.clone()).await;
        reply.assert_error(422, "invalid_input");
        assert_eq!(reply.field(), Some("code_id"), "{body}");
    }
}
