//! A clinician records the vetting outcome (`vetting.completed`), or corrects
//! one recorded earlier (the decision service supersedes its decision).

use anyhow::Context;
use chrono::{DateTime, Utc};
use pathway_common::auth::Caller;
use pathway_common::crypto::FieldCipher;
use pathway_proto::v1::{self as proto, Event, Payload};
use sea_orm::{DatabaseTransaction, TransactionTrait};

use super::views::ActionResult;
use super::{Error, Vetting, audit_referral, parse_id, save};
use crate::domain::claim::Refusal;
use crate::domain::outcome::{OutcomeRequest, ValidOutcome};
use crate::domain::status::{Status, Transition};
use crate::store::board_settings;
use crate::store::clinical_text::{self, Kind};
use crate::store::outcome::{self, NewOutcome};
use crate::store::worklist::{self, Change};

/// What recording an outcome did.
#[derive(Debug, Clone)]
pub enum Recorded {
    /// Recorded now; `vetting.completed` is published.
    Created(ActionResult),
    /// The caller had recorded this very outcome already: nothing new was
    /// written, and the answer is the first one's.
    Replayed(ActionResult),
}

impl Vetting {
    /// POST /v1/referrals/{id}/outcome: only the holder of a live claim.
    /// Sending the same outcome again answers as the first time and writes
    /// nothing.
    pub async fn record_outcome(
        &self,
        caller: &Caller,
        id: &str,
        body: &OutcomeRequest,
    ) -> Result<Recorded, Error> {
        let txn = self.db().begin().await?;
        let row = self.load(&txn, caller, id).await?;
        let settings = board_settings::of_board(&txn, row.board_code()?).await?;
        let valid = body
            .validate(&settings, &row.red_flags())
            .map_err(Error::Validation)?;
        let now = self.clock.now();
        if row.status() == Status::Vetted {
            let last = outcome::last(&txn, &self.cipher, id).await?;
            if let Some(last) = last.filter(|o| {
                o.clinician == caller.subject
                    && serde_json::from_str::<OutcomeRequest>(&o.body)
                        .ok()
                        .as_ref()
                        == Some(&valid.request)
            }) {
                return Ok(Recorded::Replayed(ActionResult {
                    referral_id: row.referral_id.clone(),
                    status: row.status(),
                    claimed_by: None,
                    lease_expires_at: None,
                    event_id: last.id,
                    version: row.version,
                }));
            }
            return Err(Refusal::AlreadyVetted.into());
        }
        let next = row.claim().act(&caller.subject, now, Transition::Vetted)?;
        let (saved, event) =
            write_outcome(&txn, &self.cipher, caller, &row, next, &valid, false, now).await?;
        audit_referral(
            &txn,
            caller,
            "referral.record_outcome",
            &row,
            "record the vetting outcome",
        )
        .await?;
        txn.commit().await?;
        self.platform.outbox.notify();
        Ok(Recorded::Created(ActionResult::of(&saved, &event.event_id)))
    }

    /// POST /v1/referrals/{id}/correction: a clinician of the board corrects
    /// a recorded outcome.
    pub async fn correct_outcome(
        &self,
        caller: &Caller,
        id: &str,
        body: &OutcomeRequest,
    ) -> Result<ActionResult, Error> {
        let txn = self.db().begin().await?;
        let row = self.load(&txn, caller, id).await?;
        let settings = board_settings::of_board(&txn, row.board_code()?).await?;
        let valid = body
            .validate(&settings, &row.red_flags())
            .map_err(Error::Validation)?;
        let next = row.claim().correct()?;
        let now = self.clock.now();
        let (saved, event) =
            write_outcome(&txn, &self.cipher, caller, &row, next, &valid, true, now).await?;
        audit_referral(
            &txn,
            caller,
            "referral.correct_outcome",
            &row,
            "correct the vetting outcome",
        )
        .await?;
        txn.commit().await?;
        self.platform.outbox.notify();
        Ok(ActionResult::of(&saved, &event.event_id))
    }
}

/// The outcome row, the worklist row at `next`, and `vetting.completed`.
#[expect(
    clippy::too_many_arguments,
    reason = "the one transaction's context, each used once; a struct would only rename them"
)]
async fn write_outcome(
    txn: &DatabaseTransaction,
    cipher: &FieldCipher,
    caller: &Caller,
    row: &worklist::Model,
    next: Status,
    valid: &ValidOutcome,
    correction: bool,
    now: DateTime<Utc>,
) -> Result<(worklist::Model, Event), Error> {
    // The free text stays here, under the ids the event carries.
    let texts = clinical_text::Writer {
        cipher,
        referral_id: &row.referral_id,
        board: &row.board,
        written_by: &caller.subject,
        written_at: now,
    };
    let request = &valid.request;
    let mut outcome = valid.outcome.clone();
    outcome.advice_text_id = texts
        .insert(txn, Kind::Advice, request.advice.as_deref())
        .await?
        .unwrap_or_default();
    outcome.reason_text_id = texts
        .insert(txn, Kind::Reason, request.reason.as_deref())
        .await?
        .unwrap_or_default();
    let rationale_text_id = texts
        .insert(txn, Kind::Rationale, Some(&valid.rationale))
        .await?
        .unwrap_or_default();
    let red_flag_override_reason_text_id = texts
        .insert(
            txn,
            Kind::RedFlagOverrideReason,
            valid.red_flag_override_reason.as_deref(),
        )
        .await?
        .unwrap_or_default();
    let event = Event::new(
        &row.board,
        Some(parse_id(&row.referral_id)?),
        &caller.subject,
        now,
        Payload::VettingCompleted(proto::VettingCompleted {
            clinician: caller.subject.clone(),
            outcome: Some(outcome),
            red_flag_override_reason_text_id,
            rationale_text_id,
            correction,
        }),
    );
    outcome::insert(
        txn,
        cipher,
        NewOutcome {
            event_id: &event.event_id,
            referral_id: &row.referral_id,
            board: &row.board,
            clinician: &caller.subject,
            clinician_name: caller.name.as_deref(),
            body: serde_json::to_string(&valid.request).context("outcome as JSON")?,
            red_flag_override_reason: valid.red_flag_override_reason.as_deref(),
            correction,
            recorded_at: now,
        },
    )
    .await?;
    let change = Change::to(next).unclaimed().answer_received(false);
    let saved = save(txn, row, now, change).await?;
    pathway_common::outbox::enqueue(txn, &event).await?;
    Ok((saved, event))
}
