//! A referrer answers a clinician's request for more information: the answer,
//! the referral back on the worklist, history, audit row and
//! `referral.info_provided` in one transaction.

use chrono::Utc;
use pathway_common::auth::{Caller, Role};
use pathway_common::validation::FieldError;
use pathway_proto::v1::{self as proto, Event, Payload};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DbErr, TransactionTrait};

use super::{ReferralSummary, change_status, check_version, load_for, parse_id};
use crate::application::{Error, Intake, audit_referral};
use crate::domain::{Status, Transition};
use crate::store::{encrypted, information_request, queries};

/// The longest answer kept, in characters.
const MAX_ANSWER: usize = 8000;

impl Intake {
    /// Answer the open information request `request_id` (the latest open one
    /// when `None`) of `id`, if it is at `if_match` (when given).
    pub async fn provide_information(
        &self,
        caller: &Caller,
        id: &str,
        if_match: Option<i64>,
        request_id: Option<&str>,
        answer: &str,
    ) -> Result<ReferralSummary, Error> {
        caller.require_role(&[Role::Referrer])?;
        let answer = answer.trim();
        if answer.is_empty() || answer.chars().count() > MAX_ANSWER {
            return Err(Error::Validation(vec![FieldError::new(
                "answer",
                format!("must be from 1 to {MAX_ANSWER} characters"),
            )]));
        }
        let txn = self.db().begin().await?;
        let row = load_for(&txn, caller, id).await?;
        check_version(&row, if_match)?;
        let from: Status = row.status.into();
        let next = from
            .apply(Transition::InfoProvided)
            .map_err(|_| Error::IllegalTransition {
                from,
                transition: Transition::InfoProvided,
            })?;
        let mut open = queries::open_information_requests(&txn, id).await?;
        let pending = match request_id {
            Some(wanted) => open.drain(..).find(|r| r.id == wanted).ok_or_else(|| {
                Error::Validation(vec![FieldError::new(
                    "information_request_id",
                    "is not an open information request of this referral",
                )])
            })?,
            None => open
                .into_iter()
                .next()
                .ok_or(Error::NoOpenInformationRequest)?,
        };
        let now = Utc::now();
        let request_id = pending.id.clone();
        let mut active: information_request::ActiveModel = pending.into();
        active.answer = Set(Some(
            encrypted::seal_answer(&self.cipher, &row.board, &request_id, answer)
                .map_err(DbErr::from)?,
        ));
        active.answered_by = Set(Some(caller.subject.clone()));
        active.answered_at = Set(Some(now));
        active.update(&txn).await?;
        let event = Event::new(
            &row.board,
            Some(parse_id(&row.id)?),
            &caller.subject,
            now,
            Payload::ReferralInfoProvided(proto::ReferralInfoProvided {
                information_request_id: request_id.clone(),
            }),
        );
        let updated = change_status(
            &txn,
            row,
            next,
            &event,
            Some(serde_json::json!({"information_request_id": request_id})),
        )
        .await?;
        audit_referral(
            &txn,
            caller,
            "referral.information_provided",
            &updated.id,
            &updated.board,
            "referrer answered an information request",
        )
        .await?;
        txn.commit().await?;
        self.platform.outbox.notify();
        ReferralSummary::of(&updated)
    }
}
