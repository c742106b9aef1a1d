//! `tessera demo`: a guided run of what Tessera does, in a temporary data directory.
//! Every step is a real `tessera` command line, printed before its output, so the
//! demo doubles as a tour of the CLI.

use std::collections::HashSet;

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Offset, TimeZone, Utc, Weekday};
use clap::Parser;
use serde_json::{Value, json};
use tessera_core::TesseraClient;
use tessera_core::model::{CodeStatus, Tz};

use crate::app;
use crate::args::Cli;
use crate::error::{CliError, CliResult};
use crate::render::Output;

const LOCK_ZONE: Tz = Tz::Europe__Berlin;
const VISITOR_ZONE: &str = "America/New_York";

pub async fn run() -> CliResult<Output> {
    let dir = tempfile::tempdir().map_err(|e| CliError::usage(format!("no temporary directory: {e}")))?;
    let mut demo = Demo {
        client: app::open(Some(dir.path().to_owned()))?,
        text: String::new(),
        steps: Vec::new(),
        refused: 0,
    };
    demo.tour(&dir.path().display().to_string()).await?;
    Ok(Output {
        text: demo.text,
        json: json!({ "steps": demo.steps }),
    })
}

struct Demo {
    client: TesseraClient,
    text: String,
    steps: Vec<Value>,
    refused: usize,
}

impl Demo {
    async fn tour(&mut self, data_dir: &str) -> CliResult<()> {
        let today = Utc::now().with_timezone(&LOCK_ZONE).date_naive();
        let change = next_spring_forward(LOCK_ZONE, today + Duration::days(14));
        let day = change.unwrap_or(today + Duration::days(30));
        let at = |date: NaiveDate, time: &str| format!("{}T{time}", date.format("%Y-%m-%d"));
        let date = |date: NaiveDate| date.format("%Y-%m-%d").to_string();

        self.say(&format!(
            "Tessera demo: an owner sets up temporary codes for a front door in Berlin.\n\
             Data lives in a temporary directory ({data_dir}) and is deleted afterwards."
        ));

        self.say("1. Add the lock. Schedules are stated in the lock's own wall-clock time;\n   this lock keeps whole hours and refuses a digit three times in a row.");
        self.ok(&[
            "lock",
            "add",
            "--name",
            "Front door",
            "--tz",
            "Europe/Berlin",
            "--granularity",
            "hour",
            "--pin-lengths",
            "4-8",
            "--no-triple-repeat",
        ])
        .await?;

        match change {
            Some(change) => self.say(&format!(
                "2. A code of every kind. Clocks in Berlin go forward on {}; the visitor lives in\n   New York, so every window is shown in both zones, with what the lock had to adjust.",
                change.format("%A %Y-%m-%d")
            )),
            None => self.say("2. A code of every kind, each window shown in the lock's zone and the visitor's (New York)."),
        }
        let family = self
            .ok(&[
                "code",
                "create",
                "--lock",
                "Front door",
                "--label",
                "Family",
                "--permanent",
            ])
            .await?;
        self.ok(&[
            "code",
            "create",
            "--lock",
            "Front door",
            "--label",
            "Anna's weekend",
            "--from",
            &at(day - Duration::days(2), "16:30"),
            "--to",
            &at(day + Duration::days(1), "10:00"),
            "--viewer-tz",
            VISITOR_ZONE,
        ])
        .await?;
        self.ok(&[
            "code",
            "create",
            "--lock",
            "Front door",
            "--label",
            "Parcel courier",
            "--one-time",
            "--from",
            &at(day, "01:45"),
            "--to",
            &at(day, "12:00"),
            "--viewer-tz",
            VISITOR_ZONE,
        ])
        .await?;
        self.ok(&[
            "code",
            "create",
            "--lock",
            "Front door",
            "--label",
            "Cleaner",
            "--weekly",
            "mon,thu",
            "--between",
            "09:00-12:30",
            "--from-date",
            &date(day - Duration::days(13)),
            "--to-date",
            &date(day + Duration::days(28)),
            "--viewer-tz",
            VISITOR_ZONE,
        ])
        .await?;
        let plumber = self
            .ok(&[
                "code",
                "create",
                "--lock",
                "Front door",
                "--label",
                "Plumber",
                "--expires-after-first-use",
                "120",
                "--from",
                &at(day + Duration::days(3), "08:00"),
                "--to",
                &at(day + Duration::days(3), "18:00"),
                "--max-uses",
                "3",
                "--viewer-tz",
                VISITOR_ZONE,
            ])
            .await?;

        self.say("3. Weak PINs are refused with the rule they break, and so is a PIN that clashes\n   with a code active at the same time.");
        self.fails(&[
            "code",
            "create",
            "--lock",
            "Front door",
            "--label",
            "Guest",
            "--pin",
            "1234",
            "--permanent",
        ])
        .await?;
        self.fails(&[
            "code",
            "create",
            "--lock",
            "Front door",
            "--label",
            "Guest",
            "--pin",
            "2580",
            "--permanent",
        ])
        .await?;
        let family_pin = family["pin"].as_str().unwrap_or_default().to_owned();
        self.fails(&[
            "code",
            "create",
            "--lock",
            "Front door",
            "--label",
            "Guest",
            "--pin",
            &family_pin,
            "--permanent",
        ])
        .await?;

        self.say("4. The codes of the lock; then the plumber's job is cancelled.");
        self.ok(&["code", "list"]).await?;
        let plumber_id = plumber["id"].as_str().unwrap_or_default().to_owned();
        self.ok(&[
            "code",
            "revoke",
            &plumber_id[plumber_id.len().saturating_sub(8)..],
        ])
        .await?;

        let locks = self.client.locks()?;
        let mut codes = Vec::new();
        for lock in &locks {
            codes.extend(self.client.codes(lock.id)?);
        }
        let kinds: HashSet<_> = codes.iter().map(|code| code.code.schedule.kind()).collect();
        let revoked = codes
            .iter()
            .filter(|code| code.code.status == CodeStatus::Revoked)
            .count();
        let pending = self.client.pending_mutations()?.len();
        self.say(&format!(
            "Summary: {} lock, {} codes of {} kinds ({revoked} revoked), {} PINs refused.\n\
             Everything is stored offline with the PINs encrypted; {pending} changes wait in the outbox for sync.",
            locks.len(),
            codes.len(),
            kinds.len(),
            self.refused,
        ));
        Ok(())
    }

    fn say(&mut self, text: &str) {
        self.text.push_str(text);
        self.text.push_str("\n\n");
        self.steps.push(json!({ "say": text }));
    }

    /// Runs a step that must succeed; returns its JSON result.
    async fn ok(&mut self, args: &[&str]) -> CliResult<Value> {
        let output = self.command(args).await?;
        self.text.push_str(&output.text);
        self.text.push('\n');
        self.steps
            .push(json!({ "command": shown(args), "result": output.json }));
        Ok(output.json)
    }

    /// Runs a step that must be refused; the refusal is part of the tour.
    async fn fails(&mut self, args: &[&str]) -> CliResult<()> {
        match self.command(args).await {
            Ok(_) => Err(CliError::usage(format!(
                "the demo expected `{}` to be refused",
                shown(args)
            ))),
            Err(CliError::Core(error)) => {
                self.refused += 1;
                self.text.push_str(&format!("error: {error}\n\n"));
                self.steps.push(json!({
                    "command": shown(args),
                    "error": { "code": error.code(), "message": error.to_string() },
                }));
                Ok(())
            }
            Err(other) => Err(other),
        }
    }

    async fn command(&mut self, args: &[&str]) -> CliResult<Output> {
        self.text.push_str(&format!("$ {}\n", shown(args)));
        let cli = Cli::try_parse_from(std::iter::once("tessera").chain(args.iter().copied()))
            .map_err(|e| CliError::usage(e.to_string()))?;
        app::execute(&self.client, cli.command).await
    }
}

/// The command line as a shell would take it.
fn shown(args: &[&str]) -> String {
    let quoted = args.iter().map(|arg| {
        if arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_:,./".contains(c))
        {
            arg.to_string()
        } else {
            format!("'{}'", arg.replace('\'', r"'\''"))
        }
    });
    std::iter::once("tessera".to_owned())
        .chain(quoted)
        .collect::<Vec<_>>()
        .join(" ")
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
