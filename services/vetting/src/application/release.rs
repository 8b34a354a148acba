//! A clinician gives their claim back to the worklist.

use pathway_common::auth::Caller;
use pathway_proto::v1::{self as proto, Event, Payload};
use sea_orm::TransactionTrait;

use super::views::ActionResult;
use super::{Error, Vetting, parse_id, save};
use crate::domain::status::Transition;
use crate::store::worklist::Change;

impl Vetting {
    /// POST /v1/referrals/{id}/release: only the holder of a live claim.
    pub async fn release(&self, caller: &Caller, id: &str) -> Result<ActionResult, Error> {
        let txn = self.db().begin().await?;
        let row = self.load(&txn, caller, id).await?;
        let now = self.clock.now();
        let next = row
            .claim()
            .act(&caller.subject, now, Transition::Released)?;
        let event = Event::new(
            &row.board,
            Some(parse_id(id)?),
            &caller.subject,
            now,
            Payload::VettingReleased(proto::VettingReleased {
                clinician: caller.subject.clone(),
                reason: "released".into(),
            }),
        );
        let saved = save(&txn, &row, now, Change::to(next).unclaimed()).await?;
        self.commit_action(
            txn,
            caller,
            &row,
            &event,
            "referral.release",
            "give back to the worklist",
        )
        .await?;
        Ok(ActionResult::of(&saved, &event.event_id))
    }
}
