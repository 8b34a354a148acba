//! Baseline import: a board admin loads the board's referrals from before it
//! adopted the pathway, from its existing system's file: all of it in one
//! transaction, replacing facts loaded before under the same reference, or
//! nothing and every problem.

use std::collections::BTreeSet;

use pathway_common::auth::{Caller, Role};
use pathway_common::validation::FieldError;
use pathway_proto::BoardCode;
use sea_orm::TransactionTrait;
use serde::Serialize;

use super::{Analytics, Error};
use crate::domain::baseline::{self, RowProblem};
use crate::store::facts;

/// What a baseline import loaded.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub board: BoardCode,
    /// Rows loaded from the file.
    pub loaded: u64,
    /// Of those, rows that replaced a fact loaded before under the same reference.
    pub replaced: u64,
}

impl Analytics {
    /// Load `board`'s baseline `file`: all of it, or nothing and every
    /// problem ([`Error::InvalidFile`] naming each line and column).
    pub async fn import_baseline(
        &self,
        caller: &Caller,
        board: BoardCode,
        file: &[u8],
    ) -> Result<ImportReport, Error> {
        caller.require_role(&[Role::BoardAdmin])?;
        caller.require_board(board.code())?;
        let facts = baseline::parse(board, file).map_err(invalid_file)?;
        let txn = self.platform.db.begin().await?;
        let replaced = facts::replace(&txn, &facts).await?;
        txn.commit().await?;
        tracing::info!(
            board = board.code(),
            by = %caller.subject,
            loaded = facts.len(),
            replaced,
            "baseline imported"
        );
        Ok(ImportReport {
            board,
            loaded: facts.len() as u64,
            replaced,
        })
    }
}

/// Each problem as the field `line N.column` (`line N` for a whole row).
fn invalid_file(problems: Vec<RowProblem>) -> Error {
    let rejected_rows = problems
        .iter()
        .map(|p| p.line)
        .collect::<BTreeSet<_>>()
        .len();
    let fields = problems
        .into_iter()
        .map(|p| {
            let column = if p.column.is_empty() {
                String::new()
            } else {
                format!(".{}", p.column)
            };
            FieldError::new(format!("line {}{column}", p.line), p.reason)
        })
        .collect();
    Error::InvalidFile {
        fields,
        rejected_rows,
    }
}
