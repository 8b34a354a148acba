//! `referral.opted_in`: the patient opted back in, within the window of a
//! `patient_opt_in` decision. The window ends as opted in, and the chain
//! takes the referral's next outcome after that decision.

use pathway_proto::v1::{self as proto, Event};
use sea_orm::ConnectionTrait;

use super::{Decisions, Error, Fields, occurred_at, referral_of};
use crate::domain::{self, OptIn, OptInRefused, WindowEvent};
use crate::store::opt_in_window;

impl Decisions {
    #[tracing::instrument(skip_all, fields(referral_id = %event.referral_id), err)]
    pub async fn record_opt_in<C: ConnectionTrait>(
        &self,
        txn: &C,
        event: &Event,
        opted_in: &proto::ReferralOptedIn,
    ) -> Result<(), Error> {
        let mut fields = Fields::default();
        let referral = fields.take(referral_of(event));
        let at = fields.take(occurred_at(event));
        let (Some(referral), Some(at)) = (referral, at) else {
            return Err(fields.into_error());
        };
        let referral_id = referral.to_string();
        let decision_id = opted_in.decision_id.trim();
        let window = if decision_id.is_empty() {
            // Without a decision id: the referral's open window, if it has one.
            opt_in_window::of_referral(txn, &referral_id)
                .await?
                .into_iter()
                .filter(|w| w.resolved_at.is_none())
                .max_by_key(|w| w.deadline)
        } else {
            opt_in_window::of_decision(txn, decision_id).await?
        };
        let Some(window) = window else {
            return Err(Error::Refused(format!(
                "decision_id: no opt-in window for decision {:?} of referral {referral_id}",
                opted_in.decision_id
            )));
        };
        if window.referral_id != referral_id {
            return Err(Error::Refused(format!(
                "decision_id: decision {} is not of referral {referral_id}",
                window.decision_id
            )));
        }
        let state = window.state();
        match domain::opt_in(state, at, window.deadline) {
            Ok(OptIn::AlreadyOptedIn) => return Ok(()),
            Ok(OptIn::Accepted) => {}
            Err(OptInRefused::Ended(how)) => {
                return Err(Error::Refused(format!(
                    "the opt-in window of decision {} had already ended ({how})",
                    window.decision_id
                )));
            }
            Err(late @ OptInRefused::TooLate { .. }) => {
                return Err(Error::Refused(late.to_string()));
            }
        }
        let next = state
            .apply(WindowEvent::OptedIn)
            .map_err(|e| Error::Unexpected(e.into()))?;
        if !opt_in_window::end(txn, &window.decision_id, at, next).await? {
            // The sweep got there in the same instant: look again.
            return Err(Error::Conflict(
                "the opt-in window changed while the opt-in was handled".into(),
            ));
        }
        Ok(())
    }
}
