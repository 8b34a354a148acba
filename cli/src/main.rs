//! `pathway`: the command line for Pathway.
//!
//! Talks to the services' HTTP APIs with reqwest. Without `--token` it signs a
//! development token with the local key (the embedded default); against a
//! board's deployment, pass a token from its identity provider.

mod analytics;
mod baseline;
mod demo;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use pathway_common::auth::{Authenticator, Claims, Role};
use pathway_common::settings::AuthSettings;
use serde_json::Value;

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
struct Cli {
    /// Base URL of the intake service.
    #[arg(
        long,
        global = true,
        env = "PATHWAY_INTAKE_URL",
        default_value = "http://127.0.0.1:8081"
    )]
    intake: String,
    /// Base URL of the notification service (for `deliveries`).
    #[arg(
        long,
        global = true,
        env = "PATHWAY_NOTIFICATION_URL",
        default_value = "http://127.0.0.1:8084"
    )]
    notification: String,
    /// Base URL of the analytics service (for `metrics`).
    #[arg(
        long,
        global = true,
        env = "PATHWAY_ANALYTICS_URL",
        default_value = "http://127.0.0.1:8085"
    )]
    analytics: String,
    /// Base URL of the vetting service (for `demo`'s clinician).
    #[arg(
        long,
        global = true,
        env = "PATHWAY_VETTING_URL",
        default_value = "http://127.0.0.1:8082"
    )]
    vetting: String,
    /// Base URL of the decision service (for `status`).
    #[arg(
        long,
        global = true,
        env = "PATHWAY_DECISION_URL",
        default_value = "http://127.0.0.1:8083"
    )]
    decision: String,
    /// Bearer token to send. Without one, a development token is signed with
    /// the local key (only where the platform runs on its embedded default).
    #[arg(long, global = true, env = "PATHWAY_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The local signing key used for development tokens.
    #[arg(
        long,
        global = true,
        env = "PATHWAY_AUTH__LOCAL_KEY_FILE",
        default_value = "var/secrets/jwt-signing.key"
    )]
    key_file: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print a development token signed with the local key.
    Token {
        /// referrer, clinician, board_admin, evaluator or service.
        #[arg(long)]
        role: Role,
        /// A board the token may act for (repeat for several; `*` for all).
        #[arg(long = "board", required = true)]
        boards: Vec<String>,
        /// Who the token speaks for.
        #[arg(long)]
        subject: Option<String>,
        /// The person's name as pages show it, e.g. "Dr Jane Doe".
        #[arg(long)]
        name: Option<String>,
        /// Lifetime in minutes.
        #[arg(long, default_value_t = 480)]
        minutes: u64,
    },
    /// Send a referral from a JSON file (see examples/referral.json).
    Refer {
        file: PathBuf,
        /// Makes a retry return the first answer instead of a second referral.
        #[arg(long)]
        idempotency_key: Option<String>,
    },
    /// Show a referral: its status, history and what can be done now.
    Status {
        /// The referral id printed by `pathway refer`.
        id: String,
        /// Print the whole JSON answer.
        #[arg(long)]
        json: bool,
    },
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
    /// The evaluators' metrics from analytics, as a table (or CSV).
    Metrics {
        /// A board to include (repeat for several); every board the token may see when left out.
        #[arg(long = "board")]
        boards: Vec<String>,
        /// First day, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// Last day, YYYY-MM-DD; today when left out.
        #[arg(long)]
        to: Option<String>,
        /// week, month or quarter.
        #[arg(long, default_value = "month")]
        by: String,
        /// adoption, urban_rural, simd, age_band, sex or priority.
        #[arg(long)]
        split: Option<String>,
        /// Print the service's CSV instead of the table.
        #[arg(long)]
        csv: bool,
    },
    /// Load a board's history into analytics, or rebuild analytics from the stream.
    Analytics {
        #[command(subcommand)]
        action: AnalyticsAction,
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
    Demo {
        /// How many referrals to send.
        #[arg(long, default_value_t = 50)]
        referrals: usize,
        /// Boards to refer to (comma-separated); the first ones are switched on.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "highland,grampian,lothian,fife"
        )]
        boards: Vec<String>,
        /// Referrals in flight at once.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// Seed for the generator, for a repeatable demo.
        #[arg(long)]
        seed: Option<u64>,
        /// Months of each board's history before it switched on to import
        /// into analytics; 0 for none.
        #[arg(long, default_value_t = 24)]
        baseline_months: u32,
        /// Share of the live referrals on the pathway the demo clinician
        /// vets, from 0 to 1.
        #[arg(long = "vet", default_value_t = 0.8)]
        vet_share: f64,
    },
}

#[derive(Subcommand)]
enum AnalyticsAction {
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
    /// Forget every fact built from the stream and read the whole stream
    /// again, in the running analytics service, with progress. Imported
    /// baselines are kept; metrics answer 503 until it is done. Needs a board
    /// admin token for every board (`*`).
    Rebuild,
}

#[derive(Subcommand)]
enum DeliveriesAction {
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

#[derive(Subcommand)]
enum BoardAction {
    /// Put the board's referrals onto the remote pathway.
    Enable {
        board: String,
        /// Date it takes effect (YYYY-MM-DD); today when left out.
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
        out takes its default. Every service picks a change up at once, and it is kept with \
        who made it and when.\n\n\
        Examples:\n\
        \x20 pathway board settings highland > highland.json\n\
        \x20 # edit highland.json, then:\n\
        \x20 pathway board settings highland --file highland.json\n\
        \x20 pathway board settings highland --history"
    )]
    Settings {
        /// The board's code, e.g. `highland` (see `pathway board list`).
        board: String,
        /// Replace the settings with this JSON document
        /// (see examples/board-settings.json).
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
        /// Also list every change, with who made it and when (on stderr,
        /// so that stdout stays a document `--file` takes back).
        #[arg(long, conflicts_with = "file")]
        history: bool,
    },
}

pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
    key_file: PathBuf,
}

impl Client {
    /// The token to send for `role` on `board`.
    pub fn token_for(&self, role: Role, board: &str, subject: &str) -> anyhow::Result<String> {
        if let Some(token) = &self.token {
            return Ok(token.clone());
        }
        dev_token(
            &self.key_file,
            role,
            vec![board.to_owned()],
            subject,
            Duration::from_secs(3600),
        )
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> anyhow::Result<(u16, Value)> {
        self.send_to(request, &self.base).await
    }

    /// Send to the service at `base`, naming it when it cannot be reached.
    pub async fn send_to(
        &self,
        request: reqwest::RequestBuilder,
        base: &str,
    ) -> anyhow::Result<(u16, Value)> {
        let response = request.send().await.with_context(|| {
            format!("cannot reach {base}: is the platform running (`make run`)?")
        })?;
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
        Ok((status, value))
    }

    /// The demo clinician's token for `board`.
    pub fn clinician_token(&self, board: &str) -> anyhow::Result<String> {
        if let Some(token) = &self.token {
            return Ok(token.clone());
        }
        dev_token_named(
            &self.key_file,
            Role::Clinician,
            vec![board.to_owned()],
            "demo-clinician",
            Some("Dr Demo Clinician".into()),
            Duration::from_secs(3600),
        )
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base.trim_end_matches('/'))
    }

    pub async fn refer(
        &self,
        body: &Value,
        idempotency_key: Option<&str>,
    ) -> anyhow::Result<(u16, Value)> {
        let board = body["board"].as_str().unwrap_or("highland");
        let token = self.token_for(Role::Referrer, board, "cli-referrer")?;
        let mut request = self
            .http
            .post(self.url("/v1/referrals"))
            .bearer_auth(token)
            .json(body);
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        self.send(request).await
    }

    pub async fn switch(
        &self,
        board: &str,
        enabled: bool,
        from: Option<&str>,
        reason: Option<&str>,
    ) -> anyhow::Result<(u16, Value)> {
        let token = self.token_for(Role::BoardAdmin, board, "cli-board-admin")?;
        let body =
            serde_json::json!({"enabled": enabled, "effective_date": from, "reason": reason});
        self.send(
            self.http
                .put(self.url(&format!("/v1/boards/{board}/pathway")))
                .bearer_auth(token)
                .json(&body),
        )
        .await
    }
}

fn dev_token(
    key_file: &std::path::Path,
    role: Role,
    boards: Vec<String>,
    subject: &str,
    ttl: Duration,
) -> anyhow::Result<String> {
    dev_token_named(key_file, role, boards, subject, None, ttl)
}

fn dev_token_named(
    key_file: &std::path::Path,
    role: Role,
    boards: Vec<String>,
    subject: &str,
    name: Option<String>,
    ttl: Duration,
) -> anyhow::Result<String> {
    if !key_file.exists() {
        bail!(
            "no local signing key at {}: start the platform once with `make run` (it creates the key), \
             or pass --token with a token from your identity provider",
            key_file.display()
        );
    }
    let authenticator = Authenticator::from_settings(&AuthSettings {
        local_key_file: key_file.to_owned(),
        ..AuthSettings::default()
    })?;
    let mut claims = Claims::new(subject, role, boards, ttl);
    claims.name = name;
    authenticator.issue(&claims)
}

fn fail(status: u16, body: &Value) -> anyhow::Error {
    fail_from("intake", status, body)
}

/// `service`'s refusal, with every field it names.
pub fn fail_from(service: &str, status: u16, body: &Value) -> anyhow::Error {
    let mut message = format!("{service} answered {status}");
    if let Some(text) = body["message"].as_str().or(body.as_str()) {
        message.push_str(&format!(": {text}"));
    }
    if let Some(rows) = body["rejected_rows"].as_u64() {
        message.push_str(&format!("\n{rows} rows rejected, nothing loaded:"));
    }
    if let Some(fields) = body["fields"].as_array() {
        for field in fields {
            message.push_str(&format!(
                "\n  - {}: {}",
                field["field"].as_str().unwrap_or("?"),
                field["reason"].as_str().unwrap_or("?")
            ));
        }
    }
    if let Some(open) = body["open_referral_id"].as_str() {
        message.push_str(&format!("\n  open referral: {open}"));
    }
    anyhow::anyhow!(message)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let client = Client {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?,
        base: cli.intake.clone(),
        token: cli.token.clone(),
        key_file: cli.key_file.clone(),
    };
    match cli.command {
        Command::Token {
            role,
            boards,
            subject,
            name,
            minutes,
        } => {
            let subject = subject.unwrap_or_else(|| match &name {
                Some(name) => name
                    .to_lowercase()
                    .split(|c: char| !c.is_ascii_alphanumeric())
                    .filter(|w| !w.is_empty())
                    .collect::<Vec<_>>()
                    .join("-"),
                None => format!("dev-{role}"),
            });
            let token = dev_token_named(
                &cli.key_file,
                role,
                boards,
                &subject,
                name,
                Duration::from_secs(minutes * 60),
            )?;
            println!("{token}");
        }
        Command::Refer {
            file,
            idempotency_key,
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let body: Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", file.display()))?;
            let (status, answer) = client.refer(&body, idempotency_key.as_deref()).await?;
            if status != 201 {
                return Err(fail(status, &answer));
            }
            println!(
                "referral {} received for {}: {} (route: {})",
                answer["id"].as_str().unwrap_or("?"),
                answer["board"].as_str().unwrap_or("?"),
                answer["status"].as_str().unwrap_or("?"),
                answer["route"].as_str().unwrap_or("?")
            );
            println!(
                "follow it with: pathway status {}",
                answer["id"].as_str().unwrap_or("?")
            );
        }
        Command::Status { id, json } => {
            // A clinician of every board may read any referral in development.
            let token = client.token_for(Role::Clinician, "*", "cli-clinician")?;
            let (status, answer) = client
                .send(
                    client
                        .http
                        .get(client.url(&format!("/v1/referrals/{id}")))
                        .bearer_auth(token),
                )
                .await?;
            if status != 200 {
                return Err(fail(status, &answer));
            }
            let decision = fetch_decision(&client, &cli.decision, &id).await;
            if json {
                let mut answer = answer;
                if let Ok(Some(decision)) = &decision {
                    answer["decision"] = decision.clone();
                }
                println!("{}", serde_json::to_string_pretty(&answer)?);
            } else {
                print_status(&answer);
                match decision {
                    Ok(Some(decision)) => print_decision(&decision),
                    Ok(None) => println!("decision:  none yet"),
                    Err(why) => println!("decision:  unknown ({why})"),
                }
            }
        }
        Command::Metrics {
            boards,
            from,
            to,
            by,
            split,
            csv,
        } => {
            let query = MetricsQuery {
                boards,
                from,
                to,
                by,
                split,
            };
            metrics(&client, &cli.analytics, &query, csv).await?;
        }
        Command::Deliveries { action } => deliveries(&client, &cli.notification, action).await?,
        Command::Analytics { action } => match action {
            AnalyticsAction::Import { file, board } => {
                let csv = std::fs::read(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                let loaded = analytics::import(&client, &cli.analytics, &board, csv)
                    .await
                    .with_context(|| format!("{} was not loaded", file.display()))?;
                println!(
                    "{board}: {} rows loaded from {} ({} replaced rows loaded before)",
                    loaded.loaded,
                    file.display(),
                    loaded.replaced
                );
            }
            AnalyticsAction::Rebuild => {
                let handled =
                    analytics::rebuild(&client, &cli.analytics, Duration::from_millis(250)).await?;
                println!("rebuilt every fact from the stream: {handled} messages handled");
            }
        },
        Command::Board { action } => match action {
            BoardAction::List => {
                let token = client.token_for(Role::BoardAdmin, "*", "cli-board-admin")?;
                let (status, answer) = client
                    .send(client.http.get(client.url("/v1/boards")).bearer_auth(token))
                    .await?;
                if status != 200 {
                    return Err(fail(status, &answer));
                }
                println!("{:<24} {:<32} {:<8} since", "code", "name", "pathway");
                for board in answer.as_array().into_iter().flatten() {
                    println!(
                        "{:<24} {:<32} {:<8} {}",
                        board["code"].as_str().unwrap_or("?"),
                        board["name"].as_str().unwrap_or("?"),
                        if board["pathway_enabled"] == true {
                            "on"
                        } else {
                            "off"
                        },
                        board["since"].as_str().unwrap_or("-")
                    );
                }
            }
            BoardAction::Enable {
                board,
                from,
                reason,
            } => switch(&client, &board, true, from, reason).await?,
            BoardAction::Settings {
                board,
                file,
                history,
            } => match file {
                Some(file) => set_settings(&client, &board, &file).await?,
                None => show_settings(&client, &board, history).await?,
            },
            BoardAction::Disable {
                board,
                from,
                reason,
            } => switch(&client, &board, false, from, reason).await?,
        },
        Command::Demo {
            referrals,
            boards,
            concurrency,
            seed,
            baseline_months,
            vet_share,
        } => {
            let options = demo::Options {
                count: referrals,
                boards,
                concurrency: concurrency.max(1),
                seed,
                baseline_months,
                vet_share,
                vetting: cli.vetting.clone(),
                analytics: cli.analytics.clone(),
            };
            demo::run(&client, &options).await?;
        }
    }
    Ok(())
}

async fn switch(
    client: &Client,
    board: &str,
    enabled: bool,
    from: Option<String>,
    reason: Option<String>,
) -> anyhow::Result<()> {
    let (status, answer) = client
        .switch(board, enabled, from.as_deref(), reason.as_deref())
        .await?;
    if status != 200 {
        return Err(fail(status, &answer));
    }
    println!(
        "{}: remote pathway {} from {} (now {})",
        answer["name"].as_str().unwrap_or(board),
        if enabled { "on" } else { "off" },
        from.as_deref().unwrap_or("today"),
        if answer["pathway_enabled"] == true {
            "on"
        } else {
            "off"
        }
    );
    Ok(())
}

/// GET a board's settings; prints the document alone on stdout.
async fn show_settings(client: &Client, board: &str, history: bool) -> anyhow::Result<()> {
    let token = client.token_for(Role::BoardAdmin, board, "cli-board-admin")?;
    let (status, answer) = client
        .send(
            client
                .http
                .get(client.url(&format!("/v1/boards/{board}/settings")))
                .bearer_auth(token),
        )
        .await?;
    if status != 200 {
        return Err(settings_failure(status, &answer, board));
    }
    println!("{}", serde_json::to_string_pretty(&answer["settings"])?);
    if answer["defaults"] == true {
        eprintln!("{board} uses the defaults: it has never stored settings of its own");
    } else {
        eprintln!(
            "{board}: settings stored by {} at {}",
            answer["changed_by"].as_str().unwrap_or("?"),
            answer["changed_at"].as_str().unwrap_or("?")
        );
    }
    if history {
        for change in answer["changes"].as_array().into_iter().flatten() {
            eprintln!(
                "  {}  by {:<24} vetting target {} working days",
                change["changed_at"].as_str().unwrap_or("?"),
                change["changed_by"].as_str().unwrap_or("?"),
                change["settings"]["vetting_target_working_days"]
            );
        }
    }
    Ok(())
}

/// PUT the document in `file` as a board's settings.
async fn set_settings(client: &Client, board: &str, file: &std::path::Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| {
        format!(
            "cannot read {}: give the path of a settings document (examples/board-settings.json is one)",
            file.display()
        )
    })?;
    // Catch a broken file here, with its line, before asking intake.
    if let Err(error) = serde_json::from_str::<Value>(&text) {
        bail!(
            "{} is not JSON ({error}): fix it and run this again",
            file.display()
        );
    }
    let token = client.token_for(Role::BoardAdmin, board, "cli-board-admin")?;
    let (status, answer) = client
        .send(
            client
                .http
                .put(client.url(&format!("/v1/boards/{board}/settings")))
                .bearer_auth(token)
                .header("Content-Type", "application/json")
                .body(text),
        )
        .await?;
    if status != 200 {
        return Err(settings_failure(status, &answer, board)).with_context(|| {
            format!(
                "nothing was changed; correct {} and run this again",
                file.display()
            )
        });
    }
    println!(
        "{}: settings stored (vetting target {} working days), in force now for every service",
        answer["name"].as_str().unwrap_or(board),
        answer["settings"]["vetting_target_working_days"]
    );
    println!("see them with: pathway board settings {board}");
    Ok(())
}

/// Intake's refusal, with what to do about it.
fn settings_failure(status: u16, answer: &Value, board: &str) -> anyhow::Error {
    let error = fail(status, answer);
    let hint = match status {
        401 => {
            "the token was refused: pass a current one with --token, or unset it to use a development token"
        }
        403 => {
            "this needs a board_admin token for this board (a clinician's may read): pass one with --token"
        }
        404 => "no such board: `pathway board list` shows the 14 codes",
        _ => return error,
    };
    anyhow::anyhow!("{error:#}\n{hint} ({board})")
}

struct MetricsQuery {
    boards: Vec<String>,
    from: String,
    to: Option<String>,
    by: String,
    split: Option<String>,
}

/// `pathway metrics ...`: ask analytics as an evaluator and print a table
/// (`*` where a figure is suppressed).
async fn metrics(
    client: &Client,
    base: &str,
    query: &MetricsQuery,
    csv: bool,
) -> anyhow::Result<()> {
    let base = base.trim_end_matches('/');
    let mut params = vec![("from", query.from.clone()), ("by", query.by.clone())];
    if !query.boards.is_empty() {
        params.push(("boards", query.boards.join(",")));
    }
    if let Some(to) = &query.to {
        params.push(("to", to.clone()));
    }
    if let Some(split) = &query.split {
        params.push(("split", split.clone()));
    }
    let path = if csv {
        "/v1/metrics.csv"
    } else {
        "/v1/metrics"
    };
    let url = reqwest::Url::parse_with_params(&format!("{base}{path}"), &params)
        .with_context(|| format!("{base} is not a URL"))?;
    let board = match query.boards.as_slice() {
        [one] => one.clone(),
        _ => "*".to_owned(),
    };
    let token = client.token_for(Role::Evaluator, &board, "cli-evaluator")?;
    let response = client
        .http
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .with_context(|| {
            format!("cannot reach analytics at {base}: is the platform running (`make run`)?")
        })?;
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    if status != 200 {
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        bail!(
            "analytics answered {status}: {}",
            body["message"].as_str().unwrap_or(&text)
        );
    }
    if csv {
        return print_all(&text);
    }
    let report: Value =
        serde_json::from_str(&text).context("analytics answered something other than JSON")?;
    let cell = |row: &Value, field: &str| -> String {
        let hidden = row["suppressed"]
            .as_array()
            .is_some_and(|s| s.iter().any(|f| f == field));
        match &row[field] {
            _ if hidden => "*".to_owned(),
            Value::Number(n) => match n.as_f64() {
                Some(x) if field.ends_with("_share") => format!("{:.0}%", x * 100.0),
                Some(x) if n.is_f64() => format!("{x:.1}"),
                _ => n.to_string(),
            },
            Value::Null => "-".to_owned(),
            other => other.to_string(),
        }
    };
    let mut table = format!(
        "{:<10} {:<22} {:<14} {:>8} {:>8} {:>8} {:>9} {:>9} {:>8}\n",
        "period",
        "board",
        "group",
        "received",
        "remote",
        "vetted",
        "median wd",
        "p90 wd",
        "in target"
    );
    for row in report["rows"].as_array().into_iter().flatten() {
        table.push_str(&format!(
            "{:<10} {:<22} {:<14} {:>8} {:>8} {:>8} {:>9} {:>9} {:>8}\n",
            row["period"].as_str().unwrap_or("?"),
            row["board"].as_str().unwrap_or("all"),
            row["group"].as_str().unwrap_or(""),
            cell(row, "received"),
            cell(row, "received_remote"),
            cell(row, "vetted"),
            cell(row, "wait_working_days_median"),
            cell(row, "wait_working_days_p90"),
            cell(row, "vetted_within_target_share"),
        ));
    }
    table.push_str(&format!(
        "counts from 1 to {} are shown as *; every metric, and the definitions: --csv, or GET {base}/openapi.json\n",
        report["suppression_threshold"]
            .as_u64()
            .unwrap_or(5)
            .saturating_sub(1)
    ));
    print_all(&table)
}

/// Print `text`; a reader that stops early (`| head`) is not an error.
fn print_all(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(error.into()),
        _ => Ok(()),
    }
}

/// `pathway deliveries ...`: ask the notification service as a board admin.
async fn deliveries(client: &Client, base: &str, action: DeliveriesAction) -> anyhow::Result<()> {
    let base = base.trim_end_matches('/');
    let (request, board, json) = match &action {
        DeliveriesAction::List {
            status,
            board,
            json,
        } => {
            let mut query = Vec::new();
            if let Some(status) = status {
                query.push(("status", status.clone()));
            }
            if let Some(board) = board {
                query.push(("board", board.clone()));
            }
            let url = reqwest::Url::parse_with_params(&format!("{base}/v1/deliveries"), &query)
                .with_context(|| format!("{base} is not a URL"))?;
            (
                client.http.get(url),
                board.clone().unwrap_or_else(|| "*".into()),
                *json,
            )
        }
        DeliveriesAction::Show { referral_id, json } => (
            client
                .http
                .get(format!("{base}/v1/referrals/{referral_id}/deliveries")),
            "*".to_owned(),
            *json,
        ),
        DeliveriesAction::Retry { id } => (
            client.http.post(format!("{base}/v1/deliveries/{id}/retry")),
            "*".to_owned(),
            false,
        ),
    };
    let token = client.token_for(Role::BoardAdmin, &board, "cli-board-admin")?;
    let response = request.bearer_auth(token).send().await.with_context(|| {
        format!(
            "cannot reach the notification service at {base}: is the platform running (`make run`)?"
        )
    })?;
    let status = response.status().as_u16();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    if !(200..300).contains(&status) {
        let mut message = format!("the notification service answered {status}");
        if let Some(text) = answer["message"].as_str() {
            message.push_str(&format!(": {text}"));
        }
        bail!(message);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
        return Ok(());
    }
    if let DeliveriesAction::Retry { id } = action {
        println!(
            "delivery {id}: {}",
            answer["status"].as_str().unwrap_or("?")
        );
        return Ok(());
    }
    let rows = answer["deliveries"]
        .as_array()
        .or(answer.as_array())
        .cloned()
        .unwrap_or_default();
    if rows.is_empty() {
        println!("no deliveries");
        return Ok(());
    }
    println!(
        "{:<36} {:<36} {:<17} {:<8} {:<8} {:>3}  last error",
        "delivery", "referral", "recipient", "channel", "status", "try"
    );
    for row in rows {
        println!(
            "{:<36} {:<36} {:<17} {:<8} {:<8} {:>3}  {}",
            row["id"].as_str().unwrap_or("?"),
            row["referral_id"].as_str().unwrap_or("?"),
            row["recipient"].as_str().unwrap_or("?"),
            row["channel"].as_str().unwrap_or("?"),
            row["status"].as_str().unwrap_or("?"),
            row["attempts"].as_i64().unwrap_or(0),
            row["last_error"].as_str().unwrap_or("")
        );
    }
    Ok(())
}

/// The referral's decision from the decision service; `None` before one is
/// recorded.
async fn fetch_decision(client: &Client, base: &str, id: &str) -> Result<Option<Value>, String> {
    let token = client
        .token_for(Role::Clinician, "*", "cli-clinician")
        .map_err(|e| e.to_string())?;
    let url = format!("{}/v1/referrals/{id}/decision", base.trim_end_matches('/'));
    let response = client
        .http
        .get(&url)
        .bearer_auth(token)
        .send()
        .await
        .map_err(|_| format!("the decision service does not answer at {base}"))?;
    match response.status().as_u16() {
        200 => response.json().await.map(Some).map_err(|e| e.to_string()),
        404 => Ok(None),
        status => Err(format!("the decision service answered {status}")),
    }
}

fn print_decision(answer: &Value) {
    let current = &answer["current"];
    let outcome = &current["outcome"];
    println!("decision:");
    println!(
        "  outcome     {}",
        outcome["label"]
            .as_str()
            .or(outcome["code"].as_str())
            .unwrap_or("?")
    );
    if let (Some(priority), Some(mode)) = (outcome["priority"].as_str(), outcome["mode"].as_str()) {
        println!("  priority    {priority}, {}", mode.replace('_', " "));
    }
    for key in ["partner", "advice", "reason", "rejection_reason"] {
        if let Some(value) = outcome[key].as_str() {
            println!("  {:<11} {value}", key.replace('_', " "));
        }
    }
    if let Some(target) = current["target_date"].as_str() {
        println!("  target date {target}");
    }
    println!(
        "  by          {} at {}",
        current["clinician"].as_str().unwrap_or("?"),
        current["decided_at"].as_str().unwrap_or("?")
    );
    println!(
        "  rationale   {}",
        current["rationale"].as_str().unwrap_or("")
    );
    if let Some(reason) = current["red_flag_override_reason"].as_str() {
        println!("  RED FLAG OVERRIDE  {reason}");
    }
    let superseded = answer["superseded"].as_array().map_or(0, Vec::len);
    if superseded > 0 {
        println!("  supersedes  {superseded} earlier decision(s)");
    }
}

fn print_status(answer: &Value) {
    println!("referral   {}", answer["id"].as_str().unwrap_or("?"));
    println!("board      {}", answer["board"].as_str().unwrap_or("?"));
    println!("status     {}", answer["status"].as_str().unwrap_or("?"));
    println!("route      {}", answer["route"].as_str().unwrap_or("?"));
    println!(
        "received   {}",
        answer["received_at"].as_str().unwrap_or("?")
    );
    if let Some(flags) = answer["referral"]["clinical"]["red_flags"]
        .as_array()
        .filter(|f| !f.is_empty())
    {
        let flags: Vec<&str> = flags.iter().filter_map(Value::as_str).collect();
        println!("RED FLAGS  {}", flags.join(", "));
    }
    println!("history:");
    for entry in answer["history"].as_array().into_iter().flatten() {
        println!(
            "  {}  {:<28} -> {:<18} by {}",
            entry["occurred_at"].as_str().unwrap_or("?"),
            entry["event"].as_str().unwrap_or("?"),
            entry["status"].as_str().unwrap_or("?"),
            entry["actor"].as_str().unwrap_or("?")
        );
    }
}
