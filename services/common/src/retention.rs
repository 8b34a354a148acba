//! Keeping personal data only as long as a board's settings say
//! (`pathway_proto::board::Retention`): the parts every service's daily
//! sweep shares. Each service removes what it holds past its period, a batch
//! per transaction, and leaves an audit row saying what went and why
//! (`retention.purge`); the audit trail itself is kept for the board's
//! `audit_years` and then goes the same way.
//!
//! A sweep is safe to run on every instance at once and to stop at any
//! instant: each batch is one transaction that removes or scrubs rows still
//! past the cutoff, so a second sweeper finds nothing left to do, and a
//! crash leaves the rest for the next day's sweep.

use std::future::Future;

use chrono::{DateTime, Utc};
use pathway_proto::BoardCode;
use pathway_proto::days;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect,
};

use crate::audit::{self, AuditEntry, entity};
use crate::auth::Role;
use crate::board_settings::{self, SettingsError};

/// How often each service sweeps: hourly, so nothing is kept more than an
/// hour past its period, and each sweep finds little to do.
pub const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Rows removed or scrubbed per transaction: small enough that a sweep never
/// holds SQLite's one writer for long.
pub const BATCH: u64 = 500;

/// Run `batch` until it does less than a full [`BATCH`]; the rows done in all.
pub async fn in_batches<F, Fut>(mut batch: F) -> Result<u64, DbErr>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<u64, DbErr>>,
{
    let mut total = 0;
    loop {
        let done = batch().await?;
        total += done;
        if done < BATCH {
            return Ok(total);
        }
    }
}

/// One batch of `board`'s audit rows written before `cutoff`, deleted;
/// how many.
pub async fn purge_audit_batch<C: ConnectionTrait>(
    db: &C,
    board: BoardCode,
    cutoff: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let ids: Vec<String> = entity::Entity::find()
        .select_only()
        .column(entity::Column::Id)
        .filter(entity::Column::Board.eq(board.code()))
        .filter(entity::Column::At.lt(cutoff))
        .limit(BATCH)
        .into_tuple()
        .all(db)
        .await?;
    if ids.is_empty() {
        return Ok(0);
    }
    let deleted = entity::Entity::delete_many()
        .filter(entity::Column::Id.is_in(ids))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}

/// What one sweep removed of one kind of data, for one board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purged {
    pub board: BoardCode,
    /// What went, in words: `messages' addresses and words`.
    pub what: &'static str,
    pub rows: u64,
    /// Rows last changed before this instant went.
    pub cutoff: DateTime<Utc>,
}

impl Purged {
    /// The audit row's purpose: what went, how many, and the Scottish day
    /// before which.
    pub fn purpose(&self) -> String {
        format!(
            "retention: {} {} last changed before {}",
            self.rows,
            self.what,
            days::day_of(self.cutoff).format("%-d %B %Y")
        )
    }
}

/// Leave the audit row of a sweep by `service` that removed something.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    service: &str,
    purged: &Purged,
) -> Result<(), DbErr> {
    audit::record(
        db,
        AuditEntry {
            actor: service,
            actor_role: Role::Service.as_str(),
            action: "retention.purge",
            referral_id: None,
            board: Some(purged.board.code()),
            source: service,
            purpose: Some(&purged.purpose()),
        },
    )
    .await
}

/// One sweep of a service's tables, kind by kind and board by board: each
/// kind's batches run until none is left ([`in_batches`]), and
/// [`Sweep::finish`] audits what went, a row per board and kind.
#[derive(Debug, Default)]
pub struct Sweep {
    went: Vec<Purged>,
}

impl Sweep {
    /// Run `batch` (one batch of `board`'s `what` last changed before
    /// `cutoff`, removed or emptied) until it is done.
    pub async fn kind<F, Fut>(
        &mut self,
        board: BoardCode,
        what: &'static str,
        cutoff: DateTime<Utc>,
        batch: F,
    ) -> Result<(), DbErr>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<u64, DbErr>>,
    {
        let rows = in_batches(batch).await?;
        if rows > 0 {
            self.went.push(Purged {
                board,
                what,
                rows,
                cutoff,
            });
        }
        Ok(())
    }

    /// `board`'s audit rows written before `cutoff`.
    pub async fn audit_rows(
        &mut self,
        db: &DatabaseConnection,
        board: BoardCode,
        cutoff: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        self.kind(board, AUDIT_ROWS, cutoff, || {
            purge_audit_batch(db, board, cutoff)
        })
        .await
    }

    /// Audit what went as `service` ([`record`]); what went.
    pub async fn finish(
        self,
        db: &DatabaseConnection,
        service: &str,
    ) -> Result<Vec<Purged>, DbErr> {
        for purged in &self.went {
            record(db, service, purged).await?;
            tracing::info!(board = %purged.board, rows = purged.rows, what = purged.what, "retention: removed");
        }
        Ok(self.went)
    }
}

/// Remove the audit rows past each board's `retention.audit_years`, by the
/// settings this service keeps ([`crate::board_settings`]) in force on the
/// Scottish day of `now`, and audit what went as `service`: the whole sweep
/// of a service that holds nothing else personal past its period.
pub async fn sweep_audit(
    db: &DatabaseConnection,
    service: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Purged>, SettingsError> {
    let today = days::day_of(now);
    let mut sweep = Sweep::default();
    for board in BoardCode::all() {
        let periods = board_settings::in_force_on(db, board, today)
            .await?
            .retention;
        sweep
            .audit_rows(db, board, periods.audit_cutoff(today))
            .await?;
    }
    Ok(sweep.finish(db, service).await?)
}

/// [`Purged::what`] of audit rows.
pub const AUDIT_ROWS: &str = "audit rows";

#[cfg(test)]
#[path = "tests/retention.rs"]
mod tests;
