//! `vetting`: the clinicians' worklists and the clinician web UI.

use pathway_vetting::settings::Settings;
use pathway_vetting::startup::Application;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "vetting stopped");
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--help" || a == "-h") {
        println!(
            "vetting: Pathway's vetting service (clinicians' worklists and web pages)\n\n\
             Usage: vetting\n\n\
             Configuration comes from PATHWAY_* environment variables and an optional\n\
             TOML file named by PATHWAY_CONFIG, for example:\n\
             \x20 PATHWAY_VETTING__HTTP__PORT=8082          HTTP port (default 8082)\n\
             \x20 PATHWAY_VETTING__DATABASE__URL=sqlite://var/vetting.db   or postgres://...\n\
             \x20 PATHWAY_NATS__URL=nats://127.0.0.1:14222  NATS with JetStream\n\
             \x20 PATHWAY_AUTH__JWKS_URL=https://...        identity provider keys (production)\n\
             \x20 PATHWAY_VETTING__AUTH__SERVICE_TOKEN=...  service token presented to intake\n\
             \x20 PATHWAY_VETTING__LEASE_SWEEP_SECONDS=15   how often lapsed claims return\n\
             \x20 PATHWAY_VETTING__SECURE_COOKIES=true      when served over HTTPS\n\
             See README.md for the rest."
        );
        return Ok(());
    }
    let settings: Settings = pathway_common::settings::load("vetting")?;
    let _telemetry = pathway_common::telemetry::init("vetting", &settings.telemetry)?;
    let app = Application::build(settings).await?;
    tracing::info!(
        port = app.port(),
        "vetting listening on http://127.0.0.1:{}",
        app.port()
    );
    app.run_until_stopped(pathway_common::shutdown::on_signal())
        .await
}
