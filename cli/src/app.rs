//! The commands, over tessera-core's client facade.

use std::path::PathBuf;

use chrono::Utc;
use serde_json::{Value, json};
use tessera_core::model::{AccessCode, CodeId, Lock, LockId, Pin, Tz};
use tessera_core::{CodeDraft, NewLock, PinRequest, TesseraClient};

use crate::args::{CodeCommand, CodeCreate, Command, LockAdd, LockCommand, Viewer};
use crate::error::{CliError, CliResult};
use crate::render::{self, CodeView, Output};
use crate::{keyfile, parse};

pub fn run(command: Command, data_dir: Option<PathBuf>) -> CliResult<Output> {
    match command {
        Command::Demo => crate::demo::run(),
        command => execute(&open(data_dir)?, command),
    }
}

/// Opens the client on a data directory (default: the user's data directory).
pub fn open(data_dir: Option<PathBuf>) -> CliResult<TesseraClient> {
    let dir = match data_dir {
        Some(dir) => dir,
        None => directories::ProjectDirs::from("dev", "Tessera", "tessera")
            .map(|dirs| dirs.data_dir().to_owned())
            .ok_or_else(|| CliError::usage("no home directory to keep data in; pass --data-dir DIR"))?,
    };
    let key = keyfile::load_or_create(&dir)?;
    Ok(TesseraClient::open(&dir, &key)?)
}

/// Runs a lock or code command against an open client.
pub fn execute(client: &TesseraClient, command: Command) -> CliResult<Output> {
    match command {
        Command::Lock(LockCommand::Add(args)) => add_lock(client, &args),
        Command::Lock(LockCommand::List) => list_locks(client),
        Command::Code(CodeCommand::Create(args)) => create_code(client, *args),
        Command::Code(CodeCommand::List { lock }) => list_codes(client, lock.as_deref()),
        Command::Code(CodeCommand::Show { code, viewer }) => show_code(client, &code, &viewer),
        Command::Code(CodeCommand::Revoke { code }) => revoke_code(client, &code),
        Command::Demo => Err(CliError::usage("the demo cannot run inside itself")),
    }
}

fn add_lock(client: &TesseraClient, args: &LockAdd) -> CliResult<Output> {
    let lock = client.add_lock(NewLock {
        name: args.name.clone(),
        time_zone: args.time_zone.clone(),
        capabilities: parse::capabilities(args)?,
    })?;
    Ok(Output {
        text: format!(
            "Added lock {:?} ({}), id {}\n",
            lock.name,
            lock.time_zone.name(),
            lock.id
        ),
        json: render::lock_json(&lock),
    })
}

fn list_locks(client: &TesseraClient) -> CliResult<Output> {
    let locks = client.locks()?;
    Ok(Output {
        text: render::locks_table(&locks),
        json: Value::Array(locks.iter().map(render::lock_json).collect()),
    })
}

fn create_code(client: &TesseraClient, args: CodeCreate) -> CliResult<Output> {
    let lock = find_lock(client, &args.lock)?;
    let pin = match &args.pin {
        Some(digits) => PinRequest::Chosen(Pin::parse(digits).map_err(tessera_core::Error::from)?),
        None => PinRequest::Generate {
            length: args.pin_length,
        },
    };
    let code = client.create_code(
        lock.id,
        CodeDraft {
            label: args.label,
            schedule: parse::schedule(&args.schedule)?,
            pin,
            max_uses: args.max_uses,
            allow_widening: args.allow_widening,
        },
    )?;
    describe(client, &code, &lock, &args.viewer, "Created ")
}

fn show_code(client: &TesseraClient, reference: &str, viewer: &Viewer) -> CliResult<Output> {
    let code = find_code(client, reference)?;
    let lock = client.lock(code.lock_id)?;
    describe(client, &code, &lock, viewer, "")
}

fn revoke_code(client: &TesseraClient, reference: &str) -> CliResult<Output> {
    let code = client.revoke_code(find_code(client, reference)?.id)?;
    Ok(Output {
        text: format!("Revoked {:?} ({})\n", code.label, code.id),
        json: json!({ "id": code.id, "label": code.label, "status": code.status }),
    })
}

fn list_codes(client: &TesseraClient, lock: Option<&str>) -> CliResult<Output> {
    let locks = match lock {
        Some(reference) => vec![find_lock(client, reference)?],
        None => client.locks()?,
    };
    let mut entries = Vec::new();
    for lock in &locks {
        for code in client.codes(lock.id)? {
            let effective = client.effective_schedule(&code)?;
            entries.push((lock, code, effective));
        }
    }
    let now = Utc::now();
    let views: Vec<CodeView> = entries
        .iter()
        .map(|(lock, code, effective)| CodeView {
            code,
            lock,
            effective,
            viewer: None,
            now,
        })
        .collect();
    // The list leaves PINs out; `code show` reveals one.
    let json = views
        .iter()
        .map(|view| {
            let mut value = render::code_json(view);
            if let Some(object) = value.as_object_mut() {
                object.remove("pin");
            }
            value
        })
        .collect();
    Ok(Output {
        text: render::codes_table(&views),
        json: Value::Array(json),
    })
}

fn describe(
    client: &TesseraClient,
    code: &AccessCode,
    lock: &Lock,
    viewer: &Viewer,
    prefix: &str,
) -> CliResult<Output> {
    let effective = client.effective_schedule(code)?;
    let view = CodeView {
        code,
        lock,
        effective: &effective,
        viewer: viewer_zone(viewer)?,
        now: Utc::now(),
    };
    Ok(Output {
        text: format!("{prefix}{}", render::code_detail(&view)),
        json: render::code_json(&view),
    })
}

/// The zone to show times in besides the lock's: the one asked for, else this computer's.
fn viewer_zone(viewer: &Viewer) -> CliResult<Option<Tz>> {
    match &viewer.viewer_tz {
        Some(zone) => parse::zone(zone).map(Some),
        None => Ok(iana_time_zone::get_timezone()
            .ok()
            .and_then(|zone| zone.parse().ok())),
    }
}

/// A lock by full id, the end of its id (as lists show it), or name or name prefix
/// (case-insensitive).
pub fn find_lock(client: &TesseraClient, reference: &str) -> CliResult<Lock> {
    if let Ok(id) = reference.parse::<LockId>() {
        return Ok(client.lock(id)?);
    }
    let needle = reference.trim().to_lowercase();
    let matches: Vec<Lock> = client
        .locks()?
        .into_iter()
        .filter(|lock| {
            lock.name.to_lowercase().starts_with(&needle) || lock.id.to_string().ends_with(&needle)
        })
        .collect();
    // An exact name wins over names it is a prefix of ("Door" vs "Door 2").
    let exact: Vec<&Lock> = matches
        .iter()
        .filter(|lock| lock.name.to_lowercase() == needle)
        .collect();
    if let [lock] = exact.as_slice() {
        return Ok((*lock).clone());
    }
    single("lock", reference, matches, |lock| {
        format!("{} ({})", render::short_id(&lock.id), lock.name)
    })
}

/// A code by full id or the end of its id (as lists show it).
pub fn find_code(client: &TesseraClient, reference: &str) -> CliResult<AccessCode> {
    if let Ok(id) = reference.parse::<CodeId>() {
        return Ok(client.code(id)?);
    }
    let needle = reference.trim().to_lowercase();
    if needle.is_empty() {
        return Err(CliError::usage("give a code id"));
    }
    let mut matches = Vec::new();
    for lock in client.locks()? {
        matches.extend(
            client
                .codes(lock.id)?
                .into_iter()
                .filter(|code| code.id.to_string().ends_with(&needle)),
        );
    }
    single("code", reference, matches, |code| {
        format!("{} ({})", render::short_id(&code.id), code.label)
    })
}

fn single<T>(
    what: &'static str,
    reference: &str,
    mut matches: Vec<T>,
    name: impl Fn(&T) -> String,
) -> CliResult<T> {
    match matches.len() {
        0 => Err(tessera_core::Error::NotFound {
            what,
            id: reference.to_owned(),
        }
        .into()),
        1 => Ok(matches.remove(0)),
        _ => Err(CliError::Ambiguous {
            what,
            reference: reference.to_owned(),
            matches: matches.iter().map(name).collect(),
        }),
    }
}
