//! The command line: the global flags (where each service answers, the token)
//! and every command's arguments, as clap types. Their doc comments are the
//! `--help` text, so a change here is a change users see.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use pathway_common::auth::Role;

#[derive(Parser)]
#[command(
    name = "pathway",
    version,
    about = "Pathway: the remote chronic pain referral pathway, from the command line",
    long_about = "Pathway: the remote chronic pain referral pathway, from the command line.\n\n\
        Start the platform with `make run`, then for example:\n\
        \x20 pathway board enable highland\n\
        \x20 pathway board settings highland --file examples/board-settings.json\n\
        \x20 pathway refer examples/referral.json\n\
        \x20 pathway status <referral id>\n\
        \x20 pathway demo --referrals 50"
)]
pub struct Cli {
    /// Base URL of the intake service.
    #[arg(
        long,
        global = true,
        env = "PATHWAY_INTAKE_URL",
        default_value = "http://127.0.0.1:8081"
    )]
    pub intake: String,
    /// Base URL of the notification service (for `deliveries`).
    #[arg(
        long,
        global = true,
        env = "PATHWAY_NOTIFICATION_URL",
        default_value = "http://127.0.0.1:8084"
    )]
    pub notification: String,
    /// Base URL of the analytics service (for `metrics`).
    #[arg(
        long,
        global = true,
        env = "PATHWAY_ANALYTICS_URL",
        default_value = "http://127.0.0.1:8085"
    )]
    pub analytics: String,
    /// Base URL of the vetting service (for `demo`'s clinician).
    #[arg(
        long,
        global = true,
        env = "PATHWAY_VETTING_URL",
        default_value = "http://127.0.0.1:8082"
    )]
    pub vetting: String,
    /// Base URL of the decision service (for `status`).
    #[arg(
        long,
        global = true,
        env = "PATHWAY_DECISION_URL",
        default_value = "http://127.0.0.1:8083"
    )]
    pub decision: String,
    /// Bearer token to send. Without one, a development token is signed with
    /// the local key (only where the platform runs on its embedded default).
    #[arg(long, global = true, env = "PATHWAY_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The local signing key used for development tokens.
    #[arg(
        long,
        global = true,
        env = "PATHWAY_AUTH__LOCAL_KEY_FILE",
        default_value = "var/secrets/jwt-signing.key"
    )]
    pub key_file: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Print a development token signed with the local key.
    Token(TokenArgs),
    /// Send a referral from a JSON file (see examples/referral.json).
    Refer(ReferArgs),
    /// Show a referral: its status, history and what can be done now.
    Status(StatusArgs),
    /// Switch the remote pathway on or off for a board, list the boards, or
    /// show and change a board's settings.
    Board {
        #[command(subcommand)]
        action: BoardAction,
    },
    /// What the notification service sent: list deliveries, show a
    /// referral's, retry a failed one.
    Deliveries {
        #[command(subcommand)]
        action: DeliveriesAction,
    },
    /// What the services' consumers refused (dead letters): list them, show
    /// one, or replay one or all after the cause is fixed.
    #[command(
        name = "dead-letters",
        long_about = "What the services' consumers refused (dead letters): list them, show one, \
        or replay one or all after the cause is fixed.\n\n\
        A replay goes through the same inbox: the consumer that refused it handles it afresh, \
        and every other consumer, which handled it already, changes nothing. Each replay is \
        audited; a dead letter is replayed at most once (refused again, it is a new one).\n\n\
        Needs a board_admin token for every board (*); without --token one is signed with the \
        local key.\n\n\
        Examples:\n\
        \x20 pathway dead-letters list\n\
        \x20 pathway dead-letters list --service decision --limit 10\n\
        \x20 pathway dead-letters show <id>\n\
        \x20 pathway dead-letters replay <id>\n\
        \x20 pathway dead-letters replay --all --service notification --consumer notification"
    )]
    DeadLetters {
        #[command(subcommand)]
        action: DeadLettersAction,
    },
    /// The evaluators' metrics from analytics, as a table (or CSV).
    Metrics(MetricsArgs),
    /// Feedback to referrers: per GP practice of a board, referrals, outcomes
    /// and the share returned with advice, beside the board's totals.
    #[command(after_help = "Example:\n\
        \x20 pathway practices --board highland --from 2026-04-01 --to 2026-06-30")]
    Practices(PracticesArgs),
    /// Write a quarter's fixed tables (CSV) and charts (SVG) into a folder.
    #[command(after_help = "Example:\n\
        \x20 pathway publish --quarter 2026-Q3 --out publication/\n\n\
        The quarter must be over. Small counts, and enough others that none of them\n\
        can be worked out, are written as *. /v1/metrics and /v1/waits are management\n\
        information for a board's own use; these tables are the ones to publish.")]
    Publish(PublishArgs),
    /// Load a board's history into analytics, or rebuild analytics from the stream.
    Analytics {
        #[command(subcommand)]
        action: AnalyticsAction,
    },
    /// Report first appointments from the board's hospital system (PAS) to intake.
    Appointments {
        #[command(subcommand)]
        action: AppointmentsAction,
    },
    /// Fill a running platform with a realistic picture: boards switching the
    /// pathway on at different dates, each with a baseline of its history
    /// before, then live referrals, most vetted by a demo clinician.
    #[command(
        long_about = "Fill a running platform (`make run`) with a realistic picture.\n\n\
        1. The boards named switch the pathway on at different dates (a year ago, six months, \
        three months, one month ago); the last one stays on the standard route.\n\
        2. Each board's history before it switched on (--baseline-months of it, as its existing \
        system would export it) is imported into analytics, as `pathway analytics import` does.\n\
        3. --referrals live referrals with invented patients go to intake.\n\
        4. A demo clinician claims a share (--vet) of those on the pathway and records an \
        outcome with a realistic mix (about half managed without a specialist appointment), or \
        asks the referrer a question; the rest stay on the worklist.\n\n\
        Then the vetting worklist, the messages in var/outbox-messages/ and the analytics \
        dashboard all have something to show."
    )]
    Demo(DemoArgs),
    /// A patient's requests about their data: erase it, restrict its
    /// processing, or lift a restriction; and what an erasure did.
    #[command(
        long_about = "A patient's requests about their data, acted on by a board admin.\n\n\
        erase: the patient's identifiers, letter and contact details (intake), the clinicians' \
        words about them (vetting) and the messages sent about them (notification) are removed \
        from every referral of theirs with the board; their de-identified facts stay in analytics, \
        so they still count. Irreversible.\n\
        restrict: nothing is deleted, but nothing is processed: intake gives nothing out, vetting \
        holds the referral off the worklist, messages wait. lift ends a restriction.\n\n\
        Each is audited with --reason and safe to repeat. Needs a board_admin token for the board; \
        without --token one is signed with the local key.\n\n\
        Examples:\n\
        \x20 pathway patient erase --board highland --chi 0101801234 --reason \"SAR 2026/114\"\n\
        \x20 pathway patient restrict --board highland --referral <id> --reason \"objection 12 Nov\"\n\
        \x20 pathway patient lift --board highland --referral <id> --reason \"objection resolved\"\n\
        \x20 pathway patient erasure <erasure id> --board highland"
    )]
    Patient {
        #[command(subcommand)]
        action: PatientAction,
    },
}

#[derive(Subcommand)]
pub enum PatientAction {
    /// Erase the patient's identifiable data from every service.
    Erase(PatientArgs),
    /// Stop processing the patient's referrals, deleting nothing.
    Restrict(PatientArgs),
    /// Lift a restriction: processing resumes.
    Lift(PatientArgs),
    /// What an erasure did, in every service.
    Erasure {
        /// The erasure's id, as `pathway patient erase` printed it.
        id: String,
        #[arg(long)]
        board: String,
        /// Print the services' JSON answers.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct PatientArgs {
    /// The board the patient's referrals are with.
    #[arg(long)]
    pub board: String,
    /// The patient's CHI number: every referral of theirs with the board.
    #[arg(
        long,
        required_unless_present = "referral",
        conflicts_with = "referral"
    )]
    pub chi: Option<String>,
    /// Or one referral, by id.
    #[arg(long)]
    pub referral: Option<String>,
    /// The reference of the patient's request, kept in the audit trail.
    #[arg(long)]
    pub reason: String,
    /// How long to wait for vetting and notification to report their part
    /// of an erasure, in seconds.
    #[arg(long, default_value_t = 30)]
    pub wait: u64,
    /// Print the services' JSON answers.
    #[arg(long)]
    pub json: bool,
}

// No doc comments on the `Args` structs below: the variant's doc comment is
// the command's help, and a struct's own would compete with it.

#[derive(Args)]
pub struct TokenArgs {
    /// referrer, clinician, board_admin, evaluator or service.
    #[arg(long)]
    pub role: Role,
    /// A board the token may act for (repeat for several; `*` for all).
    #[arg(long = "board", required = true)]
    pub boards: Vec<String>,
    /// Who the token speaks for.
    #[arg(long)]
    pub subject: Option<String>,
    /// The person's name as pages show it, e.g. "Dr Jane Doe".
    #[arg(long)]
    pub name: Option<String>,
    /// Lifetime in minutes.
    #[arg(long, default_value_t = 480)]
    pub minutes: u64,
}

#[derive(Args)]
pub struct ReferArgs {
    pub file: PathBuf,
    /// Makes a retry return the first answer instead of a second referral.
    #[arg(long)]
    pub idempotency_key: Option<String>,
}

#[derive(Args)]
pub struct StatusArgs {
    /// The referral id printed by `pathway refer`.
    pub id: String,
    /// Print the whole JSON answer.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct MetricsArgs {
    /// A board to include (repeat for several); every board the token may see when left out.
    #[arg(long = "board")]
    pub boards: Vec<String>,
    /// First day, YYYY-MM-DD (days are Scottish days).
    #[arg(long)]
    pub from: String,
    /// Last day, YYYY-MM-DD; today (in Scotland) when left out.
    #[arg(long)]
    pub to: Option<String>,
    /// week, month or quarter.
    #[arg(long, default_value = "month")]
    pub by: String,
    /// adoption, urban_rural, simd, age_band, sex or priority.
    #[arg(long)]
    pub split: Option<String>,
    /// Print the service's CSV instead of the table.
    #[arg(long)]
    pub csv: bool,
}

#[derive(Args)]
pub struct PracticesArgs {
    /// The board whose practices to show.
    #[arg(long)]
    pub board: String,
    /// First day of receipt, YYYY-MM-DD (a Scottish day).
    #[arg(long)]
    pub from: String,
    /// Last day of receipt, YYYY-MM-DD; today (in Scotland) when left out.
    #[arg(long)]
    pub to: Option<String>,
    /// Print the service's CSV (every outcome) instead of the table.
    #[arg(long)]
    pub csv: bool,
}

#[derive(Args)]
pub struct PublishArgs {
    /// A calendar quarter that is over, YYYY-Qn (2026-Q3).
    #[arg(long)]
    pub quarter: String,
    /// The folder to write into (made if missing).
    #[arg(long)]
    pub out: std::path::PathBuf,
}

#[derive(Args)]
pub struct DemoArgs {
    /// How many referrals to send.
    #[arg(long, default_value_t = 50)]
    pub referrals: usize,
    /// Boards to refer to (comma-separated); the first ones are switched on.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "highland,grampian,lothian,fife"
    )]
    pub boards: Vec<String>,
    /// Referrals in flight at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Seed for the generator, for a repeatable demo.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Months of each board's history before it switched on to import
    /// into analytics; 0 for none.
    #[arg(long, default_value_t = 24)]
    pub baseline_months: u32,
    /// Share of the live referrals on the pathway the demo clinician
    /// vets, from 0 to 1.
    #[arg(long = "vet", default_value_t = 0.8)]
    pub vet_share: f64,
    /// Skip the synthetic history after each board's switch-on.
    #[arg(long)]
    pub no_history: bool,
    /// The NATS server whose stream the history is published onto.
    #[arg(long, default_value = "nats://127.0.0.1:14222")]
    pub nats_url: String,
}

#[derive(Subcommand)]
pub enum AppointmentsAction {
    /// Report a PAS extract of appointments (CSV) for a board: all of it, or
    /// nothing and every problem by line and column.
    #[command(
        long_about = "Report a PAS extract of appointments (CSV) for a board to intake, which \
        publishes appointment.booked, .attended, .did_not_attend and .cancelled for what is new. \
        Needs the role hospital_system or board_admin for the board.\n\n\
        Columns (header row, any order, all required): appointment_id (the PAS's own id), \
        referral_id (the Pathway referral id), status (booked, arrived, fulfilled, noshow, \
        cancelled), start (2026-09-10T09:30:00+01:00, 2026-09-10 09:30 in Scottish time, or \
        2026-09-10; may be empty when cancelled), clinic_type (pain-clinic, pain-psychology, \
        physiotherapy, pain-management-programme), first_appointment (yes or no).\n\n\
        Every row is checked before anything is written: one bad row records nothing. Rows that \
        say what is recorded already change nothing.\n\n\
        Example:\n\
        \x20 pathway appointments import --board highland pas-extract.csv"
    )]
    Import {
        /// The CSV file.
        file: PathBuf,
        /// The board the appointments belong to, e.g. `highland`.
        #[arg(long)]
        board: String,
    },
}

#[derive(Subcommand)]
pub enum AnalyticsAction {
    /// Load a board's referrals from before it adopted the pathway (a
    /// de-identified CSV from its existing system), so before/after has a
    /// real "before". Every row is checked first: one bad row loads nothing
    /// and every problem is listed by line and column.
    #[command(
        long_about = "Load a board's referrals from before it adopted the pathway \
        (a de-identified CSV from its existing system), so before/after has a real \"before\". \
        Needs the role board_admin for the board.\n\n\
        Columns (header row, any order): reference (required, unique), received_on \
        (required, YYYY-MM-DD), vetted_on, outcome (with vetted_on: an outcome code), \
        priority (urgent, soon or routine; accept only), withdrawn_on, age_band (e.g. 45-54), \
        sex (male, female, not_known), urban_rural_class (1-6), simd_quintile (1-5).\n\n\
        Every row is checked before anything is written: one bad row loads nothing, and every \
        problem is listed by line and column. Loading the same references again replaces them.\n\n\
        Example:\n\
        \x20 pathway analytics import --board highland highland-2024-2025.csv"
    )]
    Import {
        /// The CSV file.
        file: PathBuf,
        /// The board the history belongs to, e.g. `highland`.
        #[arg(long)]
        board: String,
    },
    /// Forget every fact built from the stream and build them again from the
    /// latest snapshot of the facts and the stream after it, in the running
    /// analytics service, with progress. Imported baselines are kept; metrics
    /// answer 503 until it is done. Refused, with nothing changed, when the
    /// stream no longer holds messages no snapshot covers. Needs a board
    /// admin token for every board (`*`).
    Rebuild {
        /// Ignore the snapshots and read the stream from the first message
        /// it still holds, accepting that the facts of messages aged out
        /// before it are lost.
        #[arg(long)]
        from_start: bool,
    },
}

#[derive(Subcommand)]
pub enum DeliveriesAction {
    /// Deliveries of a board (all boards when left out), newest first.
    List {
        /// planned, sending, sent or failed.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        board: Option<String>,
        /// Print the service's JSON answer.
        #[arg(long)]
        json: bool,
    },
    /// Every delivery for one referral.
    Show {
        referral_id: String,
        #[arg(long)]
        json: bool,
    },
    /// Send a failed delivery again (its address is read from intake again).
    Retry { id: String },
}

/// Which service's dead letters (`--service`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeadLetterService {
    Intake,
    Vetting,
    Decision,
    Notification,
    Analytics,
    All,
}

#[derive(Subcommand)]
pub enum DeadLettersAction {
    /// Dead letters, newest first.
    List {
        /// Which service's; all five when left out.
        #[arg(long, value_enum, default_value = "all")]
        service: DeadLetterService,
        /// At most this many (1 to 500).
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u16).range(1..=500))]
        limit: u16,
        /// Print the dead letters as JSON, each with its service.
        #[arg(long)]
        json: bool,
    },
    /// One dead letter, looked for in every service unless --service says which.
    Show {
        /// The dead letter's id (see `pathway dead-letters list`).
        id: String,
        /// Which service holds it; every one is asked when left out.
        #[arg(long, value_enum, default_value = "all")]
        service: DeadLetterService,
        #[arg(long)]
        json: bool,
    },
    /// Replay one dead letter, or --all not yet replayed, after the cause is fixed.
    #[command(
        long_about = "Replay one dead letter, or with --all every one not yet replayed, after \
        the cause is fixed: the consumer that refused it handles it afresh through its inbox; \
        consumers that handled it already change nothing. Each replay is audited.\n\n\
        Examples:\n\
        \x20 pathway dead-letters replay 01937c1e-8f2a-7b44-9d3e-5a6b7c8d9e0f\n\
        \x20 pathway dead-letters replay --all --service decision\n\
        \x20 pathway dead-letters replay --all --consumer notification"
    )]
    Replay {
        /// The dead letter's id (see `pathway dead-letters list`).
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        id: Option<String>,
        /// Every dead letter not yet replayed.
        #[arg(long)]
        all: bool,
        /// Which service's; every one when left out.
        #[arg(long, value_enum, default_value = "all")]
        service: DeadLetterService,
        /// With --all: only this durable consumer's.
        #[arg(long, requires = "all")]
        consumer: Option<String>,
        /// Print what was replayed as JSON, each with its service.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum BoardAction {
    /// Put the board's referrals onto the remote pathway.
    Enable {
        board: String,
        /// Date it takes effect (YYYY-MM-DD, a Scottish day); today in Scotland when left out.
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Send the board's referrals to the standard route again.
    Disable {
        board: String,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        reason: Option<String>,
    },
    /// List the 14 boards and whether each is on the pathway.
    List,
    /// Print a board's settings as JSON, or replace them with a file's.
    #[command(
        long_about = "Print a board's settings as JSON (the defaults until the board \
        stores its own), or replace them with the document in --file.\n\n\
        The document is the whole of the board's settings: vetting target in working days, \
        claim lease, bank holidays and extra non-working days, disabled outcomes and their \
        labels, third-sector partners, priority targets and the opt-in window. A field left \
        out takes its default. A change is in force from --from (a Scottish day, today or \
        later; today when left out): every service picks it up at once and judges each \
        referral by the settings in force on the day that matters. It is kept with who made \
        it and when.\n\n\
        Examples:\n\
        \x20 pathway board settings highland > highland.json\n\
        \x20 # edit highland.json, then:\n\
        \x20 pathway board settings highland --file highland.json\n\
        \x20 pathway board settings highland --file highland.json --from 2027-04-01\n\
        \x20 pathway board settings highland --history"
    )]
    Settings {
        /// The board's code, e.g. `highland` (see `pathway board list`).
        board: String,
        /// Replace the settings with this JSON document
        /// (see examples/board-settings.json).
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
        /// The Scottish day (YYYY-MM-DD) the new settings are in force
        /// from: today or later; today when left out.
        #[arg(long, value_name = "DAY", requires = "file")]
        from: Option<String>,
        /// Also list every change, with who made it and when (on stderr,
        /// so that stdout stays a document `--file` takes back).
        #[arg(long, conflicts_with = "file")]
        history: bool,
    },
}
