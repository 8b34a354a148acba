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
use crate::rebuild::Rebuilder;
use crate::settings::Settings;

/// Which background workers run; tests switch the consumer off to drive it
/// by hand.
#[derive(Debug, Clone, Copy)]
pub struct Workers {
    /// Publishes the outbox: analytics owes no events of its own, but a
    /// dead letter reaches its subject through the outbox.
    pub relay: bool,
    pub consumer: bool,
}

impl Default for Workers {
    fn default() -> Self {
        Self {
            relay: true,
            consumer: true,
        }
    }
}

pub struct Application {
    listener: TcpListener,
    analytics: Analytics,
    workers: Workers,
    secure_cookies: bool,
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
            secure_cookies: settings.secure_cookies,
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

    /// Serve until `shutdown`; then stop taking work, finish what is in
    /// flight and flush the outbox.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut tasks: JoinSet<anyhow::Result<()>> = JoinSet::new();
        if self.workers.relay {
            let relay = self.analytics.platform.relay();
            let stop = shutdown.clone();
            tasks.spawn(async move {
                relay.run(stop).await;
                Ok(())
            });
        }
        let rebuilder = Rebuilder::new(self.analytics.clone(), &shutdown, self.workers.consumer);
        rebuilder.start_live().await?;
        let app = router(AppState {
            analytics: self.analytics.clone(),
            rebuilder: rebuilder.clone(),
            secure_cookies: self.secure_cookies,
        });
        let served = pathway_common::http::serve(self.listener, app, shutdown.clone()).await;
        shutdown.cancel();
        rebuilder.stop_live().await;
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

pub(crate) async fn inbox(analytics: &Analytics) -> anyhow::Result<Inbox<AnalyticsConsumer>> {
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
