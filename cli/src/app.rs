//! The commands, over tessera-core's client facade.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::{Value, json};
use tessera_core::api::Secret;
use tessera_core::model::{CodeId, Lock, LockId, Pin, Tz};
use tessera_core::{
    ClientConfig, CodeChanges, CodeDraft, CodeRecord, Delivery, NewLock, PinRequest, SyncActivity, SyncStage,
    SyncStatus, TesseraClient,
};

use crate::args::{CodeCommand, CodeCreate, CodeEdit, Command, LockAdd, LockCommand, SignIn, Viewer};
use crate::error::{CliError, CliResult};
use crate::parse;
use crate::render::{self, CodeView, Output};
use crate::secrets::FileSecureStore;

pub async fn run(command: Command, data_dir: Option<PathBuf>) -> CliResult<Output> {
    match command {
        Command::Demo => crate::demo::run().await,
        command => execute(&open(data_dir)?, command).await,
    }
}

/// Opens the client on a data directory (default: the user's data directory).
pub fn open(data_dir: Option<PathBuf>) -> CliResult<TesseraClient> {
    let data_dir = match data_dir {
        Some(dir) => dir,
        None => directories::ProjectDirs::from("dev", "Tessera", "tessera")
            .map(|dirs| dirs.data_dir().to_owned())
            .ok_or_else(|| CliError::usage("no home directory to keep data in; pass --data-dir DIR"))?,
    };
    let secure = Arc::new(FileSecureStore::new(&data_dir));
    let config = ClientConfig {
        data_dir,
        extra_root_certificates: extra_roots()?,
        share_host: std::env::var("TESSERA_SHARE_HOST")
            .ok()
            .filter(|host| !host.is_empty()),
    };
    Ok(TesseraClient::open(config, secure)?)
}

/// Root certificates of a private cloud, from the PEM file `TESSERA_CA_CERTS` names.
fn extra_roots() -> CliResult<Vec<Vec<u8>>> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let Some(path) = std::env::var_os("TESSERA_CA_CERTS") else {
        return Ok(Vec::new());
    };
    let unreadable = |e: rustls::pki_types::pem::Error| {
        CliError::usage(format!(
            "TESSERA_CA_CERTS: cannot read {}: {e}",
            PathBuf::from(&path).display()
        ))
    };
    let roots = CertificateDer::pem_file_iter(&path)
        .map_err(unreadable)?
        .map(|cert| cert.map(|cert| cert.to_vec()).map_err(unreadable))
        .collect::<CliResult<Vec<_>>>()?;
    if roots.is_empty() {
        return Err(CliError::usage(
            "TESSERA_CA_CERTS names a file without certificates",
        ));
    }
    Ok(roots)
}

/// Runs a command against an open client.
pub async fn execute(client: &TesseraClient, command: Command) -> CliResult<Output> {
    match command {
        Command::Signup(args) => sign_in(client, args, true).await,
        Command::Login(args) => sign_in(client, args, false).await,
        Command::Logout => log_out(client).await,
        Command::Account => Ok(account(client)),
        Command::Sync => sync(client).await,
        Command::Lock(LockCommand::Add(args)) => {
            let lock = add_lock(client, &args)?;
            let note = sync_after_change(client).await;
            Ok(lock_output(&lock, "Added", note))
        }
        Command::Lock(LockCommand::Rename { lock, name }) => {
            let lock = client.rename_lock(find_lock(client, &lock)?.id, &name)?;
            let note = sync_after_change(client).await;
            Ok(lock_output(&lock, "Renamed", note))
        }
        Command::Lock(LockCommand::List) => list_locks(client),
        Command::Lock(LockCommand::Discover(args)) => crate::local::discover(client, args).await,
        Command::Lock(LockCommand::Pair(args)) => crate::local::pair(client, args).await,
        Command::Lock(LockCommand::Push { lock }) => crate::local::push(client, &lock).await,
        Command::Lock(LockCommand::Log { lock, limit }) => crate::local::log(client, &lock, limit).await,
        Command::Lock(LockCommand::Clock { lock }) => crate::local::clock(client, &lock).await,
        Command::Lock(LockCommand::RotateOffline { lock }) => {
            crate::local::rotate_offline(client, &lock).await
        }
        Command::Code(CodeCommand::Create(args)) => match args.offline.clone() {
            Some(class) => crate::local::create_offline(client, &args, &class),
            None => create_code(client, *args).await,
        },
        Command::Code(CodeCommand::OfflineList { lock, show_pins }) => {
            crate::local::offline_list(client, &lock, show_pins)
        }
        Command::Code(CodeCommand::List { lock }) => list_codes(client, lock.as_deref()),
        Command::Code(CodeCommand::Show { code, viewer }) => {
            let record = find_code(client, &code)?;
            describe(client, &record, &viewer, "", None)
        }
        Command::Code(CodeCommand::Edit(args)) => edit_code(client, *args).await,
        Command::Code(CodeCommand::Revoke { code }) => revoke_code(client, &code).await,
        Command::Share(args) => crate::share::share(client, *args).await,
        Command::Links { code } => crate::share::links(client, &code).await,
        Command::Unshare { link } => crate::share::unshare(client, &link).await,
        Command::Open { url, viewer } => crate::share::open(client, &url, &viewer).await,
        Command::Demo => Err(CliError::usage("the demo cannot run inside itself")),
    }
}

async fn sign_in(client: &TesseraClient, args: SignIn, new_account: bool) -> CliResult<Output> {
    let password = password(new_account)?;
    let device = args.device_name.or_else(|| Some("tessera CLI".to_owned()));
    let account = if new_account {
        client.sign_up(&args.cloud, &args.email, password, device).await?
    } else {
        client.log_in(&args.cloud, &args.email, password, device).await?
    };
    let note = sync_after_change(client).await;
    let verb = if new_account {
        "Created account"
    } else {
        "Signed in as"
    };
    Ok(Output {
        text: format!("{verb} {} on {}\n{}", account.email, args.cloud, note.text()),
        json: json!({ "account": account, "sync_run": note.json() }),
    })
}

/// The password from `TESSERA_PASSWORD` (for scripts) or a prompt that does not echo.
fn password(confirm: bool) -> CliResult<Secret> {
    if let Ok(password) = std::env::var("TESSERA_PASSWORD") {
        return Ok(Secret::new(password));
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::usage(
            "no terminal to ask for the password on; set TESSERA_PASSWORD",
        ));
    }
    let prompt = |text: &str| {
        rpassword::prompt_password(text)
            .map_err(|e| CliError::usage(format!("cannot read the password: {e}")))
    };
    let password = Secret::new(prompt("Password: ")?);
    if confirm && Secret::new(prompt("Password again: ")?) != password {
        return Err(CliError::usage("the passwords differ"));
    }
    Ok(password)
}

async fn log_out(client: &TesseraClient) -> CliResult<Output> {
    let account = client.account();
    let discarded = client.pending_mutations()?.len();
    client.log_out().await?;
    let mut text = match &account {
        Some(account) => format!(
            "Signed out of {}; its data was removed from this computer.\n",
            account.email
        ),
        None => "Not signed in; local data was removed.\n".to_owned(),
    };
    if discarded > 0 {
        text.push_str(&format!(
            "Discarded {} that had not reached the cloud.\n",
            render::count(discarded, "change")
        ));
    }
    Ok(Output {
        text,
        json: json!({ "signed_out": account.map(|a| a.email), "discarded_changes": discarded }),
    })
}

fn account(client: &TesseraClient) -> Output {
    let status = client.sync_status();
    let text = match client.account() {
        Some(account) => format!("{}\n{}", account.email, status_text(&status)),
        None => format!("Not signed in.\n{}", status_text(&status)),
    };
    Output {
        text,
        json: json!({ "account": client.account(), "sync": status_json(&status) }),
    }
}

/// Syncs, with a progress bar on a terminal.
async fn sync(client: &TesseraClient) -> CliResult<Output> {
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    });
    let mut status = client.watch_sync_status();
    let syncing = client.sync();
    tokio::pin!(syncing);
    let result = loop {
        tokio::select! {
            result = &mut syncing => break result,
            Ok(()) = status.changed() => {
                if let Some(bar) = &bar {
                    bar.set_message(status_text(&status.borrow()).trim_end().to_owned());
                }
            }
        }
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let report = result?;
    let status = client.sync_status();
    Ok(Output {
        text: format!(
            "Synced: {} pushed, {} pulled{}.\n",
            render::count(report.pushed, "change"),
            report.pulled,
            if report.refused > 0 {
                format!(
                    ", {} refused by the cloud (see `tessera code list`)",
                    report.refused
                )
            } else {
                String::new()
            }
        ),
        json: json!({
            "pushed": report.pushed,
            "refused": report.refused,
            "pulled": report.pulled,
            "sync": status_json(&status),
        }),
    })
}

/// What became of the sync a change tried.
enum SyncNote {
    SignedOut,
    Synced,
    Offline { pending: usize, reason: String },
    Failed(String),
}

impl SyncNote {
    fn text(&self) -> String {
        match self {
            SyncNote::SignedOut => String::new(),
            SyncNote::Synced => "Synced with the cloud.\n".to_owned(),
            SyncNote::Offline { pending, reason } => {
                format!(
                    "Saved offline ({reason}); {} will sync when the cloud is back.\n",
                    render::count(*pending, "change")
                )
            }
            SyncNote::Failed(reason) => format!("Saved here; sync failed: {reason}\n"),
        }
    }

    fn json(&self) -> Value {
        match self {
            SyncNote::SignedOut => json!({ "state": "signed_out" }),
            SyncNote::Synced => json!({ "state": "synced" }),
            SyncNote::Offline { pending, reason } => {
                json!({ "state": "offline", "pending": pending, "reason": reason })
            }
            SyncNote::Failed(reason) => json!({ "state": "failed", "reason": reason }),
        }
    }
}

/// After a local change: sync when signed in. A change never fails for want of a
/// cloud; it waits in the outbox.
async fn sync_after_change(client: &TesseraClient) -> SyncNote {
    if client.account().is_none() {
        return SyncNote::SignedOut;
    }
    match client.try_sync().await {
        Ok(_) => SyncNote::Synced,
        Err(tessera_core::Error::Offline { reason }) => SyncNote::Offline {
            pending: client.sync_status().pending,
            reason,
        },
        Err(error) => SyncNote::Failed(error.to_string()),
    }
}

/// After a change to a lock's codes: sends it the best way there is (directly
/// when paired and the lock answers, through the cloud when signed in, else it
/// stays queued), and says what became of the cloud sync.
async fn deliver_change(client: &TesseraClient, lock: LockId) -> CliResult<(Routed, SyncNote)> {
    let delivery = client.deliver(lock).await?;
    let paired = client.local_route(lock)?.is_some();
    let note = match (&delivery.cloud, &delivery.cloud_error) {
        (Some(_), _) => SyncNote::Synced,
        (None, Some(error)) => match client.sync_status().activity {
            SyncActivity::Offline { reason, .. } => SyncNote::Offline {
                pending: client.sync_status().pending,
                reason,
            },
            _ => SyncNote::Failed(error.clone()),
        },
        (None, None) => SyncNote::SignedOut,
    };
    Ok((Routed { delivery, paired }, note))
}

/// Which way a change went, and whether the lock is paired here.
struct Routed {
    delivery: Delivery,
    paired: bool,
}

/// Adds the route a change took to a command's output.
fn with_delivery(mut output: Output, routed: &Routed) -> Output {
    let delivery = &routed.delivery;
    output
        .text
        .push_str(&crate::local::delivery_text(delivery, routed.paired));
    output.json["delivery"] = crate::local::delivery_json(delivery);
    output
}

fn status_text(status: &SyncStatus) -> String {
    let activity = match &status.activity {
        SyncActivity::Idle => "sync idle".to_owned(),
        SyncActivity::Syncing(progress) => match (progress.stage, progress.total) {
            (SyncStage::Pushing, Some(total)) => format!("pushing {}/{total}", progress.done),
            (SyncStage::Pushing, None) => format!("pushing {}", progress.done),
            (SyncStage::Pulling, _) => format!("pulling: {}", render::count(progress.done, "change")),
        },
        SyncActivity::Offline { reason, .. } => format!("offline: {reason}"),
        SyncActivity::Failed { reason } => format!("sync failed: {reason}"),
        SyncActivity::SignedOut => "signed out".to_owned(),
    };
    let last = status
        .last_success
        .map(|at| format!(", last synced {}", at.format("%Y-%m-%d %H:%M:%S UTC")))
        .unwrap_or_default();
    format!(
        "{activity}; {} waiting{last}\n",
        render::count(status.pending, "change")
    )
}

fn status_json(status: &SyncStatus) -> Value {
    let activity = match &status.activity {
        SyncActivity::Idle => json!({ "state": "idle" }),
        SyncActivity::Syncing(progress) => json!({
            "state": "syncing",
            "stage": match progress.stage { SyncStage::Pushing => "pushing", SyncStage::Pulling => "pulling" },
            "done": progress.done,
            "total": progress.total,
        }),
        SyncActivity::Offline { reason, retry_at } => {
            json!({ "state": "offline", "reason": reason, "retry_at": retry_at })
        }
        SyncActivity::Failed { reason } => json!({ "state": "failed", "reason": reason }),
        SyncActivity::SignedOut => json!({ "state": "signed_out" }),
    };
    json!({ "activity": activity, "pending": status.pending, "last_success": status.last_success })
}

fn add_lock(client: &TesseraClient, args: &LockAdd) -> CliResult<Lock> {
    Ok(client.add_lock(NewLock {
        name: args.name.clone(),
        time_zone: args.time_zone.clone(),
        capabilities: parse::capabilities(args)?,
    })?)
}

fn lock_output(lock: &Lock, verb: &str, note: SyncNote) -> Output {
    let mut json = render::lock_json(lock);
    json["sync_run"] = note.json();
    Output {
        text: format!(
            "{verb} lock {:?} ({}), id {}\n{}",
            lock.name,
            lock.time_zone.name(),
            lock.id,
            note.text()
        ),
        json,
    }
}

fn list_locks(client: &TesseraClient) -> CliResult<Output> {
    let locks = client.locks()?;
    Ok(Output {
        text: render::locks_table(&locks),
        json: Value::Array(locks.iter().map(render::lock_json).collect()),
    })
}

async fn create_code(client: &TesseraClient, args: CodeCreate) -> CliResult<Output> {
    if args.start.is_some() {
        return Err(CliError::usage(
            "--start is for offline codes (--offline CLASS); other codes take --from and --to",
        ));
    }
    let lock = find_lock(client, &args.lock)?;
    let pin = match &args.pin {
        Some(digits) => PinRequest::Chosen(Pin::parse(digits).map_err(tessera_core::Error::from)?),
        None => PinRequest::Generate {
            length: args.pin_length,
        },
    };
    let created = client.create_code(
        lock.id,
        CodeDraft {
            label: args.label,
            schedule: parse::schedule(&args.schedule)?,
            pin,
            max_uses: args.max_uses,
            allow_widening: args.allow_widening,
        },
    )?;
    let (delivery, note) = deliver_change(client, lock.id).await?;
    let record = client.code(created.code.id)?;
    let output = describe(client, &record, &args.viewer, "Created ", Some(note))?;
    Ok(with_delivery(output, &delivery))
}

async fn edit_code(client: &TesseraClient, args: CodeEdit) -> CliResult<Output> {
    let existing = find_code(client, &args.code)?.code;
    let id = existing.id;
    let pin = match (&args.pin, args.new_pin) {
        (Some(digits), _) => Some(PinRequest::Chosen(
            Pin::parse(digits).map_err(tessera_core::Error::from)?,
        )),
        (None, true) => Some(PinRequest::Generate {
            length: args.pin_length,
        }),
        (None, false) => None,
    };
    let changes = CodeChanges {
        label: args.label,
        pin,
        schedule: if parse::has_schedule(&args.schedule) {
            Some(parse::schedule(&args.schedule)?)
        } else {
            None
        },
        allow_widening: None,
        max_uses: match (args.max_uses, args.no_max_uses) {
            (Some(max), _) => Some(Some(max)),
            (None, true) => Some(None),
            (None, false) => None,
        },
    };
    client.update_code(id, changes)?;
    let (delivery, note) = deliver_change(client, existing.lock_id).await?;
    let record = client.code(id)?;
    let output = describe(client, &record, &args.viewer, "Changed ", Some(note))?;
    Ok(with_delivery(output, &delivery))
}

async fn revoke_code(client: &TesseraClient, reference: &str) -> CliResult<Output> {
    let revoked = client.revoke_code(find_code(client, reference)?.code.id)?;
    let (delivery, note) = deliver_change(client, revoked.code.lock_id).await?;
    let code = client.code(revoked.code.id)?.code;
    let output = Output {
        text: format!("Revoked {:?} ({})\n{}", code.label, code.id, note.text()),
        json: json!({ "id": code.id, "label": code.label, "status": code.status, "sync_run": note.json() }),
    };
    Ok(with_delivery(output, &delivery))
}

fn list_codes(client: &TesseraClient, lock: Option<&str>) -> CliResult<Output> {
    let locks = match lock {
        Some(reference) => vec![find_lock(client, reference)?],
        None => client.locks()?,
    };
    let mut entries = Vec::new();
    for lock in &locks {
        for record in client.codes(lock.id)? {
            let effective = client.effective_schedule(&record.code)?;
            entries.push((lock, record, effective));
        }
    }
    let now = Utc::now();
    let views: Vec<CodeView> = entries
        .iter()
        .map(|(lock, record, effective)| CodeView {
            record,
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
    record: &CodeRecord,
    viewer: &Viewer,
    prefix: &str,
    note: Option<SyncNote>,
) -> CliResult<Output> {
    let lock = client.lock(record.code.lock_id)?;
    let effective = client.effective_schedule(&record.code)?;
    let view = CodeView {
        record,
        lock: &lock,
        effective: &effective,
        viewer: viewer_zone(viewer)?,
        now: Utc::now(),
    };
    let mut json = render::code_json(&view);
    if let Some(note) = &note {
        json["sync_run"] = note.json();
    }
    Ok(Output {
        text: format!(
            "{prefix}{}{}",
            render::code_detail(&view),
            note.map(|n| n.text()).unwrap_or_default()
        ),
        json,
    })
}

/// The zone to show times in besides the lock's: the one asked for, else this computer's.
pub fn viewer_zone(viewer: &Viewer) -> CliResult<Option<Tz>> {
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
pub fn find_code(client: &TesseraClient, reference: &str) -> CliResult<CodeRecord> {
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
                .filter(|record| record.code.id.to_string().ends_with(&needle)),
        );
    }
    single("code", reference, matches, |record| {
        format!("{} ({})", render::short_id(&record.code.id), record.code.label)
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
