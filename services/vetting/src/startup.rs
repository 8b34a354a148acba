//! Building and running the vetting service: the same [`Application`] runs
//! in `main` and in the tests.

use std::time::Duration;

use anyhow::Context;
use pathway_common::background::Background;
use pathway_common::inbox::ConsumerSpec;
use pathway_common::intake_client::IntakeClient;
use pathway_common::platform::Platform;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::application::Vetting;
use crate::clock::Clock;
use crate::consumer::{WorklistProjection, filters};
use crate::db::Migrator;
use crate::http::{AppState, router};
use crate::settings::Settings;

/// Which background workers run; tests switch some off to drive them by hand.
#[derive(Debug, Clone, Copy)]
pub struct Workers {
    pub relay: bool,
    pub consumer: bool,
    /// Returns lapsed claims to the worklist every `lease_sweep_seconds`.
    pub lease_sweeper: bool,
}

impl Default for Workers {
    fn default() -> Self {
        Self {
            relay: true,
            consumer: true,
            lease_sweeper: true,
        }
    }
}

pub struct Application {
    listener: TcpListener,
    vetting: Vetting,
    settings: Settings,
    workers: Workers,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with(settings, Workers::default(), Clock::default()).await
    }

    pub async fn build_with(
        settings: Settings,
        workers: Workers,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        let platform = Platform::start::<Migrator>(
            "vetting",
            &settings.database,
            &settings.nats,
            &settings.auth,
        )
        .await?;
        let address = (settings.http.host, settings.http.port);
        let listener = TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen on {}:{}", address.0, address.1))?;
        Ok(Self {
            listener,
            vetting: Vetting {
                intake: IntakeClient::new(
                    platform.nats.clone(),
                    platform.auth.clone(),
                    "vetting",
                    settings.auth.service_token.clone(),
                    Duration::from_millis(settings.intake_timeout_ms.max(1)),
                ),
                platform,
                clock,
            },
            settings,
            workers,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn vetting(&self) -> &Vetting {
        &self.vetting
    }

    /// Serve until `shutdown`; then stop taking work, finish what is in
    /// flight and flush the outbox.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let platform = self.vetting.platform.clone();
        let mut background = Background::new(&shutdown);
        if self.workers.relay {
            background.relay(&platform);
        }
        if self.workers.consumer {
            background
                .consume(
                    &platform,
                    ConsumerSpec::new("vetting-worklist", filters()),
                    WorklistProjection,
                )
                .await?;
        }
        if self.workers.lease_sweeper {
            let vetting = self.vetting.clone();
            background.every(
                "lapsed claims returned to the worklist",
                Duration::from_secs(self.settings.lease_sweep_seconds.max(1)),
                move || {
                    let vetting = vetting.clone();
                    async move { vetting.expire_leases().await }
                },
            );
        }
        let app = router(
            AppState {
                vetting: self.vetting.clone(),
                secure_cookies: self.settings.secure_cookies,
            },
            self.settings.http.body_limit_bytes,
        );
        background
            .serve(self.listener, app)
            .await
            .context("the HTTP server failed")
    }
}
