//! The `tessera` command as a user runs it: a real process on a real data directory.

#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use serde_json::Value;
use tessera_e2e::Tessera;

fn cli() -> (tempfile::TempDir, Tessera) {
    let dir = tempfile::tempdir().unwrap();
    let tessera = Tessera::new(&dir.path().join("data"));
    (dir, tessera)
}

fn add_lock(tessera: &Tessera, name: &str) -> Value {
    tessera.json(&[
        "lock",
        "add",
        "--name",
        name,
        "--tz",
        "Europe/Berlin",
        "--granularity",
        "hour",
    ])
}

const FUTURE_DAY: &str = "2031-03-30"; // A Sunday: Berlin's clocks go forward at 02:00.

#[test]
fn creates_lists_shows_and_revokes_codes_of_every_kind() {
    let (_dir, tessera) = cli();
    let lock = add_lock(&tessera, "Front door");
    assert_eq!(lock["time_zone"], "Europe/Berlin");
    assert_eq!(lock["capabilities"]["granularity"], "hour");

    let create = |extra: &[&str]| {
        let mut args = vec![
            "code",
            "create",
            "--lock",
            "Front door",
            "--viewer-tz",
            "America/New_York",
        ];
        args.extend_from_slice(extra);
        tessera.json(&args)
    };
    let permanent = create(&["--label", "Family", "--permanent"]);
    let window = create(&[
        "--label",
        "Anna",
        "--from",
        "2031-03-28T16:30",
        "--to",
        "2031-03-31T10:00",
    ]);
    let one_time = create(&[
        "--label",
        "Courier",
        "--one-time",
        "--from",
        &format!("{FUTURE_DAY}T01:45"),
        "--to",
        &format!("{FUTURE_DAY}T12:00"),
    ]);
    let weekly = create(&[
        "--label",
        "Cleaner",
        "--weekly",
        "mon,thu",
        "--between",
        "22:00-06:30",
        "--from-date",
        "2031-03-01",
        "--to-date",
        "2031-04-30",
    ]);
    let expiring = create(&[
        "--label",
        "Plumber",
        "--expires-after-first-use",
        "90",
        "--from",
        "2031-04-02T08:00",
        "--to",
        "2031-04-02T18:00",
        "--max-uses",
        "2",
        "--pin",
        "3849",
        "--allow-widening",
    ]);

    for (code, kind) in [
        (&permanent, "permanent"),
        (&window, "window"),
        (&one_time, "one_time"),
        (&weekly, "weekly"),
        (&expiring, "expiring_after_first_use"),
    ] {
        assert_eq!(code["schedule"]["kind"], kind);
        assert_eq!(code["status"], "active");
    }
    assert_eq!(
        permanent["pin"].as_str().unwrap().len(),
        6,
        "generated PINs default to 6 digits"
    );
    assert_eq!(expiring["pin"], "3849");
    assert_eq!(expiring["max_uses"], 2);

    // 16:30 rounds up to 17:00 on an hour-granularity lock; the preview says so,
    // and shows the window on the visitor's clock in New York.
    let adjustments = &window["effective"]["adjustments"];
    assert_eq!(adjustments[0]["adjustment"], "rounded");
    assert_eq!(adjustments[0]["effective"], "2031-03-28T17:00:00");
    let first = &window["effective"]["occurrences"][0];
    assert_eq!(first["start"]["instant"], "2031-03-28T16:00:00Z");
    assert_eq!(first["start"]["viewer"]["local"], "2031-03-28T12:00:00");
    assert_eq!(first["start"]["viewer"]["abbreviation"], "EDT");

    // 01:45 rounds to 02:00, which does not exist that night: it moves to 03:00 CEST.
    let courier = &one_time["effective"];
    assert_eq!(
        courier["occurrences"][0]["start"]["instant"],
        "2031-03-30T01:00:00Z"
    );
    assert_eq!(courier["adjustments"][1]["adjustment"], "dst_gap");

    // The weekly night shift ends at 06:00 the next morning after rounding down.
    assert_eq!(
        weekly["effective"]["occurrences"][0]["start"]["lock"]["local"],
        "2031-03-03T22:00:00"
    );
    assert_eq!(
        weekly["effective"]["occurrences"][0]["end"]["lock"]["local"],
        "2031-03-04T06:00:00"
    );

    let list = tessera.json(&["code", "list"]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 5);
    assert!(
        list.iter().all(|code| code.get("pin").is_none()),
        "lists never show PINs"
    );
    let text = tessera.ok(&["code", "list"]).stdout;
    assert!(!text.contains(permanent["pin"].as_str().unwrap()));

    // Codes are found by the end of their id, as lists show it.
    let id = expiring["id"].as_str().unwrap();
    let shown = tessera.json(&["code", "show", &id[id.len() - 8..]]);
    assert_eq!(shown["pin"], "3849");
    let revoked = tessera.json(&["code", "revoke", id]);
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(tessera.json(&["code", "show", id])["state"], "revoked");
}

#[test]
fn json_is_a_global_flag_before_or_after_the_subcommand() {
    let (_dir, tessera) = cli();
    add_lock(&tessera, "Gate");
    let before = tessera.ok(&["--json", "lock", "list"]).json();
    let after = tessera.ok(&["lock", "list", "--json"]).json();
    assert_eq!(before, after);
    assert_eq!(before[0]["name"], "Gate");
}

#[test]
fn errors_go_to_stderr_with_a_code_and_a_nonzero_exit() {
    let (_dir, tessera) = cli();
    add_lock(&tessera, "Front door");
    let cases: &[(&[&str], i32, &str, &str)] = &[
        (
            &[
                "code",
                "create",
                "--lock",
                "Front door",
                "--label",
                "x",
                "--pin",
                "1234",
                "--permanent",
            ],
            1,
            "weak_pin",
            "weak PIN: the digits count up or down in sequence",
        ),
        (
            &[
                "code",
                "create",
                "--lock",
                "Front door",
                "--label",
                "x",
                "--from",
                "2031-01-02T10:00",
                "--to",
                "2031-01-01T10:00",
            ],
            1,
            "invalid_schedule",
            "the window ends before it starts",
        ),
        (
            &[
                "code",
                "create",
                "--lock",
                "Front door",
                "--label",
                "x",
                "--from",
                "2020-01-01T10:00",
                "--to",
                "2020-01-02T10:00",
            ],
            1,
            "invalid_schedule",
            "already ended",
        ),
        (
            &[
                "code",
                "create",
                "--lock",
                "Back door",
                "--label",
                "x",
                "--permanent",
            ],
            1,
            "not_found",
            "lock",
        ),
        (
            &["lock", "add", "--name", "Shed", "--tz", "Mars/Olympus"],
            1,
            "unknown_time_zone",
            "Mars/Olympus",
        ),
        (
            &[
                "code",
                "create",
                "--lock",
                "Front door",
                "--label",
                "x",
                "--from",
                "tomorrow",
                "--to",
                "later",
            ],
            2,
            "usage",
            "is not a local time",
        ),
        (
            &["code", "create", "--lock", "Front door", "--label", "x"],
            2,
            "usage",
            "say when the code works",
        ),
        (
            &[
                "code",
                "create",
                "--lock",
                "Front door",
                "--label",
                "",
                "--permanent",
            ],
            1,
            "invalid_input",
            "label",
        ),
        (
            &[
                "code",
                "create",
                "--lock",
                "Front door",
                "--label",
                "x",
                "--pin",
                "12ab",
                "--permanent",
            ],
            1,
            "invalid_pin",
            "digits only",
        ),
        (&["code", "show", "ffffffff"], 1, "not_found", "code"),
    ];
    for (args, exit, code, message) in cases {
        let run = tessera.run(args);
        assert_eq!(run.code, *exit, "{args:?}: {run:?}");
        assert!(
            run.stdout.is_empty(),
            "{args:?} printed to stdout: {}",
            run.stdout
        );
        assert!(run.stderr.starts_with("error: "), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);

        let mut with_json = vec!["--json"];
        with_json.extend_from_slice(args);
        let run = tessera.run(&with_json);
        assert_eq!(run.code, *exit);
        assert_eq!(run.error_json()["error"]["code"], *code, "{args:?}");
    }
    // clap's own refusals keep clap's exit status.
    assert_eq!(tessera.run(&["code", "create", "--nonsense"]).code, 2);
}

#[test]
fn a_clashing_pin_names_the_other_code_but_not_the_digits() {
    let (_dir, tessera) = cli();
    add_lock(&tessera, "Front door");
    let first = tessera.json(&[
        "code",
        "create",
        "--lock",
        "Front door",
        "--label",
        "A",
        "--pin",
        "4829",
        "--permanent",
    ]);
    let run = tessera.run(&[
        "--json",
        "code",
        "create",
        "--lock",
        "Front door",
        "--label",
        "B",
        "--pin",
        "48291",
        "--permanent",
    ]);
    assert_eq!(run.code, 1);
    let error = run.error_json();
    assert_eq!(error["error"]["code"], "pin_conflict");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.contains(first["id"].as_str().unwrap()));
    assert!(!message.contains("4829"));
}

#[test]
fn an_ambiguous_lock_name_lists_the_candidates() {
    let (_dir, tessera) = cli();
    add_lock(&tessera, "Door A");
    add_lock(&tessera, "Door B");
    let run = tessera.run(&[
        "--json",
        "code",
        "create",
        "--lock",
        "door",
        "--label",
        "x",
        "--permanent",
    ]);
    assert_eq!(run.code, 1);
    assert_eq!(run.error_json()["error"]["code"], "ambiguous");
    // An exact name still wins over the names it is a prefix of.
    add_lock(&tessera, "Door");
    tessera.ok(&["code", "create", "--lock", "door", "--label", "x", "--permanent"]);
}

#[test]
fn the_key_file_is_private_and_guards_the_store() {
    let (_dir, tessera) = cli();
    add_lock(&tessera, "Front door");
    let secrets = tessera.data_dir().join("secrets");
    let key = secrets.join("tessera.store-key");
    let db = tessera.data_dir().join("tessera.db");
    let metadata = fs::metadata(&key).unwrap();
    assert_eq!(metadata.len(), 32);
    assert_eq!(metadata.permissions().mode() & 0o777, 0o600);
    assert_eq!(
        fs::metadata(&secrets).unwrap().permissions().mode() & 0o777,
        0o700
    );

    fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
    let run = tessera.run(&["--json", "lock", "list"]);
    assert_eq!(run.error_json()["error"]["code"], "secure_store");
    assert!(run.stderr.contains("chmod 600"));
    fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();

    let before = fs::read(&db).unwrap();
    let original = fs::read(&key).unwrap();
    fs::write(&key, [7u8; 32]).unwrap();
    let run = tessera.run(&["--json", "lock", "list"]);
    assert_eq!(run.error_json()["error"]["code"], "wrong_key");
    assert_eq!(
        fs::read(&db).unwrap(),
        before,
        "a wrong key never touches the store"
    );

    fs::remove_file(&key).unwrap();
    let run = tessera.run(&["--json", "lock", "list"]);
    assert_eq!(run.error_json()["error"]["code"], "store_key_missing");
    assert!(!key.exists(), "no new key is made for a store that has one");

    fs::write(&key, &original).unwrap();
    fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(tessera.json(&["lock", "list"])[0]["name"], "Front door");
}

#[test]
fn the_demo_shows_every_schedule_kind_and_a_refused_pin() {
    let (_dir, tessera) = cli();
    let demo = tessera.ok(&["demo"]).stdout;
    for kind in [
        "permanent",
        "time-window",
        "one-time",
        "weekly",
        "expiring-after-first-use",
    ] {
        assert!(
            demo.contains(&format!(": {kind}, ")),
            "the demo lacks a {kind} code:\n{demo}"
        );
    }
    for shown in [
        "lock time",
        "your time",
        "rounded from",
        "does not exist (clocks go forward)",
        "error: weak PIN",
    ] {
        assert!(demo.contains(shown), "the demo lacks {shown:?}:\n{demo}");
    }
    assert!(
        !tessera.data_dir().exists(),
        "the demo keeps to its temporary directory"
    );

    let steps = tessera.json(&["demo"]);
    let refused = steps["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s.get("error").is_some())
        .count();
    assert_eq!(refused, 3);
}
