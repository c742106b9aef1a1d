//! Starting, stopping and restarting: data survives a restart, the key file is
//! private and required, `:memory:` works, and the library embeds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{Cloud, Options, PASSWORD, Session, spawn};
use reqwest::Method;

#[tokio::test]
async fn data_survives_a_restart_and_needs_its_key() {
    let cloud = Cloud::start();
    let anna = cloud.sign_up("anna@example.com").await;
    let lock = cloud.register_lock(&anna.access, "Front door").await;
    let code = cloud.create_code(&anna.access, &lock, "Anna", "482916").await;
    let db_path = cloud.db_path.clone();
    let (dir, status) = cloud.stop();
    assert!(status.success(), "{status:?}");

    let key_path = dir.path().join("cloud.db.key");
    let metadata = std::fs::metadata(&key_path).unwrap();
    assert_eq!(metadata.len(), 32);
    assert_eq!(metadata.permissions().mode() & 0o777, 0o600);

    // Another key does not open the database.
    let other_key = dir.path().join("other.key");
    let log = dir.path().join("refused.log");
    let refused = spawn(&db_path, &log, &["--key-file", other_key.to_str().unwrap()], &[]);
    let message = refused.expect_err("the cloud must refuse another key");
    assert!(message.contains("key"), "{message}");

    let cloud = Cloud::start_with(Options {
        dir: Some(dir),
        ..Options::default()
    });
    let again = Session::from_tokens(&cloud.login("anna@example.com", PASSWORD).await.body);
    let read = cloud
        .get(
            &format!("/v1/codes/{}", code["id"].as_str().unwrap()),
            &again.access,
        )
        .await;
    assert_eq!(read.body, code);
    // Sessions survive too.
    assert_eq!(cloud.get("/v1/account", &anna.access).await.status, 200);
}

#[tokio::test]
async fn an_in_memory_cloud_starts_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("memory.log");
    let (mut child, url) = spawn(std::path::Path::new(":memory:"), &log, &[], &[]).unwrap();
    let client = common::client();
    let reply = client.get(format!("{url}/openapi.json")).send().await.unwrap();
    assert_eq!(reply.status(), 200);
    let signup = serde_json::json!({"email": "anna@example.com", "password": PASSWORD});
    let reply = client
        .post(format!("{url}/v1/accounts"))
        .json(&signup)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 201);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!dir.path().join(":memory:").exists());
}

#[tokio::test]
async fn the_library_embeds_and_shuts_down() {
    let config = tessera_cloud::CloudConfig::in_memory().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = tessera_cloud::start(config, listener).await.unwrap();
    assert!(running.url().starts_with("http://127.0.0.1:"));
    let client = common::client();
    let signup = serde_json::json!({"email": "anna@example.com", "password": PASSWORD});
    let reply = client
        .request(Method::POST, format!("{}/v1/accounts", running.url()))
        .json(&signup)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 201);
    let address = running.local_addr();
    running.shutdown().await.unwrap();
    assert!(
        tokio::net::TcpStream::connect(address).await.is_err(),
        "still listening"
    );
}
