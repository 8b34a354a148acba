//! `notification`: Pathway's notification service.

use clap::Parser;
use pathway_notification::application::Notifications;

/// Pathway's notification service: the referrer, the patient and the
/// receiving service are told of decisions, and the referrer is asked what
/// a clinician wants to know.
#[derive(Parser)]
#[command(
    name = "notification",
    version,
    about = "Pathway's notification service",
    after_help = after_help()
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

/// The settings every service has, then the ones of this service's own.
fn after_help() -> String {
    format!(
        "{}\n\nThis service's own, for example:\n  \
         PATHWAY_NOTIFICATION__SINK__DIR=var/outbox-messages   rendered messages (default channel)\n  \
         PATHWAY_NOTIFICATION__NOTIFY__BASE_URL=https://api.notifications.service.gov.uk\n  \
         PATHWAY_NOTIFICATION__NOTIFY__API_KEY=...     Notify API key (name-service id-secret)\n  \
         PATHWAY_NOTIFICATION__NOTIFY__SMS_TEMPLATE_ID=...   and EMAIL_/LETTER_TEMPLATE_ID\n  \
         PATHWAY_NOTIFICATION__WEBHOOK__SIGNING_KEY_FILE=var/secrets/webhook-ed25519.key   Ed25519 key (docs/webhooks.md)\n  \
         PATHWAY_NOTIFICATION__BOARD_DEFAULTS__MESSAGES=notify   sink (default) or notify\n  \
         PATHWAY_NOTIFICATION__BOARD_DEFAULTS__WEBHOOKS=http     sink (default) or http\n  \
         PATHWAY_NOTIFICATION__BOARD_DEFAULTS__REFERRER_CHANNEL=email   webhook (default) or email\n  \
         PATHWAY_NOTIFICATION__BOARD_DEFAULTS__GP_WEBHOOK_URL=https://...\n  \
         PATHWAY_NOTIFICATION__SENDER__MAX_ATTEMPTS=5  attempts before a delivery fails\n  \
         PATHWAY_NOTIFICATION__AUTH__SERVICE_TOKEN=... token presented to intake (production)\n\
         One board's channels differ in a [boards.<code>] table of the TOML file;\n\
         docs/decisions/0009-notification.md says why.",
        pathway_common::startup::settings_help("notification", 8084)
    )
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match Args::parse().command {
        None => pathway_common::startup::main::<Notifications>().await,
        Some(Command::RewrapKeys) => {
            pathway_common::crypto::rewrap_keys_main::<pathway_notification::settings::Settings>(
                "notification",
                |s| &s.encryption,
            )
            .await
        }
    }
}
