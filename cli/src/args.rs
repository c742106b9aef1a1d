//! The command line, as clap parses it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "tessera",
    version,
    about = "Temporary access codes for smart locks: create, schedule and keep them offline.",
    propagate_version = true
)]
pub struct Cli {
    /// Where Tessera keeps its data [default: the user's data directory]
    #[arg(long, global = true, env = "TESSERA_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Print JSON instead of text (errors too, on stderr)
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create an account on a Tessera cloud and sign in
    Signup(SignIn),
    /// Sign in to a Tessera cloud; locks and codes made offline are kept and synced
    Login(SignIn),
    /// Sign out and remove this account's data from this computer
    Logout,
    /// The signed-in account and the state of sync
    Account,
    /// Push local changes to the cloud and pull everyone else's
    Sync,
    /// Add, rename and list locks
    #[command(subcommand)]
    Lock(LockCommand),
    /// Create, list, show and revoke access codes
    #[command(subcommand)]
    Code(CodeCommand),
    /// Share a code with a visitor: a link (and its QR code) that shows them the code
    Share(Box<ShareArgs>),
    /// The hosted links of a code
    Links {
        /// Code id, or its last characters as lists show them
        code: String,
    },
    /// Revoke a hosted link: it stops opening at once
    Unshare {
        /// The link's id (the part after /s/)
        link: String,
    },
    /// Open a share link as its visitor
    Open {
        /// The link, fragment included
        url: String,
        #[command(flatten)]
        viewer: Viewer,
    },
    /// A guided run of Tessera in a temporary data directory
    Demo,
}

#[derive(Debug, Args)]
pub struct ShareArgs {
    /// Code id, or its last characters as lists show them
    pub code: String,

    /// Put the whole pass in the link (works with no cloud; cannot be revoked there)
    #[arg(long)]
    pub self_contained: bool,

    /// How many times the link may be opened
    #[arg(long, value_name = "N", conflicts_with = "self_contained")]
    pub views: Option<u32>,

    /// When the link stops working, in the lock's time [default: when the code does]
    #[arg(long, value_name = "LOCAL_TIME")]
    pub expires: Option<String>,

    /// The address the visitor goes to
    #[arg(long)]
    pub address: Option<String>,

    /// How to get in ("keypad left of the door, press # after the code")
    #[arg(long)]
    pub instructions: Option<String>,

    /// A note from the host
    #[arg(long)]
    pub note: Option<String>,

    /// How to reach the host
    #[arg(long)]
    pub contact: Option<String>,

    /// Also write the QR code as SVG to FILE
    #[arg(long, value_name = "FILE")]
    pub qr_svg: Option<PathBuf>,

    /// Also write the QR code as PNG to FILE
    #[arg(long, value_name = "FILE")]
    pub qr_png: Option<PathBuf>,

    /// Also write a calendar event (.ics) for the window to FILE
    #[arg(long, value_name = "FILE")]
    pub ics: Option<PathBuf>,

    /// Leave the terminal QR code out
    #[arg(long)]
    pub no_qr: bool,
}

#[derive(Debug, Args)]
pub struct SignIn {
    /// The cloud's address, e.g. https://cloud.example
    #[arg(long, value_name = "URL")]
    pub cloud: String,

    #[arg(long)]
    pub email: String,

    /// Shown in the account's list of sessions [default: this computer's name]
    #[arg(long, value_name = "NAME")]
    pub device_name: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum LockCommand {
    /// Add a lock
    Add(LockAdd),
    /// Rename a lock
    Rename {
        /// The lock (id, end of id, or name)
        lock: String,
        /// Its new name
        name: String,
    },
    /// List locks
    List,
    /// Find locks: those known here, those announcing themselves on the local
    /// network (mDNS), and whatever answers at the addresses given
    Discover(LockDiscover),
    /// Pair with a lock on the local network, using the setup code on its label
    Pair(LockPair),
    /// Send the lock its pending changes the best way there is: directly (local),
    /// through the cloud, or keep them queued
    Push {
        /// The lock (id, end of id, or name)
        lock: String,
    },
    /// Read the lock's log over the local route and show it
    Log {
        /// The lock (id, end of id, or name)
        lock: String,
        /// Entries shown, newest first
        #[arg(long, value_name = "N", default_value_t = 20)]
        limit: usize,
    },
    /// Set the lock's clock to this computer's, over the local route
    Clock {
        /// The lock (id, end of id, or name)
        lock: String,
    },
    /// Revoke every offline code issued for the lock so far (on any device)
    RotateOffline {
        /// The lock (id, end of id, or name)
        lock: String,
    },
}

#[derive(Debug, Args)]
pub struct LockDiscover {
    /// Also try the lock at HOST:PORT (repeatable): where multicast does not reach
    #[arg(long = "address", value_name = "HOST:PORT")]
    pub addresses: Vec<String>,

    /// Seconds to listen for announcements
    #[arg(long, value_name = "SECS", default_value_t = 3.0)]
    pub timeout: f64,

    /// Do not listen for announcements on the local network
    #[arg(long)]
    pub no_mdns: bool,
}

#[derive(Debug, Args)]
pub struct LockPair {
    /// Where the lock listens, HOST:PORT (as `tessera lock discover` shows it)
    pub address: String,

    /// The setup code printed on the lock's label [default: asked for, without echo]
    #[arg(long, value_name = "CODE", env = "TESSERA_SETUP_CODE", hide_env_values = true)]
    pub setup_code: Option<String>,
}

#[derive(Debug, Args)]
pub struct LockAdd {
    /// A name you will recognise, e.g. "Front door"
    #[arg(long)]
    pub name: String,

    /// The lock's IANA time zone, e.g. Europe/Berlin; schedules are in its wall-clock time
    #[arg(long = "tz", value_name = "ZONE")]
    pub time_zone: String,

    /// PIN lengths the lock accepts
    #[arg(long, value_name = "MIN-MAX", default_value = "4-8")]
    pub pin_lengths: String,

    /// Smallest unit of time the lock's schedules can hold
    #[arg(long, value_enum, default_value_t = GranularityArg::Minute)]
    pub granularity: GranularityArg,

    /// Codes the lock can hold at once
    #[arg(long, value_name = "N", default_value_t = 250)]
    pub max_codes: u32,

    /// The keypad has two digits per button (1|2, 3|4, 5|6, 7|8, 9|0)
    #[arg(long)]
    pub two_digits_per_button: bool,

    /// The lock refuses PINs containing 0
    #[arg(long)]
    pub no_zeros: bool,

    /// The lock refuses PINs starting with these digits (repeatable)
    #[arg(long, value_name = "DIGITS")]
    pub cannot_start_with: Vec<String>,

    /// The lock refuses N digits counting up or down in a row
    #[arg(long, value_name = "N")]
    pub no_sequential_run: Option<u8>,

    /// The lock refuses a digit three times in a row
    #[arg(long)]
    pub no_triple_repeat: bool,

    /// The lock requires at least N different digits
    #[arg(long, value_name = "N")]
    pub min_distinct_digits: Option<u8>,

    /// The lock verifies offline codes
    #[arg(long)]
    pub offline_codes: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GranularityArg {
    Minute,
    Hour,
    Day,
}

#[derive(Debug, Subcommand)]
pub enum CodeCommand {
    /// Create an access code
    Create(Box<CodeCreate>),
    /// List access codes
    List {
        /// Only this lock's codes (id, end of id, or name)
        #[arg(long)]
        lock: Option<String>,
    },
    /// Show a code with its PIN and effective window
    Show {
        /// Code id, or its last characters as lists show them
        code: String,
        #[command(flatten)]
        viewer: Viewer,
    },
    /// Change a code: only what you pass changes
    Edit(Box<CodeEdit>),
    /// Revoke a code
    Revoke {
        /// Code id, or its last characters as lists show them
        code: String,
    },
    /// The offline codes issued on this computer for a lock
    OfflineList {
        /// The lock (id, end of id, or name)
        lock: String,
        /// Show the PINs of codes still valid
        #[arg(long)]
        show_pins: bool,
    },
}

#[derive(Debug, Args)]
pub struct CodeCreate {
    /// The lock (id, end of id, or name)
    #[arg(long)]
    pub lock: String,

    /// Who or what the code is for
    #[arg(long)]
    pub label: String,

    #[command(flatten)]
    pub schedule: ScheduleArgs,

    /// Your own digits instead of a generated PIN
    #[arg(long, value_name = "DIGITS")]
    pub pin: Option<String>,

    /// Length of the generated PIN [default: 6 where the lock allows]
    #[arg(long, value_name = "N", conflicts_with = "pin")]
    pub pin_length: Option<u8>,

    /// Stop working after N entries
    #[arg(long, value_name = "N")]
    pub max_uses: Option<u32>,

    /// Let rounding to the lock's granularity grant more time than asked for
    #[arg(long)]
    pub allow_widening: bool,

    /// An offline code of this class instead, made with no network at all for a
    /// paired lock: one-time, 1h, 2h, 4h, 8h, 12h, 1d, 2d, 3d, 1w, 2w, daily-4h,
    /// daily-8h, weekdays, weekends
    #[arg(
        long,
        value_name = "CLASS",
        conflicts_with_all = [
            "permanent", "one_time", "expires_after_first_use", "weekly", "from", "to",
            "pin", "pin_length", "max_uses", "allow_widening",
        ]
    )]
    pub offline: Option<String>,

    /// When the offline code starts, in the lock's time ("2027-03-28 09:00") [default: now]
    #[arg(long, value_name = "LOCAL_TIME")]
    pub start: Option<String>,

    #[command(flatten)]
    pub viewer: Viewer,
}

#[derive(Debug, Args)]
pub struct CodeEdit {
    /// Code id, or its last characters as lists show them
    pub code: String,

    /// A new label
    #[arg(long)]
    pub label: Option<String>,

    /// New digits of your own
    #[arg(long, value_name = "DIGITS", conflicts_with = "new_pin")]
    pub pin: Option<String>,

    /// A new generated PIN
    #[arg(long)]
    pub new_pin: bool,

    /// Length of the new generated PIN
    #[arg(long, value_name = "N", requires = "new_pin")]
    pub pin_length: Option<u8>,

    /// Stop working after N entries
    #[arg(long, value_name = "N", conflicts_with = "no_max_uses")]
    pub max_uses: Option<u32>,

    /// Remove the limit on entries
    #[arg(long)]
    pub no_max_uses: bool,

    /// A new schedule (same options as `code create`)
    #[command(flatten)]
    pub schedule: ScheduleArgs,

    #[command(flatten)]
    pub viewer: Viewer,
}

/// When the code works. Times are the lock's wall-clock time: 2027-03-28T09:00.
#[derive(Debug, Args)]
pub struct ScheduleArgs {
    /// Always, until revoked
    #[arg(long, conflicts_with_all = ["from", "to", "one_time", "weekly", "expires_after_first_use"])]
    pub permanent: bool,

    /// One entry between --from and --to
    #[arg(long, requires_all = ["from", "to"], conflicts_with_all = ["weekly", "expires_after_first_use"])]
    pub one_time: bool,

    /// Valid for MINUTES after the first entry, which must fall between --from and --to
    #[arg(long, value_name = "MINUTES", requires_all = ["from", "to"], conflicts_with = "weekly")]
    pub expires_after_first_use: Option<u32>,

    /// Recurring on these weekdays: mon,tue or mon-fri
    #[arg(long, value_name = "DAYS", requires_all = ["between", "from_date", "to_date"], conflicts_with_all = ["from", "to"])]
    pub weekly: Option<String>,

    /// Daily time range of a weekly code; may cross midnight (22:00-06:00)
    #[arg(long, value_name = "HH:MM-HH:MM", requires = "weekly")]
    pub between: Option<String>,

    /// First day of a weekly code
    #[arg(long, value_name = "DATE", requires = "weekly")]
    pub from_date: Option<String>,

    /// Last day of a weekly code
    #[arg(long, value_name = "DATE", requires = "weekly")]
    pub to_date: Option<String>,

    /// Start, in the lock's local time
    #[arg(long, value_name = "LOCAL_TIME", requires = "to")]
    pub from: Option<String>,

    /// End, in the lock's local time
    #[arg(long, value_name = "LOCAL_TIME", requires = "from")]
    pub to: Option<String>,
}

#[derive(Debug, Args)]
pub struct Viewer {
    /// Also show times in this zone [default: this computer's zone]
    #[arg(long = "viewer-tz", value_name = "ZONE")]
    pub viewer_tz: Option<String>,
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::{Cli, CodeCommand, Command};

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn offline_codes_take_a_class_and_a_start_but_no_schedule() {
        let parsed = Cli::try_parse_from([
            "tessera",
            "code",
            "create",
            "--offline",
            "1d",
            "--lock",
            "Shed",
            "--label",
            "Anna",
            "--start",
            "2027-03-28 09:00",
        ]);
        assert!(
            matches!(&parsed, Ok(Cli { command: Command::Code(CodeCommand::Create(args)), .. })
                if args.offline.as_deref() == Some("1d") && args.start.as_deref() == Some("2027-03-28 09:00")),
            "{parsed:?}"
        );
        for conflicting in [
            &["--permanent"][..],
            &["--pin", "4829"],
            &["--from", "2027-03-28T09:00", "--to", "2027-03-28T10:00"],
        ] {
            let mut line = vec![
                "tessera",
                "code",
                "create",
                "--offline",
                "1d",
                "--lock",
                "Shed",
                "--label",
                "Anna",
            ];
            line.extend_from_slice(conflicting);
            assert!(Cli::try_parse_from(line).is_err(), "{conflicting:?}");
        }
    }
}
