//! What became of the referrals: how many analytics counts as decided and
//! notified (polled while the run drains), and, once it has, how long each
//! took from its POST to its decision being recorded and to its first
//! message reaching the far end (the Notify stand-in or the GP's webhook
//! receiver).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use hdrhistogram::Histogram;
use pathway_tests::notification::{NotifyGateway, WebhookReceiver};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

/// How often the drain looks at analytics.
const POLL: Duration = Duration::from_millis(100);

/// Referrals analytics has as decided and notified.
pub async fn counted(analytics: &DatabaseConnection) -> u64 {
    use pathway_analytics::store::fact;
    fact::Entity::find()
        .filter(fact::Column::DecidedAt.is_not_null())
        .filter(fact::Column::NotifiedAt.is_not_null())
        .count(analytics)
        .await
        .unwrap_or(0)
}

/// Wait until analytics counts `expected` referrals, or until `cap` has
/// passed without it: how many it counted and when it last counted one more.
pub async fn drain(analytics: &DatabaseConnection, expected: u64, cap: Duration) -> (u64, Instant) {
    let deadline = Instant::now() + cap;
    let mut seen = counted(analytics).await;
    let mut last = Instant::now();
    while seen < expected && Instant::now() < deadline {
        tokio::time::sleep(POLL).await;
        let now = counted(analytics).await;
        if now > seen {
            seen = now;
            last = Instant::now();
        }
    }
    (seen, last)
}

/// POST→decision recorded and POST→first message at the far end, in
/// microseconds.
pub struct Latencies {
    pub decided: Histogram<u64>,
    pub notified: Histogram<u64>,
}

/// The latencies of the `posted` referrals, from the decision service's
/// and the notification service's tables and what the far end took.
pub async fn latencies(
    posted: &[(String, DateTime<Utc>)],
    decision: &DatabaseConnection,
    notification: &DatabaseConnection,
    gateway: &NotifyGateway,
    receiver: &WebhookReceiver,
) -> Latencies {
    let mut decided_at: HashMap<String, DateTime<Utc>> = HashMap::new();
    for row in pathway_decision::store::decision::Entity::find()
        .all(decision)
        .await
        .expect("the decisions are read")
    {
        let at = decided_at.entry(row.referral_id).or_insert(row.recorded_at);
        *at = (*at).min(row.recorded_at);
    }
    let referral_of: HashMap<String, String> =
        pathway_notification::store::delivery::Entity::find()
            .all(notification)
            .await
            .expect("the deliveries are read")
            .into_iter()
            .map(|row| (row.id, row.referral_id))
            .collect();
    let far_end = gateway
        .taken()
        .into_iter()
        .map(|t| (t.reference, t.at))
        .chain(receiver.hooks().into_iter().map(|h| (h.delivery, h.at)));
    let mut notified_at: HashMap<String, DateTime<Utc>> = HashMap::new();
    for (delivery, at) in far_end {
        if let Some(referral) = referral_of.get(&delivery) {
            let first = notified_at.entry(referral.clone()).or_insert(at);
            *first = (*first).min(at);
        }
    }
    let since = |sent: &DateTime<Utc>, at: Option<&DateTime<Utc>>| {
        at.map(|at| u64::try_from((*at - *sent).num_microseconds().unwrap_or(0)).unwrap_or(0))
    };
    let mut decided = Histogram::<u64>::new(3).expect("a histogram");
    let mut notified = Histogram::<u64>::new(3).expect("a histogram");
    for (id, sent) in posted {
        if let Some(us) = since(sent, decided_at.get(id)) {
            decided.record(us).expect("a latency in range");
        }
        if let Some(us) = since(sent, notified_at.get(id)) {
            notified.record(us).expect("a latency in range");
        }
    }
    Latencies { decided, notified }
}

/// The process's peak resident memory since [`reset_peak_rss`], in MiB.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Start measuring the peak resident memory again ("5" resets the mark).
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}
