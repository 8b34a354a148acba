//! Feedback to referrers ([`crate::domain::practices`]): the facts of one
//! board received in a range of Scottish days, read one at a time, counted
//! per referring GP practice, suppressed as one table with the board's
//! totals.

use anyhow::Context;
use chrono::NaiveDate;
use futures::StreamExt;
use pathway_common::auth::{Caller, Role};
use pathway_proto::{BoardCode, days};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Serialize;

use super::{Analytics, Error};
use crate::domain::practices::{PracticeRow, Practices, publish};
use crate::domain::rebuild::RebuildState;
use crate::store::{fact, facts};

/// What feedback to referrers is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PracticesQuery {
    pub board: BoardCode,
    /// First Scottish day of receipt counted.
    pub from: NaiveDate,
    /// Last Scottish day of receipt counted.
    pub to: NaiveDate,
}

/// Feedback to referrers: per GP practice, and the board's totals.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PracticesReport {
    pub board: BoardCode,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Counts from 1 to one less than this are suppressed.
    pub suppression_threshold: u64,
    /// One row per practice that referred in the range, in code order;
    /// `unknown` for referrals that named none.
    pub practices: Vec<PracticeRow>,
    /// The board's own totals (`practice` is `all`), for comparison.
    pub board_total: PracticeRow,
}

impl Analytics {
    /// Feedback to referrers for `query`, if `caller` may see the board's
    /// figures, unless a rebuild has them half-built.
    pub async fn practices(
        &self,
        caller: &Caller,
        query: &PracticesQuery,
    ) -> Result<PracticesReport, Error> {
        let rebuild = self.rebuilder.status();
        if rebuild.state == RebuildState::Running {
            return Err(Error::Rebuilding {
                handled: rebuild.handled,
                remaining: rebuild.remaining,
            });
        }
        caller.require_role(&[Role::Evaluator, Role::BoardAdmin])?;
        caller.require_board(query.board.code())?;
        let mut practices = Practices::new(query.board, query.from, query.to);
        let mut rows = fact::Entity::find()
            .filter(fact::Column::Board.eq(query.board.code()))
            .filter(fact::Column::ReceivedAt.gte(days::start_of(query.from)))
            .filter(fact::Column::ReceivedAt.lt(days::end_of(query.to)))
            .stream(&self.platform.db)
            .await
            .context("cannot load the facts")?;
        while let Some(row) = rows.next().await {
            let row = row.context("cannot load the facts")?;
            practices.add(&facts::from_row(&row)?);
        }
        drop(rows);
        let threshold = self.rules.suppression_threshold;
        let (rows, board_total) = publish(&practices, threshold);
        Ok(PracticesReport {
            board: query.board,
            from: query.from,
            to: query.to,
            suppression_threshold: threshold,
            practices: rows,
            board_total,
        })
    }
}
