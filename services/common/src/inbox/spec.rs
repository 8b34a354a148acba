//! What a consumer subscribes to and how it waits out faults.

use std::time::Duration;

use pathway_proto::stream;

use crate::profile::Profile;

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
    /// Messages handled in one transaction, at most: those that have
    /// arrived when the last batch is done, and those that follow them
    /// within `linger` of each other.
    pub max_batch: usize,
    /// How long a batch smaller than `max_batch` waits for more messages,
    /// again after each that arrives: the broker's messages come through
    /// the socket a buffer at a time, so what is ready at one instant is
    /// often the first of many on their way. A message alone waits this
    /// much longer; a busy stream fills its batches.
    pub linger: Duration,
    /// What it does with an event marked as demo data (`Event.demo`).
    pub demo: DemoEvents,
}

/// What a consumer does with an event marked as demo data, which only
/// `pathway demo` publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoEvents {
    /// Acknowledge it without effect: the default, so a service acts on
    /// no demo referral.
    Ignore,
    /// Handle it like any other (analytics, which marks it as demo).
    Take,
    /// Dead-letter it as the sender's fault: production, where demo data
    /// has no place.
    Refuse,
}

impl DemoEvents {
    /// [`DemoEvents::Refuse`] under `PATHWAY_PROFILE=production` (or a
    /// profile that does not parse), else `wanted`.
    fn under_profile(wanted: Self) -> Self {
        Self::under(Profile::from_env().ok(), wanted)
    }

    /// `wanted` under the development profile; [`DemoEvents::Refuse`] under
    /// production, or when the profile could not be read (`None`).
    pub fn under(profile: Option<Profile>, wanted: Self) -> Self {
        match profile {
            Some(Profile::Development) => wanted,
            Some(Profile::Production) | None => Self::Refuse,
        }
    }
}

impl ConsumerSpec {
    /// A consumer of `filters` and of its own replayed dead letters
    /// ([`consumer_filters`]).
    pub fn new(durable: &str, filters: Vec<String>) -> Self {
        Self {
            durable: durable.to_owned(),
            filters: consumer_filters(durable, filters),
            min_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(180),
            ack_wait: Duration::from_secs(30),
            max_ack_pending: 256,
            max_batch: 64,
            linger: Duration::from_millis(1),
            demo: DemoEvents::under_profile(DemoEvents::Ignore),
        }
    }

    /// This consumer takes demo events in (outside production, where they
    /// are still refused).
    pub fn taking_demo(self) -> Self {
        Self {
            demo: DemoEvents::under_profile(DemoEvents::Take),
            ..self
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

/// `filters` and the subject `durable`'s replayed dead letters come on
/// ([`stream::replay_filter`]), unless a filter already takes them in (a
/// consumer of `pathway.v1.>`): JetStream refuses overlapping filters.
pub fn consumer_filters(durable: &str, mut filters: Vec<String>) -> Vec<String> {
    let replays = stream::replay_filter(durable);
    if !filters.iter().any(|filter| covers(filter, &replays)) {
        filters.push(replays);
    }
    filters
}

/// Whether `filter` matches `subject`, as NATS matches them; a `subject`
/// that is itself a pattern is matched only by a filter that matches every
/// subject it stands for (only `>` in `filter` takes in a `>`).
pub fn covers(filter: &str, subject: &str) -> bool {
    let mut subject = subject.split('.').peekable();
    for token in filter.split('.') {
        if token == ">" {
            return subject.peek().is_some();
        }
        match subject.next() {
            None | Some(">") => return false,
            Some(s) if token != "*" && token != s => return false,
            Some(_) => {}
        }
    }
    subject.next().is_none()
}
