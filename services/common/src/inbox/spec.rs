//! What a consumer subscribes to and how it waits out faults.

use std::time::Duration;

/// What a consumer subscribes to and how it waits out faults.
#[derive(Debug, Clone)]
pub struct ConsumerSpec {
    /// Durable consumer name, e.g. `intake-status`.
    pub durable: String,
    /// Subject filters, e.g. `pathway.v1.*.vetting.>`.
    pub filters: Vec<String>,
    /// The back-off after the first failed delivery; it doubles with each
    /// further one, up to `max_backoff`.
    pub min_backoff: Duration,
    /// The longest a message waits between two tries of a fault that may heal.
    pub max_backoff: Duration,
    /// How long the broker waits for an ack before redelivering.
    pub ack_wait: Duration,
    /// Unacknowledged messages in flight, at most.
    pub max_ack_pending: i64,
}

impl ConsumerSpec {
    pub fn new(durable: &str, filters: Vec<String>) -> Self {
        Self {
            durable: durable.to_owned(),
            filters,
            min_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(180),
            ack_wait: Duration::from_secs(30),
            max_ack_pending: 256,
        }
    }

    /// The longest back-off before the next delivery after `delivered`
    /// failed ones: `min_backoff` doubled each time, capped at `max_backoff`.
    pub fn backoff_ceiling(&self, delivered: i64) -> Duration {
        // 2^20 × 200 ms is weeks: any cap is reached long before.
        let exponent = u32::try_from(delivered.clamp(1, 21) - 1).unwrap_or(0);
        self.min_backoff
            .saturating_mul(2u32.pow(exponent))
            .min(self.max_backoff)
    }

    /// The back-off before the next delivery after `delivered` failed ones:
    /// between half [`ConsumerSpec::backoff_ceiling`] and all of it, so that
    /// messages that failed together (an outage) do not all come back at
    /// the same instant.
    pub fn backoff(&self, delivered: i64) -> Duration {
        use rand::Rng as _;
        self.backoff_ceiling(delivered)
            .mul_f64(rand::rng().random_range(0.5..=1.0))
    }

    /// How long since its last failure a message that waits is still counted
    /// as waiting here: past it, it was redelivered to another instance or
    /// is gone from the stream.
    pub(crate) fn forget_waiting_after(&self) -> Duration {
        (self.max_backoff + self.ack_wait) * 2
    }
}
