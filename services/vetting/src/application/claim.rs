//! A clinician claims a referral: a lease on it for the board's lease time;
//! claiming one's own claim again renews it, and a lapsed claim may be taken
//! over.

use pathway_common::auth::Caller;
use pathway_proto::v1::{self as proto, Event, Payload};
use sea_orm::TransactionTrait;

use super::views::ActionResult;
use super::{Error, Vetting, parse_id, save};
use crate::store::board_settings;
use crate::store::worklist::Change;

impl Vetting {
    /// POST /v1/referrals/{id}/claim.
    pub async fn claim(&self, caller: &Caller, id: &str) -> Result<ActionResult, Error> {
        let txn = self.db().begin().await?;
        let row = self.load(&txn, caller, id).await?;
        let now = self.clock.now();
        let settings = board_settings::of_board(&txn, row.board_code()?).await?;
        let next = row.claim().claim(&caller.subject, now)?;
        let expires = now + chrono::Duration::minutes(i64::from(settings.claim_lease_minutes));
        let event = Event::new(
            &row.board,
            Some(parse_id(id)?),
            &caller.subject,
            now,
            Payload::VettingClaimed(proto::VettingClaimed {
                clinician: caller.subject.clone(),
                lease_expires_at: Some(proto::timestamp(expires)),
            }),
        );
        let change = Change::to(next).claimed_by(&caller.subject, caller.name.as_deref(), expires);
        let saved = save(&txn, &row, now, change).await?;
        self.commit_action(
            txn,
            caller,
            &row,
            &event,
            "referral.claim",
            "claim for vetting",
        )
        .await?;
        Ok(ActionResult::of(&saved, &event.event_id))
    }
}
