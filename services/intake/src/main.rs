//! `intake`: the referral intake service.

use clap::Parser;

/// Pathway's referral intake: referrals as received, the board registry and
/// each board's switch onto the remote pathway.
#[derive(Parser)]
#[command(
    name = "intake",
    version,
    about = "Pathway's referral intake service",
    after_help = format!(
        "{}\nPATHWAY_INTAKE__POSTCODE_LOOKUP_FILE=deploy/boards/postcodes.sample.csv loads the postcode lookup.",
        pathway_common::startup::settings_help("intake", 8081)
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
        None => pathway_common::startup::main::<pathway_intake::application::Intake>().await,
        Some(Command::RewrapKeys) => {
            pathway_common::crypto::rewrap_keys_main::<pathway_intake::settings::Settings>(
                "intake",
                |s| &s.encryption,
            )
            .await
        }
    }
}
