//! `notification`: Pathway's notification service.

use pathway_notification::settings::Settings;
use pathway_notification::startup::Application;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "notification stopped");
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--help" || a == "-h") {
        println!(
            "notification: Pathway's notification service\n\n\
             Usage: notification\n\n\
             Configuration comes from PATHWAY_* environment variables and an optional\n\
             TOML file named by PATHWAY_CONFIG, for example:\n\
             \x20 PATHWAY_NOTIFICATION__HTTP__PORT=8084        HTTP port (default 8084)\n\
             \x20 PATHWAY_NOTIFICATION__DATABASE__URL=sqlite://var/notification.db   or postgres://...\n\
             \x20 PATHWAY_NATS__URL=nats://127.0.0.1:14222      NATS with JetStream\n\
             \x20 PATHWAY_NOTIFICATION__SINK__DIR=var/outbox-messages   rendered messages (default channel)\n\
             \x20 PATHWAY_NOTIFICATION__NOTIFY__BASE_URL=https://api.notifications.service.gov.uk\n\
             \x20 PATHWAY_NOTIFICATION__NOTIFY__API_KEY=...     Notify API key (name-service id-secret)\n\
             \x20 PATHWAY_NOTIFICATION__NOTIFY__SMS_TEMPLATE_ID=...   and EMAIL_/LETTER_TEMPLATE_ID\n\
             \x20 PATHWAY_NOTIFICATION__WEBHOOK__SIGNING_SECRET=...   shared with webhook receivers\n\
             \x20 PATHWAY_NOTIFICATION__BOARD_DEFAULTS__MESSAGES=notify   sink (default) or notify\n\
             \x20 PATHWAY_NOTIFICATION__BOARD_DEFAULTS__WEBHOOKS=http     sink (default) or http\n\
             \x20 PATHWAY_NOTIFICATION__BOARD_DEFAULTS__REFERRER_CHANNEL=email   webhook (default) or email\n\
             \x20 PATHWAY_NOTIFICATION__BOARD_DEFAULTS__GP_WEBHOOK_URL=https://...\n\
             \x20 PATHWAY_NOTIFICATION__SENDER__MAX_ATTEMPTS=5  attempts before a delivery fails\n\
             \x20 PATHWAY_NOTIFICATION__AUTH__SERVICE_TOKEN=... token presented to intake (production)\n\
             \x20 PATHWAY_AUTH__JWKS_URL=https://...            identity provider keys (production)\n\
             \x20 PATHWAY_TELEMETRY__OTLP_ENDPOINT=http://127.0.0.1:4318\n\
             One board's channels differ in a [boards.<code>] table of the TOML file.\n\
             See README.md and docs/decisions/0009-notification.md for the rest."
        );
        return Ok(());
    }
    let settings: Settings = pathway_common::settings::load("notification")?;
    let _telemetry = pathway_common::telemetry::init("notification", &settings.telemetry)?;
    let app = Application::build(settings).await?;
    tracing::info!(
        port = app.port(),
        "notification listening on http://127.0.0.1:{}",
        app.port()
    );
    app.run_until_stopped(pathway_common::shutdown::on_signal())
        .await
}
