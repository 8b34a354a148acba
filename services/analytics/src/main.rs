//! `analytics`: Pathway's analytics service.

use clap::{Parser, Subcommand};
use pathway_analytics::application::Analytics;
use pathway_analytics::settings::Settings;

#[derive(Parser)]
#[command(
    name = "analytics",
    version,
    about = "Pathway's analytics service: metrics API and CSV (/v1/metrics), baseline import (/v1/baseline), dashboard (/dashboard)",
    after_help = format!(
        "{}\n\
         Analytics also reads PATHWAY_ANALYTICS__SUPPRESSION_THRESHOLD (default 5: counts\n\
         from 1 to one less are hidden) and, from the file,\n\
         analytics.without_specialist_outcomes (the outcomes counted as managed without\n\
         a specialist appointment).",
        pathway_common::startup::settings_help("analytics", 8085)
    )
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// With the service stopped: forget every fact built from the stream and
    /// build them again from the latest snapshot and the stream after it,
    /// reporting progress. Refused, with nothing changed, when the stream no
    /// longer holds messages no snapshot covers.
    Rebuild {
        /// Ignore the snapshots and read the stream from the first message
        /// it still holds, accepting that the facts of messages aged out
        /// before it are lost.
        #[arg(long)]
        from_start: bool,
    },
    /// Take a snapshot of the facts now (the service takes one daily and
    /// keeps the last three), whether the service runs or not.
    Snapshot {
        /// Who asks for it, for the log.
        #[arg(long, env = "USER", default_value = "operator")]
        by: String,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match Cli::parse().command {
        None => pathway_common::startup::main::<Analytics>().await,
        Some(Command::Rebuild { from_start }) => match rebuild(from_start).await {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(error) => {
                tracing::error!(error = format!("{error:#}"), "analytics rebuild stopped");
                eprintln!("error: {error:#}");
                std::process::ExitCode::FAILURE
            }
        },
        Some(Command::Snapshot { by }) => match snapshot(&by).await {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(error) => {
                tracing::error!(error = format!("{error:#}"), "analytics snapshot not taken");
                eprintln!("error: {error:#}");
                std::process::ExitCode::FAILURE
            }
        },
    }
}

async fn snapshot(by: &str) -> anyhow::Result<()> {
    let settings: Settings = pathway_common::settings::load("analytics")?;
    let _telemetry = pathway_common::telemetry::init("analytics", &settings.telemetry)?;
    let taken = pathway_analytics::startup::take_snapshot(&settings, by).await?;
    println!(
        "snapshot {} taken: {} facts, complete up to stream message {}",
        taken.id, taken.facts, taken.stream_sequence
    );
    Ok(())
}

async fn rebuild(from_start: bool) -> anyhow::Result<()> {
    let settings: Settings = pathway_common::settings::load("analytics")?;
    let _telemetry = pathway_common::telemetry::init("analytics", &settings.telemetry)?;
    let done = pathway_analytics::startup::rebuild(&settings, from_start, |progress| {
        eprintln!(
            "rebuilding: {} messages handled, {} to go",
            progress.handled, progress.remaining
        );
    })
    .await?;
    println!(
        "rebuilt every fact from the latest snapshot and the stream: {} messages handled",
        done.handled
    );
    Ok(())
}
