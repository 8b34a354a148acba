//! A patient's erasure in notification: the consumer empties the messages
//! about each erased referral (`store::patients`); a board admin reads what
//! went (`GET /v1/erasures/{id}`), its part of `pathway patient erase`'s
//! report.

use chrono::{DateTime, Utc};
use pathway_common::auth::Caller;
use pathway_common::erasure::{self, ErasureReport, ReportError};
use pathway_proto::v1::{self as proto, Event};
use sea_orm::ConnectionTrait;

use super::{Error, Notifications};
use crate::store::patients;

impl Notifications {
    /// `referral.erased`: empty every message about the referral.
    pub async fn erase<C: ConnectionTrait>(
        &self,
        txn: &C,
        event: &Event,
        erased: &proto::ReferralErased,
        at: DateTime<Utc>,
    ) -> Result<(), Error> {
        if event.referral_id.is_empty() || erased.erasure_id.is_empty() {
            return Err(Error::Rejected(
                "referral.erased without a referral id or an erasure id".into(),
            ));
        }
        patients::erase(
            txn,
            &erased.erasure_id,
            &event.referral_id,
            &event.board,
            at,
        )
        .await?;
        tracing::info!(
            referral_id = %event.referral_id,
            erasure_id = %erased.erasure_id,
            "erased the messages of a referral at the patient's request"
        );
        Ok(())
    }

    /// The referrals of `caller`'s boards erased under `erasure_id`.
    pub async fn erasure_report(
        &self,
        caller: &Caller,
        erasure_id: &str,
    ) -> Result<ErasureReport, Error> {
        erasure::report(self.db(), caller, "notification", erasure_id)
            .await
            .map_err(|error| match error {
                ReportError::Forbidden(error) => error.into(),
                not_yet @ ReportError::NotYet { .. } => Error::NotFound(not_yet.to_string()),
                ReportError::Database(error) => error.into(),
            })
    }
}
