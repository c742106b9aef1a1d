//! Malformed, oversized and unexpected requests answer the documented error codes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;

use common::{Cloud, PASSWORD, code_body, new_id};
use reqwest::Method;
use serde_json::json;

fn raw_post(
    cloud: &Cloud,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: &str,
) -> reqwest::RequestBuilder {
    let mut request = cloud.request(Method::POST, path).body(body.to_owned());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    request
}

#[tokio::test]
async fn bodies_that_are_not_json_are_invalid_json() {
    let cloud = Cloud::start();
    for body in [
        "",
        "{",
        "{\"email\": }",
        "[1,",
        "{\"email\": \"a@b.io\"} trailing",
        "nul",
        "{'email': 1}",
    ] {
        let reply = cloud
            .send(raw_post(
                &cloud,
                "/v1/accounts",
                None,
                Some("application/json"),
                body,
            ))
            .await;
        reply.assert_error(400, "invalid_json");
    }
}

#[tokio::test]
async fn unknown_missing_and_mistyped_fields_are_named() {
    let cloud = Cloud::start();
    let cases = [
        (
            json!({"email": "a@example.com", "password": PASSWORD, "admin": true}),
            "admin",
        ),
        (json!({"email": "a@example.com"}), "password"),
        (json!({"email": 5, "password": PASSWORD}), "email"),
        (json!({"email": "a@example.com", "password": ["x"]}), "password"),
        (
            json!({"email": "a@example.com", "password": PASSWORD, "device_name": 7}),
            "device_name",
        ),
    ];
    for (body, field) in cases {
        let reply = cloud.call(Method::POST, "/v1/accounts", None, Some(&body)).await;
        reply.assert_error(400, "invalid_request");
        assert_eq!(reply.field(), Some(field), "{body}");
    }
    let reply = cloud
        .call(Method::POST, "/v1/accounts", None, Some(&json!([1, 2])))
        .await;
    reply.assert_error(400, "invalid_request");

    // Nested fields are named by their path.
    let owner = cloud.sign_up("owner@example.com").await;
    let lock = cloud.register_lock(&owner.access, "Door").await;
    let path = format!("/v1/locks/{lock}/codes");
    let mut unknown_nested = code_body(&new_id(), "A", "482916", json!({"kind": "permanent"}));
    unknown_nested["schedule"] =
        json!({"kind": "window", "start": "2031-01-01T00:00:00", "end": "2031-01-02T00:00:00", "tz": "UTC"});
    let reply = cloud.post(&path, &owner.access, unknown_nested).await;
    reply.assert_error(400, "invalid_request");
    assert!(reply.field().unwrap().starts_with("schedule"), "{reply:?}");
    let mut mistyped = code_body(&new_id(), "A", "482916", json!({"kind": "permanent"}));
    mistyped["pin"] = json!(482916);
    let reply = cloud.post(&path, &owner.access, mistyped).await;
    reply.assert_error(400, "invalid_request");
    assert_eq!(reply.field(), Some("pin"));
    assert!(
        !reply.body.to_string().contains("482916"),
        "the message repeats the PIN: {reply:?}"
    );
    let mut bad_kind = code_body(&new_id(), "A", "482916", json!({"kind": "forever"}));
    bad_kind["allow_widening"] = json!(false);
    let reply = cloud.post(&path, &owner.access, bad_kind).await;
    reply.assert_error(400, "invalid_request");
    assert!(reply.field().unwrap().starts_with("schedule"), "{reply:?}");
    let bad_capabilities =
        json!({"id": new_id(), "name": "D", "time_zone": "UTC", "capabilities": {"max_codes": 3}});
    let reply = cloud.post("/v1/locks", &owner.access, bad_capabilities).await;
    reply.assert_error(400, "invalid_request");
    assert!(reply.field().unwrap().starts_with("capabilities"), "{reply:?}");
}

#[tokio::test]
async fn json_bodies_need_a_json_content_type() {
    let cloud = Cloud::start();
    let body = json!({"email": "a@example.com", "password": PASSWORD}).to_string();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let reply = cloud
            .send(raw_post(&cloud, "/v1/accounts", None, content_type, &body))
            .await;
        reply.assert_error(400, "invalid_request");
    }
    let reply = cloud
        .send(raw_post(
            &cloud,
            "/v1/accounts",
            None,
            Some("application/json; charset=utf-8"),
            &body,
        ))
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let cloud = Cloud::start();
    let owner = cloud.sign_up("owner@example.com").await;
    let huge = json!({"name": "x".repeat(tessera_api::MAX_BODY_BYTES)});
    let lock = cloud.register_lock(&owner.access, "Door").await;
    let reply = cloud
        .patch(&format!("/v1/locks/{lock}"), &owner.access, huge.clone())
        .await;
    reply.assert_error(413, "payload_too_large");

    // Without a length up front (chunked), reading stops at the limit all the same.
    let address = cloud.url.trim_start_matches("http://").to_owned();
    let reply = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        let chunk = "x".repeat(16 * 1024);
        let mut request = String::from(
            "POST /v1/accounts HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
             Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        );
        for _ in 0..8 {
            request.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
        }
        request.push_str("0\r\n\r\n");
        // The server may answer and close before reading everything.
        let _ = stream.write_all(request.as_bytes());
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    })
    .await
    .unwrap();
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    assert!(reply.contains("\"payload_too_large\""), "{reply}");
}

#[tokio::test]
async fn bad_query_parameters_and_path_ids_are_invalid_requests() {
    let cloud = Cloud::start();
    let owner = cloud.sign_up("owner@example.com").await;
    let cases = [
        ("/v1/sync?cursor=abc", Some("cursor")),
        ("/v1/sync?cursor=-1", Some("cursor")),
        ("/v1/sync?limit=0", Some("limit")),
        ("/v1/sync?limit=1001", Some("limit")),
        ("/v1/sync?limit=ten", Some("limit")),
        ("/v1/sync?since=3", Some("since")),
        ("/v1/sync?cursor=1&cursor=2", Some("cursor")),
        ("/v1/locks/not-a-uuid", Some("id")),
        ("/v1/codes/123", Some("id")),
    ];
    for (path, field) in cases {
        let reply = cloud.get(path, &owner.access).await;
        reply.assert_error(400, "invalid_request");
        assert_eq!(reply.field(), field, "{path}: {reply:?}");
    }
    let lock = cloud.register_lock(&owner.access, "Door").await;
    for query in ["limit=0", "limit=1001", "before=yesterday", "newest=true"] {
        let reply = cloud
            .get(&format!("/v1/locks/{lock}/events?{query}"), &owner.access)
            .await;
        reply.assert_error(400, "invalid_request");
    }
    assert_eq!(
        cloud
            .get("/v1/sync?limit=1000&cursor=0", &owner.access)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json() {
    let cloud = Cloud::start();
    for path in ["/", "/v1", "/v1/nothing", "/v2/sync", "/v1/locks/a/b/c"] {
        let reply = cloud.call(Method::GET, path, None, None).await;
        reply.assert_error(404, "not_found");
    }
    for (method, path) in [
        (Method::PUT, "/v1/sync"),
        (Method::DELETE, "/v1/accounts"),
        (Method::GET, "/v1/sessions/refresh"),
    ] {
        let reply = cloud.call(method, path, None, None).await;
        reply.assert_error(405, "method_not_allowed");
        assert!(reply.headers.contains_key("allow"), "{reply:?}");
    }
}
