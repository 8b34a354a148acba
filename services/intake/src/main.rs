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
struct Args {}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    Args::parse();
    pathway_common::startup::main::<pathway_intake::application::Intake>().await
}
