//! The sweep of opt-in windows: every window whose deadline passed without
//! an opt-in ends as lapsed, with one `decision.opt_in_lapsed`, once, however
//! many instances sweep at the same time. Notification tells the referrer
//! and the patient, and closes the referral (`referral.closed`,
//! `opt_in_window_passed`) once they have been told.
//!
//! Each batch is one transaction: a crash before the commit leaves the
//! windows open for the next sweep; after it, the events are in the outbox.

use chrono::{DateTime, Utc};
use pathway_common::audit::{self, AuditEntry};
use pathway_common::auth::Role;
use pathway_common::outbox;
use pathway_proto::v1::{self as proto, Event, Payload};
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::{Decisions, Error};
use crate::domain::WindowEvent;
use crate::store::opt_in_window;

/// Windows closed per transaction.
const SWEEP_BATCH: u64 = 200;

impl Decisions {
    /// Close every opt-in window whose deadline is at or before `now`.
    /// Returns how many were closed.
    pub async fn close_lapsed_opt_in_windows(&self, now: DateTime<Utc>) -> Result<usize, Error> {
        let mut closed = 0;
        loop {
            let lapsed = opt_in_window::lapsed(self.db(), now, SWEEP_BATCH).await?;
            let batch = lapsed.len();
            let txn = self.db().begin().await?;
            for window in lapsed {
                let Ok(next) = window.state().apply(WindowEvent::Lapsed) else {
                    continue;
                };
                // Another instance, or an opt-in, may have ended it since.
                if !opt_in_window::end(&txn, &window.decision_id, now, next).await? {
                    continue;
                }
                let event = window_event(
                    &window,
                    now,
                    Payload::DecisionOptInLapsed(proto::DecisionOptInLapsed {
                        decision_id: window.decision_id.clone(),
                    }),
                )?;
                outbox::enqueue(&txn, &event).await?;
                audit::record(
                    &txn,
                    AuditEntry {
                        actor: "decision",
                        actor_role: Role::Service.as_str(),
                        action: "opt_in.lapse",
                        referral_id: Some(window.referral_id.clone()),
                        board: Some(&window.board),
                        source: "decision",
                        purpose: Some("the patient's opt-in window passed"),
                    },
                )
                .await?;
                closed += 1;
            }
            txn.commit().await?;
            if usize::try_from(SWEEP_BATCH).map_or(true, |max| batch < max) {
                break;
            }
        }
        if closed > 0 {
            self.platform.outbox.notify();
            tracing::info!(closed, "opt-in windows passed");
        }
        Ok(closed)
    }
}

/// An event the sweep writes about `window`'s referral, as the system, at
/// `now`.
pub(super) fn window_event(
    window: &opt_in_window::Model,
    now: DateTime<Utc>,
    payload: Payload,
) -> Result<Event, Error> {
    let referral = Uuid::parse_str(&window.referral_id).map_err(|e| {
        Error::Unexpected(anyhow::anyhow!(
            "stored referral id {:?}: {e}",
            window.referral_id
        ))
    })?;
    Ok(Event::new(
        &window.board,
        Some(referral),
        "system",
        now,
        payload,
    ))
}
