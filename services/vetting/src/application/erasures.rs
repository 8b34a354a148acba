//! What vetting removed under one erasure request, for a board admin
//! (`GET /v1/erasures/{id}`): its part of `pathway patient erase`'s report.

use std::collections::BTreeMap;

use pathway_common::auth::Caller;
use pathway_common::erasure::{self, ErasedReferral, ErasureReport};

use super::{Error, Vetting};
use crate::store::patients;

impl Vetting {
    /// The referrals of `caller`'s boards erased under `erasure_id`; not
    /// found until vetting has taken in at least one of them.
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
                    ("clinical_texts".to_owned(), count(row.clinical_texts)),
                    ("outcomes".to_owned(), count(row.outcomes)),
                    (
                        "worklist_entries_held".to_owned(),
                        u64::from(row.on_worklist),
                    ),
                ]),
                referral_id: row.referral_id,
                board: row.board,
                done_at: row.done_at,
            })
            .collect();
        if referrals.is_empty() {
            return Err(Error::NotFound);
        }
        Ok(ErasureReport {
            erasure_id: erasure_id.to_owned(),
            service: "vetting".to_owned(),
            referrals,
        })
    }
}

fn count(rows: i64) -> u64 {
    u64::try_from(rows).unwrap_or_default()
}
