//! `decision`: Pathway's decision service.

use clap::Parser;
use pathway_decision::application::Decisions;
use pathway_decision::settings::DEFAULT_PORT;

/// The decision service takes no arguments: its settings come from the
/// environment and an optional file.
#[derive(Parser)]
#[command(
    name = "decision",
    version,
    about = "Pathway's decision service: vetting outcomes become decisions, corrections supersede them, lapsed opt-in windows close referrals",
    after_help = format!(
        "{}\n\nThe decision service also reads:\n  \
         PATHWAY_DECISION__AUTH__SERVICE_TOKEN=...      token presented to intake (production)\n  \
         PATHWAY_DECISION__OPT_IN_SWEEP_SECONDS=60      how often lapsed opt-in windows close\n  \
         PATHWAY_DECISION__INTAKE_TIMEOUT_MS=5000       wait for intake's referrer check",
        pathway_common::startup::settings_help("decision", DEFAULT_PORT)
    )
)]
struct Cli {}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    Cli::parse();
    pathway_common::startup::main::<Decisions>().await
}
