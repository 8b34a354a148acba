//! A clinician asks the referrer for information: the claim ends and the
//! clock pauses until the referrer answers (`referral.info_provided`).

use pathway_common::auth::Caller;
use pathway_proto::v1::{self as proto, Event, Payload};
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::views::ActionResult;
use super::{Error, Vetting, parse_id, save};
use crate::domain::question::valid_question;
use crate::domain::status::Transition;
use crate::store::clinical_text::{self, Kind};
use crate::store::information_request::{self, NewRequest};
use crate::store::worklist::Change;

impl Vetting {
    /// POST /v1/referrals/{id}/information-requests: only the holder of a
    /// live claim.
    pub async fn request_information(
        &self,
        caller: &Caller,
        id: &str,
        question: Option<&str>,
    ) -> Result<ActionResult, Error> {
        let txn = self.db().begin().await?;
        let row = self.load(&txn, caller, id).await?;
        let question = valid_question(question).map_err(Error::Validation)?;
        let now = self.clock.now();
        let next = row
            .claim()
            .act(&caller.subject, now, Transition::InfoRequested)?;
        let request_id = Uuid::now_v7().to_string();
        // The question stays here, under its request's id, which the event
        // carries as the question's text id.
        clinical_text::Writer {
            cipher: &self.cipher,
            referral_id: &row.referral_id,
            board: &row.board,
            written_by: &caller.subject,
            written_at: now,
        }
        .insert_as(&txn, &request_id, Kind::Question, question)
        .await?;
        let event = Event::new(
            &row.board,
            Some(parse_id(id)?),
            &caller.subject,
            now,
            Payload::VettingInfoRequested(proto::VettingInfoRequested {
                information_request_id: request_id.clone(),
                clinician: caller.subject.clone(),
                question_text_id: request_id.clone(),
            }),
        );
        information_request::insert(
            &txn,
            &self.cipher,
            NewRequest {
                id: &request_id,
                referral_id: &row.referral_id,
                board: &row.board,
                question,
                requested_by: &caller.subject,
                requested_by_name: caller.name.as_deref(),
                requested_at: now,
            },
        )
        .await?;
        let change = Change::to(next).unclaimed().answer_received(false);
        let saved = save(&txn, &row, now, change).await?;
        self.commit_action(
            txn,
            caller,
            &row,
            &event,
            "referral.request_information",
            "ask the referrer",
        )
        .await?;
        Ok(ActionResult::of(&saved, &event.event_id))
    }
}
