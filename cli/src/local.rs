//! Locks reached directly and offline codes: `tessera lock discover|pair|push|log|
//! clock|rotate-offline`, `tessera code create --offline` and `code offline-list`,
//! and how a change's route to its lock (local, cloud or queued) is reported.

use std::io::IsTerminal;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tessera_core::model::schedule::{ZonedTime, standard_offset_seconds};
use tessera_core::model::{Lock, Tz};
use tessera_core::offline::{self as offline_codes, OfflineClass, OfflineCode, OfflineRequest};
use tessera_core::{Delivery, DiscoveryOptions, LockActivity, LockLogEntry, LockRoute, Route, TesseraClient};
use tessera_protocol::offline::Header;
use zeroize::Zeroizing;

use crate::app::{find_lock, viewer_zone};
use crate::args::{CodeCreate, LockDiscover, LockPair};
use crate::error::{CliError, CliResult};
use crate::render::{self, Output};

pub async fn discover(client: &TesseraClient, args: LockDiscover) -> CliResult<Output> {
    let timeout = Duration::try_from_secs_f64(args.timeout).map_err(|_| {
        CliError::usage(format!(
            "--timeout {}: give a number of seconds, like 3 or 0.5",
            args.timeout
        ))
    })?;
    let found = client
        .discover_locks(DiscoveryOptions {
            timeout,
            mdns: !args.no_mdns,
            bluetooth: true,
            addresses: args.addresses,
        })
        .await?;
    let mut text = if found.locks.is_empty() {
        "No locks found.\n".to_owned()
    } else {
        let rows = found
            .locks
            .iter()
            .map(|lock| {
                vec![
                    lock.name
                        .clone()
                        .unwrap_or_else(|| "(not paired here)".to_owned()),
                    lock.lock_id
                        .map_or_else(|| "-".to_owned(), |id| render::short_id(&id)),
                    if lock.paired { "yes" } else { "no" }.to_owned(),
                    if lock.routes.is_empty() {
                        "none now".to_owned()
                    } else {
                        lock.routes.iter().map(route_text).collect::<Vec<_>>().join(", ")
                    },
                ]
            })
            .collect();
        render::table(&["NAME", "LOCK", "PAIRED", "ROUTES"], rows)
    };
    for address in &found.unreachable {
        text.push_str(&format!("Nothing answered at {address}.\n"));
    }
    if let Some(error) = &found.mdns_error {
        text.push_str(&format!(
            "Could not browse the local network ({error}); try --address HOST:PORT.\n"
        ));
    }
    let unpaired_nearby = found.locks.iter().any(|lock| {
        !lock.paired
            && lock
                .routes
                .iter()
                .any(|route| matches!(route, LockRoute::Network { .. }))
    });
    if unpaired_nearby {
        text.push_str("Pair with a lock: tessera lock pair HOST:PORT --setup-code CODE\n");
    }
    let locks: Vec<Value> = found
        .locks
        .iter()
        .map(|lock| {
            json!({
                "id": lock.lock_id,
                "name": lock.name,
                "known": lock.known,
                "paired": lock.paired,
                "routes": lock.routes.iter().map(route_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Output {
        text,
        json: json!({ "locks": locks, "unreachable": found.unreachable, "mdns_error": found.mdns_error }),
    })
}

fn route_text(route: &LockRoute) -> String {
    match route {
        LockRoute::Cloud => "cloud".to_owned(),
        LockRoute::Network { address, announced } => {
            format!("lan {address}{}", if *announced { " (mDNS)" } else { "" })
        }
        LockRoute::Bluetooth { device } => format!("bluetooth {device}"),
    }
}

fn route_json(route: &LockRoute) -> Value {
    match route {
        LockRoute::Cloud => json!({ "kind": "cloud" }),
        LockRoute::Network { address, announced } => {
            json!({ "kind": "network", "address": address, "announced": announced })
        }
        LockRoute::Bluetooth { device } => json!({ "kind": "bluetooth", "device": device }),
    }
}

pub async fn pair(client: &TesseraClient, args: LockPair) -> CliResult<Output> {
    let setup_code = setup_code(args.setup_code)?;
    let paired = client.pair_lock(&args.address, &setup_code).await?;
    let lock = &paired.lock;
    let mut text = format!(
        "Paired with {:?} at {} ({}), id {}\n",
        lock.name,
        args.address,
        lock.time_zone.name(),
        lock.id
    );
    text.push_str(if paired.added {
        "  Added to this computer's locks.\n"
    } else {
        "  Already known here: it now has a local route too.\n"
    });
    text.push_str(if paired.offline_codes {
        "  Offline codes can be issued for it here, with no network: tessera code create --offline CLASS ...\n"
    } else {
        "  It does not hand out offline codes.\n"
    });
    if paired.clock_set {
        text.push_str("  Its clock was off and was set to this computer's.\n");
    }
    let mut json = render::lock_json(lock);
    json["address"] = json!(args.address);
    json["added"] = json!(paired.added);
    json["offline_codes"] = json!(paired.offline_codes);
    json["clock_set"] = json!(paired.clock_set);
    Ok(Output { text, json })
}

/// The setup code from `--setup-code` / `TESSERA_SETUP_CODE`, else a prompt that
/// does not echo. Never printed.
fn setup_code(given: Option<String>) -> CliResult<Zeroizing<String>> {
    let code = match given {
        Some(code) => Zeroizing::new(code),
        None => {
            if !std::io::stdin().is_terminal() {
                return Err(CliError::usage(
                    "no setup code: pass --setup-code CODE or set TESSERA_SETUP_CODE",
                ));
            }
            Zeroizing::new(
                rpassword::prompt_password("Setup code (on the lock's label): ")
                    .map_err(|e| CliError::usage(format!("cannot read the setup code: {e}")))?,
            )
        }
    };
    if code.trim().is_empty() {
        return Err(CliError::usage("the setup code is empty"));
    }
    Ok(code)
}

pub async fn push(client: &TesseraClient, reference: &str) -> CliResult<Output> {
    let lock = find_lock(client, reference)?;
    let delivery = client.deliver(lock.id).await?;
    let paired = client.local_route(lock.id)?.is_some();
    Ok(Output {
        text: format!("{:?}: {}", lock.name, delivery_text(&delivery, paired)),
        json: json!({ "lock_id": lock.id, "lock_name": lock.name, "delivery": delivery_json(&delivery) }),
    })
}

/// One line (or a few) saying which way a change went to its lock; `paired`:
/// this device has a local route to it.
pub fn delivery_text(delivery: &Delivery, paired: bool) -> String {
    let local_error = delivery.local_error.as_deref().filter(|_| paired);
    let mut text = match delivery.route {
        Route::Local => {
            let report = delivery.local.as_ref();
            let field = |f: fn(&tessera_core::local::PushReport) -> usize| report.map_or(0, f);
            format!(
                "Route: local; the lock acknowledged ({} set, {} removed, {} unchanged).\n",
                field(|r| r.set),
                field(|r| r.removed),
                field(|r| r.unchanged)
            )
        }
        Route::Cloud => match local_error {
            Some(error) => format!("Route: cloud; the lock did not answer directly ({error}).\n"),
            None => "Route: cloud; it relays changes to Wi-Fi locks.\n".to_owned(),
        },
        Route::Queued => format!(
            "Route: queued until the lock or the cloud can be reached (directly: {}; cloud: {}).\n",
            local_error.unwrap_or("not paired on this device"),
            delivery.cloud_error.as_deref().unwrap_or("not signed in")
        ),
    };
    if let Some(report) = &delivery.local {
        for (code, reason) in &report.refused {
            text.push_str(&format!(
                "  The lock refused code {}: {reason}\n",
                render::short_id(code)
            ));
        }
        if report.unknown_on_lock > 0 {
            text.push_str(&format!(
                "  The lock also holds {} set by another phone (left alone).\n",
                render::count(report.unknown_on_lock, "code")
            ));
        }
    }
    text
}

pub fn delivery_json(delivery: &Delivery) -> Value {
    json!({
        "route": delivery.route.as_str(),
        "local": delivery.local.as_ref().map(|report| json!({
            "set": report.set,
            "removed": report.removed,
            "unchanged": report.unchanged,
            "refused": report.refused.iter().map(|(code, reason)| json!({ "code": code, "reason": reason })).collect::<Vec<_>>(),
            "unknown_on_lock": report.unknown_on_lock,
        })),
        "local_error": delivery.local_error,
        "cloud": delivery.cloud.as_ref().map(|report| json!({
            "pushed": report.pushed,
            "refused": report.refused,
            "pulled": report.pulled,
        })),
        "cloud_error": delivery.cloud_error,
    })
}

pub async fn log(client: &TesseraClient, reference: &str, limit: usize) -> CliResult<Output> {
    let lock = find_lock(client, reference)?;
    let (read, note) = match client.read_lock_events(lock.id).await {
        Ok(read) => (
            Some(read.len()),
            format!(
                "Read {} from {:?}.\n",
                match read.len() {
                    1 => "1 new entry".to_owned(),
                    n => format!("{n} new entries"),
                },
                lock.name
            ),
        ),
        // The log read before is still worth seeing when the lock is out of reach.
        Err(tessera_core::Error::LockUnreachable { reason }) => (
            None,
            format!("The lock cannot be reached ({reason}); showing its log as read before.\n"),
        ),
        Err(error) => return Err(error.into()),
    };
    let entries = client.lock_log(lock.id, limit)?;
    let mut text = note;
    if entries.is_empty() {
        text.push_str("The log is empty.\n");
    } else {
        let rows = entries
            .iter()
            .map(|entry| {
                vec![
                    entry.seq.to_string(),
                    lock_time(entry.at, lock.time_zone),
                    activity_text(client, &entry.activity, lock.time_zone),
                ]
            })
            .collect();
        text.push_str(&render::table(&["#", "WHEN (LOCK TIME)", "WHAT"], rows));
    }
    Ok(Output {
        text,
        json: json!({
            "lock_id": lock.id,
            "read": read,
            "entries": entries.iter().map(entry_json).collect::<Vec<_>>(),
        }),
    })
}

fn lock_time(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone).format("%Y-%m-%d %H:%M:%S %Z").to_string()
}

fn activity_text(client: &TesseraClient, activity: &LockActivity, zone: Tz) -> String {
    let code = |id: &tessera_core::model::CodeId| match client.code(*id) {
        Ok(record) => format!("code {} ({:?})", render::short_id(id), record.code.label),
        Err(_) => format!("code {} (not known here)", render::short_id(id)),
    };
    match activity {
        LockActivity::CodeUsed { code: id } => format!("{} opened the door", code(id)),
        LockActivity::OfflineCodeUsed { class, .. } => format!(
            "an offline code ({}) opened the door",
            OfflineClass::from_code(*class).map_or("unknown class", offline_codes::class_name)
        ),
        LockActivity::EntryRefused => "an entry was refused".to_owned(),
        LockActivity::LockedOut { until } => {
            format!("keypad locked out until {}", lock_time(*until, zone))
        }
        LockActivity::CodeSet { code: id } => format!("{} set", code(id)),
        LockActivity::CodeRemoved { code: id } => format!("{} removed", code(id)),
        LockActivity::ClockSet { from, to } => format!(
            "clock set from {} to {}",
            lock_time(*from, zone),
            lock_time(*to, zone)
        ),
        LockActivity::EpochRotated { epoch } => {
            format!("offline codes issued before were revoked (epoch {epoch})")
        }
        LockActivity::Paired { phone } => format!("a phone paired ({})", &phone[..phone.len().min(8)]),
        LockActivity::PairingFailed => "a pairing was refused".to_owned(),
        LockActivity::Locked => "locked".to_owned(),
        LockActivity::Unlocked => "unlocked".to_owned(),
    }
}

fn entry_json(entry: &LockLogEntry) -> Value {
    let mut value = serde_json::to_value(&entry.activity).unwrap_or(Value::Null);
    if let Some(object) = value.as_object_mut() {
        object.insert("seq".to_owned(), json!(entry.seq));
        object.insert("at".to_owned(), json!(entry.at));
    }
    value
}

pub async fn clock(client: &TesseraClient, reference: &str) -> CliResult<Output> {
    let lock = find_lock(client, reference)?;
    let synced = client.sync_lock_clock(lock.id).await?;
    let drift = synced.drift_ms as f64 / 1000.0;
    let off = if drift.abs() < 0.5 {
        "right".to_owned()
    } else if drift > 0.0 {
        format!("{drift:.1} s ahead")
    } else {
        format!("{:.1} s behind", -drift)
    };
    Ok(Output {
        text: format!(
            "The clock of {:?} read {} ({off}); set to {}.\n",
            lock.name,
            lock_time(synced.lock_clock_before, lock.time_zone),
            lock_time(synced.set_to, lock.time_zone)
        ),
        json: json!({
            "lock_id": lock.id,
            "lock_clock_before": synced.lock_clock_before,
            "set_to": synced.set_to,
            "drift_ms": synced.drift_ms,
        }),
    })
}

pub async fn rotate_offline(client: &TesseraClient, reference: &str) -> CliResult<Output> {
    let lock = find_lock(client, reference)?;
    let epoch = client.rotate_offline_epoch(lock.id).await?;
    Ok(Output {
        text: format!(
            "Rotated {:?} to offline epoch {epoch}: every offline code issued for it before no longer opens it.\n",
            lock.name
        ),
        json: json!({ "lock_id": lock.id, "epoch": epoch }),
    })
}

/// The class `--offline` names.
pub fn class(name: &str) -> CliResult<OfflineClass> {
    offline_codes::parse_class(name).ok_or_else(|| CliError::UnknownOfflineClass {
        name: tessera_core::model::excerpt(name).to_string(),
    })
}

/// `tessera code create --offline CLASS`: no network at all.
pub fn create_offline(client: &TesseraClient, args: &CodeCreate, class_name: &str) -> CliResult<Output> {
    let class = class(class_name)?;
    let lock = find_lock(client, &args.lock)?;
    let start = args.start.as_deref().map(crate::parse::local_time).transpose()?;
    let code = client.issue_offline_code(
        lock.id,
        OfflineRequest {
            class,
            start,
            label: args.label.clone(),
        },
    )?;
    let viewer = viewer_zone(&args.viewer)?.filter(|zone| *zone != lock.time_zone);
    Ok(Output {
        text: offline_text(&lock, &code, viewer),
        json: offline_json(&lock, &code),
    })
}

/// What the owner must know before sharing, then the PIN.
fn offline_text(lock: &Lock, code: &OfflineCode, viewer: Option<Tz>) -> String {
    let zone = lock.time_zone;
    let mut out = format!(
        "Offline code {:?} for {}: {} ({})\n",
        code.label,
        lock.name,
        offline_codes::class_name(code.class),
        offline_codes::describe_class(code.class)
    );
    let mut field = |name: &str, value: &str| out.push_str(&format!("  {name:<10} {value}\n"));
    let both = |at: DateTime<Utc>| match viewer {
        Some(viewer) => format!(
            "{}  (your time {})",
            ZonedTime::new(at, zone),
            ZonedTime::new(at, viewer)
        ),
        None => ZonedTime::new(at, zone).to_string(),
    };
    field("starts", &both(code.start));
    if code.adjusted {
        field(
            "",
            &format!(
                "(asked for {}; offline codes start on a whole hour)",
                code.requested_start.format("%Y-%m-%d %H:%M")
            ),
        );
    }
    field("ends", &both(code.end));
    field(
        "first use",
        &format!("by {}, or it never opens", both(code.first_use_by)),
    );
    field(
        "quota",
        &format!(
            "{} left for this start hour and class",
            render::count(usize::from(code.remaining), "more code")
        ),
    );
    field(
        "revoke",
        &format!(
            "only all together: tessera lock rotate-offline {:?} (epoch {} now)",
            lock.name, code.epoch
        ),
    );
    field("PIN", code.pin.expose());
    out.push_str("Made with no network: the lock checks it with its own clock.\n");
    out
}

fn offline_json(lock: &Lock, code: &OfflineCode) -> Value {
    let zone = lock.time_zone;
    json!({
        "lock_id": lock.id,
        "lock_name": lock.name,
        "label": code.label,
        "class": offline_codes::class_name(code.class),
        "grants": offline_codes::describe_class(code.class),
        "time_zone": zone,
        "requested_start": code.requested_start,
        "start": code.start,
        "end": code.end,
        "first_use_by": code.first_use_by,
        "start_local": ZonedTime::new(code.start, zone),
        "end_local": ZonedTime::new(code.end, zone),
        "first_use_by_local": ZonedTime::new(code.first_use_by, zone),
        "adjusted": code.adjusted,
        "remaining": code.remaining,
        "epoch": code.epoch,
        "start_hour": code.start_hour,
        "slot": code.slot,
        "pin": code.pin.expose(),
    })
}

pub fn offline_list(client: &TesseraClient, reference: &str, show_pins: bool) -> CliResult<Output> {
    let lock = find_lock(client, reference)?;
    let zone = lock.time_zone;
    let now = Utc::now();
    let mut rows = Vec::new();
    let mut entries = Vec::new();
    for (issued, pin) in client.offline_codes(lock.id)? {
        let class = OfflineClass::from_code(issued.class);
        // Hours count in the lock's standard time (no daylight saving).
        let offset = i64::from(standard_offset_seconds(zone, issued.issued_at));
        let window = class.map(|class| {
            let header = Header {
                start_hour: issued.start_hour,
                class,
                slot: issued.slot,
            };
            let at = |standard: i64| DateTime::from_timestamp(standard - offset, 0).unwrap_or_default();
            (
                at(header.start()),
                at(header.end()),
                at(header.activation_deadline()),
            )
        });
        let state = match (&pin, window) {
            (None, _) => "revoked",
            (Some(_), Some((_, end, _))) if end <= now => "expired",
            (Some(_), Some((start, ..))) if start > now => "scheduled",
            _ => "valid",
        };
        let class_name = class.map_or("unknown", offline_codes::class_name);
        let pin_text = pin
            .as_ref()
            .filter(|_| show_pins)
            .map(|pin| pin.expose().to_owned());
        let mut row = vec![
            issued.label.clone(),
            class_name.to_owned(),
            window.map_or_else(String::new, |(start, ..)| lock_time(start, zone)),
            window.map_or_else(String::new, |(_, end, _)| lock_time(end, zone)),
            issued.epoch.to_string(),
            state.to_owned(),
        ];
        if show_pins {
            row.push(pin_text.clone().unwrap_or_else(|| "-".to_owned()));
        }
        rows.push(row);
        let mut entry = json!({
            "label": issued.label,
            "class": class_name,
            "start": window.map(|(start, ..)| start),
            "end": window.map(|(_, end, _)| end),
            "first_use_by": window.map(|(.., first)| first),
            "epoch": issued.epoch,
            "slot": issued.slot,
            "issued_at": issued.issued_at,
            "state": state,
        });
        if show_pins {
            entry["pin"] = json!(pin_text);
        }
        entries.push(entry);
    }
    let text = if rows.is_empty() {
        format!(
            "No offline codes issued here for {:?}. Make one with: tessera code create --offline CLASS --lock LOCK --label LABEL\n",
            lock.name
        )
    } else {
        let mut header = vec!["LABEL", "CLASS", "STARTS (LOCK TIME)", "ENDS", "EPOCH", "STATE"];
        if show_pins {
            header.push("PIN");
        }
        render::table(&header, rows)
    };
    Ok(Output {
        text,
        json: Value::Array(entries),
    })
}
