//! Every route refuses whoever may not call it: table-driven over the one list
//! of routes (tests/common/routes.rs), which must also be exactly the routes of
//! the OpenAPI document.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::routes::{Caller, ROUTES, Route, Scope};
use common::{Cloud, Session, code_body, lock_body, new_id, seal_share, seconds_from_now};
use reqwest::Method;
use serde_json::{Value, json};

/// Owner A with a lock, two codes and the lock's device credential; member M of
/// that lock; stranger B with a lock of its own.
struct World {
    cloud: Cloud,
    owner: Session,
    member: Session,
    stranger: Session,
    lock: String,
    code: String,
    revocable_code: String,
    share: String,
    device: String,
    stranger_device: String,
    created: AtomicUsize,
}

async fn world() -> World {
    let cloud = Cloud::start();
    let owner = cloud.sign_up("owner@example.com").await;
    let member = cloud.sign_up("member@example.com").await;
    let stranger = cloud.sign_up("stranger@example.com").await;
    let lock = cloud.register_lock(&owner.access, "Front door").await;
    let code = cloud.create_code(&owner.access, &lock, "Anna", "482916").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revocable_code = cloud.create_code(&owner.access, &lock, "Bob", "739154").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let granted = cloud
        .post(
            &format!("/v1/locks/{lock}/members"),
            &owner.access,
            json!({"email": member.email}),
        )
        .await;
    assert_eq!(granted.status, 201, "{granted:?}");
    let device = cloud.device_token(&owner.access, &lock).await;
    let share = seal_share(&code, "482916", seconds_from_now(86_400), None);
    cloud.create_share(&owner.access, &share).await;
    let share = share.id;
    let stranger_lock = cloud.register_lock(&stranger.access, "Shed").await;
    let stranger_device = cloud.device_token(&stranger.access, &stranger_lock).await;
    World {
        cloud,
        owner,
        member,
        stranger,
        lock,
        code,
        revocable_code,
        share,
        device,
        stranger_device,
        created: AtomicUsize::new(0),
    }
}

impl World {
    /// The route's path with the world's ids (the owner's lock, code, session).
    fn path(&self, route: &Route) -> String {
        let id = match route.scope {
            Scope::Lock => self.lock.as_str(),
            Scope::Code if route.path.ends_with("/revoke") => self.revocable_code.as_str(),
            Scope::Code => self.code.as_str(),
            Scope::Session => self.owner.session_id.as_str(),
            Scope::Share => self.share.as_str(),
            Scope::Own => "",
        };
        route
            .path
            .replace("{id}", id)
            .replace("{account_id}", &self.member.account_id)
    }

    /// A valid body for the route, so that only authorization can refuse it.
    fn body(&self, route: &Route) -> Option<Value> {
        let body = match (route.method, route.path) {
            ("POST", "/v1/accounts") => {
                json!({"email": format!("{}@example.com", new_id()), "password": "long enough password"})
            }
            ("POST", "/v1/sessions") => json!({"email": self.owner.email, "password": "wrong password"}),
            ("POST", "/v1/sessions/refresh") => json!({"refresh_token": "tsr_unknown"}),
            ("POST", "/v1/locks") => lock_body(&self.lock, "Someone else's door"),
            ("PATCH", "/v1/locks/{id}") => json!({"name": "Back door"}),
            ("POST", "/v1/locks/{id}/members") => json!({"email": self.stranger.email}),
            ("POST", "/v1/locks/{id}/codes") => {
                // A fresh PIN each time: codes that get created must not clash.
                let pins = ["61829374", "50738291", "94027163", "27495018", "83056142"];
                let pin = pins[self.created.fetch_add(1, Ordering::Relaxed) % pins.len()];
                code_body(&new_id(), "Courier", pin, json!({"kind": "permanent"}))
            }
            ("PATCH", "/v1/codes/{id}") => json!({"label": "Anna (renamed)"}),
            ("POST", "/v1/shares") => seal_share(&self.code, "482916", seconds_from_now(86_400), None).body,
            ("POST", "/v1/locks/{id}/events") => json!({"kind": "lock_online", "at": chrono::Utc::now()}),
            _ => return None,
        };
        Some(body)
    }

    async fn call(&self, route: &Route, token: Option<&str>) -> common::Reply {
        let method = Method::from_bytes(route.method.as_bytes()).unwrap();
        self.cloud
            .call(method, &self.path(route), token, self.body(route).as_ref())
            .await
    }
}

fn label(route: &Route) -> String {
    format!("{} {}", route.method, route.path)
}

#[tokio::test]
async fn every_route_refuses_who_may_not_call_it() {
    let world = world().await;

    for route in ROUTES.iter().filter(|r| r.caller != Caller::Anyone) {
        let reply = world.call(route, None).await;
        assert_eq!(
            (reply.status, reply.code()),
            (401, "unauthorized"),
            "no token: {}",
            label(route)
        );
        let reply = world.call(route, Some("tsa_not-a-real-token")).await;
        assert_eq!(
            (reply.status, reply.code()),
            (401, "unauthorized"),
            "bad token: {}",
            label(route)
        );
    }

    for route in ROUTES.iter().filter(|r| r.caller == Caller::Account) {
        let reply = world.call(route, Some(&world.device)).await;
        assert_eq!(
            (reply.status, reply.code()),
            (401, "unauthorized"),
            "device token: {}",
            label(route)
        );
    }
    for route in ROUTES.iter().filter(|r| r.caller == Caller::Device) {
        for token in [&world.owner.access, &world.member.access, &world.owner.refresh] {
            let reply = world.call(route, Some(token)).await;
            assert_eq!(
                (reply.status, reply.code()),
                (401, "unauthorized"),
                "account token: {}",
                label(route)
            );
        }
        // Another lock's credential does not reach this lock: a route naming the
        // lock answers not_found, one without (the lock's own codes) shows only
        // the other lock's own.
        let reply = world.call(route, Some(&world.stranger_device)).await;
        if route.scope == Scope::Own {
            assert_eq!(reply.status, 200, "other device: {} -> {reply:?}", label(route));
            let body = reply.body.to_string();
            assert!(
                !body.contains(&world.code) && !body.contains(&world.lock),
                "other device: {} shows this lock's codes",
                label(route)
            );
        } else {
            assert_eq!(
                (reply.status, reply.code()),
                (404, "not_found"),
                "other device: {}",
                label(route)
            );
        }
    }
    // The lock's own credential reaches its own codes, PINs included.
    let own = world.cloud.get("/v1/device/codes", &world.device).await;
    assert_eq!(own.status, 200, "{own:?}");
    assert!(own.body.to_string().contains(&world.code));

    // A stranger finds nothing of the owner's: every lock, code, share, event,
    // member and session route answers not_found.
    for route in ROUTES
        .iter()
        .filter(|r| r.caller == Caller::Account && r.scope != Scope::Own)
    {
        let reply = world.call(route, Some(&world.stranger.access)).await;
        reply.assert_error(404, "not_found");
    }
    // ... and its own lists hold nothing of the owner's.
    let locks = world.cloud.get("/v1/locks", &world.stranger.access).await;
    assert_eq!(locks.body.as_array().unwrap().len(), 1);
    assert!(!locks.body.to_string().contains(&world.lock));
    let (changes, _) = world.cloud.sync_all(&world.stranger.access, 0, 100).await;
    let changes = Value::from(changes).to_string();
    assert!(!changes.contains(&world.lock) && !changes.contains(&world.code));
    let taken = world
        .cloud
        .post(
            "/v1/locks",
            &world.stranger.access,
            lock_body(&world.lock, "Mine"),
        )
        .await;
    taken.assert_error(409, "conflict");

    // A member manages codes and their share links but not the lock's members or credentials.
    for route in ROUTES.iter().filter(|r| {
        r.caller == Caller::Account && matches!(r.scope, Scope::Lock | Scope::Code | Scope::Share)
    }) {
        let reply = world.call(route, Some(&world.member.access)).await;
        if route.owner_only {
            reply.assert_error(403, "forbidden");
        } else {
            assert!(
                (200..300).contains(&reply.status),
                "member: {} -> {reply:?}",
                label(route)
            );
        }
    }

    // The owner may call all of them (the table's paths and bodies are right).
    for route in ROUTES.iter().filter(|r| {
        r.caller == Caller::Account && matches!(r.scope, Scope::Lock | Scope::Code | Scope::Share)
    }) {
        let reply = world.call(route, Some(&world.owner.access)).await;
        assert!(
            (200..300).contains(&reply.status),
            "owner: {} -> {reply:?}",
            label(route)
        );
    }
    let device_route = ROUTES.iter().find(|r| r.caller == Caller::Device).unwrap();
    // The owner issued a new credential above: the old one no longer works.
    let reply = world.call(device_route, Some(&world.device)).await;
    reply.assert_error(401, "unauthorized");
}

#[tokio::test]
async fn the_openapi_document_lists_exactly_the_routes() {
    let cloud = Cloud::start();
    let reply = cloud.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["openapi"], "3.1.0");
    let mut documented = BTreeSet::new();
    for (path, item) in reply.body["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if [
                "get", "post", "put", "patch", "delete", "head", "options", "trace",
            ]
            .contains(&method.as_str())
            {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let listed: BTreeSet<_> = ROUTES
        .iter()
        .map(|route| (route.method.to_owned(), route.path.to_owned()))
        .collect();
    assert_eq!(ROUTES.len(), listed.len(), "a route is listed twice");
    assert_eq!(documented, listed);

    // Routes that need a credential say which.
    for route in ROUTES {
        let operation = &reply.body["paths"][route.path][route.method.to_lowercase()];
        let security = operation["security"].to_string();
        match route.caller {
            Caller::Anyone => assert_eq!(operation["security"], Value::Null, "{}", label(route)),
            Caller::Account => assert!(security.contains("bearer"), "{}", label(route)),
            Caller::Device => assert!(security.contains("device"), "{}", label(route)),
        }
    }
}

#[tokio::test]
async fn a_member_taken_back_loses_access() {
    let world = world().await;
    let lock_path = format!("/v1/locks/{}", world.lock);
    assert_eq!(
        world.cloud.get(&lock_path, &world.member.access).await.body["role"],
        "member"
    );
    let removed = world
        .cloud
        .delete(
            &format!("{lock_path}/members/{}", world.member.account_id),
            &world.owner.access,
        )
        .await;
    assert_eq!(removed.status, 204);
    world
        .cloud
        .get(&lock_path, &world.member.access)
        .await
        .assert_error(404, "not_found");
    world
        .cloud
        .get(&format!("/v1/codes/{}", world.code), &world.member.access)
        .await
        .assert_error(404, "not_found");
    // Taken back twice: there is no such member any more. The owner cannot be removed.
    let again = world
        .cloud
        .delete(
            &format!("{lock_path}/members/{}", world.member.account_id),
            &world.owner.access,
        )
        .await;
    again.assert_error(404, "not_found");
    let owner = world
        .cloud
        .delete(
            &format!("{lock_path}/members/{}", world.owner.account_id),
            &world.owner.access,
        )
        .await;
    owner.assert_error(409, "conflict");
    // Granting an unknown email names the field.
    let unknown = world
        .cloud
        .post(
            &format!("{lock_path}/members"),
            &world.owner.access,
            json!({"email": "nobody@example.com"}),
        )
        .await;
    unknown.assert_error(404, "not_found");
    assert_eq!(unknown.field(), Some("email"));
}
