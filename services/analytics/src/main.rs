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
    /// With the service stopped: forget every fact and read the whole stream
    /// again, reporting progress.
    Rebuild,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match Cli::parse().command {
        None => pathway_common::startup::main::<Analytics>().await,
        Some(Command::Rebuild) => match rebuild().await {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(error) => {
                tracing::error!(error = format!("{error:#}"), "analytics rebuild stopped");
                eprintln!("error: {error:#}");
                std::process::ExitCode::FAILURE
            }
        },
    }
}

async fn rebuild() -> anyhow::Result<()> {
    let settings: Settings = pathway_common::settings::load("analytics")?;
    let _telemetry = pathway_common::telemetry::init("analytics", &settings.telemetry)?;
    let done = pathway_analytics::startup::rebuild(&settings, |progress| {
        eprintln!(
            "rebuilding: {} messages handled, {} to go",
            progress.handled, progress.remaining
        );
    })
    .await?;
    println!(
        "rebuilt every fact from the stream: {} messages handled",
        done.handled
    );
    Ok(())
}
