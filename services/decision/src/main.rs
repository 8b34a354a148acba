//! `decision`: Pathway's decision service.

use pathway_decision::settings::Settings;
use pathway_decision::startup::Application;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "decision stopped");
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--help" || a == "-h") {
        println!(
            "decision: Pathway's decision service\n\n\
             Usage: decision\n\n\
             Configuration comes from PATHWAY_* environment variables and an optional\n\
             TOML file named by PATHWAY_CONFIG, for example:\n\
             \x20 PATHWAY_DECISION__HTTP__PORT=8083        HTTP port (default 8083)\n\
             \x20 PATHWAY_DECISION__DATABASE__URL=sqlite://var/decision.db   or postgres://...\n\
             \x20 PATHWAY_NATS__URL=nats://127.0.0.1:14222  NATS with JetStream\n\
             \x20 PATHWAY_AUTH__JWKS_URL=https://...        identity provider keys (production)\n\
             \x20 PATHWAY_DECISION__AUTH__SERVICE_TOKEN=... token presented to intake (production)\n\
             \x20 PATHWAY_DECISION__OPT_IN_SWEEP_SECONDS=60 how often lapsed opt-in windows close\n\
             \x20 PATHWAY_DECISION__INTAKE_TIMEOUT_MS=5000  wait for intake's referrer check\n\
             \x20 PATHWAY_TELEMETRY__OTLP_ENDPOINT=http://127.0.0.1:4318\n\
             See README.md for the rest."
        );
        return Ok(());
    }
    let settings: Settings = pathway_common::settings::load("decision")?;
    let _telemetry = pathway_common::telemetry::init("decision", &settings.telemetry)?;
    let app = Application::build(settings).await?;
    tracing::info!(
        port = app.port(),
        "decision listening on http://127.0.0.1:{}",
        app.port()
    );
    app.run_until_stopped(pathway_common::shutdown::on_signal())
        .await
}
