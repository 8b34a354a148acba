//! A board's audit trail in the decision service, for its admins: every
//! decision recorded, every decision read, every referral closed.

use pathway_common::audit::{AuditPage, TrailQuery};
use pathway_common::auth::Caller;
use pathway_proto::BoardCode;

use super::{Decisions, Error};

impl Decisions {
    /// One page of the board's audit trail, oldest first.
    pub async fn audit_trail(
        &self,
        caller: &Caller,
        board: BoardCode,
        query: &TrailQuery,
    ) -> Result<AuditPage, Error> {
        Ok(pathway_common::audit::trail(self.db(), caller, board.code(), query).await?)
    }
}
