//! The fixed quarterly tables ([`crate::domain::publication`]): every fact
//! received by the quarter's end, read one at a time into its board's
//! tally, the whole set suppressed at once.

use anyhow::Context;
use chrono::NaiveDate;
use futures::StreamExt;
use pathway_common::auth::{Caller, Role};
use pathway_proto::{BoardCode, days};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Serialize;

use super::{Analytics, Error};
use crate::domain::publication::{BoardTally, PublicationTable, Quarter, publish};
use crate::domain::rebuild::RebuildState;
use crate::store::{fact, facts};

/// A quarter's published tables.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Publication {
    /// `2026-Q3`.
    pub quarter: String,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    /// Counts from 1 to one less than this are suppressed, and enough
    /// others that none of them can be worked out.
    pub suppression_threshold: u64,
    pub tables: Vec<PublicationTable>,
}

impl Analytics {
    /// `quarter`'s tables, for an evaluator of every board, unless a rebuild
    /// has the facts half-built.
    pub async fn publication(
        &self,
        caller: &Caller,
        quarter: &Quarter,
    ) -> Result<Publication, Error> {
        let rebuild = self.rebuilder.status();
        if rebuild.state == RebuildState::Running {
            return Err(Error::Rebuilding {
                handled: rebuild.handled,
                remaining: rebuild.remaining,
            });
        }
        caller.require_role(&[Role::Evaluator])?;
        let boards: Vec<BoardCode> = BoardCode::all().collect();
        for board in &boards {
            caller.require_board(board.code())?;
        }
        let mut tallies = vec![BoardTally::default(); boards.len()];
        let mut rows = fact::Entity::find()
            .filter(fact::Column::ReceivedAt.lt(days::end_of(quarter.last)))
            .stream(&self.platform.db)
            .await
            .context("cannot load the facts")?;
        while let Some(row) = rows.next().await {
            let row = row.context("cannot load the facts")?;
            let fact = facts::from_row(&row)?;
            if let Some(i) = boards.iter().position(|b| *b == fact.board)
                && let Some(tally) = tallies.get_mut(i)
            {
                tally.add(&fact, quarter);
            }
        }
        drop(rows);
        let threshold = self.rules.suppression_threshold;
        Ok(Publication {
            quarter: quarter.label.clone(),
            first_day: quarter.first,
            last_day: quarter.last,
            suppression_threshold: threshold,
            tables: publish(&tallies, threshold),
        })
    }
}
