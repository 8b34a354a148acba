//! Keeps the worklist in step with what other services publish: new
//! referrals, withdrawals, answers from the referrer, opt-ins and closures,
//! a patient's erasure or restriction, and each board's settings.
//!
//! Every move of a worklist row goes through the domain's
//! [`Status::apply`]. An event that is legal but late (a withdrawal that
//! raced the clinician's outcome, an answer nobody is waiting for any more, a
//! referral published again) is acknowledged without effect and logged: it
//! is a fact of the pathway, not a broken message, so it is not
//! dead-lettered. A message that can never be handled (no payload, no
//! referral id, an unknown board) is rejected; a row changed under us by a
//! clinician meanwhile is retried.

use chrono::{DateTime, Utc};
use pathway_common::inbox::{HandleError, Handler};
use pathway_proto::BoardCode;
use pathway_proto::v1::{self as proto, Event, Payload};
use sea_orm::{ActiveValue::Set, DatabaseTransaction};

use crate::domain::red_flag_code;
use crate::domain::status::{Status, Transition};
use crate::store::worklist::{self, Change, Saved};
use crate::store::{board_settings, information_request, patients};

pub fn filters() -> Vec<String> {
    vec![
        proto::filter_all_boards("referral", None),
        proto::filter_all_boards("board", None),
    ]
}

#[derive(Default)]
pub struct WorklistProjection {
    /// Set when a batch erased a patient's texts.
    scrub: pathway_common::db::ScrubAfterCommit,
}

impl Handler for WorklistProjection {
    /// Everything it needs is in the event.
    type Prepared = ();

    async fn prepare(&self, _event: &Event) -> Result<(), HandleError> {
        Ok(())
    }

    async fn after_commit(&self, db: &sea_orm::DatabaseConnection) {
        self.scrub.run(db).await;
    }

    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &Event,
        (): (),
    ) -> Result<(), HandleError> {
        let Some(payload) = &event.payload else {
            return Err(HandleError::Rejected("event without payload".into()));
        };
        let at = event.occurred_at().unwrap_or_else(Utc::now);
        match payload {
            Payload::ReferralReceived(received) => {
                let board = board_of(event)?;
                if event.referral_id.is_empty() {
                    return Err(HandleError::Rejected(
                        "referral.received without a referral id".into(),
                    ));
                }
                let added = worklist::insert_new(txn, new_row(event, board, received, at)).await?;
                if !added {
                    tracing::info!(
                        referral_id = %event.referral_id,
                        "referral.received for a referral already on the worklist: left as it is"
                    );
                }
            }
            Payload::ReferralWithdrawn(_) => {
                move_on(txn, event, Transition::Withdrawn, at, Change::unclaimed).await?;
            }
            // Only a window that passed closes a worklist row; the other
            // endings (a decline, a redirect, a withdrawal) are settled on it
            // already.
            Payload::ReferralClosed(closed) if closed.reason == "opt_in_window_passed" => {
                move_on(txn, event, Transition::Closed, at, Change::unclaimed).await?;
            }
            Payload::ReferralOptedIn(_) => {
                move_on(txn, event, Transition::OptedIn, at, Change::unclaimed).await?;
            }
            Payload::ReferralInfoProvided(provided) => {
                // An answer ends the pause whenever it comes.
                information_request::mark_answered(txn, &provided.information_request_id, at)
                    .await?;
                move_on(txn, event, Transition::InfoProvided, at, |change| {
                    change.unclaimed().answer_received(true)
                })
                .await?;
            }
            Payload::BoardSettingsChanged(_) => {
                board_settings::apply(txn, event).await?;
            }
            Payload::ReferralErased(erased) => {
                let board = board_of(event)?;
                if event.referral_id.is_empty() || erased.erasure_id.is_empty() {
                    return Err(HandleError::Rejected(
                        "referral.erased without a referral id or an erasure id".into(),
                    ));
                }
                patients::erase(
                    txn,
                    &erased.erasure_id,
                    &event.referral_id,
                    board.code(),
                    at,
                )
                .await?;
                self.scrub.mark();
            }
            Payload::ReferralRestrictionChanged(changed) => {
                let why = changed.restricted.then_some(patients::HELD_RESTRICTED);
                patients::hold(txn, &event.referral_id, why, at).await?;
            }
            // Referrals routed to the standard service are not vetted here.
            _ => {}
        }
        Ok(())
    }
}

fn board_of(event: &Event) -> Result<BoardCode, HandleError> {
    BoardCode::parse(&event.board).map_err(HandleError::Rejected)
}

fn new_row(
    event: &Event,
    board: BoardCode,
    received: &proto::ReferralReceived,
    at: DateTime<Utc>,
) -> worklist::ActiveModel {
    let flags: Vec<String> = received
        .red_flags()
        .filter(|f| *f != proto::RedFlag::Unspecified)
        .map(red_flag_code)
        .collect();
    let patient = received.patient.clone().unwrap_or_default();
    let sex = match patient.sex() {
        proto::Sex::Male => "male",
        proto::Sex::Female => "female",
        _ => "not_known",
    };
    worklist::ActiveModel {
        referral_id: Set(event.referral_id.clone()),
        board: Set(board.code().to_owned()),
        status: Set(Status::RECEIVED.into()),
        received_at: Set(received
            .received_at
            .as_ref()
            .and_then(proto::from_timestamp)
            .unwrap_or(at)),
        red_flag_count: Set(i32::try_from(flags.len()).unwrap_or(i32::MAX)),
        red_flags: Set(serde_json::to_string(&flags).unwrap_or_else(|_| "[]".into())),
        pain_intensity: Set(i32::try_from(received.pain_intensity).unwrap_or(0)),
        pain_duration_months: Set(i32::try_from(received.pain_duration_months).unwrap_or(0)),
        practice_code: Set(received.practice_code.clone()),
        age_band: Set(patient.age_band.clone()),
        sex: Set(sex.to_owned()),
        re_referral: Set(received.re_referral),
        claimed_by: Set(None),
        claimed_by_name: Set(None),
        lease_expires_at: Set(None),
        answer_received: Set(false),
        updated_at: Set(at),
        version: Set(1),
        held: Set(None),
    }
}

/// Move the event's referral on by `transition` (with `also` changed beside
/// the status). A referral vetting never saw (routed to the standard
/// service) is left alone; so is one the transition does not apply to any
/// more.
async fn move_on(
    txn: &DatabaseTransaction,
    event: &Event,
    transition: Transition,
    at: DateTime<Utc>,
    also: impl FnOnce(Change) -> Change,
) -> Result<(), HandleError> {
    let Some(row) = worklist::find(txn, &event.referral_id).await? else {
        return Ok(());
    };
    let next = match row.status().apply(transition) {
        Ok(next) => next,
        Err(illegal) => {
            tracing::warn!(
                %illegal,
                referral_id = %row.referral_id,
                event_id = %event.event_id,
                "a late event: acknowledged without changing the worklist"
            );
            return Ok(());
        }
    };
    match worklist::save(txn, &row, at, also(Change::to(next))).await? {
        Saved::Saved(_) => Ok(()),
        Saved::Changed(_) => Err(HandleError::Retry(anyhow::anyhow!(
            "worklist row {} changed while {} was handled",
            row.referral_id,
            event.event_id
        ))),
    }
}
