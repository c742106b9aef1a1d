//! Share links through the `tessera` command against a real cloud: hosted and
//! self-contained links, view limits, revocation, tampering, and the QR code, share
//! text and calendar files.

#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use serde_json::Value;
use tessera_e2e::{Cloud, Tessera};

struct Owner {
    dir: tempfile::TempDir,
    cloud: Cloud,
    phone: Tessera,
    code: String,
    pin: String,
}

fn owner() -> Owner {
    let dir = tempfile::tempdir().unwrap();
    let cloud = Cloud::start(dir.path(), &[]);
    let phone = Tessera::new(&dir.path().join("phone"));
    phone.json(&["signup", "--cloud", &cloud.url(), "--email", "host@example.com"]);
    phone.json(&["lock", "add", "--name", "Front door", "--tz", "Europe/Berlin"]);
    let code = phone.json(&[
        "code",
        "create",
        "--lock",
        "Front door",
        "--label",
        "Anna",
        "--from",
        "2031-03-28T16:30",
        "--to",
        "2031-03-31T10:00",
    ]);
    Owner {
        code: code["id"].as_str().unwrap().to_owned(),
        pin: code["pin"].as_str().unwrap().to_owned(),
        phone,
        cloud,
        dir,
    }
}

impl Owner {
    fn visitor(&self) -> Tessera {
        Tessera::new(&self.dir.path().join("visitor"))
    }

    fn share(&self, extra: &[&str]) -> Value {
        let mut args = vec!["share", self.code.as_str()];
        args.extend_from_slice(extra);
        self.phone.json(&args)
    }
}

fn open_error(visitor: &Tessera, url: &str) -> String {
    let run = visitor.run(&["--json", "open", url]);
    assert_eq!(run.code, 1, "{run:?}");
    run.error_json()["error"]["code"].as_str().unwrap().to_owned()
}

#[test]
fn a_hosted_link_opens_for_the_visitor_as_often_as_allowed() {
    let owner = owner();
    let link = owner.share(&[
        "--views",
        "2",
        "--address",
        "Kastanienallee 12",
        "--instructions",
        "Press # after the code",
    ]);
    assert_eq!(link["kind"], "hosted");
    let url = link["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/s/", owner.cloud.url())), "{url}");
    assert!(!url.contains(&owner.pin), "the PIN is not readable in the link");
    assert!(!link["share_text"].as_str().unwrap().contains(&owner.pin));

    let visitor = owner.visitor();
    for _ in 0..2 {
        let pass = visitor.json(&["open", url]);
        assert_eq!(pass["code"], owner.pin.as_str());
        assert_eq!(pass["label"], "Anna");
        assert_eq!(pass["address"], "Kastanienallee 12");
        assert_eq!(pass["intervals"][0]["start"], "2031-03-28T15:30:00Z");
    }
    assert_eq!(
        open_error(&visitor, url),
        "share_link_unavailable",
        "the third view is refused"
    );
    let listed = owner.phone.json(&["links", &owner.code]);
    assert_eq!(listed[0]["views"], 2);
}

#[test]
fn revoking_the_link_or_the_code_stops_it() {
    let owner = owner();
    let visitor = owner.visitor();
    let first = owner.share(&[]);
    let second = owner.share(&[]);
    owner.phone.json(&["unshare", first["id"].as_str().unwrap()]);
    assert_eq!(
        open_error(&visitor, first["url"].as_str().unwrap()),
        "share_link_unavailable"
    );
    visitor.json(&["open", second["url"].as_str().unwrap()]);
    owner.phone.json(&["code", "revoke", &owner.code]);
    assert_eq!(
        open_error(&visitor, second["url"].as_str().unwrap()),
        "share_link_unavailable"
    );
}

#[test]
fn a_self_contained_link_needs_no_cloud_and_tampering_is_caught() {
    let mut owner = owner();
    owner.cloud.stop();
    let link = owner.share(&["--self-contained"]);
    assert_eq!(link["kind"], "self-contained");
    let url = link["url"].as_str().unwrap();
    let visitor = owner.visitor();
    assert_eq!(visitor.json(&["open", url])["code"], owner.pin.as_str());

    // One character changed anywhere in the payload: the link no longer opens.
    let mut tampered = url.to_owned();
    let at = tampered.len() - 10;
    let flipped = if &tampered[at..=at] == "A" { "B" } else { "A" };
    tampered.replace_range(at..=at, flipped);
    assert_eq!(open_error(&visitor, &tampered), "share_link_invalid");
    assert_eq!(
        open_error(&visitor, "https://share.example/s/nope#nope"),
        "share_link_invalid"
    );
}

#[test]
fn qr_codes_share_text_and_a_calendar_event() {
    let owner = owner();
    let files = owner.dir.path();
    let (svg, png, ics) = (
        files.join("qr.svg"),
        files.join("qr.png"),
        files.join("visit.ics"),
    );
    let run = owner.phone.ok(&[
        "share",
        &owner.code,
        "--qr-svg",
        svg.to_str().unwrap(),
        "--qr-png",
        png.to_str().unwrap(),
        "--ics",
        ics.to_str().unwrap(),
    ]);
    assert!(run.stdout.contains('█'), "a terminal QR code is printed");
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG\r\n\x1a\n"));
    let calendar = std::fs::read_to_string(&ics).unwrap();
    assert!(
        calendar.contains("BEGIN:VEVENT") && calendar.contains("DTSTART:20310328T153000Z"),
        "{calendar}"
    );
    assert!(
        !calendar.contains(&owner.pin),
        "calendars sync everywhere: no PIN in them"
    );
}
