//! `tessera demo`: a guided run of what Tessera does, in a temporary directory.
//! It starts an embedded reference cloud on a free loopback port, and later a
//! reference lock (tessera-lock) with no Wi-Fi; every step is a real `tessera`
//! command line, printed before its output, run on one of two devices of the same
//! owner, so the demo doubles as a tour of the CLI. Entries on the lock's keypad
//! and moves of its clock go straight to the embedded lock.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Offset, TimeZone, Utc, Weekday};
use clap::Parser;
use serde_json::{Value, json};
use tessera_cloud::{CloudConfig, CloudKey, DbLocation, RunningCloud};
use tessera_core::TesseraClient;
use tessera_core::api::Secret;
use tessera_core::model::{CodeStatus, Tz};
use tessera_lock::{KeypadResult, LockConfig};

use crate::app;
use crate::args::Cli;
use crate::error::{CliError, CliResult};
use crate::render::Output;

const LOCK_ZONE: Tz = Tz::Europe__Berlin;
const VISITOR: &str = "--viewer-tz America/New_York";
const OWNER: &str = "owner@demo.tessera.dev";

pub async fn run() -> CliResult<Output> {
    let dir = tempfile::tempdir().map_err(|e| failed("no temporary directory", e))?;
    let cloud = Cloud::start(dir.path()).await?;
    let mut demo = Demo {
        phone: app::open(Some(dir.path().join("phone")))?,
        tablet: app::open(Some(dir.path().join("tablet")))?,
        visitor: app::open(Some(dir.path().join("visitor")))?,
        cloud,
        password: demo_password(),
        text: String::new(),
        steps: Vec::new(),
        refused: 0,
        keypad: Keypad::default(),
    };
    let mut toured = demo.tour(dir.path()).await;
    if toured.is_ok() {
        toured = demo.lock_tour(dir.path()).await;
    }
    demo.cloud.stop().await?;
    toured?;
    Ok(Output {
        text: demo.text,
        json: json!({ "steps": demo.steps }),
    })
}

fn failed(what: &str, error: impl std::fmt::Display) -> CliError {
    CliError::usage(format!("the demo cannot run: {what}: {error}"))
}

/// The embedded cloud; it can stop and start again on the same port with its data.
struct Cloud {
    running: Option<RunningCloud>,
    address: SocketAddr,
    config: CloudConfig,
}

impl Cloud {
    async fn start(dir: &Path) -> CliResult<Self> {
        let key = CloudKey::generate().map_err(|e| failed("no cloud key", e))?;
        let config = CloudConfig::new(DbLocation::File(dir.join("cloud.db")), key);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| failed("no loopback port", e))?;
        let running = tessera_cloud::start(config.clone(), listener)
            .await
            .map_err(|e| failed("the cloud did not start", e))?;
        Ok(Cloud {
            address: running.local_addr(),
            running: Some(running),
            config,
        })
    }

    fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    async fn stop(&mut self) -> CliResult<()> {
        if let Some(running) = self.running.take() {
            running
                .shutdown()
                .await
                .map_err(|e| failed("the cloud did not stop", e))?;
        }
        Ok(())
    }

    async fn restart(&mut self) -> CliResult<()> {
        let listener = tokio::net::TcpListener::bind(self.address)
            .await
            .map_err(|e| failed("the cloud's port is taken", e))?;
        let running = tessera_cloud::start(self.config.clone(), listener)
            .await
            .map_err(|e| failed("the cloud did not start again", e))?;
        self.running = Some(running);
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum Device {
    Phone,
    Tablet,
    Visitor,
}

struct Demo {
    phone: TesseraClient,
    tablet: TesseraClient,
    /// Anna's phone: no account, no app data; it only opens links.
    visitor: TesseraClient,
    cloud: Cloud,
    /// The demo account's password, random for each run.
    password: Secret,
    text: String,
    steps: Vec<Value>,
    refused: usize,
    keypad: Keypad,
}

/// What the embedded lock's keypad did during the demo.
#[derive(Default)]
struct Keypad {
    opened: usize,
    refused: usize,
}

/// The reference lock, in this process: a loopback port for the local protocol,
/// its state in the demo's directory. Its network can go away and come back.
struct DemoLock {
    lock: tessera_lock::Lock,
    address: SocketAddr,
    serving: Option<tokio::task::JoinHandle<()>>,
}

impl DemoLock {
    async fn start(dir: &Path) -> CliResult<Self> {
        let mut config = LockConfig::new(dir);
        config.name = Some("Garden gate".to_owned());
        config.time_zone = Some(LOCK_ZONE.name().to_owned());
        let lock = tessera_lock::Lock::open(config).map_err(|e| failed("the lock did not start", e))?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| failed("no loopback port for the lock", e))?;
        let address = listener
            .local_addr()
            .map_err(|e| failed("no loopback port for the lock", e))?;
        let mut demo_lock = DemoLock {
            lock,
            address,
            serving: None,
        };
        demo_lock.serve(listener);
        Ok(demo_lock)
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let lock = self.lock.clone();
        self.serving = Some(tokio::spawn(async move {
            // Ends only when aborted, or when accepting fails for good (then the
            // demo's next command says the lock cannot be reached).
            let _ = lock.serve(listener).await;
        }));
    }

    /// The lock drops off the network (its keypad still works).
    fn go_offline(&mut self) {
        if let Some(serving) = self.serving.take() {
            serving.abort();
        }
    }

    /// Back on the network, at the same address.
    async fn go_online(&mut self) -> CliResult<()> {
        self.go_offline();
        let listener = tokio::net::TcpListener::bind(self.address)
            .await
            .map_err(|e| failed("the lock's port is taken", e))?;
        self.serve(listener);
        Ok(())
    }
}

impl Drop for DemoLock {
    fn drop(&mut self) {
        self.go_offline();
    }
}

impl Demo {
    async fn tour(&mut self, dir: &Path) -> CliResult<()> {
        let today = Utc::now().with_timezone(&LOCK_ZONE).date_naive();
        let change = next_spring_forward(LOCK_ZONE, today + Duration::days(14));
        let day = change.unwrap_or(today + Duration::days(30));
        let at = |date: NaiveDate, time: &str| format!("{}T{time}", date.format("%Y-%m-%d"));
        let date = |date: NaiveDate| date.format("%Y-%m-%d").to_string();
        use Device::{Phone, Tablet, Visitor};

        self.say(&format!(
            "Tessera demo: an owner sets up temporary codes for a front door in Berlin, on a phone\n\
             and a tablet. A reference cloud runs embedded at {}; everything lives in\n\
             {} and is deleted afterwards.",
            self.cloud.url(),
            dir.display()
        ));

        self.say("1. The owner signs up on the phone and adds the lock. Schedules are stated in the\n   lock's own wall-clock time; this lock keeps whole hours and refuses a digit three\n   times in a row. Every change is stored offline first, then synced.");
        self.sign_in(Phone, true).await?;
        self.ok(
            Phone,
            "lock add --name 'Front door' --tz Europe/Berlin --granularity hour --pin-lengths 4-8 --no-triple-repeat",
        )
        .await?;

        self.say(&match change {
            Some(change) => format!(
                "2. A code of every kind. Clocks in Berlin go forward on {}; the visitor lives in\n   New York, so every window is shown in both zones, with what the lock had to adjust.",
                change.format("%A %Y-%m-%d")
            ),
            None => "2. A code of every kind, each window shown in the lock's zone and the visitor's (New York)."
                .to_owned(),
        });
        let family = self
            .ok(
                Phone,
                "code create --lock 'Front door' --label Family --permanent",
            )
            .await?;
        let anna = self
            .ok(
                Phone,
                &format!(
                    "code create --lock 'Front door' --label \"Anna's weekend\" --from {} --to {} {VISITOR}",
                    at(day - Duration::days(2), "16:30"),
                    at(day + Duration::days(1), "10:00")
                ),
            )
            .await?;
        let courier = self
            .ok(
            Phone,
            &format!(
                "code create --lock 'Front door' --label 'Parcel courier' --one-time --from {} --to {} {VISITOR}",
                at(day, "01:45"),
                at(day, "12:00")
            ),
        )
        .await?;
        self.ok(
            Phone,
            &format!(
                "code create --lock 'Front door' --label Cleaner --weekly mon,thu --between 09:00-12:30 \
                 --from-date {} --to-date {} {VISITOR}",
                date(day - Duration::days(13)),
                date(day + Duration::days(28))
            ),
        )
        .await?;
        let plumber = self
            .ok(
                Phone,
                &format!(
                    "code create --lock 'Front door' --label Plumber --expires-after-first-use 120 \
                     --from {} --to {} --max-uses 3 {VISITOR}",
                    at(day + Duration::days(3), "08:00"),
                    at(day + Duration::days(3), "18:00")
                ),
            )
            .await?;

        self.say("3. Weak PINs are refused with the rule they break, and so is a PIN that clashes\n   with a code active at the same time.");
        self.fails(
            Phone,
            "code create --lock 'Front door' --label Guest --pin 1234 --permanent",
        )
        .await?;
        self.fails(
            Phone,
            "code create --lock 'Front door' --label Guest --pin 2580 --permanent",
        )
        .await?;
        let family_pin = family["pin"].as_str().unwrap_or_default().to_owned();
        self.fails(
            Phone,
            &format!("code create --lock 'Front door' --label Guest --pin {family_pin} --permanent"),
        )
        .await?;

        self.say("4. Anna gets her code as a link. The code is encrypted inside it: the key is in the part\n   after #, which browsers never send, so the cloud keeps only ciphertext. She opens it\n   in her browser (the cloud serves the page at /s/) or, here, with `tessera open`.");
        let short = |id: &str| id[id.len().saturating_sub(8)..].to_owned();
        let anna_id = short(anna["id"].as_str().unwrap_or_default());
        let link = self
            .ok(
                Phone,
                &format!(
                    "share {anna_id} --views 3 --address 'Kastanienallee 12, Berlin' \
                     --instructions 'Keypad left of the door; press # after the code' --contact '+49 30 1234567'"
                ),
            )
            .await?;
        let url = link["url"].as_str().unwrap_or_default().to_owned();
        self.ok(Visitor, &format!("open '{url}' {VISITOR}")).await?;

        self.say("5. The owner signs in on the tablet: the lock and its codes arrive from the cloud.");
        self.sign_in(Tablet, false).await?;
        self.ok(Tablet, "code list").await?;

        self.say("6. The cloud goes away. The courier still gets a link: a self-contained one carries the\n   whole encrypted pass, so it opens with no cloud at all (it cannot be revoked on the\n   cloud; revoking the code still works on the lock). The phone cancels the plumber's job\n   and the tablet renames the cleaner's code, both offline. When the cloud is back, the\n   phone pushes its revoke, the tablet pushes its rename and pulls the revoke, and the\n   phone pulls the rename.");
        self.cloud.stop().await?;
        let courier_id = short(courier["id"].as_str().unwrap_or_default());
        let offline_link = self
            .ok(Phone, &format!("share {courier_id} --self-contained --no-qr"))
            .await?;
        let offline_url = offline_link["url"].as_str().unwrap_or_default().to_owned();
        self.ok(Visitor, &format!("open '{offline_url}'")).await?;
        let plumber_id = plumber["id"].as_str().unwrap_or_default().to_owned();
        self.ok(Phone, &format!("code revoke {}", short(&plumber_id)))
            .await?;
        let cleaner = self.tablet.locks()?.iter().try_fold(None, |found, lock| {
            Ok::<_, CliError>(
                found.or(self
                    .tablet
                    .codes(lock.id)?
                    .into_iter()
                    .find(|record| record.code.label == "Cleaner")
                    .map(|record| record.code.id.to_string())),
            )
        })?;
        let cleaner = cleaner.unwrap_or_default();
        self.ok(
            Tablet,
            &format!("code edit {} --label 'Cleaning team'", short(&cleaner)),
        )
        .await?;
        self.cloud.restart().await?;
        self.ok(Phone, "sync").await?;
        self.ok(Tablet, "sync").await?;
        self.ok(Phone, "sync").await?;
        self.ok(Phone, "code list").await?;

        let locks = self.phone.locks()?;
        let mut codes = Vec::new();
        for lock in &locks {
            codes.extend(self.phone.codes(lock.id)?);
        }
        let kinds: HashSet<_> = codes.iter().map(|record| record.code.schedule.kind()).collect();
        let revoked = codes
            .iter()
            .filter(|record| record.code.status == CodeStatus::Revoked)
            .count();
        let agree = codes.iter().all(|mine| {
            self.tablet.code(mine.code.id).is_ok_and(|theirs| {
                (&theirs.code.label, theirs.code.pin.expose(), theirs.code.status)
                    == (&mine.code.label, mine.code.pin.expose(), mine.code.status)
            })
        });
        self.say(&format!(
            "Summary so far: {} lock, {} codes of {} kinds ({revoked} revoked), {} PINs refused.\n\
             Phone and tablet {} after syncing; {} changes wait in the phone's outbox.\n\
             PINs are encrypted on each device and at rest in the cloud.",
            locks.len(),
            codes.len(),
            kinds.len(),
            self.refused,
            if agree { "agree on every code" } else { "DISAGREE" },
            self.phone.pending_mutations()?.len(),
        ));
        if !agree {
            return Err(CliError::usage("the demo's devices did not converge"));
        }
        Ok(())
    }

    /// The second part: a lock with no Wi-Fi, reached directly, its keypad, and an
    /// offline code.
    async fn lock_tour(&mut self, dir: &Path) -> CliResult<()> {
        use Device::Phone;
        let mut gate = DemoLock::start(&dir.join("garden-gate")).await?;
        let address = gate.address.to_string();
        let lock_time =
            |at: chrono::DateTime<Utc>| at.with_timezone(&LOCK_ZONE).format("%Y-%m-%dT%H:%M").to_string();

        self.say(&format!(
            "7. A garden gate with no Wi-Fi: a reference lock (tessera-lock) runs in this process\n   \
             at {address}, its state in {}. Phones find such locks on the\n   \
             local network over mDNS; where multicast does not reach, by address, as here.",
            dir.join("garden-gate").display()
        ));
        self.ok(Phone, &format!("lock discover --address {address} --no-mdns"))
            .await?;

        self.say("8. The phone pairs with it using the setup code printed on its label (a PAKE: the code\n   never crosses the network, and a wrong one says nothing about which digits were\n   right). Pairing also fetches the secret that offline codes come from.");
        let setup_code = zeroize::Zeroizing::new(gate.lock.setup_code().expose().to_owned());
        self.ok_shown_as(
            Phone,
            &format!("lock pair {address} --setup-code {}", setup_code.as_str()),
            &format!("lock pair {address} --setup-code <the code on the label>"),
        )
        .await?;

        self.say("9. A code for the gardener, from an hour ago to two hours from now (the lock's time).\n   The gate answers on the local network, so the code goes there directly and is\n   \"set on lock\" once the lock acknowledges it. The cloud hears of it too, so the\n   gate now has two routes.");
        let now = Utc::now();
        let gardener = self
            .ok(
                Phone,
                &format!(
                    "code create --lock 'Garden gate' --label Gardener --from {} --to {}",
                    lock_time(now - Duration::hours(1)),
                    lock_time(now + Duration::hours(2))
                ),
            )
            .await?;
        if gardener["delivery"]["route"] != "local" {
            return Err(CliError::usage(
                "the demo expected the gardener's code to take the local route",
            ));
        }
        self.ok(Phone, &format!("lock discover --address {address} --no-mdns"))
            .await?;
        let gardener_pin = gardener["pin"].as_str().unwrap_or_default().to_owned();

        self.say("10. The gardener types the code on the gate's keypad inside the window: it opens.\n    Then the gate's clock moves 3 hours ahead, past the window (a test hook of the\n    reference lock; only a paired phone may set a real lock's clock, never back by more\n    than 10 minutes): the same code is refused. The clock goes back, and the phone\n    sets it to its own.");
        self.keypad(&gate, &gardener_pin, true)?;
        gate.lock
            .shift_clock(chrono::TimeDelta::hours(3))
            .map_err(|e| failed("the lock's clock did not move", e))?;
        self.clock_note(&gate, "3 hours ahead");
        self.keypad(&gate, &gardener_pin, false)?;
        gate.lock
            .shift_clock(chrono::TimeDelta::hours(-3))
            .map_err(|e| failed("the lock's clock did not move", e))?;
        self.clock_note(&gate, "back");
        self.ok(Phone, "lock clock 'Garden gate'").await?;
        self.ok(Phone, "lock log 'Garden gate'").await?;

        self.say("11. No network at all: the cloud stops and the gate drops off the network. The owner\n    still makes a code for the dog sitter: the phone derives it from the gate's secret,\n    and shows before sharing its window, the deadline for its first use and how many\n    more codes that hour and class allow. The gate checks it with its clock alone.");
        self.cloud.stop().await?;
        gate.go_offline();
        let sitter = self
            .ok(
                Phone,
                "code create --offline 4h --lock 'Garden gate' --label 'Dog sitter'",
            )
            .await?;
        let sitter_pin = sitter["pin"].as_str().unwrap_or_default().to_owned();
        self.keypad(&gate, &sitter_pin, true)?;

        self.say("12. The gate is back on the network. The owner rotates its offline epoch: every offline\n    code issued before is revoked at once, and the dog sitter's code is refused.");
        gate.go_online().await?;
        self.ok(Phone, "lock rotate-offline 'Garden gate'").await?;
        self.keypad(&gate, &sitter_pin, false)?;
        self.ok(Phone, "code offline-list 'Garden gate'").await?;
        self.ok(Phone, "lock log 'Garden gate' --limit 3").await?;

        self.say(&format!(
            "Summary: the gate's keypad opened {} times (the gardener inside the window, the\n\
             dog sitter's offline code) and refused {} entries (the gardener outside the window,\n\
             the offline code after the rotation). The demo is over; its directory is deleted.",
            self.keypad.opened, self.keypad.refused
        ));
        Ok(())
    }

    /// Types `digits` on the gate's keypad and presses Enter.
    fn keypad(&mut self, gate: &DemoLock, digits: &str, should_open: bool) -> CliResult<()> {
        self.text.push_str(&format!("gate  [keypad] {digits} Enter\n"));
        let result = gate
            .lock
            .enter(digits)
            .map_err(|e| failed("the keypad failed", e))?;
        let shown = match result {
            KeypadResult::Open { .. } => "open".to_owned(),
            KeypadResult::Refused => "refused".to_owned(),
            KeypadResult::LockedOut { until } => format!(
                "locked out until {}",
                until.with_timezone(&LOCK_ZONE).format("%H:%M:%S %Z")
            ),
        };
        self.text.push_str(&format!("=> {shown}\n\n"));
        self.steps
            .push(json!({ "device": "gate keypad", "entered": digits, "result": shown }));
        if result.is_open() {
            self.keypad.opened += 1;
        } else {
            self.keypad.refused += 1;
        }
        if result.is_open() != should_open {
            return Err(CliError::usage(format!(
                "the demo expected the gate to {} and it said {shown}",
                if should_open { "open" } else { "refuse the code" }
            )));
        }
        Ok(())
    }

    fn clock_note(&mut self, gate: &DemoLock, moved: &str) {
        let clock = gate.lock.now().with_timezone(&LOCK_ZONE);
        self.text.push_str(&format!(
            "gate  [clock moved {moved}] now {}\n\n",
            clock.format("%Y-%m-%d %H:%M %Z")
        ));
        self.steps
            .push(json!({ "device": "gate clock", "moved": moved, "clock": clock.to_rfc3339() }));
    }

    /// Runs a step whose line holds a secret: `shown` is printed instead.
    async fn ok_shown_as(&mut self, device: Device, line: &str, shown: &str) -> CliResult<Value> {
        let output = self.command_shown_as(device, line, shown).await?;
        self.text.push_str(&output.text);
        self.text.push('\n');
        self.steps.push(
            json!({ "device": device.name(), "command": format!("tessera {shown}"), "result": output.json }),
        );
        Ok(output.json)
    }

    /// Signs a device in (the phone signs up), as `tessera signup|login` does with
    /// `TESSERA_PASSWORD` set.
    async fn sign_in(&mut self, device: Device, new_account: bool) -> CliResult<()> {
        let verb = if new_account { "signup" } else { "login" };
        let line = format!("{verb} --cloud {} --email {OWNER}", self.cloud.url());
        self.text
            .push_str(&format!("{}$ tessera {line}\n", device.prompt()));
        let password = self.password.clone();
        let client = self.client(device);
        let account = if new_account {
            client
                .sign_up(&self.cloud.url(), OWNER, password, Some(device.name().to_owned()))
                .await?
        } else {
            client
                .log_in(&self.cloud.url(), OWNER, password, Some(device.name().to_owned()))
                .await?
        };
        if !new_account {
            client.sync().await?;
        }
        self.text.push_str(&format!("Signed in as {}\n\n", account.email));
        self.steps.push(
            json!({ "device": device.name(), "command": format!("tessera {line}"), "result": account }),
        );
        Ok(())
    }

    fn say(&mut self, text: &str) {
        self.text.push_str(text);
        self.text.push_str("\n\n");
        self.steps.push(json!({ "say": text }));
    }

    /// Runs a step that must succeed; returns its JSON result.
    async fn ok(&mut self, device: Device, line: &str) -> CliResult<Value> {
        self.ok_shown_as(device, line, line).await
    }

    /// Runs a step that must be refused; the refusal is part of the tour.
    async fn fails(&mut self, device: Device, line: &str) -> CliResult<()> {
        match self.command(device, line).await {
            Ok(_) => Err(CliError::usage(format!(
                "the demo expected `tessera {line}` to be refused"
            ))),
            Err(CliError::Core(error)) => {
                self.refused += 1;
                self.text.push_str(&format!("error: {error}\n\n"));
                self.steps.push(json!({
                    "device": device.name(),
                    "command": format!("tessera {line}"),
                    "error": { "code": error.code(), "message": error.to_string() },
                }));
                Ok(())
            }
            Err(other) => Err(other),
        }
    }

    async fn command(&mut self, device: Device, line: &str) -> CliResult<Output> {
        self.command_shown_as(device, line, line).await
    }

    /// Runs `line` but prints `shown`: for a line with a secret the demo does not show.
    async fn command_shown_as(&mut self, device: Device, line: &str, shown: &str) -> CliResult<Output> {
        self.text
            .push_str(&format!("{}$ tessera {shown}\n", device.prompt()));
        let words = shell_words::split(line)
            .map_err(|_| CliError::usage(format!("{shown}: cannot split the line")))?;
        let cli = Cli::try_parse_from(std::iter::once("tessera".to_owned()).chain(words))
            .map_err(|e| CliError::usage(e.to_string()))?;
        app::execute(self.client(device), cli.command).await
    }

    fn client(&self, device: Device) -> &TesseraClient {
        match device {
            Device::Phone => &self.phone,
            Device::Tablet => &self.tablet,
            Device::Visitor => &self.visitor,
        }
    }
}

impl Device {
    fn name(self) -> &'static str {
        match self {
            Device::Phone => "phone",
            Device::Tablet => "tablet",
            Device::Visitor => "visitor",
        }
    }

    fn prompt(self) -> &'static str {
        match self {
            Device::Phone => "phone ",
            Device::Tablet => "tablet",
            Device::Visitor => "anna  ",
        }
    }
}

/// A fresh random password for the demo account.
fn demo_password() -> Secret {
    use rand::RngExt;
    let password: String = rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(24)
        .map(char::from)
        .collect();
    Secret::new(password)
}

/// The first Sunday on or after `from` on which `zone` moves its clocks forward.
fn next_spring_forward(zone: Tz, from: NaiveDate) -> Option<NaiveDate> {
    let offset = |date: NaiveDate| {
        let noon = date.and_time(NaiveTime::from_hms_opt(12, 0, 0)?);
        Some(
            zone.from_local_datetime(&noon)
                .earliest()?
                .offset()
                .fix()
                .local_minus_utc(),
        )
    };
    from.iter_days()
        .take(400)
        .filter(|date| date.weekday() == Weekday::Sun)
        .find(|date| match (offset(*date - Duration::days(1)), offset(*date)) {
            (Some(before), Some(after)) => after > before,
            _ => false,
        })
}
