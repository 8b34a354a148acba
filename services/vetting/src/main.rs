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
         PATHWAY_VETTING__SECURE_COOKIES=true      when served over HTTPS\n  \
         PATHWAY_VETTING__ENCRYPTION__KEK_FILE=var/secrets/vetting-kek.key   key-encryption key",
        pathway_common::startup::settings_help("vetting", 8082)
    )
)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Re-wrap the data keys under `encryption.kek_file`, reading those still
    /// under `encryption.previous_kek_files`, then exit; safe while instances
    /// run (docs/decisions/0025-encryption-at-rest.md).
    RewrapKeys,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match Args::parse().command {
        None => pathway_common::startup::main::<Vetting>().await,
        Some(Command::RewrapKeys) => {
            pathway_common::crypto::rewrap_keys_main::<pathway_vetting::settings::Settings>(
                "vetting",
                |s| &s.encryption,
            )
            .await
        }
    }
}
