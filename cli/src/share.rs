//! `tessera share`, `links`, `unshare` and `open`: links for visitors, and the
//! visitor's view of one.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde_json::{Value, json};
use tessera_core::model::schedule::ZonedTime;
use tessera_core::model::{Tz, lock::parse_time_zone};
use tessera_core::share::{self, VisitorPass};
use tessera_core::{ShareRequest, TesseraClient};

use crate::app::{find_code, viewer_zone};
use crate::args::{ShareArgs, Viewer};
use crate::error::{CliError, CliResult};
use crate::render::{self, Output};

pub async fn share(client: &TesseraClient, args: ShareArgs) -> CliResult<Output> {
    let record = find_code(client, &args.code)?;
    let lock = client.lock(record.code.lock_id)?;
    let expires_at = match &args.expires {
        Some(local) => Some(lock_time(crate::parse::local_time(local)?, lock.time_zone)?),
        None => None,
    };
    let shared = client
        .share_code(
            record.code.id,
            ShareRequest {
                self_contained: args.self_contained,
                max_views: args.views,
                expires_at,
                address: args.address,
                instructions: args.instructions,
                host_note: args.note,
                host_contact: args.contact,
            },
        )
        .await?;
    let url = shared.url.as_str();
    let write = |path: &std::path::PathBuf, bytes: &[u8]| {
        std::fs::write(path, bytes)
            .map_err(|e| CliError::usage(format!("cannot write {}: {e}", path.display())))
    };
    if let Some(path) = &args.qr_svg {
        write(path, share::qr_svg(url)?.as_bytes())?;
    }
    if let Some(path) = &args.qr_png {
        write(path, &share::qr_png(url)?)?;
    }
    if let Some(path) = &args.ics {
        write(path, share::ics(&shared.pass, url).as_bytes())?;
    }
    let kind = if shared.id.is_some() {
        "hosted"
    } else {
        "self-contained"
    };
    let mut text = format!(
        "Link for {:?} ({kind}), valid until {}{}:\n{url}\n",
        record.code.label,
        ZonedTime::new(shared.expires_at, lock.time_zone),
        shared
            .max_views
            .map(|n| format!(", opens {}", render::count(n as usize, "time")))
            .unwrap_or_default()
    );
    if !args.no_qr {
        text.push('\n');
        text.push_str(&share::qr_terminal(url)?);
        text.push('\n');
    }
    text.push_str("\nTo send:\n");
    text.push_str(&share::share_text(&shared.pass, url));
    if shared.id.is_none() {
        text.push_str("(A self-contained link cannot be revoked on the cloud; revoking the code still stops it at the lock.)\n");
    }
    Ok(Output {
        text,
        json: json!({
            "url": url,
            "id": shared.id,
            "kind": kind,
            "expires_at": shared.expires_at,
            "max_views": shared.max_views,
            "share_text": share::share_text(&shared.pass, url),
        }),
    })
}

pub async fn links(client: &TesseraClient, code: &str) -> CliResult<Output> {
    let record = find_code(client, code)?;
    let links = client.shares(record.code.id).await?;
    let mut text = String::new();
    if links.is_empty() {
        text.push_str("No hosted links for this code.\n");
    }
    for link in &links {
        let state = if link.revoked {
            "revoked".to_owned()
        } else if link.expires_at <= Utc::now() {
            "expired".to_owned()
        } else {
            match link.max_views {
                Some(max) => format!("opened {} of {max} times", link.views),
                None => format!("opened {}", render::count(link.views as usize, "time")),
            }
        };
        text.push_str(&format!(
            "{}  until {}  {state}\n",
            link.id,
            link.expires_at.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    Ok(Output {
        text,
        json: serde_json::to_value(&links).unwrap_or(Value::Null),
    })
}

pub async fn unshare(client: &TesseraClient, link: &str) -> CliResult<Output> {
    // Accept the whole link too: the id is what follows /s/.
    let id = link
        .split('#')
        .next()
        .unwrap_or(link)
        .rsplit('/')
        .next()
        .unwrap_or(link);
    client.revoke_share(id).await?;
    Ok(Output {
        text: format!("Revoked link {id}: it no longer opens.\n"),
        json: json!({ "revoked": id }),
    })
}

pub async fn open(client: &TesseraClient, url: &str, viewer: &Viewer) -> CliResult<Output> {
    let pass = client.open_share_link(url).await?;
    let viewer = viewer_zone(viewer)?;
    Ok(Output {
        text: pass_text(&pass, viewer)?,
        json: pass_json(&pass),
    })
}

/// The pass as the visitor reads it.
fn pass_text(pass: &VisitorPass, viewer: Option<Tz>) -> CliResult<String> {
    let zone = parse_time_zone(&pass.lock_zone).map_err(tessera_core::Error::from)?;
    let viewer = viewer.filter(|v| *v != zone);
    let mut out = format!("Pass \"{}\" for {}", pass.label, pass.lock_name);
    if let Some(address) = &pass.address {
        out.push_str(&format!(", {address}"));
    }
    out.push('\n');
    let mut field = |name: &str, value: &str| out.push_str(&format!("  {name:<11} {value}\n"));
    field("code", &grouped(pass.code.expose()));
    field("when", &pass.summary);
    for interval in &pass.intervals {
        field(
            "lock time",
            &format!(
                "{}  ->  {}",
                ZonedTime::new(interval.start, zone),
                ZonedTime::new(interval.end, zone)
            ),
        );
        if let Some(viewer) = viewer {
            field(
                "your time",
                &format!(
                    "{}  ->  {}",
                    ZonedTime::new(interval.start, viewer),
                    ZonedTime::new(interval.end, viewer)
                ),
            );
        }
    }
    if pass.is_one_time() {
        field("one entry", "the code opens the door once");
    }
    if let Some(minutes) = pass.first_use_minutes {
        field(
            "after entry",
            &format!("the code works for {minutes} min after you first use it"),
        );
    }
    if let Some(by) = pass.first_use_by {
        field("first use by", &ZonedTime::new(by, zone).to_string());
    }
    if let Some(instructions) = &pass.instructions {
        field("getting in", instructions);
    }
    if let Some(note) = &pass.host_note {
        field("host note", note);
    }
    if let Some(contact) = &pass.host_contact {
        field("host", contact);
    }
    field("link until", &ZonedTime::new(pass.expires_at, zone).to_string());
    Ok(out)
}

fn pass_json(pass: &VisitorPass) -> Value {
    json!({
        "lock_name": pass.lock_name,
        "label": pass.label,
        "code": pass.code.expose(),
        "kind": pass.kind,
        "lock_zone": pass.lock_zone,
        "summary": pass.summary,
        "intervals": pass.intervals.iter().map(|i| json!({ "start": i.start, "end": i.end })).collect::<Vec<_>>(),
        "first_use_minutes": pass.first_use_minutes,
        "first_use_by": pass.first_use_by,
        "address": pass.address,
        "instructions": pass.instructions,
        "host_note": pass.host_note,
        "host_contact": pass.host_contact,
        "issued_at": pass.issued_at,
        "expires_at": pass.expires_at,
    })
}

/// `482916` as `482 916`: easier to read out and to type.
fn grouped(digits: &str) -> String {
    let size = if digits.len().is_multiple_of(3) || digits.len() > 8 {
        3
    } else {
        4
    };
    digits
        .as_bytes()
        .chunks(size)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A wall-clock time in the lock's zone as an instant (the earlier of an overlap;
/// a time in a gap is refused, as the owner should pick another).
fn lock_time(local: NaiveDateTime, zone: Tz) -> CliResult<DateTime<Utc>> {
    zone.from_local_datetime(&local)
        .earliest()
        .map(|at| at.with_timezone(&Utc))
        .ok_or_else(|| CliError::usage(format!("{local} does not exist in {zone} (the clocks skip it)")))
}
