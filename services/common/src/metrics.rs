//! Prometheus metrics, one registry per running service (so tests can run
//! several services in one process).

use std::sync::{Arc, Mutex};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct InboxLabels {
    pub consumer: String,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConsumerLabels {
    pub consumer: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WorkerLabels {
    pub worker: String,
}

#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Mutex<Registry>>,
    pub http_requests: Family<HttpLabels, Counter>,
    pub http_duration: Family<RouteLabels, Histogram>,
    pub outbox_published: Counter,
    pub inbox_messages: Family<InboxLabels, Counter>,
    /// Messages waiting out a fault that may heal, by consumer: the alert.
    pub inbox_waiting: Family<ConsumerLabels, Gauge>,
    /// 1 while a background worker runs, 0 while it is down and restarting.
    pub worker_up: Family<WorkerLabels, Gauge>,
    pub worker_restarts: Family<WorkerLabels, Counter>,
}

impl Metrics {
    pub fn new(service: &str) -> Self {
        let mut registry = Registry::with_prefix("pathway");
        let http_requests = Family::<HttpLabels, Counter>::default();
        let http_duration = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 14))
        });
        let outbox_published = Counter::default();
        let inbox_messages = Family::<InboxLabels, Counter>::default();
        let inbox_waiting = Family::<ConsumerLabels, Gauge>::default();
        let worker_up = Family::<WorkerLabels, Gauge>::default();
        let worker_restarts = Family::<WorkerLabels, Counter>::default();
        let sub = registry.sub_registry_with_label((
            std::borrow::Cow::Borrowed("service"),
            std::borrow::Cow::Owned(service.to_owned()),
        ));
        sub.register(
            "http_requests",
            "HTTP requests answered",
            http_requests.clone(),
        );
        sub.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request",
            http_duration.clone(),
        );
        sub.register(
            "outbox_published",
            "Events published from the outbox and acknowledged by the stream",
            outbox_published.clone(),
        );
        sub.register(
            "inbox_messages",
            "Messages consumed, by what became of them; `retrying` counts each \
             retry of a fault that may heal",
            inbox_messages.clone(),
        );
        sub.register(
            "inbox_waiting",
            "Messages waiting out a fault that may heal (a database, NATS or another service \
             not answering), retried until it heals; above zero for long is an outage",
            inbox_waiting.clone(),
        );
        sub.register(
            "worker_up",
            "1 while a background worker (relay, consumer, sweep, request/reply loop) runs, \
             0 while it is down and waiting to be restarted",
            worker_up.clone(),
        );
        sub.register(
            "worker_restarts",
            "Background workers restarted after they stopped by themselves",
            worker_restarts.clone(),
        );
        Self {
            registry: Arc::new(Mutex::new(registry)),
            http_requests,
            http_duration,
            outbox_published,
            inbox_messages,
            inbox_waiting,
            worker_up,
            worker_restarts,
        }
    }

    /// Let a service register its own metrics.
    pub fn with_registry<R>(&self, f: impl FnOnce(&mut Registry) -> R) -> R {
        let mut registry = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut registry)
    }

    /// Count one message `consumer` handled, by what became of it
    /// (`handled`, `duplicate`, `dead_lettered`, `retrying`).
    pub fn record_inbox(&self, consumer: &str, outcome: &str) {
        self.inbox_messages
            .get_or_create(&InboxLabels {
                consumer: consumer.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// How many messages of `consumer` wait out a fault now.
    pub fn set_inbox_waiting(&self, consumer: &str, waiting: usize) {
        self.inbox_waiting
            .get_or_create(&ConsumerLabels {
                consumer: consumer.to_owned(),
            })
            .set(i64::try_from(waiting).unwrap_or(i64::MAX));
    }

    /// Whether `worker` runs now.
    pub fn set_worker_up(&self, worker: &str, up: bool) {
        self.worker_up
            .get_or_create(&WorkerLabels {
                worker: worker.to_owned(),
            })
            .set(i64::from(up));
    }

    /// `worker` stopped by itself and is restarted.
    pub fn record_worker_restart(&self, worker: &str) {
        self.worker_restarts
            .get_or_create(&WorkerLabels {
                worker: worker.to_owned(),
            })
            .inc();
    }

    /// The text exposition format.
    pub fn encode(&self) -> String {
        let registry = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        if let Err(error) = prometheus_client::encoding::text::encode(&mut out, &registry) {
            tracing::error!(%error, "cannot encode metrics");
        }
        out
    }
}
