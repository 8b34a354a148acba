//! The start-up sequence every service runs, written once: settings →
//! database and migrations → NATS and the streams → the service's own state →
//! its background work (the outbox relay, consumers, sweeps, request/reply
//! loops) → HTTP (the service's routes, its dead letters, then the
//! operational routes, body limit, metrics, tracing and a JSON 404) → on
//! SIGTERM or Ctrl-C, stop taking work, let what is in flight finish, flush
//! the outbox.
//!
//! A service's own `startup.rs` implements [`Service`] with what is its own
//! and nothing else; its `main` is clap's arguments and [`main`].

use std::future::Future;
use std::process::ExitCode;

use anyhow::Context;
use axum::Router;
use sea_orm_migration::MigratorTrait;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::background::Background;
use crate::platform::Platform;
use crate::profile::{Problem, Profile};
pub use crate::settings::ServiceSettings;

/// Which background workers run. All of them in production; a test switches
/// some off to drive them one step at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Workers {
    /// Publishes the outbox.
    pub relay: bool,
    /// The service's durable consumers.
    pub consumers: bool,
    /// Periodic work: lapsed claims, passed opt-in windows, planned
    /// deliveries to send.
    pub sweeps: bool,
    /// Request/reply loops answering other services over NATS.
    pub rpc: bool,
}

impl Default for Workers {
    fn default() -> Self {
        Self {
            relay: true,
            consumers: true,
            sweeps: true,
            rpc: true,
        }
    }
}

/// What one service declares of its own; [`Application`] does the rest.
pub trait Service: Clone + Send + Sync + Sized + 'static {
    /// Its name: the binary, the database file, the metrics and log prefix,
    /// the `PATHWAY_<NAME>__` settings prefix.
    const NAME: &'static str;
    type Settings: ServiceSettings;
    type Migrator: MigratorTrait;

    /// Its state on a started platform (clients, caches, keys, files it
    /// loads): anything wrong here stops the start with the reason.
    fn build(
        platform: Platform,
        settings: &Self::Settings,
    ) -> impl Future<Output = anyhow::Result<Self>> + Send;

    fn platform(&self) -> &Platform;

    /// Its consumers, sweeps and request/reply loops, as `workers` allows
    /// (the relay is started for it).
    fn start(
        &self,
        background: &mut Background,
        workers: Workers,
        settings: &Self::Settings,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Its routes: the API, its pages and `/openapi.json`.
    fn routes(&self, settings: &Self::Settings) -> Router;

    /// Its own settings production refuses (beyond
    /// [`crate::profile::common_problems`]).
    fn production_problems(_settings: &Self::Settings) -> Vec<Problem> {
        Vec::new()
    }
}

/// Refuse to start `S` in production on any missing or unsafe setting,
/// naming each one.
pub fn check_production<S: Service>(settings: &S::Settings) -> anyhow::Result<()> {
    let mut problems = crate::profile::common_problems(S::NAME, settings);
    problems.extend(S::production_problems(settings));
    if problems.is_empty() {
        Ok(())
    } else {
        anyhow::bail!(crate::profile::refusal(S::NAME, &problems))
    }
}

/// A service built and listening, not yet serving: `main` and the tests run
/// the same one.
pub struct Application<S: Service> {
    listener: TcpListener,
    service: S,
    settings: S::Settings,
    workers: Workers,
}

impl<S: Service> Application<S> {
    pub async fn build(settings: S::Settings) -> anyhow::Result<Self> {
        Self::build_with(settings, Workers::default()).await
    }

    pub async fn build_with(settings: S::Settings, workers: Workers) -> anyhow::Result<Self> {
        let platform = Platform::start::<S::Migrator>(
            S::NAME,
            settings.database(),
            settings.nats(),
            settings.auth(),
        )
        .await?;
        let service = S::build(platform, &settings).await?;
        let http = settings.http();
        let listener = TcpListener::bind((http.host, http.port))
            .await
            .with_context(|| format!("cannot listen on {}:{}", http.host, http.port))?;
        Ok(Self {
            listener,
            service,
            settings,
            workers,
        })
    }

    /// The port it listens on (the one the system chose for port 0).
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn service(&self) -> &S {
        &self.service
    }

    pub fn settings(&self) -> &S::Settings {
        &self.settings
    }

    /// Serve until `shutdown`; then stop taking work, let what is in flight
    /// finish and flush the outbox.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let platform = self.service.platform().clone();
        let mut background = Background::new(&platform, &shutdown);
        if self.workers.relay {
            background.relay(&platform);
        }
        self.service
            .start(&mut background, self.workers, &self.settings)
            .await?;
        let router = crate::http::finish(
            self.service.routes(&self.settings),
            platform.metrics.clone(),
            platform.readiness(),
            platform.auth.clone(),
            platform.db.clone(),
            self.settings.http(),
        );
        background
            .serve(self.listener, router)
            .await
            .context("the HTTP server failed")
    }
}

/// How a service is configured, for the end of its `--help`.
pub fn settings_help(service: &str, port: u16) -> String {
    let upper = service.to_uppercase();
    let examples = [
        (format!("PATHWAY_{upper}__HTTP__PORT={port}"), "HTTP port"),
        (
            format!("PATHWAY_{upper}__DATABASE__URL=sqlite://var/{service}.db"),
            "or postgres://...",
        ),
        (
            "PATHWAY_NATS__URL=nats://127.0.0.1:14222".to_owned(),
            "NATS with JetStream",
        ),
        (
            "PATHWAY_AUTH__JWKS_URL=https://...".to_owned(),
            "the identity provider's keys (production)",
        ),
        (
            "PATHWAY_TELEMETRY__OTLP_ENDPOINT=http://127.0.0.1:4318".to_owned(),
            "where spans are exported",
        ),
    ];
    let mut help = String::from(
        "Configuration comes from PATHWAY_* environment variables and an optional TOML file \
         named by PATHWAY_CONFIG, for example:\n",
    );
    for (setting, what) in examples {
        help.push_str(&format!("  {setting:<58} {what}\n"));
    }
    help.push_str(
        "PATHWAY_PROFILE=production refuses to start on a missing or unsafe setting, naming it.\n",
    );
    help.push_str("README.md lists every setting.");
    help
}

/// A service's `main` once clap has read its arguments: load the settings,
/// start telemetry, build, say where it listens, serve until SIGTERM or
/// Ctrl-C. A failure is logged and printed with its causes, and exits 1.
pub async fn main<S: Service>() -> ExitCode {
    match run::<S>().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "{} stopped", S::NAME);
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run<S: Service>() -> anyhow::Result<()> {
    let settings: S::Settings = crate::settings::load(S::NAME)
        .with_context(|| format!("the {} settings are not usable", S::NAME))?;
    // Before anything connects or is created: fail closed, naming what is wrong.
    if Profile::from_env()? == Profile::Production {
        check_production::<S>(&settings)?;
    }
    if let Some(path) = &settings.auth().csrf_key_file {
        crate::csrf::share_key_from(path)?;
    }
    let _telemetry = crate::telemetry::init(S::NAME, settings.telemetry())?;
    let app = Application::<S>::build(settings).await?;
    let host = app.settings().http().host;
    tracing::info!(
        port = app.port(),
        "{} listening on http://{host}:{}",
        S::NAME,
        app.port()
    );
    app.run_until_stopped(crate::shutdown::on_signal()).await
}
