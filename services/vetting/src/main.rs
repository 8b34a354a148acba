//! `vetting`: the clinicians' worklists and the clinician web UI.

use clap::Parser;
use pathway_vetting::application::Vetting;

/// Pathway's vetting service: clinicians' worklists, claims, questions to
/// the referrer, outcomes, and the clinician web pages.
#[derive(Parser)]
#[command(
    name = "vetting",
    version,
    about = "Pathway's vetting service: the clinicians' worklists and web pages",
    after_help = format!(
        "{}\nVetting's own:\n  \
         PATHWAY_VETTING__AUTH__SERVICE_TOKEN=...  service token presented to intake\n  \
         PATHWAY_VETTING__LEASE_SWEEP_SECONDS=15   how often lapsed claims return\n  \
         PATHWAY_VETTING__SECURE_COOKIES=true      when served over HTTPS",
        pathway_common::startup::settings_help("vetting", 8082)
    )
)]
struct Args {}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    Args::parse();
    pathway_common::startup::main::<Vetting>().await
}
