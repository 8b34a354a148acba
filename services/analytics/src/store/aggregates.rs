//! The metrics' aggregates ([`crate::domain::aggregates`]) kept in
//! `metric_counters`: a fact's change applied in its transaction, a board's
//! counters worked out again from its facts, and the counters a query sums.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context;
use chrono::{Datelike, NaiveDate};
use pathway_proto::BoardCode;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Statement, Value,
};

use super::{boards, fact, facts, metric_counter, re_referrals};
use crate::domain::aggregates::{
    Counter, Deltas, contribute, difference, dimension_name, dimension_of, followed_dimension_name,
};
use crate::domain::fact::Fact;
use crate::domain::metrics::{BoardContext, MetricsQuery, Split};
use crate::domain::period::Granularity;
use crate::domain::re_referrals::last_followed_day;

/// Counters per statement (6 columns: well inside both databases' limits).
const CHUNK: usize = 1_000;
/// Facts read at a time when a board's counters are worked out again.
const PAGE: u64 = 5_000;

/// Apply the change of one referral's fact from `old` to `new` to the
/// counters, in the caller's transaction, under its board's context, and
/// work out its patient's re-referrals again. Both facts keep their
/// re-referrals as the store had them ([`re_referrals`] owns them).
pub async fn record_change(
    db: &impl ConnectionTrait,
    old: Option<&Fact>,
    new: &Fact,
    board: &BoardContext,
) -> anyhow::Result<()> {
    let mut deltas = difference(old, new, board);
    // The patient's referrals closed with advice may count this one as a
    // re-referral, or no longer.
    let patients: BTreeSet<String> = old
        .into_iter()
        .chain([new])
        .map(|f| f.attributes.patient_pseudonym.clone())
        .collect();
    let contexts = boards::contexts(db, &BoardCode::all().collect::<Vec<_>>()).await?;
    re_referrals::refresh(db, &patients, &contexts, &mut deltas).await?;
    apply(db, &deltas).await
}

/// The dimension under which `dimension`'s counters are also kept summed
/// by month (day `YYYY-MM`), so a query of whole months reads a month's
/// row instead of its days'.
pub fn by_month(dimension: &str) -> String {
    format!("{dimension}:month")
}

/// Add `deltas` to the counters, by day and by month, a statement per
/// [`CHUNK`].
pub async fn apply(db: &impl ConnectionTrait, deltas: &Deltas) -> anyhow::Result<()> {
    let mut sums: BTreeMap<(String, &str, String, &str, String), i64> = BTreeMap::new();
    for (key, n) in deltas.iter().filter(|(_, n)| **n != 0) {
        let day = key.day.map(|d| d.to_string()).unwrap_or_default();
        let name = key.counter.name();
        if let Some(d) = key.day {
            let month = (
                by_month(key.dimension),
                key.board.code(),
                d.format("%Y-%m").to_string(),
                key.group.as_str(),
                name.clone(),
            );
            *sums.entry(month).or_default() += n;
        }
        let daily = (
            key.dimension.to_owned(),
            key.board.code(),
            day,
            key.group.as_str(),
            name,
        );
        *sums.entry(daily).or_default() += n;
    }
    let rows: Vec<_> = sums.into_iter().filter(|(_, n)| *n != 0).collect();
    if db.get_database_backend() == DatabaseBackend::Postgres {
        return add_unnested(db, rows).await;
    }
    let rows: Vec<_> = rows
        .into_iter()
        .map(|((dimension, board, day, group, counter), n)| {
            metric_counter::Model {
                dimension,
                board: board.to_owned(),
                day,
                group_name: group.to_owned(),
                counter,
                n,
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

/// A counter's key and what to add to it, as [`apply`] sums them.
type Addition<'a> = ((String, &'a str, String, &'a str, String), i64);

/// Add `rows` to the counters on PostgreSQL in one statement of six
/// arrays: a statement of many rows' values is parsed and planned afresh
/// for every size, which costs more than adding to the counters.
async fn add_unnested(db: &impl ConnectionTrait, rows: Vec<Addition<'_>>) -> anyhow::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut columns: [Vec<String>; 5] = Default::default();
    let mut ns = Vec::with_capacity(rows.len());
    for ((dimension, board, day, group, counter), n) in rows {
        for (column, value) in
            columns
                .iter_mut()
                .zip([dimension, board.to_owned(), day, group.to_owned(), counter])
        {
            column.push(value);
        }
        ns.push(n);
    }
    let [dimensions, boards, days, groups, counters] = columns;
    let statement = Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "INSERT INTO metric_counters (dimension, board, day, group_name, counter, n) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[]) \
         ON CONFLICT (dimension, board, day, group_name, counter) \
         DO UPDATE SET n = metric_counters.n + excluded.n",
        [
            Value::from(dimensions),
            Value::from(boards),
            Value::from(days),
            Value::from(groups),
            Value::from(counters),
            Value::from(ns),
        ],
    );
    db.execute_raw(statement)
        .await
        .context("cannot add to the metrics' counters")?;
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
/// clears the facts, or when the counters are first made), and first the
/// re-referrals each fact keeps.
pub async fn recompute_all(db: &impl ConnectionTrait) -> anyhow::Result<()> {
    re_referrals::refresh_all(db).await?;
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

/// The sums of the counters `query` needs, added up by the database: the
/// whole months of a query by month or quarter from the counters by month,
/// the days of a week or of a month cut by the range from those by day.
pub async fn sums(db: &impl ConnectionTrait, query: &MetricsQuery) -> anyhow::Result<Vec<Sum>> {
    sums_of(db, query, dimension_name(dimension_of(query.split))).await
}

/// The sums of the counters of re-referrals followed for `months` that
/// `query` counts: those of the days whose windows had ended by its
/// `as_of`.
pub async fn followed_sums(
    db: &impl ConnectionTrait,
    query: &MetricsQuery,
    months: u32,
) -> anyhow::Result<Vec<Sum>> {
    let Some(last) = last_followed_day(query.as_of, months) else {
        return Ok(Vec::new());
    };
    if last < query.from {
        return Ok(Vec::new());
    }
    let mut until = query.clone();
    until.to = until.to.min(last);
    let dimension = followed_dimension_name(dimension_of(query.split));
    let mut out = sums_of(db, &until, dimension).await?;
    out.retain(|sum| matches!(sum.counter, Counter::Followed { months: m, .. } if m == months));
    Ok(out)
}

/// The sums of `dimension`'s counters (see [`sums`]).
async fn sums_of(
    db: &impl ConnectionTrait,
    query: &MetricsQuery,
    dimension: &str,
) -> anyhow::Result<Vec<Sum>> {
    let whole = match query.by {
        Granularity::Week => None,
        Granularity::Month | Granularity::Quarter => whole_months(query.from, query.to),
    };
    let Some((first, last)) = whole else {
        let (from, to) = (query.from.to_string(), query.to.to_string());
        return sum(db, query, dimension, from, to).await;
    };
    let mut out = sum(
        db,
        query,
        &by_month(dimension),
        first.format("%Y-%m").to_string(),
        last.format("%Y-%m").to_string(),
    )
    .await?;
    if let Some(before) = first.pred_opt()
        && query.from <= before
    {
        let (from, to) = (query.from.to_string(), before.to_string());
        out.extend(sum(db, query, dimension, from, to).await?);
    }
    if let Some(after) = month_end(last).succ_opt()
        && after <= query.to
    {
        let (from, to) = (after.to_string(), query.to.to_string());
        out.extend(sum(db, query, dimension, from, to).await?);
    }
    Ok(out)
}

/// The first days of the first and last months wholly inside `from..=to`,
/// if any month is.
fn whole_months(from: NaiveDate, to: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    let first = if from.day() == 1 {
        from
    } else {
        month_end(from).succ_opt()?
    };
    let last = if month_end(to) == to {
        to.with_day(1)?
    } else {
        to.with_day(1)?.checked_sub_months(chrono::Months::new(1))?
    };
    (first <= last).then_some((first, last))
}

/// The last day of `day`'s month.
fn month_end(day: NaiveDate) -> NaiveDate {
    day.with_day(1)
        .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
        .and_then(|d| d.pred_opt())
        .unwrap_or(NaiveDate::MAX)
}

/// The counters of `dimension` (by day or by month) from `first` to `last`
/// (days or months as stored), summed by the database by bucket, kind and,
/// as `query`'s split asks, board and group.
async fn sum(
    db: &impl ConnectionTrait,
    query: &MetricsQuery,
    dimension: &str,
    first: String,
    last: String,
) -> anyhow::Result<Vec<Sum>> {
    use metric_counter::Column as C;
    let by_board = query.split == Some(Split::Adoption);
    let by_group = query.split.is_some();
    // A month's first seven characters, of a day or of a month's row.
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
        .filter(C::Day.gte(first))
        .filter(C::Day.lte(last))
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
