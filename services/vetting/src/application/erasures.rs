//! What vetting removed under one erasure request, for a board admin
//! (`GET /v1/erasures/{id}`): its part of `pathway patient erase`'s report.

use pathway_common::auth::Caller;
use pathway_common::erasure::{self, ErasureReport, ReportError};

use super::{Error, Vetting};

impl Vetting {
    /// The referrals of `caller`'s boards erased under `erasure_id`.
    pub async fn erasure_report(
        &self,
        caller: &Caller,
        erasure_id: &str,
    ) -> Result<ErasureReport, Error> {
        erasure::report(self.db(), caller, "vetting", erasure_id)
            .await
            .map_err(|error| match error {
                ReportError::Forbidden(error) => error.into(),
                not_yet @ ReportError::NotYet { .. } => {
                    Error::NothingErasedYet(not_yet.to_string())
                }
                ReportError::Database(error) => error.into(),
            })
    }
}
