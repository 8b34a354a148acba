//! Analytics' handlers: each event changes one fact (or a board's history)
//! inside the inbox transaction; a metrics query loads the facts of the
//! boards asked for and computes the rows.

use std::collections::BTreeMap;

use anyhow::Context;
use chrono::NaiveDate;
use futures::StreamExt;
use pathway_common::auth::{Caller, Role};
use pathway_common::http::{ApiError, FieldError};
use pathway_common::inbox::HandleError;
use pathway_common::platform::Platform;
use pathway_proto::board::BoardSettings;
use pathway_proto::calendar::WorkingCalendar;
use pathway_proto::v1::{Event, Payload};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, StreamTrait, TransactionTrait,
};
use serde::Serialize;

use crate::db::{fact, pathway_change, settings_change};
use crate::domain::fact::{Attributes, Fact, Pause, Route};
use crate::domain::metrics::{
    BoardContext, MetricRules, Metrics, MetricsQuery, MetricsRow, Referrals, Split,
};
use crate::domain::period::Granularity;

#[derive(Clone)]
pub struct Analytics {
    pub platform: Platform,
    pub rules: MetricRules,
}

/// What a baseline import loaded.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub board: String,
    /// Rows loaded from the file.
    pub loaded: u64,
    /// Of those, rows that replaced a fact loaded before under the same reference.
    pub replaced: u64,
}

/// The answer to a metrics query.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MetricsReport {
    pub boards: Vec<String>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by: Granularity,
    pub split: Option<Split>,
    /// Counts from 1 to one less than this are suppressed.
    pub suppression_threshold: u64,
    pub rows: Vec<MetricsRow>,
}

impl Analytics {
    /// Record `event` in the inbox transaction.
    pub async fn record(
        &self,
        txn: &DatabaseTransaction,
        event: &Event,
    ) -> Result<(), HandleError> {
        let at = event
            .occurred_at()
            .ok_or_else(|| HandleError::Rejected("the event has no valid occurred_at".into()))?;
        match &event.payload {
            Some(Payload::BoardPathwayChanged(changed)) => {
                let effective_date = NaiveDate::parse_from_str(&changed.effective_date, "%Y-%m-%d")
                    .map_err(|e| {
                        HandleError::Rejected(format!(
                            "effective_date {:?} is not a date: {e}",
                            changed.effective_date
                        ))
                    })?;
                pathway_change::Entity::insert(pathway_change::ActiveModel {
                    event_id: Set(event.event_id.clone()),
                    board: Set(event.board.clone()),
                    enabled: Set(changed.enabled),
                    effective_date: Set(effective_date),
                    changed_at: Set(at),
                })
                .exec(txn)
                .await?;
                Ok(())
            }
            Some(Payload::BoardSettingsChanged(changed)) => {
                serde_json::from_str::<BoardSettings>(&changed.settings_json).map_err(|e| {
                    HandleError::Rejected(format!("settings_json is not a board's settings: {e}"))
                })?;
                settings_change::Entity::insert(settings_change::ActiveModel {
                    event_id: Set(event.event_id.clone()),
                    board: Set(event.board.clone()),
                    settings_json: Set(changed.settings_json.clone()),
                    changed_at: Set(at),
                })
                .exec(txn)
                .await?;
                Ok(())
            }
            _ => {
                let referral = Fact::referral_of(event)
                    .map_err(|e| HandleError::Rejected(e.to_string()))?
                    .ok_or_else(|| HandleError::Rejected("event without payload".into()))?;
                let existing = fact::Entity::find_by_id(referral.to_owned())
                    .one(txn)
                    .await?;
                let mut current = match &existing {
                    Some(row) => from_row(row)?,
                    None => Fact::new(referral, &event.board),
                };
                current
                    .apply(event)
                    .map_err(|e| HandleError::Rejected(e.to_string()))?;
                let row = to_row(&current)?;
                if existing.is_some() {
                    fact::Entity::update(row.into_active_model().reset_all())
                        .exec(txn)
                        .await?;
                } else {
                    fact::Entity::insert(row.into_active_model())
                        .exec(txn)
                        .await?;
                }
                Ok(())
            }
        }
    }

    /// Load a board's baseline file: all of it, or nothing and every
    /// problem (422 naming each line and column).
    pub async fn import_baseline(
        &self,
        caller: &Caller,
        board: &str,
        file: &[u8],
    ) -> Result<ImportReport, ApiError> {
        caller.require_role(&[Role::BoardAdmin])?;
        caller.require_board(board)?;
        let facts = crate::baseline::parse(board, file).map_err(|problems| {
            let rejected = problems
                .iter()
                .map(|p| p.line)
                .collect::<std::collections::BTreeSet<_>>()
                .len();
            ApiError::validation(
                problems
                    .into_iter()
                    .map(|p| {
                        let column = if p.column.is_empty() {
                            String::new()
                        } else {
                            format!(".{}", p.column)
                        };
                        FieldError::new(format!("line {}{column}", p.line), p.reason)
                    })
                    .collect(),
            )
            .with_detail("rejected_rows", rejected)
        })?;
        let txn = self.platform.db.begin().await?;
        let mut replaced = 0;
        for chunk in facts.chunks(500) {
            let ids: Vec<String> = chunk.iter().map(|f| f.referral_id.clone()).collect();
            replaced += fact::Entity::delete_many()
                .filter(fact::Column::ReferralId.is_in(ids))
                .exec(&txn)
                .await?
                .rows_affected;
            let rows = chunk
                .iter()
                .map(|f| to_row(f).map(IntoActiveModel::into_active_model))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| ApiError::Internal(anyhow::anyhow!("{e}")))?;
            fact::Entity::insert_many(rows).exec(&txn).await?;
        }
        txn.commit().await?;
        tracing::info!(
            board,
            by = %caller.subject,
            loaded = facts.len(),
            replaced,
            "baseline imported"
        );
        Ok(ImportReport {
            board: board.to_owned(),
            loaded: facts.len() as u64,
            replaced,
        })
    }

    /// The metrics for `query`, if `caller` may see them.
    pub async fn metrics(
        &self,
        caller: &Caller,
        query: &MetricsQuery,
    ) -> Result<MetricsReport, ApiError> {
        caller.require_role(&[Role::Evaluator, Role::BoardAdmin])?;
        for board in &query.boards {
            caller.require_board(board)?;
        }
        let db = &self.platform.db;
        let boards = board_contexts(db, &query.boards).await?;
        let rows = metric_rows(db, &boards, query, &self.rules).await?;
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

/// The rows for `query`, reading from the database only the facts that can
/// count in its range, one at a time (a national query over years of
/// referrals would not fit in memory as a list): a fact counts in a period
/// only by its receipt, first vetting outcome, withdrawal or an answer to a
/// question falling in it, so the others are left in the database. They
/// still matter in two ways, each read on its own, narrowly: a referral
/// received up to 12 months after the range may be a re-referral of a
/// patient vetted in it, and a split has a group for every value among the
/// boards' facts, counted or not.
async fn metric_rows<C>(
    db: &C,
    boards: &BTreeMap<String, BoardContext>,
    query: &MetricsQuery,
    rules: &MetricRules,
) -> anyhow::Result<Vec<MetricsRow>>
where
    C: ConnectionTrait + StreamTrait + Send,
{
    let of_boards = || fact::Column::Board.is_in(query.boards.iter().cloned());
    let midnight = |day: NaiveDate| day.and_time(chrono::NaiveTime::MIN).and_utc();
    let first = midnight(query.from);
    let after = query
        .to
        .succ_opt()
        .map_or(chrono::DateTime::<chrono::Utc>::MAX_UTC, midnight);
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
                .add(fact::Column::PausesJson.ne(NO_PAUSES)),
        )
        .stream(db)
        .await
        .context("cannot load the facts")?;
    while let Some(row) = facts.next().await {
        let row = row.context("cannot load the facts")?;
        metrics.add(&from_row(&row).map_err(|e| anyhow::anyhow!("{e}"))?);
    }
    drop(facts);
    Ok(metrics.rows())
}

/// What `to_row` writes for a referral with no questions.
const NO_PAUSES: &str = "[]";

/// For a split by a referral's attribute or priority: one stand-in fact per
/// value of it among the boards' facts, to name each group.
async fn split_groups(
    db: &impl ConnectionTrait,
    query: &MetricsQuery,
) -> anyhow::Result<Vec<Fact>> {
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
        .filter(fact::Column::Board.is_in(query.boards.iter().cloned()))
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
            let mut stand_in = Fact::new("", "");
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

/// Each board's calendar and target from its latest settings, and its
/// adoption date: the earliest date from which its pathway was switched on.
async fn board_contexts(
    db: &impl ConnectionTrait,
    boards: &[String],
) -> anyhow::Result<BTreeMap<String, BoardContext>> {
    let mut out = BTreeMap::new();
    for board in boards {
        let settings = settings_change::Entity::find()
            .filter(settings_change::Column::Board.eq(board.as_str()))
            .order_by_desc(settings_change::Column::ChangedAt)
            .one(db)
            .await
            .context("cannot load a board's settings")?
            .map(|row| serde_json::from_str::<BoardSettings>(&row.settings_json))
            .transpose()
            .with_context(|| format!("the settings kept for {board} do not read"))?
            .unwrap_or_default();
        let adopted_on = pathway_change::Entity::find()
            .filter(pathway_change::Column::Board.eq(board.as_str()))
            .filter(pathway_change::Column::Enabled.eq(true))
            .order_by_asc(pathway_change::Column::EffectiveDate)
            .one(db)
            .await
            .context("cannot load a board's pathway changes")?
            .map(|row| row.effective_date);
        out.insert(
            board.clone(),
            BoardContext {
                calendar: WorkingCalendar::new(
                    settings.scottish_bank_holidays,
                    &settings.extra_holidays,
                ),
                vetting_target_working_days: settings.vetting_target_working_days,
                adopted_on,
            },
        );
    }
    Ok(out)
}

fn from_row(row: &fact::Model) -> Result<Fact, HandleError> {
    let pauses: Vec<Pause> = serde_json::from_str(&row.pauses_json)
        .map_err(|e| HandleError::Retry(anyhow::anyhow!("a stored fact does not read: {e}")))?;
    Ok(Fact {
        referral_id: row.referral_id.clone(),
        board: row.board.clone(),
        route: row.route.as_deref().and_then(Route::parse),
        received_at: row.received_at,
        attributes: Attributes {
            age_band: row.age_band.clone(),
            sex: row.sex.clone(),
            urban_rural_class: u8::try_from(row.urban_rural_class).unwrap_or(0),
            simd_quintile: u8::try_from(row.simd_quintile).unwrap_or(0),
            patient_pseudonym: row.patient_pseudonym.clone(),
        },
        red_flags: u32::try_from(row.red_flags).unwrap_or(0),
        re_referral: row.re_referral,
        claimed_at: row.claimed_at,
        pauses,
        vetted_at: row.vetted_at,
        decided_at: row.decided_at,
        outcome: row.outcome.clone(),
        priority: row.priority.clone(),
        notified_at: row.notified_at,
        notification_failures: u32::try_from(row.notification_failures).unwrap_or(0),
        withdrawn_at: row.withdrawn_at,
        closed_at: row.closed_at,
        closed_reason: row.closed_reason.clone(),
    })
}

fn to_row(fact: &Fact) -> Result<fact::Model, HandleError> {
    Ok(fact::Model {
        referral_id: fact.referral_id.clone(),
        board: fact.board.clone(),
        route: fact.route.map(|r| r.as_str().to_owned()),
        received_at: fact.received_at,
        age_band: fact.attributes.age_band.clone(),
        sex: fact.attributes.sex.clone(),
        urban_rural_class: i16::from(fact.attributes.urban_rural_class),
        simd_quintile: i16::from(fact.attributes.simd_quintile),
        patient_pseudonym: fact.attributes.patient_pseudonym.clone(),
        red_flags: i32::try_from(fact.red_flags).unwrap_or(i32::MAX),
        re_referral: fact.re_referral,
        claimed_at: fact.claimed_at,
        pauses_json: serde_json::to_string(&fact.pauses)
            .map_err(|e| HandleError::Retry(e.into()))?,
        vetted_at: fact.vetted_at,
        decided_at: fact.decided_at,
        outcome: fact.outcome.clone(),
        priority: fact.priority.clone(),
        notified_at: fact.notified_at,
        notification_failures: i32::try_from(fact.notification_failures).unwrap_or(i32::MAX),
        withdrawn_at: fact.withdrawn_at,
        closed_at: fact.closed_at,
        closed_reason: fact.closed_reason.clone(),
    })
}
