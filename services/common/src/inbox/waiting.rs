//! The messages of one consumer that wait out a fault that may heal: counted
//! in `pathway_inbox_waiting`, logged at `error` when one starts waiting and
//! at `info` when it is settled.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_nats::jetstream;

use super::{ConsumerSpec, Outcome, stream_sequence};
use crate::metrics::Metrics;

/// A message that failed with a fault that may heal and has not been handled since.
#[derive(Debug, Clone, Copy)]
struct Waiting {
    since: Instant,
    last_failed: Instant,
    retries: u64,
}

/// The messages waiting, by stream sequence.
#[derive(Default)]
pub(super) struct WaitingRoom {
    messages: Mutex<HashMap<u64, Waiting>>,
}

impl WaitingRoom {
    /// `message` failed with `error` and is retried after `delay`.
    pub(super) fn enter(
        &self,
        spec: &ConsumerSpec,
        metrics: &Metrics,
        message: &jetstream::Message,
        delivered: i64,
        error: &anyhow::Error,
        delay: Duration,
    ) {
        let sequence = stream_sequence(message);
        let now = Instant::now();
        let (first, waited) = {
            let mut waiting = self.messages.lock().unwrap_or_else(|p| p.into_inner());
            let forget = spec.forget_waiting_after();
            waiting.retain(|_, w| now.duration_since(w.last_failed) < forget);
            let first = !waiting.contains_key(&sequence);
            let entry = waiting.entry(sequence).or_insert(Waiting {
                since: now,
                last_failed: now,
                retries: 0,
            });
            entry.last_failed = now;
            entry.retries += 1;
            let waited = now.duration_since(entry.since);
            metrics.set_inbox_waiting(&spec.durable, waiting.len());
            (first, waited)
        };
        let error = format!("{error:#}");
        if first {
            tracing::error!(
                consumer = %spec.durable,
                stream_sequence = sequence,
                subject = %message.subject,
                delivered,
                %error,
                ?delay,
                "a message waits out a fault that may heal: retrying until it does"
            );
        } else {
            tracing::warn!(
                consumer = %spec.durable,
                stream_sequence = sequence,
                delivered,
                %error,
                ?delay,
                ?waited,
                "still waiting out a fault: will retry"
            );
        }
    }

    /// JetStream gave up on the message at `sequence`: it waits no more.
    pub(super) fn forget(&self, spec: &ConsumerSpec, metrics: &Metrics, sequence: u64) {
        let mut waiting = self.messages.lock().unwrap_or_else(|p| p.into_inner());
        if waiting.remove(&sequence).is_some() {
            metrics.set_inbox_waiting(&spec.durable, waiting.len());
        }
    }

    /// `message` is settled (`outcome`): if it was waiting, it is no longer.
    pub(super) fn leave(
        &self,
        spec: &ConsumerSpec,
        metrics: &Metrics,
        message: &jetstream::Message,
        outcome: Outcome,
    ) {
        let sequence = stream_sequence(message);
        let ended = {
            let mut waiting = self.messages.lock().unwrap_or_else(|p| p.into_inner());
            let ended = waiting.remove(&sequence);
            if ended.is_some() {
                metrics.set_inbox_waiting(&spec.durable, waiting.len());
            }
            ended
        };
        if let Some(waited) = ended {
            tracing::info!(
                consumer = %spec.durable,
                stream_sequence = sequence,
                outcome = outcome.label(),
                retries = waited.retries,
                waited = ?waited.since.elapsed(),
                "a message that waited out a fault is settled"
            );
        }
    }
}
