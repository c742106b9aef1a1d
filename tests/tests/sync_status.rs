//! What a UI observes: the sync status through its watch channel, and each code's
//! sync state from pending to synced to set on the lock, or failed with a reason.
//! A real cloud process; the lock's events come in with its device credential.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test helpers: a failure is a failed test.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use tessera_core::api::Secret;
use tessera_core::model::{LockCapabilities, Pin, Schedule};
use tessera_core::{
    ClientConfig, CodeDraft, CodeSync, MemorySecureStore, NewLock, PinRequest, SyncActivity, SyncStage,
    TesseraClient,
};
use tessera_e2e::{Cloud, PASSWORD};

const EMAIL: &str = "status@example.com";

fn device(dir: &std::path::Path, name: &str) -> TesseraClient {
    let config = ClientConfig {
        data_dir: dir.join(name),
        ..ClientConfig::default()
    };
    TesseraClient::open(config, Arc::new(MemorySecureStore::default())).unwrap()
}

/// Plain HTTP from outside the client; blocking, so off the async workers.
fn http(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&serde_json::Value>,
) -> (u16, serde_json::Value) {
    tokio::task::block_in_place(|| tessera_e2e::http(method, url, token, body))
}

fn draft(label: &str, pin: &str) -> CodeDraft {
    CodeDraft {
        label: label.to_owned(),
        schedule: Schedule::Permanent,
        allow_widening: false,
        max_uses: None,
        pin: PinRequest::Chosen(Pin::parse(pin).unwrap()),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ui_sees_sync_progress_and_each_codes_journey() {
    let dir = tempfile::tempdir().unwrap();
    let mut cloud = tokio::task::block_in_place(|| Cloud::start(dir.path(), &[]));
    let phone = device(dir.path(), "phone");
    assert_eq!(phone.sync_status().activity, SyncActivity::SignedOut);

    // Everything the status channel publishes, as a UI listener would see it.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut watch = phone.watch_sync_status();
    let recorder = {
        let seen = seen.clone();
        tokio::spawn(async move {
            while watch.changed().await.is_ok() {
                seen.lock().unwrap().push(watch.borrow_and_update().clone());
            }
        })
    };

    phone
        .sign_up(&cloud.url(), EMAIL, Secret::new(PASSWORD), None)
        .await
        .unwrap();
    assert_eq!(phone.sync_status().activity, SyncActivity::Idle);
    let lock = phone
        .add_lock(NewLock {
            name: "Front door".to_owned(),
            time_zone: "Europe/Berlin".to_owned(),
            capabilities: LockCapabilities::default(),
        })
        .unwrap();
    let first = phone.create_code(lock.id, draft("Cleaner", "48291657")).unwrap();
    assert_eq!(first.sync, CodeSync::Pending);
    assert_eq!(phone.sync_status().pending, 2);

    // The cloud is away: offline, nothing lost.
    tokio::task::block_in_place(|| cloud.stop());
    let offline = phone.sync().await.unwrap_err();
    assert_eq!(offline.code(), "offline");
    match phone.sync_status().activity {
        SyncActivity::Offline { reason, .. } => assert!(reason.contains("refused"), "{reason}"),
        other => panic!("expected offline, got {other:?}"),
    }
    assert_eq!(phone.sync_status().pending, 2);

    tokio::task::block_in_place(|| cloud.restart());
    let report = phone.sync().await.unwrap();
    assert_eq!((report.pushed, report.refused), (2, 0));
    let status = phone.sync_status();
    assert_eq!(status.activity, SyncActivity::Idle);
    assert_eq!(status.pending, 0);
    assert!(status.last_success.is_some_and(|at| at <= Utc::now()));
    assert_eq!(phone.code(first.code.id).unwrap().sync, CodeSync::Synced);

    // The lock confirms it holds the code; the next sync shows it set on the lock.
    let login = json!({ "email": EMAIL, "password": PASSWORD });
    let (_, tokens) = http(
        "POST",
        &format!("{}/v1/sessions", cloud.url()),
        None,
        Some(&login),
    );
    let token = tokens["access_token"].as_str().unwrap().to_owned();
    let credential_url = format!("{}/v1/locks/{}/device-credentials", cloud.url(), lock.id);
    let (status, credential) = http("POST", &credential_url, Some(&token), Some(&json!({})));
    assert_eq!(status, 201, "{credential}");
    let device_token = credential["device_token"].as_str().unwrap().to_owned();
    let set_at = Utc::now();
    let event = json!({ "kind": "code_set", "code_id": first.code.id, "at": set_at });
    let (status, body) = http(
        "POST",
        &format!("{}/v1/locks/{}/events", cloud.url(), lock.id),
        Some(&device_token),
        Some(&event),
    );
    assert_eq!(status, 201, "{body}");
    phone.sync().await.unwrap();
    match phone.code(first.code.id).unwrap().sync {
        CodeSync::SetOnLock { at } => assert_eq!(at.timestamp_millis(), set_at.timestamp_millis()),
        other => panic!("expected set on lock, got {other:?}"),
    }
    assert_eq!(phone.events(lock.id, 10).unwrap().len(), 1);

    // A tablet of the same owner takes the same PIN for another code while the phone
    // is offline; the phone's push is refused and its code shows why.
    let tablet = device(dir.path(), "tablet");
    tablet
        .log_in(&cloud.url(), EMAIL, Secret::new(PASSWORD), None)
        .await
        .unwrap();
    tablet.sync().await.unwrap();
    let phones = phone.create_code(lock.id, draft("Plumber", "73051942")).unwrap();
    let tablets = tablet
        .create_code(lock.id, draft("Gardener", "73051942"))
        .unwrap();
    tablet.sync().await.unwrap();
    let report = phone.sync().await.unwrap();
    assert_eq!(report.refused, 1);
    match phone.code(phones.code.id).unwrap().sync {
        CodeSync::Failed { reason } => assert!(reason.contains(&tablets.code.id.to_string()), "{reason}"),
        other => panic!("expected a failure, got {other:?}"),
    }
    // Choosing other digits is a new attempt, and it goes through.
    let changes = tessera_core::CodeChanges {
        pin: Some(PinRequest::Chosen(Pin::parse("58203947").unwrap())),
        ..Default::default()
    };
    phone.update_code(phones.code.id, changes).unwrap();
    phone.sync().await.unwrap();
    assert_eq!(phone.code(phones.code.id).unwrap().sync, CodeSync::Synced);

    tokio::time::sleep(Duration::from_millis(50)).await;
    recorder.abort();
    let seen = seen.lock().unwrap();
    // A watch channel keeps the latest state (what a UI draws), so a listener may miss
    // brief ones; what it must see: progress while pushing, the outage, and the end.
    let pushing: Vec<(usize, Option<usize>)> = seen
        .iter()
        .filter_map(|status| match &status.activity {
            SyncActivity::Syncing(progress) if progress.stage == SyncStage::Pushing => {
                Some((progress.done, progress.total))
            }
            _ => None,
        })
        .collect();
    assert!(!pushing.is_empty(), "no push progress was published");
    assert!(
        pushing
            .iter()
            .all(|(done, total)| total.is_some_and(|total| *done <= total)),
        "{pushing:?}"
    );
    assert!(
        seen.iter()
            .any(|status| matches!(status.activity, SyncActivity::Offline { .. }))
    );
    assert_eq!(
        seen.last().map(|status| &status.activity),
        Some(&SyncActivity::Idle)
    );
}
