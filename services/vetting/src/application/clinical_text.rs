//! Another service reads clinicians' free text by the ids events carry
//! (`crate::rpc` serves it): only a service token, only for its boards, and
//! every text given out leaves an audit row naming the service and why, in
//! the transaction that reads it.

use pathway_common::audit::{self, AuditEntry};
use pathway_common::auth::{Caller, Role};
use pathway_common::clinical_text_client::MAX_IDS;
use pathway_common::validation::FieldError;
use sea_orm::TransactionTrait;

use super::{Error, Vetting};
use crate::store::clinical_text;

impl Vetting {
    /// The texts of `ids` kept here, for `caller` (a service) and `purpose`
    /// (why, in words). An id not kept here is left out; a text of a board
    /// the caller may not read refuses the whole request, and nothing is
    /// given or audited.
    pub async fn clinical_texts(
        &self,
        caller: &Caller,
        ids: &[String],
        purpose: &str,
    ) -> Result<Vec<clinical_text::Model>, Error> {
        caller.require_role(&[Role::Service])?;
        let purpose = purpose.trim();
        let mut problems = Vec::new();
        if purpose.is_empty() {
            problems.push(FieldError::new(
                "purpose",
                "say why the texts are read: `purpose` must not be blank",
            ));
        }
        if ids.is_empty() || ids.iter().any(|id| id.trim().is_empty()) {
            problems.push(FieldError::new(
                "text_ids",
                "name at least one text, and no blank id",
            ));
        }
        if ids.len() > MAX_IDS {
            problems.push(FieldError::new(
                "text_ids",
                format!("at most {MAX_IDS} ids in one request, not {}", ids.len()),
            ));
        }
        if !problems.is_empty() {
            return Err(Error::Validation(problems));
        }
        let txn = self.db().begin().await?;
        let texts = clinical_text::by_ids(&txn, &self.cipher, ids).await?;
        for text in &texts {
            caller.require_board(&text.board)?;
        }
        for text in &texts {
            let why = format!("{}: {purpose}", text.kind);
            audit::record(
                &txn,
                AuditEntry {
                    actor: &caller.subject,
                    actor_role: caller.role.as_str(),
                    action: "clinical_text.read",
                    referral_id: Some(text.referral_id.clone()),
                    board: Some(&text.board),
                    source: &caller.source,
                    purpose: Some(&why),
                },
            )
            .await?;
        }
        txn.commit().await?;
        Ok(texts)
    }
}
