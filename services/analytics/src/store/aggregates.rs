//! The metrics' aggregates ([`crate::domain::aggregates`]) kept in
//! `metric_counters`: a fact's change applied in its transaction, a board's
//! counters worked out again from its facts, and the counters a query sums.

use std::collections::BTreeMap;

use anyhow::Context;
use chrono::NaiveDate;
use pathway_proto::BoardCode;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::{boards, fact, facts, metric_counter};
use crate::domain::aggregates::{
    Counter, Deltas, contribute, difference, dimension_name, dimension_of,
};
use crate::domain::fact::Fact;
use crate::domain::metrics::{BoardContext, MetricsQuery, Split};
use crate::domain::period::Granularity;

/// Counters per statement (6 columns: well inside both databases' limits).
const CHUNK: usize = 1_000;
/// Facts read at a time when a board's counters are worked out again.
const PAGE: u64 = 5_000;

/// Apply the change of one referral's fact from `old` to `new` to the
/// counters, in the caller's transaction.
pub async fn record_change(
    db: &impl ConnectionTrait,
    old: Option<&Fact>,
    new: &Fact,
) -> anyhow::Result<()> {
    let contexts = boards::contexts(db, &[new.board]).await?;
    let board = contexts.get(&new.board).cloned().unwrap_or_default();
    apply(db, &difference(old, new, &board)).await
}

/// Add `deltas` to the counters, a statement per [`CHUNK`].
pub async fn apply(db: &impl ConnectionTrait, deltas: &Deltas) -> anyhow::Result<()> {
    let rows: Vec<_> = deltas
        .iter()
        .filter(|(_, n)| **n != 0)
        .map(|(key, n)| {
            metric_counter::Model {
                dimension: key.dimension.to_owned(),
                board: key.board.code().to_owned(),
                day: key.day.map(|d| d.to_string()).unwrap_or_default(),
                group_name: key.group.clone(),
                counter: key.counter.name(),
                n: *n,
            }
            .into_active_model()
        })
        .collect();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(CHUNK).collect();
        metric_counter::Entity::insert_many(chunk)
            .on_conflict(
                OnConflict::columns([
                    metric_counter::Column::Dimension,
                    metric_counter::Column::Board,
                    metric_counter::Column::Day,
                    metric_counter::Column::GroupName,
                    metric_counter::Column::Counter,
                ])
                .value(
                    metric_counter::Column::N,
                    Expr::cust("metric_counters.n + excluded.n"),
                )
                .to_owned(),
            )
            .exec(db)
            .await
            .context("cannot add to the metrics' counters")?;
    }
    Ok(())
}

/// Work out the counters of `boards` again from their facts (a board's
/// settings or pathway changed, or its facts were replaced in bulk).
pub async fn recompute(db: &impl ConnectionTrait, boards: &[BoardCode]) -> anyhow::Result<()> {
    if boards.is_empty() {
        return Ok(());
    }
    metric_counter::Entity::delete_many()
        .filter(metric_counter::Column::Board.is_in(boards.iter().map(|b| b.code())))
        .exec(db)
        .await
        .context("cannot clear a board's counters")?;
    let contexts = boards::contexts(db, boards).await?;
    for board in boards {
        let context = contexts.get(board).cloned().unwrap_or_default();
        let deltas = board_counters(db, *board, &context).await?;
        apply(db, &deltas).await?;
    }
    Ok(())
}

/// Work out every board's counters again from the facts (after a rebuild
/// clears the facts, or when the counters are first made).
pub async fn recompute_all(db: &impl ConnectionTrait) -> anyhow::Result<()> {
    metric_counter::Entity::delete_many()
        .exec(db)
        .await
        .context("cannot clear the counters")?;
    let boards: Vec<String> = fact::Entity::find()
        .select_only()
        .column(fact::Column::Board)
        .distinct()
        .into_tuple()
        .all(db)
        .await
        .context("cannot read the boards of the facts")?;
    let boards: Vec<BoardCode> = boards
        .iter()
        .filter_map(|b| BoardCode::parse(b).ok())
        .collect();
    recompute(db, &boards).await
}

/// The counters of `board`'s facts, read a page at a time.
async fn board_counters(
    db: &impl ConnectionTrait,
    board: BoardCode,
    context: &BoardContext,
) -> anyhow::Result<Deltas> {
    let mut deltas = BTreeMap::new();
    let mut after = String::new();
    loop {
        let page = fact::Entity::find()
            .filter(fact::Column::Board.eq(board.code()))
            .filter(fact::Column::ReferralId.gt(after.clone()))
            .order_by_asc(fact::Column::ReferralId)
            .limit(PAGE)
            .all(db)
            .await
            .context("cannot read a board's facts")?;
        let Some(last) = page.last() else {
            break;
        };
        after = last.referral_id.clone();
        for row in &page {
            contribute(&mut deltas, &facts::from_row(row)?, context, 1);
        }
    }
    Ok(deltas)
}

/// The counters of one bucket of days, one group and one kind, summed over
/// the boards asked for (over each board on its own for the adoption
/// split).
#[derive(Debug, Clone)]
pub struct Sum {
    /// The board, for the adoption split.
    pub board: Option<BoardCode>,
    /// The first day of the bucket that falls in the range: the day itself
    /// for weeks, else the month's first day in the range (months and
    /// quarters are made of whole months).
    pub day: NaiveDate,
    pub group: String,
    pub counter: Counter,
    pub n: u64,
}

/// The sums of the counters `query` needs, added up by the database.
pub async fn sums(db: &impl ConnectionTrait, query: &MetricsQuery) -> anyhow::Result<Vec<Sum>> {
    use metric_counter::Column as C;
    let dimension = dimension_name(dimension_of(query.split));
    let by_board = query.split == Some(Split::Adoption);
    let by_group = query.split.is_some();
    let bucket = match query.by {
        Granularity::Week => Expr::col(C::Day),
        Granularity::Month | Granularity::Quarter => Expr::cust("substr(day, 1, 7)"),
    };
    let mut select = metric_counter::Entity::find()
        .select_only()
        .column_as(
            if by_board {
                Expr::col(C::Board)
            } else {
                Expr::cust("CAST('' AS TEXT)")
            },
            "board",
        )
        .column_as(bucket.clone(), "bucket")
        .column_as(
            if by_group {
                Expr::col(C::GroupName)
            } else {
                Expr::cust("CAST('' AS TEXT)")
            },
            "group_name",
        )
        .column(C::Counter)
        .column_as(Expr::cust("CAST(SUM(n) AS BIGINT)"), "n")
        .filter(C::Dimension.eq(dimension))
        .filter(C::Board.is_in(query.boards.iter().map(|b| b.code())))
        .filter(C::Day.gte(query.from.to_string()))
        .filter(C::Day.lte(query.to.to_string()))
        .group_by(bucket)
        .group_by(C::Counter);
    if by_board {
        select = select.group_by(C::Board);
    }
    if by_group {
        select = select.group_by(C::GroupName);
    }
    let rows: Vec<(String, String, String, String, i64)> = select
        .into_tuple()
        .all(db)
        .await
        .context("cannot sum the metrics' counters")?;
    let mut out = Vec::with_capacity(rows.len());
    for (board, bucket, group, counter, n) in rows {
        let Ok(n) = u64::try_from(n) else {
            continue;
        };
        if n == 0 {
            continue;
        }
        let day = match query.by {
            Granularity::Week => NaiveDate::parse_from_str(&bucket, "%Y-%m-%d"),
            Granularity::Month | Granularity::Quarter => {
                NaiveDate::parse_from_str(&format!("{bucket}-01"), "%Y-%m-%d")
            }
        }
        .with_context(|| format!("a stored counter's day {bucket:?} does not read"))?;
        let counter = Counter::parse(&counter)
            .with_context(|| format!("a stored counter {counter:?} does not read"))?;
        let board = if by_board {
            Some(BoardCode::parse(&board).map_err(|e| anyhow::anyhow!("{e}"))?)
        } else {
            None
        };
        out.push(Sum {
            board,
            day: day.max(query.from),
            group,
            counter,
            n,
        });
    }
    Ok(out)
}

/// The groups of `query`'s split among its boards' facts.
pub async fn groups(
    db: &impl ConnectionTrait,
    query: &MetricsQuery,
) -> anyhow::Result<Vec<String>> {
    use metric_counter::Column as C;
    let dimension = dimension_name(dimension_of(query.split));
    metric_counter::Entity::find()
        .select_only()
        .column(C::GroupName)
        .distinct()
        .filter(C::Dimension.eq(dimension))
        .filter(C::Board.is_in(query.boards.iter().map(|b| b.code())))
        .filter(C::Day.eq(""))
        .filter(C::Counter.eq(Counter::Fact.name()))
        .filter(C::N.gt(0))
        .into_tuple()
        .all(db)
        .await
        .context("cannot read the groups of the split")
}

#[cfg(test)]
#[path = "tests/aggregates.rs"]
mod tests;
