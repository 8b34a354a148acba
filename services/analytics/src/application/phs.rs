//! The waits to first appointment as Public Health Scotland counts them
//! ([`crate::domain::phs`]): every fact of the boards asked for received
//! by the range's end, read one at a time, counted where its first
//! attendance falls and in each period's census, small numbers suppressed.

use anyhow::Context;
use chrono::NaiveDate;
use futures::StreamExt;
use pathway_common::auth::{Caller, Role};
use pathway_proto::{BoardCode, days};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Serialize;

use super::{Analytics, Error};
use crate::domain::metrics::MetricsQuery;
use crate::domain::period::Granularity;
use crate::domain::phs::PhsWaits;
use crate::domain::phs_row::{PhsRow, publish_phs};
use crate::domain::rebuild::RebuildState;
use crate::store::{fact, facts};

/// The answer to a query for the waits to first appointment.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PhsReport {
    pub boards: Vec<BoardCode>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by: Granularity,
    /// Counts from 1 to one less than this are suppressed.
    pub suppression_threshold: u64,
    pub rows: Vec<PhsRow>,
}

impl Analytics {
    /// The waits to first appointment for `query` (its split is not used),
    /// if `caller` may see them, unless a rebuild has them half-built.
    pub async fn phs_waits(
        &self,
        caller: &Caller,
        query: &MetricsQuery,
    ) -> Result<PhsReport, Error> {
        let rebuild = self.rebuilder.status();
        if rebuild.state == RebuildState::Running {
            return Err(Error::Rebuilding {
                handled: rebuild.handled,
                remaining: rebuild.remaining,
            });
        }
        caller.require_role(&[Role::Evaluator, Role::BoardAdmin])?;
        for board in &query.boards {
            caller.require_board(board.code())?;
        }
        let mut waits = PhsWaits::new(query.from, query.to, query.by);
        // A referral received after the range's end can neither be seen
        // nor be waiting in it.
        let after = days::end_of(query.to);
        let mut rows = fact::Entity::find()
            .filter(fact::Column::Board.is_in(query.boards.iter().map(|b| b.code())))
            .filter(fact::Column::ReceivedAt.lt(after))
            .stream(&self.platform.db)
            .await
            .context("cannot load the facts")?;
        while let Some(row) = rows.next().await {
            let row = row.context("cannot load the facts")?;
            waits.add(&facts::from_row(&row)?);
        }
        drop(rows);
        let threshold = self.rules.suppression_threshold;
        Ok(PhsReport {
            boards: query.boards.clone(),
            from: query.from,
            to: query.to,
            by: query.by,
            suppression_threshold: threshold,
            rows: waits
                .periods
                .iter()
                .zip(&waits.tallies)
                .map(|(period, tally)| publish_phs(period, tally, threshold))
                .collect(),
        })
    }
}
