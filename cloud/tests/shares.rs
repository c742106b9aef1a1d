//! Share links at the cloud: hosting sealed passes (strict validation, expiry
//! bound to the code's end), listing and revoking them, and the visitor's open:
//! one 404 for every failure, views counted exactly (20 concurrent opens of a
//! one-view link succeed once), GETs of the page consume nothing. Passes are
//! sealed with tessera-core's real capsule.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use common::routes::{Caller, ROUTES};
use common::{
    Cloud, Options, Reply, SealedLink, Session, b64, code_body, future_window, new_id, seal_share,
    seconds_from_now,
};
use reqwest::Method;
use serde_json::{Value, json};
use tessera_core::share;

const DAY: i64 = 86_400;

/// The one answer to every failed open, byte for byte.
fn assert_does_not_open(reply: &Reply, what: &str) {
    assert_eq!(reply.status, 404, "{what}: {reply:?}");
    assert_eq!(
        reply.body,
        json!({"error": {"code": "not_found", "message": "this link does not open"}}),
        "{what}"
    );
    assert_eq!(reply.headers["cache-control"], "no-store", "{what}");
}

struct Owner {
    session: Session,
    lock: String,
    code: String,
    pin: String,
}

/// An owner with a lock and a permanent code.
async fn owner(cloud: &Cloud) -> Owner {
    let session = cloud.sign_up("owner@example.com").await;
    let lock = cloud.register_lock(&session.access, "Front door").await;
    let pin = "482916".to_owned();
    let code = cloud.create_code(&session.access, &lock, "Anna", &pin).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Owner {
        session,
        lock,
        code,
        pin,
    }
}

impl Owner {
    fn link(&self, expires_in: i64, max_views: Option<u32>) -> SealedLink {
        seal_share(&self.code, &self.pin, seconds_from_now(expires_in), max_views)
    }
}

async fn list(cloud: &Cloud, token: &str, code: &str) -> Vec<Value> {
    let reply = cloud.get(&format!("/v1/codes/{code}/shares"), token).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.body.as_array().unwrap().clone()
}

#[tokio::test]
async fn a_share_is_created_listed_and_revoked() {
    let cloud = Cloud::start();
    let owner = owner(&cloud).await;
    let token = &owner.session.access;
    let link = owner.link(DAY, Some(3));
    let created = cloud.create_share(token, &link).await;
    let view: tessera_api::ShareView = serde_json::from_value(created.clone()).unwrap();
    assert_eq!(view.id, link.id);
    assert_eq!(view.code_id.to_string(), owner.code);
    assert_eq!(view.expires_at.timestamp(), link.expires_at);
    assert_eq!((view.max_views, view.views, view.revoked), (Some(3), 0, false));
    // The view carries nothing secret: no ciphertext, no hash.
    let text = created.to_string();
    assert!(!text.contains(link.body["sealed"].as_str().unwrap()));
    assert!(!text.contains(link.body["access_key_hash"].as_str().unwrap()));

    assert_eq!(list(&cloud, token, &owner.code).await, vec![created.clone()]);

    // Sent again (a retry): the same share. Another share with its id: a conflict.
    let again = cloud.post("/v1/shares", token, link.body.clone()).await;
    assert_eq!((again.status, &again.body), (200, &created));
    let mut other = owner.link(DAY, Some(3)).body;
    other["id"] = json!(link.id);
    cloud
        .post("/v1/shares", token, other)
        .await
        .assert_error(409, "conflict");

    assert_eq!(cloud.open_share(&link.id, &link.open_body()).await.status, 200);
    let revoke = format!("/v1/shares/{}", link.id);
    assert_eq!(cloud.delete(&revoke, token).await.status, 204);
    assert_eq!(cloud.delete(&revoke, token).await.status, 204, "idempotent");
    assert_does_not_open(&cloud.open_share(&link.id, &link.open_body()).await, "revoked");
    let listed = list(&cloud, token, &owner.code).await;
    assert_eq!(
        (listed[0]["revoked"].clone(), listed[0]["views"].clone()),
        (json!(true), json!(1))
    );

    // Unknown and malformed link ids are not found.
    for id in ["AAECAwQFBgcICQoLDA0ODw", "not-a-link", "x"] {
        cloud
            .delete(&format!("/v1/shares/{id}"), token)
            .await
            .assert_error(404, "not_found");
    }
}

#[tokio::test]
async fn the_visitor_opens_a_pass_sealed_on_the_phone() {
    let cloud = Cloud::start();
    let owner = owner(&cloud).await;
    let link = owner.link(2 * DAY, None);
    cloud.create_share(&owner.session.access, &link).await;

    let url = link.url(&cloud);
    let parsed = share::ShareLink::parse(&url).unwrap();
    let share::ShareLink::Hosted {
        id,
        secret,
        expires_at,
        ..
    } = parsed
    else {
        panic!("a hosted link");
    };
    assert_eq!((id.as_str(), expires_at), (link.id.as_str(), link.expires_at));
    // The visitor derives the access key from the link alone.
    let access_key = b64(secret.access_key().as_slice());
    let opened = cloud.open_share(&id, &json!({"access_key": access_key})).await;
    assert_eq!(opened.status, 200, "{opened:?}");
    assert_eq!(opened.headers["cache-control"], "no-store");
    let sealed: tessera_api::SealedShare = serde_json::from_value(opened.body.clone()).unwrap();
    assert_eq!((sealed.id.as_str(), sealed.version), (id.as_str(), 1));
    assert_eq!(sealed.expires_at.timestamp(), expires_at);
    assert_eq!(sealed.sealed, link.body["sealed"].as_str().unwrap());
    let bytes = B64.decode(&sealed.sealed).unwrap();
    let pass = share::open(&bytes, &id, expires_at, &secret).unwrap();
    assert_eq!(pass.code.expose(), owner.pin);
    assert_eq!(pass.lock_name, "Front door");

    // Moved to another id, the ciphertext does not open (the id is associated data).
    let moved = share::open(&bytes, &share::new_link_id().unwrap(), expires_at, &secret);
    assert!(
        matches!(moved, Err(tessera_core::Error::ShareLinkInvalid { .. })),
        "{moved:?}"
    );
    let stretched = share::open(&bytes, &id, expires_at + 1, &secret);
    assert!(stretched.is_err());

    // Unlimited views: each open counts.
    for _ in 0..3 {
        assert_eq!(cloud.open_share(&id, &link.open_body()).await.status, 200);
    }
    assert_eq!(
        list(&cloud, &owner.session.access, &owner.code).await[0]["views"],
        4
    );
}

#[tokio::test]
async fn every_failure_to_open_is_the_same_404() {
    let cloud = Cloud::start();
    let owner = owner(&cloud).await;
    let a = owner.link(DAY, None);
    let b = owner.link(DAY, None);
    cloud.create_share(&owner.session.access, &a).await;
    cloud.create_share(&owner.session.access, &b).await;

    // B's id with A's key, and A's with B's.
    assert_does_not_open(&cloud.open_share(&b.id, &a.open_body()).await, "B with A's key");
    assert_does_not_open(&cloud.open_share(&a.id, &b.open_body()).await, "A with B's key");

    // Every single flipped bit of the access key.
    let key = B64.decode(&a.access_key).unwrap();
    for bit in (0..key.len() * 8).step_by(7) {
        let mut flipped = key.clone();
        flipped[bit / 8] ^= 1 << (bit % 8);
        let reply = cloud
            .open_share(&a.id, &json!({"access_key": b64(&flipped)}))
            .await;
        assert_does_not_open(&reply, &format!("bit {bit} flipped"));
    }
    // A random key, and the secret itself instead of the derived key.
    let secret_bytes = share::ShareSecret::generate().unwrap().access_key();
    let random = json!({"access_key": b64(secret_bytes.as_slice())});
    assert_does_not_open(&cloud.open_share(&a.id, &random).await, "random key");
    let hash_as_key = json!({"access_key": a.body["access_key_hash"]});
    assert_does_not_open(
        &cloud.open_share(&a.id, &hash_as_key).await,
        "the hash as the key",
    );

    // Unknown and malformed ids.
    let unknown = share::new_link_id().unwrap();
    assert_does_not_open(&cloud.open_share(&unknown, &a.open_body()).await, "unknown id");
    for id in [
        "short",
        "AAECAwQFBgcICQoLDA0OD",
        "AAECAwQFBgcICQoLDA0ODw0",
        "AAECAwQFBgcICQoLDA0OD+",
        &"A".repeat(300),
    ] {
        assert_does_not_open(&cloud.open_share(id, &a.open_body()).await, id);
    }
    // Malformed bodies.
    let path = format!("/v1/shares/{}/open", a.id);
    let too_long = format!("{}{}", a.access_key, "A".repeat(2000));
    for body in [
        String::new(),
        "{".to_owned(),
        "[]".to_owned(),
        "{}".to_owned(),
        format!("{{\"access_key\": \"{}\", \"extra\": 1}}", a.access_key),
        format!("{{\"access_key\": \"{}=\"}}", a.access_key),
        format!("{{\"access_key\": \"{}\"}}", &a.access_key[..40]),
        format!("{{\"access_key\": \"{too_long}\"}}"),
        "{\"access_key\": 5}".to_owned(),
    ] {
        let request = cloud
            .request(Method::POST, &path)
            .header("content-type", "application/json")
            .body(body.clone());
        assert_does_not_open(&cloud.send(request).await, &body);
    }
    let as_text = cloud
        .request(Method::POST, &path)
        .header("content-type", "text/plain")
        .body(a.open_body().to_string());
    assert_eq!(
        cloud.send(as_text).await.status,
        200,
        "the content type does not matter"
    );

    // None of this consumed a view of B; A was opened once.
    let views: BTreeSet<_> = list(&cloud, &owner.session.access, &owner.code)
        .await
        .iter()
        .map(|s| (s["id"].as_str().unwrap().to_owned(), s["views"].as_u64().unwrap()))
        .collect();
    assert_eq!(views, BTreeSet::from([(a.id.clone(), 1), (b.id.clone(), 0)]));
}

#[tokio::test]
async fn expired_and_used_up_links_do_not_open() {
    let cloud = Cloud::start();
    let owner = owner(&cloud).await;
    let token = &owner.session.access;
    let soon = owner.link(2, None);
    cloud.create_share(token, &soon).await;
    let twice = owner.link(DAY, Some(2));
    cloud.create_share(token, &twice).await;

    assert_eq!(cloud.open_share(&soon.id, &soon.open_body()).await.status, 200);
    for _ in 0..2 {
        assert_eq!(cloud.open_share(&twice.id, &twice.open_body()).await.status, 200);
    }
    assert_does_not_open(
        &cloud.open_share(&twice.id, &twice.open_body()).await,
        "views used up",
    );

    let wait = (soon.expires_at - chrono::Utc::now().timestamp()).max(0) as u64 + 1;
    tokio::time::sleep(Duration::from_millis(wait * 1000 + 100)).await;
    assert_does_not_open(&cloud.open_share(&soon.id, &soon.open_body()).await, "expired");
}

#[tokio::test]
async fn a_one_view_link_opened_by_20_clients_at_once_opens_once() {
    let cloud = Cloud::start();
    let owner = owner(&cloud).await;
    let link = owner.link(DAY, Some(1));
    cloud.create_share(&owner.session.access, &link).await;
    let url = format!("{}/v1/shares/{}/open", cloud.url, link.id);
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(20));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        // A client each: 20 connections, as 20 visitors.
        let client = common::client();
        let (url, body, barrier) = (url.clone(), link.open_body(), barrier.clone());
        tasks.spawn(async move {
            barrier.wait().await;
            let response = client.post(url).json(&body).send().await.unwrap();
            Reply::read(response).await
        });
    }
    let mut opened = 0;
    let mut refused = 0;
    while let Some(reply) = tasks.join_next().await {
        let reply = reply.unwrap();
        if reply.status == 200 {
            opened += 1;
        } else {
            assert_does_not_open(&reply, "a concurrent open");
            refused += 1;
        }
    }
    assert_eq!((opened, refused), (1, 19));
    assert_eq!(
        list(&cloud, &owner.session.access, &owner.code).await[0]["views"],
        1
    );
}

async fn get_text(cloud: &Cloud, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let response = cloud.request(Method::GET, path).send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

#[tokio::test]
async fn the_page_is_served_with_strict_headers_and_gets_consume_nothing() {
    let cloud = Cloud::start();
    let owner = owner(&cloud).await;
    let link = owner.link(DAY, Some(1));
    cloud.create_share(&owner.session.access, &link).await;

    let page_path = format!("/s/{}", link.id);
    let expected = [
        (
            "content-security-policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
             base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
        ("x-robots-tag", "noindex, nofollow"),
        ("x-content-type-options", "nosniff"),
    ];
    let mut pages = Vec::new();
    for (path, content_type) in [
        (page_path.as_str(), "text/html"),
        ("/s/", "text/html"),
        ("/s/some-other-id", "text/html"),
        ("/s/assets/visitor.js", "text/javascript"),
        ("/s/assets/share-crypto.js", "text/javascript"),
        ("/s/assets/visitor.css", "text/css"),
    ] {
        // Link previewers fetch a link many times: nothing is consumed.
        for _ in 0..5 {
            let (status, headers, body) = get_text(&cloud, path).await;
            assert_eq!(status, 200, "{path}");
            assert!(
                headers["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with(content_type),
                "{path}: {headers:?}"
            );
            for (name, value) in expected {
                assert_eq!(headers[name], value, "{path}: {name}");
            }
            if content_type == "text/html" {
                pages.push(body);
            }
        }
        let head = cloud.request(Method::HEAD, path).send().await.unwrap();
        assert_eq!(head.status(), 200, "HEAD {path}");
    }
    // One static page for every link: it names no link and holds nothing of one.
    assert!(pages.iter().all(|page| page == &pages[0]));
    assert!(pages[0].contains("assets/visitor.js") && !pages[0].contains(&link.id));

    let (status, headers, _) = get_text(&cloud, "/s/assets/secret.txt").await;
    assert_eq!(status, 404);
    assert_eq!(headers["x-content-type-options"], "nosniff");

    let views = list(&cloud, &owner.session.access, &owner.code).await[0]["views"].clone();
    assert_eq!(views, 0, "GETs consumed a view");
    assert_eq!(cloud.open_share(&link.id, &link.open_body()).await.status, 200);

    // Every public route answers without credentials.
    for route in ROUTES
        .iter()
        .filter(|r| r.caller == Caller::Anyone && r.path.starts_with("/s/"))
    {
        let path = route
            .path
            .replace("{id}", &link.id)
            .replace("{file}", "visitor.css");
        assert_eq!(get_text(&cloud, &path).await.0, 200, "{path}");
    }
}

#[tokio::test]
async fn a_link_never_outlives_its_code() {
    let cloud = Cloud::start();
    let owner = owner(&cloud).await;
    let token = &owner.session.access;
    // A window from 10:00 in 3 days to 10:00 two days later, Berlin time.
    let window = future_window(3, 2);
    let code_id = new_id();
    let created = cloud
        .post(
            &format!("/v1/locks/{}/codes", owner.lock),
            token,
            code_body(&code_id, "Visit", "739154", window.clone()),
        )
        .await;
    assert_eq!(created.status, 201, "{created:?}");
    let end_local =
        chrono::NaiveDateTime::parse_from_str(window["end"].as_str().unwrap(), "%Y-%m-%dT%H:%M:%S").unwrap();
    let end = end_local
        .and_local_timezone(chrono_tz_berlin())
        .single()
        .unwrap()
        .timestamp();

    let late = seal_share(&code_id, "739154", end + 3600, None);
    let refused = cloud.post("/v1/shares", token, late.body.clone()).await;
    refused.assert_error(422, "invalid_input");
    assert_eq!(refused.field(), Some("expires_at"));
    let one_second_late = seal_share(&code_id, "739154", end + 1, None);
    let refused = cloud.post("/v1/shares", token, one_second_late.body).await;
    assert_eq!(refused.field(), Some("expires_at"), "{refused:?}");
    cloud
        .create_share(token, &seal_share(&code_id, "739154", end, None))
        .await;
    let past = seal_share(&code_id, "739154", seconds_from_now(-60), None);
    let refused = cloud.post("/v1/shares", token, past.body).await;
    refused.assert_error(422, "invalid_input");
    assert_eq!(refused.field(), Some("expires_at"));

    // A permanent code: a year at most.
    let year = owner.link(366 * DAY, None);
    let refused = cloud.post("/v1/shares", token, year.body.clone()).await;
    assert_eq!(refused.field(), Some("expires_at"), "{refused:?}");
    cloud.create_share(token, &owner.link(364 * DAY, None)).await;

    // The code changed to end a day sooner: its links end with it.
    let mut shorter = window.clone();
    let new_end = end_local - chrono::Duration::days(1);
    shorter["end"] = json!(new_end.format("%Y-%m-%dT%H:%M:%S").to_string());
    let patched = cloud
        .patch(
            &format!("/v1/codes/{code_id}"),
            token,
            json!({"schedule": shorter}),
        )
        .await;
    assert_eq!(patched.status, 200, "{patched:?}");
    let listed = list(&cloud, token, &code_id).await;
    assert_eq!(
        listed[0]["expires_at"]
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
            .timestamp(),
        end - DAY
    );
}

fn chrono_tz_berlin() -> tessera_model::Tz {
    "Europe/Berlin".parse().unwrap()
}

#[tokio::test]
async fn shares_are_validated_strictly() {
    let cloud = Cloud::start();
    let owner = owner(&cloud).await;
    let token = &owner.session.access;
    let base = owner.link(DAY, None).body;
    let with = |field: &str, value: Value| {
        let mut body = base.clone();
        body[field] = value;
        body
    };
    let cases = [
        (with("id", json!("AAECAwQFBgcICQoLDA0OD")), "id"),
        (with("id", json!("AAECAwQFBgcICQoLDA0ODw0")), "id"),
        (with("id", json!("AAECAwQFBgcICQoLDA0OD+")), "id"),
        (with("id", json!("AAECAwQFBgcICQoLDA0ODx")), "id"),
        (with("id", json!("")), "id"),
        (with("sealed", json!("not base64!")), "sealed"),
        (with("sealed", json!(b64(&[7u8; 28]))), "sealed"),
        (with("sealed", json!(b64(&vec![7u8; 16 * 1024 + 1]))), "sealed"),
        (
            with("sealed", json!(format!("{}=", base["sealed"].as_str().unwrap()))),
            "sealed",
        ),
        (with("access_key_hash", json!(b64(&[1u8; 31]))), "access_key_hash"),
        (with("access_key_hash", json!(b64(&[1u8; 33]))), "access_key_hash"),
        (with("max_views", json!(0)), "max_views"),
        (with("max_views", json!(1001)), "max_views"),
    ];
    for (body, field) in cases {
        let reply = cloud.post("/v1/shares", token, body.clone()).await;
        reply.assert_error(422, "invalid_input");
        assert_eq!(reply.field(), Some(field), "{body}");
    }
    for (field, value) in [
        ("max_views", json!(-1)),
        ("code_id", json!("nope")),
        ("expires_at", json!(5)),
    ] {
        let reply = cloud.post("/v1/shares", token, with(field, value)).await;
        reply.assert_error(400, "invalid_request");
        assert_eq!(reply.field(), Some(field));
    }
    let reply = cloud
        .post("/v1/shares", token, with("max_views", json!(1000)))
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let reply = cloud
        .post(
            "/v1/shares",
            token,
            with("id", json!(share::new_link_id().unwrap())),
        )
        .await;
    assert_eq!(reply.status, 201, "16 KiB at most, 16 bytes ids: {reply:?}");
    let big = seal_share(&owner.code, &owner.pin, seconds_from_now(DAY), None);
    let mut big_body = big.body.clone();
    big_body["sealed"] = json!(b64(&vec![9u8; 16 * 1024]));
    assert_eq!(cloud.post("/v1/shares", token, big_body).await.status, 201);
}

#[tokio::test]
async fn members_share_and_strangers_find_nothing() {
    let cloud = Cloud::start();
    let owner = owner(&cloud).await;
    let member = cloud.sign_up("member@example.com").await;
    let stranger = cloud.sign_up("stranger@example.com").await;
    let granted = cloud
        .post(
            &format!("/v1/locks/{}/members", owner.lock),
            &owner.session.access,
            json!({"email": member.email}),
        )
        .await;
    assert_eq!(granted.status, 201);

    let by_member = owner.link(DAY, None);
    cloud.create_share(&member.access, &by_member).await;
    assert_eq!(list(&cloud, &owner.session.access, &owner.code).await.len(), 1);

    let by_stranger = owner.link(DAY, None);
    cloud
        .post("/v1/shares", &stranger.access, by_stranger.body.clone())
        .await
        .assert_error(404, "not_found");
    cloud
        .get(&format!("/v1/codes/{}/shares", owner.code), &stranger.access)
        .await
        .assert_error(404, "not_found");
    cloud
        .delete(&format!("/v1/shares/{}", by_member.id), &stranger.access)
        .await
        .assert_error(404, "not_found");
    // A stranger's body errors do not reveal the code either.
    let mut bad = by_stranger.body.clone();
    bad["max_views"] = json!(0);
    cloud
        .post("/v1/shares", &stranger.access, bad)
        .await
        .assert_error(404, "not_found");
    assert_eq!(
        cloud
            .open_share(&by_member.id, &by_member.open_body())
            .await
            .status,
        200
    );
    assert_eq!(
        cloud
            .delete(&format!("/v1/shares/{}", by_member.id), &member.access)
            .await
            .status,
        204
    );
}

#[tokio::test]
async fn revoking_a_code_revokes_its_links() {
    let cloud = Cloud::start();
    let owner = owner(&cloud).await;
    let token = &owner.session.access;
    let links: Vec<_> = (0..3).map(|_| owner.link(DAY, None)).collect();
    for link in &links {
        cloud.create_share(token, link).await;
    }
    assert_eq!(
        cloud.open_share(&links[0].id, &links[0].open_body()).await.status,
        200
    );
    let revoked = cloud
        .post(&format!("/v1/codes/{}/revoke", owner.code), token, json!({}))
        .await;
    assert_eq!(revoked.status, 200, "{revoked:?}");
    for link in &links {
        assert_does_not_open(
            &cloud.open_share(&link.id, &link.open_body()).await,
            "code revoked",
        );
    }
    assert!(
        list(&cloud, token, &owner.code)
            .await
            .iter()
            .all(|s| s["revoked"] == true)
    );
    cloud
        .post("/v1/shares", token, owner.link(DAY, None).body)
        .await
        .assert_error(409, "code_revoked");
}

#[tokio::test]
async fn opens_are_rate_limited_per_address() {
    let cloud = Cloud::start();
    let owner = owner(&cloud).await;
    let link = owner.link(DAY, None);
    cloud.create_share(&owner.session.access, &link).await;
    let wrong = json!({"access_key": b64(&[0u8; 32])});
    for _ in 0..60 {
        assert_does_not_open(&cloud.open_share(&link.id, &wrong).await, "wrong key");
    }
    let limited = cloud.open_share(&link.id, &link.open_body()).await;
    limited.assert_error(429, "rate_limited");
    assert!(limited.headers.contains_key("retry-after"));
    // Sign-ups and logins count separately.
    assert_eq!(
        cloud.login("owner@example.com", common::PASSWORD).await.status,
        200
    );
}

#[tokio::test]
async fn the_access_log_has_paths_and_statuses_and_no_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("access.log");
    let cloud = Cloud::start_with(Options {
        args: vec!["--access-log", log_path.to_str().unwrap()],
        ..Options::default()
    });
    let owner = owner(&cloud).await;
    let link = owner.link(DAY, None);
    cloud.create_share(&owner.session.access, &link).await;
    assert_eq!(get_text(&cloud, &format!("/s/{}", link.id)).await.0, 200);
    assert_eq!(cloud.open_share(&link.id, &link.open_body()).await.status, 200);
    let sync = cloud
        .get("/v1/sync?cursor=0&limit=5", &owner.session.access)
        .await;
    assert_eq!(sync.status, 200);

    let log = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<_> = log.lines().collect();
    assert!(lines.len() >= 6, "{log}");
    for line in &lines {
        let fields: Vec<_> = line.split(' ').collect();
        assert_eq!(fields.len(), 4, "time, method, target, status: {line}");
        assert!(
            fields[0].parse::<chrono::DateTime<chrono::Utc>>().is_ok(),
            "{line}"
        );
    }
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with(&format!(" GET /s/{} 200", link.id))),
        "{log}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with(&format!(" POST /v1/shares/{}/open 200", link.id))),
        "{log}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with(" GET /v1/sync?cursor=0&limit=5 200")),
        "{log}"
    );
    assert!(
        lines.iter().any(|l| l.ends_with(" POST /v1/accounts 201")),
        "{log}"
    );
    for secret in [
        link.access_key.as_str(),
        link.body["access_key_hash"].as_str().unwrap(),
        &owner.session.access,
        common::PASSWORD,
        &owner.pin,
    ] {
        assert!(!log.contains(secret), "a secret is in the access log");
    }
}
