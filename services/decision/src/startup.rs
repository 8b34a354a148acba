//! Building and running the decision service: the same [`Application`] runs
//! in `main` and in the tests.

use std::time::Duration;

use anyhow::Context;
use pathway_common::background::Background;
use pathway_common::inbox::ConsumerSpec;
use pathway_common::platform::Platform;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::application::Decisions;
use crate::consumer::{DURABLE, DecisionConsumer, filters};
use crate::db::Migrator;
use crate::http::{AppState, router};
use crate::settings::Settings;
use pathway_common::intake_client::IntakeClient;

/// Which background workers run; tests switch some off to drive them by hand.
#[derive(Debug, Clone, Copy)]
pub struct Workers {
    pub relay: bool,
    pub consumer: bool,
    /// Closes opt-in windows whose deadline passed.
    pub sweeper: bool,
}

impl Default for Workers {
    fn default() -> Self {
        Self {
            relay: true,
            consumer: true,
            sweeper: true,
        }
    }
}

pub struct Application {
    listener: TcpListener,
    decisions: Decisions,
    settings: Settings,
    workers: Workers,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with(settings, Workers::default()).await
    }

    pub async fn build_with(settings: Settings, workers: Workers) -> anyhow::Result<Self> {
        let platform = Platform::start::<Migrator>(
            "decision",
            &settings.database,
            &settings.nats,
            &settings.auth,
        )
        .await?;
        if settings.auth.jwks_url.is_some() && settings.auth.service_token.is_none() {
            tracing::warn!(
                "no auth.service_token: referrers cannot be checked with intake, so they will not see decisions"
            );
        }
        let intake = IntakeClient::new(
            platform.nats.clone(),
            platform.auth.clone(),
            "decision",
            settings.auth.service_token.clone(),
            Duration::from_millis(settings.intake_timeout_ms.max(1)),
        );
        let address = (settings.http.host, settings.http.port);
        let listener = TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen on {}:{}", address.0, address.1))?;
        Ok(Self {
            listener,
            decisions: Decisions { platform, intake },
            settings,
            workers,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn decisions(&self) -> &Decisions {
        &self.decisions
    }

    /// Serve until `shutdown`; then stop taking work, finish what is in
    /// flight and flush the outbox.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let platform = self.decisions.platform.clone();
        let mut background = Background::new(&shutdown);
        if self.workers.relay {
            background.relay(&platform);
        }
        if self.workers.consumer {
            background
                .consume(
                    &platform,
                    ConsumerSpec::new(DURABLE, filters()),
                    DecisionConsumer {
                        decisions: self.decisions.clone(),
                    },
                )
                .await?;
        }
        if self.workers.sweeper {
            let decisions = self.decisions.clone();
            background.every(
                "lapsed opt-in windows closed",
                Duration::from_secs(self.settings.opt_in_sweep_seconds.max(1)),
                move || {
                    let decisions = decisions.clone();
                    async move {
                        decisions
                            .close_lapsed_opt_in_windows(chrono::Utc::now())
                            .await
                    }
                },
            );
        }
        let app = router(AppState {
            decisions: self.decisions.clone(),
        });
        background
            .serve(self.listener, app)
            .await
            .context("the HTTP server failed")
    }
}
