//! Makes a real share link on a running cloud, for the browser tests (and a
//! person trying the visitor page): signs up a fresh account, registers a lock
//! (Europe/Berlin), creates a code through the API, builds the visitor pass from
//! the code's compiled schedule, seals it with tessera-core's real capsule, and
//! uploads it (hosted) or puts it all in the fragment (self-contained). Prints
//! one JSON object: `link`, `id`, `secret`, `pin`, `expires_at`, `lock_zone`,
//! `summary`, `intervals`.
//!
//! Stand-in until `tessera share` exists; then the browser tests switch to it.
//!
//! ```text
//! cargo run -p tessera-cloud --example make_share -- --cloud http://127.0.0.1:8080 \
//!     [--kind window|one-time|permanent] [--starts-in SECS] [--lasts SECS] \
//!     [--expires-in SECS] [--views N] [--self-contained] [--revoke]
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use clap::{Parser, ValueEnum};
use serde_json::{Value, json};
use tessera_core::share::{self, PassInterval, ShareLink, ShareSecret, VisitorPass};
use tessera_model::{
    CompileOptions, EffectiveSchedule, Lock, LockCapabilities, LockId, Pin, Schedule, ScheduleKind, Tz,
};

const ZONE: &str = "Europe/Berlin";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Kind {
    Window,
    OneTime,
    Permanent,
}

#[derive(Debug, Parser)]
#[command(about = "Makes a real share link on a running cloud")]
struct Args {
    /// The cloud's URL (`http://127.0.0.1:PORT`).
    #[arg(long)]
    cloud: String,
    #[arg(long, value_enum, default_value_t = Kind::Window)]
    kind: Kind,
    /// When the code starts, in seconds from now (negative: already started).
    #[arg(long, default_value_t = -3600, allow_hyphen_values = true)]
    starts_in: i64,
    /// How long the code lasts, in seconds.
    #[arg(long, default_value_t = 2 * 86_400)]
    lasts: i64,
    /// When the link expires, in seconds from now; default: the code's end
    /// (a day from now for a permanent code).
    #[arg(long, allow_hyphen_values = true)]
    expires_in: Option<i64>,
    /// How many times the link may be opened.
    #[arg(long)]
    views: Option<u32>,
    /// Put the whole pass in the link (nothing is uploaded).
    #[arg(long)]
    self_contained: bool,
    /// Revoke the link right after uploading it.
    #[arg(long)]
    revoke: bool,
}

struct Api {
    url: String,
    client: reqwest::Client,
    token: String,
}

impl Api {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the cloud answers");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("randomness");
    bytes
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn local(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone).format("%Y-%m-%dT%H:%M:00").to_string()
}

fn wall(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone)
        .format("%a %Y-%m-%d %H:%M %Z (UTC%:z)")
        .to_string()
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let url = args.cloud.trim_end_matches('/').to_owned();

    let email = format!("share-{}@example.com", uuid::Uuid::now_v7());
    let signed_up: Value = client
        .post(format!("{url}/v1/accounts"))
        .json(&json!({"email": email, "password": "browser tests password", "device_name": "make_share"}))
        .send()
        .await
        .expect("the cloud answers")
        .json()
        .await
        .expect("tokens");
    let token = signed_up["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("sign-up refused: {signed_up}"))
        .to_owned();
    let api = Api { url, client, token };

    let zone: Tz = ZONE.parse().expect("a zone");
    let lock = Lock {
        id: LockId::new(),
        name: "Front door".to_owned(),
        time_zone: zone,
        capabilities: LockCapabilities::default(),
    };
    let (status, body) = api
        .call(
            reqwest::Method::POST,
            "/v1/locks",
            Some(json!({"id": lock.id, "name": lock.name, "time_zone": ZONE, "capabilities": lock.capabilities})),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    let now = Utc::now();
    let start = now + TimeDelta::seconds(args.starts_in);
    let end = start + TimeDelta::seconds(args.lasts);
    let schedule = match args.kind {
        Kind::Permanent => json!({"kind": "permanent"}),
        Kind::Window => json!({"kind": "window", "start": local(start, zone), "end": local(end, zone)}),
        Kind::OneTime => json!({"kind": "one_time", "start": local(start, zone), "end": local(end, zone)}),
    };
    // A PIN the lock's rules accept: random until one is.
    let mut created = None;
    for _ in 0..20 {
        let pin = format!("{:06}", u32::from_be_bytes(random_bytes::<4>()) % 1_000_000);
        let code_id = uuid::Uuid::now_v7();
        let body = json!({"id": code_id, "label": "Anna", "pin": pin, "schedule": schedule});
        let (status, reply) = api
            .call(
                reqwest::Method::POST,
                &format!("/v1/locks/{}/codes", lock.id),
                Some(body),
            )
            .await;
        match status {
            201 => {
                created = Some((code_id, pin));
                break;
            }
            422 if reply["error"]["field"] == "pin" => continue,
            _ => panic!("the code was refused: {reply}"),
        }
    }
    let (code_id, pin) = created.expect("a PIN the lock accepts");

    // The pass, from the code's schedule compiled for its lock (as the phone will).
    let schedule: Schedule = serde_json::from_value(schedule).expect("a schedule");
    let effective =
        EffectiveSchedule::compile(&schedule, &lock, CompileOptions::default()).expect("it compiles");
    let (code_start, code_end) = effective.bounds();
    let intervals: Vec<PassInterval> = match code_end {
        None => Vec::new(),
        Some(_) => effective
            .intervals_from(now)
            .take(share::MAX_INTERVALS)
            .map(|i| PassInterval {
                start: i.start,
                end: i.end,
            })
            .collect(),
    };
    let expires_at = match args.expires_in {
        Some(seconds) => now + TimeDelta::seconds(seconds),
        None => code_end.unwrap_or(now + TimeDelta::days(1)),
    };
    let expires_at = DateTime::from_timestamp(expires_at.timestamp(), 0).expect("an instant");
    let summary = match (code_start, code_end) {
        (Some(from), Some(until)) => format!("from {} until {}", wall(from, zone), wall(until, zone)),
        _ => "at any time, until revoked".to_owned(),
    };
    let one_time = args.kind == Kind::OneTime;
    let pass = VisitorPass {
        version: share::PASS_VERSION,
        lock_name: lock.name.clone(),
        label: "Anna".to_owned(),
        code: Pin::parse(&pin).expect("digits"),
        kind: match args.kind {
            Kind::Window => ScheduleKind::Window,
            Kind::OneTime => ScheduleKind::OneTime,
            Kind::Permanent => ScheduleKind::Permanent,
        },
        lock_zone: ZONE.to_owned(),
        summary,
        intervals,
        first_use_minutes: None,
        first_use_by: if one_time { code_end } else { None },
        address: Some("Kastanienallee 12, 10435 Berlin".to_owned()),
        instructions: Some("Keypad left of the door.\nPress # after the code.".to_owned()),
        host_note: Some("Towels are in the hall cupboard. Enjoy your stay!".to_owned()),
        host_contact: Some("+49 30 1234567".to_owned()),
        issued_at: DateTime::from_timestamp(now.timestamp().min(expires_at.timestamp()) - 60, 0)
            .expect("an instant"),
        expires_at,
    };

    let secret_bytes = random_bytes::<32>();
    let secret = ShareSecret::from_bytes(secret_bytes);
    let (id, link) = if args.self_contained {
        let sealed = share::seal(&pass, "local", &secret).expect("sealed");
        let link = ShareLink::SelfContained {
            base: api.url.clone(),
            secret: secret.clone(),
            expires_at: expires_at.timestamp(),
            sealed,
        };
        ("local".to_owned(), link)
    } else {
        let id = share::new_link_id().expect("an id");
        let sealed = share::seal(&pass, &id, &secret).expect("sealed");
        let access_key = secret.access_key();
        let body = json!({
            "id": id,
            "code_id": code_id,
            "sealed": b64(&sealed),
            "access_key_hash": b64(&share::access_key_hash(access_key.as_slice())),
            "expires_at": expires_at,
            "max_views": args.views,
        });
        let (status, reply) = api.call(reqwest::Method::POST, "/v1/shares", Some(body)).await;
        assert_eq!(status, 201, "the share was refused: {reply}");
        if args.revoke {
            let (status, reply) = api
                .call(reqwest::Method::DELETE, &format!("/v1/shares/{id}"), None)
                .await;
            assert_eq!(status, 204, "{reply}");
        }
        let link = ShareLink::Hosted {
            base: api.url.clone(),
            id: id.clone(),
            secret: secret.clone(),
            expires_at: expires_at.timestamp(),
        };
        (id, link)
    };
    let out = json!({
        "link": link.url().as_str(),
        "id": id,
        "secret": b64(&secret_bytes),
        "pin": pin,
        "expires_at": expires_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "lock_zone": ZONE,
        "summary": pass.summary,
        "intervals": pass.intervals,
    });
    println!("{out}");
}
