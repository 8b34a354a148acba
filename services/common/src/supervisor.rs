//! Supervised background workers: a relay, consumer, sweep or request/reply
//! loop that stops by itself (it failed, it panicked, its durable consumer
//! was deleted, its subscription closed) is restarted with back-off, and
//! while it is down `/readyz` answers 503 naming it.
//!
//! Each worker is a name and a way to start it. [`supervise`] runs it until
//! shutdown; a worker that returns or panics before then is marked down in
//! the [`Workforce`] (which `/readyz` reads), counted in
//! `pathway_worker_restarts_total`, logged at `error`, and started again
//! after a back-off that grows from one second to thirty (and starts again
//! from one once the worker has stayed up for a minute). On shutdown the
//! worker is left to finish what it holds and is not restarted.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;

/// The first wait before a restart.
const FIRST_RESTART: Duration = Duration::from_secs(1);
/// The longest wait before a restart.
const LONGEST_RESTART: Duration = Duration::from_secs(30);
/// A worker up this long has recovered: its next stop waits the least again.
const RECOVERED_AFTER: Duration = Duration::from_secs(60);

/// Why a worker is down, and since when.
#[derive(Debug, Clone)]
struct Down {
    reason: String,
    since: Instant,
}

/// The workers of one service, which of them are down and why.
#[derive(Clone, Default)]
pub struct Workforce {
    down: Arc<Mutex<BTreeMap<String, Down>>>,
}

impl Workforce {
    /// One line per worker that is down, naming it, why, and for how long;
    /// empty when every worker runs.
    pub fn down(&self) -> Vec<String> {
        let down = self.down.lock().unwrap_or_else(|p| p.into_inner());
        down.iter()
            .map(|(name, down)| {
                format!(
                    "worker {name} is down ({}) for {} s: restarting",
                    down.reason,
                    down.since.elapsed().as_secs()
                )
            })
            .collect()
    }

    fn mark_down(&self, name: &str, reason: String) {
        let mut down = self.down.lock().unwrap_or_else(|p| p.into_inner());
        down.insert(
            name.to_owned(),
            Down {
                reason,
                since: Instant::now(),
            },
        );
    }

    fn mark_up(&self, name: &str) {
        let mut down = self.down.lock().unwrap_or_else(|p| p.into_inner());
        down.remove(name);
    }
}

/// Run the worker `name`, started by `start`, until `stop`; restart it with
/// back-off whenever it stops before that.
pub async fn supervise<F, Fut>(
    name: String,
    workforce: Workforce,
    metrics: Metrics,
    stop: CancellationToken,
    start: F,
) where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let restarts = || {
        ExponentialBuilder::default()
            .with_min_delay(FIRST_RESTART)
            .with_max_delay(LONGEST_RESTART)
            .with_jitter()
            .without_max_times()
            .build()
    };
    let mut delays = restarts();
    loop {
        workforce.mark_up(&name);
        metrics.set_worker_up(&name, true);
        let started = Instant::now();
        // Its own task, so that a panic ends the worker and not the supervisor.
        let ended = tokio::spawn(start()).await;
        if stop.is_cancelled() {
            if let Ok(Err(error)) = ended {
                tracing::warn!(worker = %name, error = format!("{error:#}"), "worker failed while stopping");
            }
            return;
        }
        let reason = match ended {
            Ok(Ok(())) => "it stopped".to_owned(),
            Ok(Err(error)) => format!("{error:#}"),
            Err(error) if error.is_panic() => "it panicked".to_owned(),
            Err(_) => "it was cancelled".to_owned(),
        };
        if started.elapsed() >= RECOVERED_AFTER {
            delays = restarts();
        }
        let delay = delays.next().unwrap_or(LONGEST_RESTART);
        tracing::error!(
            worker = %name,
            %reason,
            ?delay,
            "a background worker stopped: restarting it"
        );
        workforce.mark_down(&name, reason);
        metrics.set_worker_up(&name, false);
        metrics.record_worker_restart(&name);
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = stop.cancelled() => return,
        }
    }
}

#[cfg(test)]
#[path = "tests/supervisor.rs"]
mod tests;
