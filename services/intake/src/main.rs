//! `intake`: the referral intake service.

use pathway_intake::settings::Settings;
use pathway_intake::startup::Application;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "intake stopped");
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--help" || a == "-h") {
        println!(
            "intake: Pathway's referral intake service\n\n\
             Usage: intake\n\n\
             Configuration comes from PATHWAY_* environment variables and an optional\n\
             TOML file named by PATHWAY_CONFIG, for example:\n\
             \x20 PATHWAY_INTAKE__HTTP__PORT=8081          HTTP port (default 8081)\n\
             \x20 PATHWAY_INTAKE__DATABASE__URL=sqlite://var/intake.db   or postgres://...\n\
             \x20 PATHWAY_NATS__URL=nats://127.0.0.1:14222  NATS with JetStream\n\
             \x20 PATHWAY_AUTH__JWKS_URL=https://...        identity provider keys (production)\n\
             \x20 PATHWAY_INTAKE__POSTCODE_LOOKUP_FILE=deploy/boards/postcodes.sample.csv\n\
             \x20 PATHWAY_TELEMETRY__OTLP_ENDPOINT=http://127.0.0.1:4318\n\
             See README.md for the rest."
        );
        return Ok(());
    }
    let settings: Settings = pathway_common::settings::load("intake")?;
    let _telemetry = pathway_common::telemetry::init("intake", &settings.telemetry)?;
    let app = Application::build(settings).await?;
    tracing::info!(
        port = app.port(),
        "intake listening on http://127.0.0.1:{}",
        app.port()
    );
    app.run_until_stopped(pathway_common::shutdown::on_signal())
        .await
}
