//! Accounts and sessions: sign-up, login, rate limits, refresh rotation and
//! reuse detection, expiry, logout, the list of sessions.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Cloud, Options, PASSWORD, Session};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn sign_up_signs_in_and_login_opens_another_session() {
    let cloud = Cloud::start();
    let anna = cloud.sign_up("  Anna@Example.COM ").await;
    assert_eq!(anna.email, "anna@example.com");
    assert!(anna.access.starts_with("tsa_") && anna.refresh.starts_with("tsr_"));

    let account = cloud.get("/v1/account", &anna.access).await;
    assert_eq!(account.status, 200);
    assert_eq!(account.body["email"], "anna@example.com");
    assert_eq!(account.body["id"], anna.account_id.as_str());

    let login = cloud.login("ANNA@example.com", PASSWORD).await;
    assert_eq!(login.status, 200, "{login:?}");
    let second = Session::from_tokens(&login.body);
    assert_eq!(second.account_id, anna.account_id);
    assert_ne!(second.session_id, anna.session_id);

    let taken = cloud
        .call(
            Method::POST,
            "/v1/accounts",
            None,
            Some(&json!({"email": "anna@example.com", "password": "another long password"})),
        )
        .await;
    taken.assert_error(409, "email_taken");
}

#[tokio::test]
async fn sign_up_checks_its_input() {
    let cloud = Cloud::start();
    let cases = [
        (json!({"email": "not an email", "password": PASSWORD}), "email"),
        (json!({"email": "anna@example", "password": PASSWORD}), "email"),
        (
            json!({"email": "anna@example.com", "password": "short"}),
            "password",
        ),
        (
            json!({"email": "anna@example.com", "password": "nine char"}),
            "password",
        ),
        (
            json!({"email": "anna@example.com", "password": PASSWORD, "device_name": "a\u{7}b"}),
            "device_name",
        ),
    ];
    for (body, field) in cases {
        let reply = cloud.call(Method::POST, "/v1/accounts", None, Some(&body)).await;
        reply.assert_error(422, "invalid_input");
        assert_eq!(reply.field(), Some(field), "{body}");
    }
    // Exactly ten characters is enough.
    let ok = cloud
        .call(
            Method::POST,
            "/v1/accounts",
            None,
            Some(&json!({"email": "anna@example.com", "password": "ten chars!"})),
        )
        .await;
    assert_eq!(ok.status, 201, "{ok:?}");
}

#[tokio::test]
async fn wrong_passwords_and_unknown_accounts_are_invalid_credentials() {
    let cloud = Cloud::start();
    cloud.sign_up("anna@example.com").await;
    cloud
        .login("anna@example.com", "wrong password")
        .await
        .assert_error(401, "invalid_credentials");
    cloud
        .login("nobody@example.com", PASSWORD)
        .await
        .assert_error(401, "invalid_credentials");
    cloud
        .login("not an email", PASSWORD)
        .await
        .assert_error(401, "invalid_credentials");
    assert_eq!(cloud.login("anna@example.com", PASSWORD).await.status, 200);
}

#[tokio::test]
async fn repeated_failures_are_rate_limited_per_account() {
    let cloud = Cloud::start();
    cloud.sign_up("anna@example.com").await;
    cloud.sign_up("bob@example.com").await;
    for _ in 0..5 {
        cloud
            .login("anna@example.com", "wrong password")
            .await
            .assert_error(401, "invalid_credentials");
    }
    // The sixth try is refused, even with the right password, with a time to come back.
    let limited = cloud.login("anna@example.com", PASSWORD).await;
    limited.assert_error(429, "rate_limited");
    let retry_after: u64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    // Other accounts are not affected.
    assert_eq!(cloud.login("bob@example.com", PASSWORD).await.status, 200);
}

#[tokio::test]
async fn attempts_are_rate_limited_per_address() {
    let cloud = Cloud::start();
    // 20 attempts a minute from one address, whatever the account and outcome.
    for i in 0..20 {
        let reply = cloud
            .login(&format!("user{i}@example.com"), "wrong password")
            .await;
        reply.assert_error(401, "invalid_credentials");
    }
    let limited = cloud.login("user99@example.com", PASSWORD).await;
    limited.assert_error(429, "rate_limited");
    assert!(limited.headers.contains_key("retry-after"));
    let sign_up = cloud
        .call(
            Method::POST,
            "/v1/accounts",
            None,
            Some(&json!({"email": "new@example.com", "password": PASSWORD})),
        )
        .await;
    sign_up.assert_error(429, "rate_limited");
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_refresh_token_ends_the_session() {
    let cloud = Cloud::start();
    let first = cloud.sign_up("anna@example.com").await;
    let other_device = Session::from_tokens(&cloud.login("anna@example.com", PASSWORD).await.body);

    let refreshed = cloud.refresh(&first.refresh).await;
    assert_eq!(refreshed.status, 200, "{refreshed:?}");
    let second = Session::from_tokens(&refreshed.body);
    assert_eq!(second.session_id, first.session_id);
    assert_ne!(second.access, first.access);
    assert_ne!(second.refresh, first.refresh);
    assert_eq!(cloud.get("/v1/account", &second.access).await.status, 200);

    let third = Session::from_tokens(&cloud.refresh(&second.refresh).await.body);
    assert_eq!(cloud.get("/v1/account", &third.access).await.status, 200);

    // The first refresh token again: someone holds a copy. The whole session ends.
    cloud
        .refresh(&first.refresh)
        .await
        .assert_error(401, "refresh_token_reused");
    cloud
        .get("/v1/account", &third.access)
        .await
        .assert_error(401, "unauthorized");
    cloud
        .get("/v1/account", &second.access)
        .await
        .assert_error(401, "unauthorized");
    cloud
        .refresh(&third.refresh)
        .await
        .assert_error(401, "unauthorized");
    // The account's other session is untouched.
    assert_eq!(cloud.get("/v1/account", &other_device.access).await.status, 200);

    cloud
        .refresh("tsr_never-issued")
        .await
        .assert_error(401, "unauthorized");
    cloud
        .refresh(&other_device.access)
        .await
        .assert_error(401, "unauthorized");
}

#[tokio::test]
async fn an_expired_access_token_is_token_expired_and_refresh_renews_it() {
    let cloud = Cloud::start_with(Options {
        args: vec!["--access-token-ttl", "1"],
        ..Options::default()
    });
    let anna = cloud.sign_up("anna@example.com").await;
    assert_eq!(cloud.get("/v1/account", &anna.access).await.status, 200);
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let expired = cloud.get("/v1/account", &anna.access).await;
    expired.assert_error(401, "token_expired");
    assert_eq!(expired.headers["www-authenticate"], "Bearer");
    let renewed = Session::from_tokens(&cloud.refresh(&anna.refresh).await.body);
    assert_eq!(cloud.get("/v1/account", &renewed.access).await.status, 200);
}

#[tokio::test]
async fn logout_ends_the_session() {
    let cloud = Cloud::start();
    let anna = cloud.sign_up("anna@example.com").await;
    assert_eq!(
        cloud.delete("/v1/sessions/current", &anna.access).await.status,
        204
    );
    cloud
        .get("/v1/account", &anna.access)
        .await
        .assert_error(401, "unauthorized");
    cloud
        .refresh(&anna.refresh)
        .await
        .assert_error(401, "unauthorized");
}

#[tokio::test]
async fn sessions_are_listed_and_revoked_one_by_one() {
    let cloud = Cloud::start();
    let phone = cloud.sign_up("anna@example.com").await;
    let body = json!({"email": "anna@example.com", "password": PASSWORD, "device_name": "  Anna's iPad "});
    let tablet = Session::from_tokens(
        &cloud
            .call(Method::POST, "/v1/sessions", None, Some(&body))
            .await
            .body,
    );
    let bob = cloud.sign_up("bob@example.com").await;

    let list = cloud.get("/v1/sessions", &phone.access).await;
    let sessions: Vec<tessera_api::SessionInfo> = serde_json::from_value(list.body).unwrap();
    assert_eq!(sessions.len(), 2);
    let current: Vec<_> = sessions.iter().filter(|s| s.current).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].id.to_string(), phone.session_id);
    assert_eq!(current[0].device_name.as_deref(), Some("test phone"));
    let ipad = sessions
        .iter()
        .find(|s| s.id.to_string() == tablet.session_id)
        .unwrap();
    assert_eq!(ipad.device_name.as_deref(), Some("Anna's iPad"));

    // Another account's session is not found, and stays.
    let foreign = cloud
        .delete(&format!("/v1/sessions/{}", bob.session_id), &phone.access)
        .await;
    foreign.assert_error(404, "not_found");
    assert_eq!(cloud.get("/v1/account", &bob.access).await.status, 200);

    let revoked = cloud
        .delete(&format!("/v1/sessions/{}", tablet.session_id), &phone.access)
        .await;
    assert_eq!(revoked.status, 204);
    cloud
        .get("/v1/account", &tablet.access)
        .await
        .assert_error(401, "unauthorized");
    cloud
        .refresh(&tablet.refresh)
        .await
        .assert_error(401, "unauthorized");
    let list = cloud.get("/v1/sessions", &phone.access).await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    let again = cloud
        .delete(&format!("/v1/sessions/{}", tablet.session_id), &phone.access)
        .await;
    again.assert_error(404, "not_found");
}
