//! A board's audit trail in this service, for the board's admins.

use pathway_common::audit::{self, AuditPage, TrailQuery};
use pathway_common::auth::Caller;
use pathway_proto::BoardCode;

use super::{Error, Vetting};

impl Vetting {
    /// GET /v1/boards/{board}/audit: one page of it.
    pub async fn audit_trail(
        &self,
        caller: &Caller,
        board: BoardCode,
        query: &TrailQuery,
    ) -> Result<AuditPage, Error> {
        Ok(audit::trail(self.db(), caller, board.code(), query).await?)
    }
}
