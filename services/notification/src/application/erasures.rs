//! A patient's erasure in notification: the consumer empties the messages
//! about each erased referral (`store::patients`); a board admin reads what
//! went (`GET /v1/erasures/{id}`), its part of `pathway patient erase`'s
//! report.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use pathway_common::auth::Caller;
use pathway_common::erasure::{self, ErasedReferral, ErasureReport};
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
        let done = patients::erase(
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
            messages = done.messages,
            cancelled = done.cancelled,
            "erased the messages of a referral at the patient's request"
        );
        Ok(())
    }

    /// The referrals of `caller`'s boards erased under `erasure_id`; not
    /// found until notification has taken in at least one of them.
    pub async fn erasure_report(
        &self,
        caller: &Caller,
        erasure_id: &str,
    ) -> Result<ErasureReport, Error> {
        erasure::require_reader(caller)?;
        let referrals: Vec<ErasedReferral> = patients::erased_under(self.db(), erasure_id)
            .await?
            .into_iter()
            .filter(|row| caller.may_act_for(&row.board))
            .map(|row| ErasedReferral {
                removed: BTreeMap::from([
                    ("messages".to_owned(), count(row.messages)),
                    ("messages_not_sent".to_owned(), count(row.cancelled)),
                ]),
                referral_id: row.referral_id,
                board: row.board,
                done_at: row.done_at,
            })
            .collect();
        if referrals.is_empty() {
            return Err(Error::NotFound(format!(
                "notification has erased nothing under {erasure_id} for your boards yet: the request reaches it on the stream, so try again in a moment"
            )));
        }
        Ok(ErasureReport {
            erasure_id: erasure_id.to_owned(),
            service: "notification".to_owned(),
            referrals,
        })
    }
}

fn count(rows: i64) -> u64 {
    u64::try_from(rows).unwrap_or_default()
}
