//! A service's background work (the outbox relay, its consumers, periodic
//! sweeps) beside its HTTP server, all stopped by one shutdown token: serve
//! until shutdown, then let every task finish what it is doing.

use std::future::Future;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::inbox::{ConsumerSpec, Handler, Inbox};
use crate::platform::Platform;

pub struct Background {
    tasks: JoinSet<anyhow::Result<()>>,
    shutdown: CancellationToken,
}

impl Background {
    pub fn new(shutdown: &CancellationToken) -> Self {
        Self {
            tasks: JoinSet::new(),
            shutdown: shutdown.clone(),
        }
    }

    /// Publish the outbox.
    pub fn relay(&mut self, platform: &Platform) {
        let relay = platform.relay();
        let stop = self.shutdown.clone();
        self.tasks.spawn(async move {
            relay.run(stop).await;
            Ok(())
        });
    }

    /// Consume `spec`'s subjects with `handler`, each event exactly once.
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
        let stop = self.shutdown.clone();
        self.tasks.spawn(async move {
            inbox.run(stop).await;
            Ok(())
        });
        Ok(())
    }

    /// Run `work` every `period` until shutdown; it answers how many things
    /// it did, which is logged when not zero. A failure is logged and tried
    /// again at the next tick.
    pub fn every<F, Fut>(&mut self, what: &'static str, period: Duration, work: F)
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<usize>> + Send,
    {
        let stop = self.shutdown.clone();
        self.tasks.spawn(async move {
            let mut ticks = tokio::time::interval(period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = ticks.tick() => {}
                    () = stop.cancelled() => break,
                }
                match work().await {
                    Ok(0) => {}
                    Ok(count) => tracing::info!(count, "{what}"),
                    Err(error) => {
                        tracing::warn!(error = format!("{error:#}"), "{what}: failed, will retry");
                    }
                }
            }
            Ok(())
        });
    }

    /// The shutdown token, for a loop of the service's own that must stop by
    /// itself (a request/reply endpoint, a live consumer it restarts).
    pub fn shutdown(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Any other task that stops by itself on shutdown.
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
