//! The cloud's logs, at their most verbose, never contain a password, a token,
//! a device credential or a PIN.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Cloud, Options, Session, code_body, new_id};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn debug_logs_contain_no_secrets() {
    for format in ["text", "json"] {
        let cloud = Cloud::start_with(Options {
            args: vec!["--log-format", format],
            env: vec![("RUST_LOG", "trace")],
            ..Options::default()
        });
        let mut secrets = Vec::new();

        let password = "Pa55word-that-must-not-leak";
        let signup = json!({"email": "anna@example.com", "password": password});
        let signed_up = cloud
            .call(Method::POST, "/v1/accounts", None, Some(&signup))
            .await;
        let first = Session::from_tokens(&signed_up.body);
        let wrong = cloud
            .login("anna@example.com", "Wrong-pa55word-also-secret")
            .await;
        assert_eq!(wrong.status, 401);
        let login = Session::from_tokens(&cloud.login("anna@example.com", password).await.body);
        let refreshed = Session::from_tokens(&cloud.refresh(&login.refresh).await.body);
        let reused = cloud.refresh(&login.refresh).await;
        assert_eq!(reused.status, 401);

        let lock = cloud.register_lock(&first.access, "Front door").await;
        let pin = "90817263";
        let code = cloud.create_code(&first.access, &lock, "Anna", pin).await;
        let patched_pin = "51739046";
        let request = cloud
            .request(
                Method::PATCH,
                &format!("/v1/codes/{}", code["id"].as_str().unwrap()),
            )
            .bearer_auth(&first.access)
            .header("Idempotency-Key", "secret-free-key")
            .json(&json!({"pin": patched_pin}));
        assert_eq!(cloud.send(request).await.status, 200);
        let weak = code_body(&new_id(), "Weak", "11111111", json!({"kind": "permanent"}));
        assert_eq!(
            cloud
                .post(&format!("/v1/locks/{lock}/codes"), &first.access, weak)
                .await
                .status,
            422
        );
        let mistyped =
            json!({"id": new_id(), "label": "x", "pin": 73915462, "schedule": {"kind": "permanent"}});
        assert_eq!(
            cloud
                .post(&format!("/v1/locks/{lock}/codes"), &first.access, mistyped)
                .await
                .status,
            400
        );

        let device = cloud.device_token(&first.access, &lock).await;
        let event = json!({"kind": "code_set", "code_id": code["id"], "at": "2031-01-01T00:00:00Z"});
        assert_eq!(
            cloud
                .post(&format!("/v1/locks/{lock}/events"), &device, event)
                .await
                .status,
            201
        );
        let (changes, _) = cloud.sync_all(&first.access, 0, 10).await;
        assert!(!changes.is_empty());
        // The reuse above ended the refreshed session; log the first one out.
        assert_eq!(
            cloud.delete("/v1/sessions/current", &first.access).await.status,
            204
        );

        secrets.extend([password.to_owned(), "Wrong-pa55word-also-secret".to_owned()]);
        for session in [&first, &login, &refreshed] {
            secrets.extend([session.access.clone(), session.refresh.clone()]);
        }
        secrets.extend([
            pin.to_owned(),
            patched_pin.to_owned(),
            "11111111".to_owned(),
            "73915462".to_owned(),
        ]);
        secrets.push(device.clone());

        let (_dir, status) = {
            let logs_path = cloud.log_path.clone();
            let stopped = cloud.stop();
            let logs = std::fs::read_to_string(logs_path).unwrap();
            assert!(
                logs.contains("/v1/locks/{id}/codes"),
                "the logs name route templates ({format}): {logs}"
            );
            assert!(logs.contains("/v1/sessions/refresh"), "{logs}");
            assert!(
                logs.contains("401") && logs.contains("422"),
                "statuses are logged"
            );
            for secret in &secrets {
                // Also a token's random part alone, in case a prefix was stripped.
                let core = secret
                    .get(4..)
                    .filter(|_| secret.starts_with("ts"))
                    .unwrap_or(secret);
                assert!(!logs.contains(core), "a secret is in the {format} logs: {secret}");
            }
            assert!(
                !logs.to_lowercase().contains("bearer "),
                "an Authorization header is in the logs"
            );
            stopped
        };
        assert!(status.success(), "the cloud stops cleanly on SIGTERM: {status:?}");
    }
}
