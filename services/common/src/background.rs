//! A service's background work (the outbox relay, its consumers, periodic
//! sweeps, request/reply loops) beside its HTTP server, all stopped by one
//! shutdown token: serve until shutdown, then let every task finish what it
//! is doing. Each worker is supervised ([`crate::supervisor`]): one that
//! stops by itself is restarted, and `/readyz` names it while it is down.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::inbox::{ConsumerSpec, Handler, Inbox};
use crate::metrics::Metrics;
use crate::platform::Platform;
use crate::supervisor::{Workforce, supervise};

pub struct Background {
    tasks: JoinSet<anyhow::Result<()>>,
    shutdown: CancellationToken,
    workforce: Workforce,
    metrics: Metrics,
}

impl Background {
    pub fn new(platform: &Platform, shutdown: &CancellationToken) -> Self {
        Self {
            tasks: JoinSet::new(),
            shutdown: shutdown.clone(),
            workforce: platform.workforce.clone(),
            metrics: platform.metrics.clone(),
        }
    }

    /// Run the worker `name`, started afresh by `start` each time it stops
    /// by itself, until shutdown. `start` is given the shutdown token, which
    /// the worker watches to finish what it holds and return.
    pub fn supervise<F, Fut>(&mut self, name: impl Into<String>, start: F)
    where
        F: Fn(CancellationToken) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let stop = self.shutdown.clone();
        let token = stop.clone();
        let supervised = supervise(
            name.into(),
            self.workforce.clone(),
            self.metrics.clone(),
            stop,
            move || start(token.clone()),
        );
        self.tasks.spawn(async move {
            supervised.await;
            Ok(())
        });
    }

    /// Publish the outbox.
    pub fn relay(&mut self, platform: &Platform) {
        let relay = Arc::new(platform.relay());
        self.supervise("relay", move |stop| {
            let relay = relay.clone();
            async move {
                relay.run(stop).await;
                Ok(())
            }
        });
    }

    /// Consume `spec`'s subjects with `handler`, each event exactly once;
    /// a message JetStream gives up on becomes a dead letter.
    pub async fn consume<H: Handler>(
        &mut self,
        platform: &Platform,
        spec: ConsumerSpec,
        handler: H,
    ) -> anyhow::Result<()> {
        let inbox = Inbox::new(
            &platform.jetstream,
            platform.db.clone(),
            spec,
            handler,
            platform.metrics.clone(),
            platform.outbox.clone(),
        )
        .await?;
        let watch = Arc::new(inbox.max_deliveries());
        self.supervise(watch.name(), move |stop| {
            let watch = watch.clone();
            async move { watch.run(stop).await }
        });
        let inbox = Arc::new(inbox);
        self.supervise(format!("consumer {}", inbox.name()), move |stop| {
            let inbox = inbox.clone();
            async move { inbox.run(stop).await }
        });
        Ok(())
    }

    /// Run `work` every `period` until shutdown; it answers how many things
    /// it did, which is logged when not zero. A failure is logged and tried
    /// again at the next tick.
    pub fn every<F, Fut>(&mut self, what: &'static str, period: Duration, work: F)
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<usize>> + Send + 'static,
    {
        let work = Arc::new(work);
        self.supervise(format!("sweep {what}"), move |stop| {
            let work = work.clone();
            async move {
                sweep(what, period, &*work, stop).await;
                Ok(())
            }
        });
    }

    /// Run a service's retention sweep hourly ([`crate::retention`]): `sweep`
    /// is given the instant it sweeps as of and answers what went (each
    /// already audited), which is logged when not nothing. A service that
    /// holds nothing personal but its audit trail passes
    /// [`crate::retention::sweep_audit`].
    pub fn retention<F, Fut>(&mut self, sweep: F)
    where
        F: Fn(chrono::DateTime<chrono::Utc>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<Vec<crate::retention::Purged>>> + Send + 'static,
    {
        self.every(
            "retention sweep",
            crate::retention::SWEEP_EVERY,
            move || {
                let swept = sweep(chrono::Utc::now());
                async move { Ok(swept.await?.len()) }
            },
        );
    }

    /// The shutdown token, for a task of the service's own that must stop
    /// by itself.
    pub fn shutdown(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Any other task that stops by itself on shutdown, not restarted.
    pub fn spawn(&mut self, task: impl Future<Output = anyhow::Result<()>> + Send + 'static) {
        self.tasks.spawn(task);
    }

    /// Serve `router` until shutdown, then wait for every task to finish.
    pub async fn serve(
        mut self,
        listener: tokio::net::TcpListener,
        router: axum::Router,
    ) -> anyhow::Result<()> {
        let served = crate::http::serve(listener, router, self.shutdown.clone()).await;
        self.shutdown.cancel();
        while let Some(result) = self.tasks.join_next().await {
            match result {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::error!(error = format!("{error:#}"), "worker failed"),
                Err(error) => tracing::error!(%error, "worker panicked"),
            }
        }
        Ok(served?)
    }
}

/// Do `work` every `period` until `stop`.
async fn sweep<F, Fut>(what: &str, period: Duration, work: &F, stop: CancellationToken)
where
    F: Fn() -> Fut,
    Fut: Future<Output = anyhow::Result<usize>>,
{
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = stop.cancelled() => return,
        }
        match work().await {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "{what}"),
            Err(error) => {
                tracing::warn!(error = format!("{error:#}"), "{what}: failed, will retry");
            }
        }
    }
}
