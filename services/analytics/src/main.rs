//! `analytics`: Pathway's analytics service.

use pathway_analytics::settings::Settings;
use pathway_analytics::startup::Application;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "analytics stopped");
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--help" || a == "-h") {
        println!(
            "analytics: Pathway's analytics service: metrics API and CSV (/v1/metrics),\n\
             baseline import (/v1/baseline), dashboard (/dashboard)\n\n\
             Usage: analytics            serve the metrics API and keep the facts up to date\n\
             \x20      analytics rebuild    with the service stopped: forget every fact and\n\
             \x20                           read the whole stream again, reporting progress\n\n\
             Configuration comes from PATHWAY_* environment variables and an optional\n\
             TOML file named by PATHWAY_CONFIG, for example:\n\
             \x20 PATHWAY_ANALYTICS__HTTP__PORT=8085         HTTP port (default 8085)\n\
             \x20 PATHWAY_ANALYTICS__DATABASE__URL=sqlite://var/analytics.db   or postgres://...\n\
             \x20 PATHWAY_ANALYTICS__SUPPRESSION_THRESHOLD=5 counts from 1 to one less are hidden\n\
             \x20 PATHWAY_NATS__URL=nats://127.0.0.1:14222   NATS with JetStream\n\
             \x20 PATHWAY_AUTH__JWKS_URL=https://...         identity provider keys (production)\n\
             \x20 PATHWAY_TELEMETRY__OTLP_ENDPOINT=http://127.0.0.1:4318\n\
             Outcomes counted as managed without a specialist appointment are set in the\n\
             file as analytics.without_specialist_outcomes.\n\
             See README.md for the rest."
        );
        return Ok(());
    }
    let settings: Settings = pathway_common::settings::load("analytics")?;
    let _telemetry = pathway_common::telemetry::init("analytics", &settings.telemetry)?;
    if std::env::args().nth(1).as_deref() == Some("rebuild") {
        let done = pathway_analytics::rebuild::rebuild(&settings, |progress| {
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
        return Ok(());
    }
    let app = Application::build(settings).await?;
    tracing::info!(
        port = app.port(),
        "analytics listening on http://127.0.0.1:{}",
        app.port()
    );
    app.run_until_stopped(pathway_common::shutdown::on_signal())
        .await
}
