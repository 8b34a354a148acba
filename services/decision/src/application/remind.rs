//! The reminder before an opt-in window closes: every open window whose
//! reminder is due gets one `decision.opt_in_reminder_due`, written with the
//! window's `reminded_at` mark in one transaction, so however many instances
//! sweep at once, and however often, the patient is reminded once; never
//! after an opt-in, a correction or the close, which end the window first.

use chrono::{DateTime, Utc};
use pathway_common::outbox;
use pathway_proto::v1::{self as proto, Payload};
use sea_orm::TransactionTrait;

use super::sweep::window_event;
use super::{Decisions, Error};
use crate::store::opt_in_window;

/// Windows reminded per transaction.
const REMIND_BATCH: u64 = 200;

impl Decisions {
    /// Remind the patient of every open window whose reminder is due at
    /// `now`. Returns how many reminders were written.
    pub async fn remind_opt_in_windows(&self, now: DateTime<Utc>) -> Result<usize, Error> {
        let mut reminded = 0;
        loop {
            let due = opt_in_window::reminders_due(self.db(), now, REMIND_BATCH).await?;
            let batch = due.len();
            let txn = self.db().begin().await?;
            for window in due {
                // Another instance, or an opt-in, may have got there since.
                if !opt_in_window::mark_reminded(&txn, &window.decision_id, now).await? {
                    continue;
                }
                let event = window_event(
                    &window,
                    now,
                    Payload::DecisionOptInReminderDue(proto::DecisionOptInReminderDue {
                        decision_id: window.decision_id.clone(),
                        closes_at: Some(proto::timestamp(window.deadline)),
                    }),
                )?;
                outbox::enqueue(&txn, &event).await?;
                reminded += 1;
            }
            txn.commit().await?;
            if usize::try_from(REMIND_BATCH).map_or(true, |max| batch < max) {
                break;
            }
        }
        if reminded > 0 {
            self.platform.outbox.notify();
            tracing::info!(reminded, "opt-in windows closing soon: patients reminded");
        }
        Ok(reminded)
    }
}
