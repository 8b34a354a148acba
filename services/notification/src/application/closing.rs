//! Closing a referral once everyone has been told of its ending. An ending
//! (a withdrawal, an opt-in window that passed, a decline, a redirect) is
//! kept in the consumer's transaction beside the deliveries it plans; each
//! transaction that records a delivery's end (the sweep's, or the
//! consumer's own for one that has nowhere to go) then asks whether every
//! delivery of that ending has ended, and if so closes it, with
//! `referral.closed` in the outbox, in the same transaction.
//!
//! Exactly once: the close is a conditional update of the ending's row, and
//! the row is locked (PostgreSQL) before the deliveries are counted, so two
//! instances recording the last two ends at once take turns and the second
//! sees the first's. A crash before the commit leaves the delivery
//! unrecorded and the ending open, both for the next attempt; after it, the
//! event is in the outbox. A delivery that failed counts as ended: it is on
//! the board's failed deliveries, and a retry that later succeeds closes
//! nothing again.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use pathway_common::outbox;
use pathway_proto::v1::{self as proto, Event, Payload};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::{ACTOR, Error, Notifications};
use crate::domain::ending::everyone_told;
use crate::domain::{self, Ending};
use crate::store::{ending, endings};

impl Notifications {
    /// Keep `event` as `ending` of its referral, whose deliveries are
    /// those caused by `event` (and, for a redirect, by its hand-off
    /// `handoff_event_id`); close it at once if none is left to send.
    /// Called in the consumer's transaction, after the deliveries are planned.
    pub async fn keep_ending<C: ConnectionTrait>(
        &self,
        txn: &C,
        event: &Event,
        ending: Ending,
        handoff_event_id: Option<String>,
    ) -> Result<(), Error> {
        let now = Utc::now();
        endings::insert_once(
            txn,
            ending::Model {
                cause_event_id: event.event_id.clone(),
                handoff_event_id,
                referral_id: event.referral_id.clone(),
                board: event.board.clone(),
                reason: ending.reason().to_owned(),
                created_at: now,
                closed_at: None,
            },
        )
        .await?;
        close_if_everyone_told(txn, [event.event_id.as_str()], now).await?;
        Ok(())
    }

    /// An ending whose patient's data was erased: no one can be told, so
    /// the referral closes at once.
    pub async fn end_untold<C: ConnectionTrait>(
        &self,
        txn: &C,
        event: &Event,
    ) -> Result<(), Error> {
        let (ending, handoff) = match &event.payload {
            Some(Payload::ReferralWithdrawn(_)) => (Ending::Withdrawn, None),
            Some(Payload::DecisionOptInLapsed(_)) => (Ending::OptInWindowPassed, None),
            Some(Payload::DecisionRecorded(recorded)) => {
                let outcome = recorded
                    .outcome
                    .as_ref()
                    .and_then(|o| proto::OutcomeKind::try_from(o.kind).ok())
                    .and_then(domain::outcome_code);
                match outcome.and_then(Ending::of_outcome) {
                    Some(ending @ Ending::Redirected) => {
                        (ending, Some(super::handoff::redirect_handoff_id(event)))
                    }
                    Some(ending) => (ending, None),
                    None => return Ok(()),
                }
            }
            _ => return Ok(()),
        };
        self.keep_ending(txn, event, ending, handoff).await
    }
}

/// Close every open ending among whose deliveries are those of
/// `cause_event_ids` and of which none is left to send, each with its
/// `referral.closed`. Answers how many were closed.
pub(super) async fn close_if_everyone_told<'a, C: ConnectionTrait>(
    txn: &C,
    cause_event_ids: impl IntoIterator<Item = &'a str>,
    now: DateTime<Utc>,
) -> Result<usize, Error> {
    // In one order, so that two transactions lock endings in the same order.
    let causes: BTreeSet<&str> = cause_event_ids.into_iter().collect();
    let mut closed = 0;
    for cause in causes {
        for open in endings::open_for_locked(txn, cause).await? {
            if !everyone_told(
                endings::statuses(txn, &open)
                    .await?
                    .into_iter()
                    .map(Into::into),
            ) {
                continue;
            }
            if !endings::close(txn, &open, now).await? {
                continue;
            }
            outbox::enqueue(txn, &closed_event(&open, now)?).await?;
            tracing::info!(referral_id = %open.referral_id, reason = %open.reason, "everyone told: referral closed");
            closed += 1;
        }
    }
    Ok(closed)
}

fn closed_event(ending: &ending::Model, now: DateTime<Utc>) -> Result<Event, Error> {
    let referral = Uuid::parse_str(&ending.referral_id).map_err(|e| {
        Error::Unexpected(anyhow::anyhow!(
            "stored referral id {:?}: {e}",
            ending.referral_id
        ))
    })?;
    Ok(Event::new(
        &ending.board,
        Some(referral),
        ACTOR,
        now,
        Payload::ReferralClosed(proto::ReferralClosed {
            reason: ending.reason.clone(),
        }),
    ))
}
