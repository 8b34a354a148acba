//! The metrics query: the counters kept with the facts summed into periods
//! and groups, with small numbers suppressed; the same worked out from the
//! facts themselves is kept as the reference.

use std::collections::BTreeMap;

use anyhow::Context;
use chrono::NaiveDate;
use futures::StreamExt;
use pathway_common::auth::{Caller, Role};
use pathway_proto::{BoardCode, days};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, StreamTrait,
};
use serde::Serialize;

use super::{Analytics, Error};
use crate::domain::aggregates::Counter;
use crate::domain::fact::Fact;
use crate::domain::metrics::{
    BoardContext, MetricRules, Metrics, MetricsQuery, MetricsRow, Referrals, Split,
};
use crate::domain::period::Granularity;
use crate::domain::re_referrals::WINDOWS;
use crate::domain::rebuild::RebuildState;
use crate::store::{aggregates, fact, facts};

/// The answer to a metrics query.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MetricsReport {
    pub boards: Vec<BoardCode>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by: Granularity,
    pub split: Option<Split>,
    /// Counts from 1 to one less than this are suppressed.
    pub suppression_threshold: u64,
    pub rows: Vec<MetricsRow>,
}

impl Analytics {
    /// The metrics for `query`, if `caller` may see them, unless a rebuild
    /// has them half-built.
    pub async fn metrics(
        &self,
        caller: &Caller,
        query: &MetricsQuery,
    ) -> Result<MetricsReport, Error> {
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
        let db = &self.platform.db;
        let contexts = self.contexts.get_many(db, &query.boards).await?;
        let rows = counted_rows(db, &contexts, query, &self.rules).await?;
        Ok(MetricsReport {
            boards: query.boards.clone(),
            from: query.from,
            to: query.to,
            by: query.by,
            split: query.split,
            suppression_threshold: self.rules.suppression_threshold,
            rows,
        })
    }
}

/// The rows for `query` from the metrics' counters
/// ([`crate::domain::aggregates`]), summed by the database, re-referrals
/// included (those of the days whose windows have ended by the query's
/// `as_of`, re-referred to the boards asked for). The same rows as
/// [`rows_from_facts`].
pub async fn counted_rows<C>(
    db: &C,
    boards: &BTreeMap<BoardCode, BoardContext>,
    query: &MetricsQuery,
    rules: &MetricRules,
) -> anyhow::Result<Vec<MetricsRow>>
where
    C: ConnectionTrait,
{
    let mut metrics = Metrics::new(boards, query, rules, Referrals::default());
    if !matches!(query.split, None | Some(Split::Adoption)) {
        for group in aggregates::groups(db, query).await? {
            metrics.name_key((None, group));
        }
    }
    let key = |sum: &aggregates::Sum| match query.split {
        None => (None, "all".to_owned()),
        Some(_) => (sum.board, sum.group.clone()),
    };
    for sum in aggregates::sums(db, query).await? {
        metrics.add_counter(key(&sum), sum.day, &sum.counter, sum.n);
    }
    for months in WINDOWS {
        for sum in aggregates::followed_sums(db, query, months).await? {
            if let Counter::Followed { months, boards } = sum.counter {
                metrics.add_followed(key(&sum), sum.day, months, boards, sum.n);
            }
        }
    }
    Ok(metrics.rows())
}

/// The rows for `query` worked out from the facts themselves (the
/// reference [`counted_rows`] must agree with), reading from the database only the facts that can
/// count in its range, one at a time (a national query over years of
/// referrals would not fit in memory as a list): a fact counts in a period
/// only by its receipt, first vetting outcome, withdrawal or an answer to a
/// question falling in it, so the others are left in the database. They
/// still matter in two ways, each read on its own, narrowly: a referral
/// received up to 12 months after the range may be a re-referral of a
/// patient vetted in it, and a split has a group for every value among the
/// boards' facts, counted or not.
pub async fn rows_from_facts<C>(
    db: &C,
    boards: &BTreeMap<BoardCode, BoardContext>,
    query: &MetricsQuery,
    rules: &MetricRules,
) -> anyhow::Result<Vec<MetricsRow>>
where
    C: ConnectionTrait + StreamTrait + Send,
{
    let of_boards = || fact::Column::Board.is_in(query.boards.iter().map(|b| b.code()));
    // The range is of Scottish days: from the instant `from` begins in
    // Scotland to the instant `to` ends.
    let first = days::start_of(query.from);
    let after = days::end_of(query.to);
    // A re-referral window ends at most 12 months after a vetting on the
    // last day; a day more allows for a shorter month's end.
    let re_referral_end = after
        .checked_add_months(chrono::Months::new(12))
        .and_then(|t| t.checked_add_days(chrono::Days::new(1)))
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC);

    let mut referrals = Referrals::default();
    let mut receipts = fact::Entity::find()
        .select_only()
        .column(fact::Column::PatientPseudonym)
        .column(fact::Column::ReceivedAt)
        .filter(of_boards())
        .filter(fact::Column::ReceivedAt.gte(first))
        .filter(fact::Column::ReceivedAt.lt(re_referral_end))
        .filter(fact::Column::PatientPseudonym.ne(""))
        .into_tuple::<(String, Option<chrono::DateTime<chrono::Utc>>)>()
        .stream(db)
        .await
        .context("cannot read the referrals for re-referrals")?;
    while let Some(row) = receipts.next().await {
        let (pseudonym, received) = row.context("cannot read the referrals for re-referrals")?;
        referrals.add_receipt(&pseudonym, received);
    }
    drop(receipts);

    let mut metrics = Metrics::new(boards, query, rules, referrals);
    for group in split_groups(db, query).await? {
        metrics.name_group(&group);
    }
    let in_range = |column: fact::Column| {
        Condition::all()
            .add(column.gte(first))
            .add(column.lt(after))
    };
    let mut facts = fact::Entity::find()
        .filter(of_boards())
        .filter(
            Condition::any()
                .add(in_range(fact::Column::ReceivedAt))
                .add(in_range(fact::Column::VettedAt))
                .add(in_range(fact::Column::WithdrawnAt))
                // Answers are inside the pauses' JSON: every fact with a
                // question is read.
                .add(fact::Column::PausesJson.ne(facts::NO_PAUSES)),
        )
        .stream(db)
        .await
        .context("cannot load the facts")?;
    while let Some(row) = facts.next().await {
        let row = row.context("cannot load the facts")?;
        metrics.add(&facts::from_row(&row)?);
    }
    drop(facts);
    Ok(metrics.rows())
}

/// For a split by a referral's attribute or priority: one stand-in fact per
/// value of it among the boards' facts, to name each group.
async fn split_groups(
    db: &impl ConnectionTrait,
    query: &MetricsQuery,
) -> anyhow::Result<Vec<Fact>> {
    // A stand-in is named by its attributes, never by its board.
    let Some(&board) = query.boards.first() else {
        return Ok(Vec::new());
    };
    let columns: &[fact::Column] = match query.split {
        None | Some(Split::Adoption) => return Ok(Vec::new()),
        Some(Split::UrbanRural) => &[fact::Column::UrbanRuralClass],
        Some(Split::Simd) => &[fact::Column::SimdQuintile],
        Some(Split::AgeBand) => &[fact::Column::AgeBand],
        Some(Split::Sex) => &[fact::Column::Sex],
        Some(Split::Priority) => &[fact::Column::Outcome, fact::Column::Priority],
    };
    let rows = fact::Entity::find()
        .select_only()
        .columns(columns.iter().copied())
        .distinct()
        .filter(fact::Column::Board.is_in(query.boards.iter().map(|b| b.code())))
        .into_json()
        .all(db)
        .await
        .context("cannot read the groups of the split")?;
    let text = |row: &serde_json::Value, column: &str| {
        row.get(column)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    let number = |row: &serde_json::Value, column: &str| {
        row.get(column)
            .and_then(serde_json::Value::as_i64)
            .and_then(|n| u8::try_from(n).ok())
            .unwrap_or(0)
    };
    Ok(rows
        .iter()
        .map(|row| {
            let mut stand_in = Fact::new("", board);
            stand_in.attributes.urban_rural_class = number(row, "urban_rural_class");
            stand_in.attributes.simd_quintile = number(row, "simd_quintile");
            stand_in.attributes.age_band = text(row, "age_band").unwrap_or_default();
            stand_in.attributes.sex = text(row, "sex").unwrap_or_default();
            stand_in.outcome = text(row, "outcome");
            stand_in.priority = text(row, "priority");
            stand_in
        })
        .collect())
}

#[cfg(test)]
#[path = "tests/counters.rs"]
mod tests;
