//! A referrer withdraws a referral that is still open: its status, the
//! open-referral lock, history, audit row and `referral.withdrawn` in one
//! transaction.

use chrono::Utc;
use pathway_common::auth::{Caller, Role};
use pathway_common::validation::FieldError;
use pathway_proto::v1::{self as proto, Event, Payload};
use sea_orm::TransactionTrait;

use super::{ReferralSummary, change_status, check_version, load_for, parse_id};
use crate::application::{Error, Intake, audit_referral};
use crate::domain::referral::WithdrawReason;
use crate::domain::{Status, Transition};

impl Intake {
    /// Withdraw `id` for `reason_code`, if it is at `if_match` (when given).
    pub async fn withdraw(
        &self,
        caller: &Caller,
        id: &str,
        if_match: Option<i64>,
        reason_code: &str,
    ) -> Result<ReferralSummary, Error> {
        caller.require_role(&[Role::Referrer])?;
        let reason = WithdrawReason::parse(reason_code).ok_or_else(|| {
            Error::Validation(vec![FieldError::new(
                "reason_code",
                format!("must be one of {}", WithdrawReason::codes()),
            )])
        })?;
        let txn = self.db().begin().await?;
        let row = load_for(&txn, caller, id).await?;
        check_version(&row, if_match)?;
        let from: Status = row.status.into();
        let next = from
            .apply(Transition::Withdrawn)
            .map_err(|_| Error::IllegalTransition {
                from,
                transition: Transition::Withdrawn,
            })?;
        let now = Utc::now();
        let event = Event::new(
            &row.board,
            Some(parse_id(&row.id)?),
            &caller.subject,
            now,
            Payload::ReferralWithdrawn(proto::ReferralWithdrawn {
                previous_status: from.as_str().to_owned(),
                reason_code: reason.code().to_owned(),
            }),
        );
        let updated = change_status(
            &txn,
            row,
            next,
            &event,
            Some(serde_json::json!({"reason_code": reason.code()})),
        )
        .await?;
        audit_referral(
            &txn,
            caller,
            "referral.withdraw",
            &updated.id,
            &updated.board,
            "referrer withdrew the referral",
        )
        .await?;
        txn.commit().await?;
        self.platform.outbox.notify();
        ReferralSummary::of(&updated)
    }
}
