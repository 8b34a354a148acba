//! Each board's daily summary for its service manager: once the board's
//! hour (Scottish time, `notification.daily_summary.hour`, 07:00 unless set)
//! has come, yesterday's counts are worked out from the facts
//! ([`crate::domain::daily_summary`]) and published as
//! `analytics.daily_summary` through the outbox; notification e-mails them.
//!
//! Once per board and Scottish day, on whichever instance gets there first:
//! every instance looks every few minutes ([`CHECK_EVERY`]); the summary's
//! `daily_summaries` row and its outbox row commit in one transaction, and
//! the row's key (board, day) lets only one commit. A second instance that
//! counted meanwhile fails on the key and rolls back its event with it. A
//! crash before the commit leaves neither, and the next look sends it; after
//! the commit the outbox publishes it (with its `Nats-Msg-Id`, so a
//! republish is one message).
//!
//! A board that switches the summary on later than its hour gets that day's
//! at the next look; a day missed altogether (the service down all day) is
//! not sent late: only yesterday is ever due.

use chrono::{DateTime, Utc};
use pathway_common::outbox;
use pathway_proto::BoardCode;
use pathway_proto::days;
use pathway_proto::v1::{Event, Payload};
use sea_orm::TransactionTrait;

use super::{Analytics, Error};
use crate::domain::daily_summary::{count, due_day};
use crate::store::daily_summary as store;

/// How often each instance looks whether a board's summary is due.
pub const CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// The actor named on the summary's event.
const ACTOR: &str = "analytics";

impl Analytics {
    /// Publish every board's summary that is due at `now` and not yet
    /// published; answers how many this call published. The sweep runs
    /// this; tests call it with the time they need. Nothing while a rebuild
    /// runs here: its facts are half-built.
    pub async fn try_daily_summaries(&self, now: DateTime<Utc>) -> Result<usize, Error> {
        if self.rebuilder.is_running() {
            return Ok(0);
        }
        let mut published = 0;
        for board in BoardCode::all() {
            if self.try_daily_summary(board, now).await? {
                published += 1;
            }
        }
        if published > 0 {
            self.platform.outbox.notify();
        }
        Ok(published)
    }

    #[tracing::instrument(skip_all, fields(board = %board), err)]
    async fn try_daily_summary(&self, board: BoardCode, now: DateTime<Utc>) -> Result<bool, Error> {
        let db = &self.platform.db;
        let settings = store::settings_on(db, board, days::day_of(now)).await?;
        let Some(summary) = settings.notification.and_then(|n| n.daily_summary) else {
            return Ok(false);
        };
        let Some(day) = due_day(now, summary.hour()) else {
            return Ok(false);
        };
        if store::published(db, board, day).await? {
            return Ok(false);
        }
        let context = self.contexts.get(db, board).await?;
        let facts = store::facts_for_day(db, board, days::start_of(day), days::end_of(day)).await?;
        let counts = count(&facts, day, &context);
        let event = Event::new(
            board.code(),
            None,
            ACTOR,
            now,
            Payload::AnalyticsDailySummary(counts.to_proto()),
        );
        let txn = db.begin().await?;
        if !store::mark(&txn, board, day, &event.event_id, now).await? {
            txn.rollback().await.ok();
            return Ok(false);
        }
        outbox::enqueue(&txn, &event).await?;
        txn.commit().await?;
        tracing::info!(%day, event_id = %event.event_id, "the board's daily summary was published");
        Ok(true)
    }
}
