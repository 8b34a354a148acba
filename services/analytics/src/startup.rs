//! Building and running the analytics service: the same [`Application`]
//! runs in `main` and in the tests.

use anyhow::Context;
use pathway_common::inbox::{ConsumerSpec, Inbox};
use pathway_common::platform::Platform;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::application::Analytics;
use crate::consumer::{AnalyticsConsumer, DURABLE, filters};
use crate::db::Migrator;
use crate::domain::metrics::MetricRules;
use crate::http::{AppState, router};
use crate::settings::Settings;

/// Which background workers run; tests switch the consumer off to drive it
/// by hand.
#[derive(Debug, Clone, Copy)]
pub struct Workers {
    pub consumer: bool,
}

impl Default for Workers {
    fn default() -> Self {
        Self { consumer: true }
    }
}

pub struct Application {
    listener: TcpListener,
    analytics: Analytics,
    workers: Workers,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with(settings, Workers::default()).await
    }

    pub async fn build_with(settings: Settings, workers: Workers) -> anyhow::Result<Self> {
        let platform = Platform::start::<Migrator>(
            "analytics",
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
            analytics: Analytics {
                platform,
                rules: MetricRules {
                    without_specialist: settings.without_specialist_outcomes.clone(),
                    suppression_threshold: settings.suppression_threshold.max(1),
                },
            },
            workers,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn analytics(&self) -> &Analytics {
        &self.analytics
    }

    /// The durable consumer, for a test to drive one batch at a time.
    pub async fn inbox(&self) -> anyhow::Result<Inbox<AnalyticsConsumer>> {
        inbox(&self.analytics).await
    }

    /// Serve until `shutdown`; then stop taking work and finish what is in
    /// flight. Analytics publishes nothing, so it runs no relay.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut tasks: JoinSet<anyhow::Result<()>> = JoinSet::new();
        if self.workers.consumer {
            let inbox = inbox(&self.analytics).await?;
            let stop = shutdown.clone();
            tasks.spawn(async move {
                inbox.run(stop).await;
                Ok(())
            });
        }
        let app = router(AppState {
            analytics: self.analytics.clone(),
        });
        let served = pathway_common::http::serve(self.listener, app, shutdown.clone()).await;
        shutdown.cancel();
        while let Some(result) = tasks.join_next().await {
            match result {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::error!(error = format!("{error:#}"), "worker failed"),
                Err(error) => tracing::error!(%error, "worker panicked"),
            }
        }
        served.context("the HTTP server failed")
    }
}

async fn inbox(analytics: &Analytics) -> anyhow::Result<Inbox<AnalyticsConsumer>> {
    let platform = &analytics.platform;
    Inbox::new(
        &platform.jetstream,
        platform.db.clone(),
        ConsumerSpec::new(DURABLE, filters()),
        AnalyticsConsumer {
            analytics: analytics.clone(),
        },
        platform.metrics.clone(),
        platform.outbox.clone(),
    )
    .await
}
