//! The durable consumer `analytics`: every event on every board, from the
//! start of the stream (the inbox's consumers deliver everything the stream
//! holds), each handled once, inside the inbox transaction. A board event
//! adds to the board's history (and works out the board's metric counters
//! again); any other event changes its referral's fact and, by the
//! difference, the counters. The facts of a batch's referrals are read in
//! one query when it begins, and the facts and counters it changed written
//! once when it ends ([`crate::store::batch`]).
//!
//! An event that can never make sense (no valid time, an unknown board, a
//! referral event without a referral) is rejected and dead-lettered; a
//! database that fails is retried.

use chrono::NaiveDate;
use pathway_common::inbox::{ConsumerSpec, HandleError, Handler, Inbox};
use pathway_common::platform::Platform;
use pathway_proto::BoardCode;
use pathway_proto::board::BoardSettings;
use pathway_proto::v1::{Event, Payload};
use sea_orm::DatabaseTransaction;

use crate::domain::aggregates::difference;
use crate::domain::fact::Fact;
use crate::store::batch::Batch;
use crate::store::{aggregates, boards};

/// Durable consumer name.
pub const DURABLE: &str = "analytics";

/// Every subject of the pathway stream, so an aggregate added later is not
/// missed.
pub fn filters() -> Vec<String> {
    vec![pathway_proto::stream::SUBJECTS.to_owned()]
}

/// The inbox of the durable consumer, for the service, a rebuild, or a test
/// to drive one batch at a time (`try_process_batch`).
pub async fn inbox(platform: &Platform) -> anyhow::Result<Inbox<AnalyticsConsumer>> {
    Inbox::new(
        &platform.jetstream,
        platform.db.clone(),
        spec(),
        AnalyticsConsumer::default(),
        platform.metrics.clone(),
        platform.outbox.clone(),
    )
    .await
}

/// Messages handled in one transaction, at most: analytics writes no
/// outbox and asks no other service, so a larger batch only saves commits.
pub const MAX_BATCH: usize = 2048;

/// The consumer's settings: larger batches than other services', and as
/// many messages in flight as two batches.
pub fn spec() -> ConsumerSpec {
    let mut spec = ConsumerSpec::new(DURABLE, filters()).taking_demo();
    spec.max_batch = MAX_BATCH;
    spec.max_ack_pending = 2 * MAX_BATCH as i64;
    spec
}

/// Records each event in the facts.
#[derive(Debug, Default)]
pub struct AnalyticsConsumer {
    /// The boards' contexts the counters of their facts are worked out under.
    contexts: boards::ContextCache,
    /// What the batch being handled has changed, written at its end.
    batch: Batch,
}

impl Handler for AnalyticsConsumer {
    /// Everything it needs is in the event.
    type Prepared = ();

    async fn prepare(&self, _event: &Event) -> Result<(), HandleError> {
        Ok(())
    }

    /// Only a board's event writes as it is handled; a referral's change is
    /// kept in the batch and written at its end.
    fn writes_when_handling(&self, event: &Event) -> bool {
        matches!(
            event.payload,
            Some(Payload::BoardPathwayChanged(_) | Payload::BoardSettingsChanged(_))
        )
    }

    async fn begin_batch(
        &self,
        txn: &DatabaseTransaction,
        events: &[&Event],
    ) -> anyhow::Result<()> {
        let referrals: Vec<&str> = events
            .iter()
            .filter_map(|event| Fact::referral_of(event).ok().flatten())
            .collect();
        self.batch.begin(txn, &referrals).await
    }

    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &Event,
        (): (),
    ) -> Result<(), HandleError> {
        record(txn, event, &self.contexts, &self.batch).await
    }

    async fn end_batch(&self, txn: &DatabaseTransaction) -> anyhow::Result<()> {
        self.batch.end(txn, &self.contexts).await
    }
}

/// Record `event` in `batch`, inside the inbox transaction, the boards'
/// contexts from `contexts`: a referral's event changes its fact and the
/// counters in the batch (written when it ends); a board's event is written
/// at once, after the facts changed so far, and works out the board's
/// counters again.
pub async fn record(
    txn: &DatabaseTransaction,
    event: &Event,
    contexts: &boards::ContextCache,
    batch: &Batch,
) -> Result<(), HandleError> {
    let at = event
        .occurred_at()
        .ok_or_else(|| HandleError::Rejected("the event has no valid occurred_at".into()))?;
    let board = BoardCode::parse(&event.board).map_err(HandleError::Rejected)?;
    match &event.payload {
        Some(Payload::BoardPathwayChanged(changed)) => {
            let effective_date = NaiveDate::parse_from_str(&changed.effective_date, "%Y-%m-%d")
                .map_err(|e| {
                    HandleError::Rejected(format!(
                        "effective_date {:?} is not a date: {e}",
                        changed.effective_date
                    ))
                })?;
            batch.forget_context(board);
            batch.write_facts(txn).await?;
            boards::record_pathway_change(
                txn,
                &event.event_id,
                board,
                changed.enabled,
                effective_date,
                at,
            )
            .await?;
            // Which facts fall after adoption may change.
            aggregates::recompute(txn, &[board]).await?;
            batch.recounted(board);
            Ok(())
        }
        Some(Payload::BoardSettingsChanged(changed)) => {
            serde_json::from_str::<BoardSettings>(&changed.settings_json).map_err(|e| {
                HandleError::Rejected(format!("settings_json is not a board's settings: {e}"))
            })?;
            let effective_date = boards::settings_effective_date(&changed.effective_date)
                .map_err(HandleError::Rejected)?;
            batch.forget_context(board);
            batch.write_facts(txn).await?;
            boards::record_settings_change(
                txn,
                &event.event_id,
                board,
                &changed.settings_json,
                at,
                effective_date,
            )
            .await?;
            // The calendar and target judge every wait of the board's facts.
            aggregates::recompute(txn, &[board]).await?;
            batch.recounted(board);
            Ok(())
        }
        // Its own summary of a board's day: counted from the facts, not a fact.
        Some(Payload::AnalyticsDailySummary(_)) => Ok(()),
        _ => {
            let referral = Fact::referral_of(event)
                .map_err(|e| HandleError::Rejected(e.to_string()))?
                .ok_or_else(|| HandleError::Rejected("event without payload".into()))?;
            let existing = batch.fact(txn, referral).await?;
            let mut current = existing
                .clone()
                .unwrap_or_else(|| Fact::new(referral, board));
            current
                .apply(event)
                .map_err(|e| HandleError::Rejected(e.to_string()))?;
            let context = batch.context(txn, board, contexts).await?;
            let deltas = difference(existing.as_ref(), &current, &context);
            batch.keep(current, deltas);
            Ok(())
        }
    }
}

#[cfg(test)]
#[path = "tests/consumer.rs"]
mod tests;
