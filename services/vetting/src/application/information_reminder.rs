//! An information request the referrer has not answered within the board's
//! `information_request_reminder_working_days` becomes overdue: the request
//! is marked, and one `vetting.info_request_overdue` (which notification
//! turns into a reminder to the referrer) and an audit row are written with
//! the mark, in one transaction.
//!
//! The working days are the board's (weekends, Scotland's bank holidays and
//! its own closures do not count), between the Scottish day the question was
//! put and the Scottish day the sweep runs, by vetting's injected clock.
//!
//! Every instance of vetting sweeps: the mark is set by an update that
//! requires it unset and the request unanswered, and only the sweep whose
//! update changed the row writes the event, so a request is overdue once,
//! however many sweeps run. A crash before the commit leaves no mark and no
//! event, and the next sweep does both; after it, the outbox publishes the
//! event. A request answered, or a referral withdrawn or held at the
//! patient's request, is never marked.

use pathway_common::audit::{self, AuditEntry};
use pathway_common::outbox;
use pathway_proto::board::BOARD_CODES;
use pathway_proto::board::history::SettingsHistory;
use pathway_proto::v1::{self as proto, Event, Payload};
use pathway_proto::{BoardCode, days};
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::{Error, Vetting};
use crate::domain::status::Status;
use crate::store::{board_settings, information_request, worklist};

/// Whether a question put on `asked_on` is overdue on `today`: at least
/// `after` of the board's working days have passed since.
pub fn is_overdue(
    history: &SettingsHistory,
    asked_on: chrono::NaiveDate,
    today: chrono::NaiveDate,
    after: u32,
) -> bool {
    history.working_days_between(asked_on, today) >= after
}

impl Vetting {
    /// Mark every information request overdue at the clock's now, each with
    /// its event. Answers how many were marked.
    pub async fn mark_overdue_information_requests(&self) -> Result<usize, Error> {
        let now = self.clock.now();
        let today = days::day_of(now);
        let mut count = 0;
        for code in BOARD_CODES {
            let board = BoardCode::parse(code)
                .map_err(|e| Error::Unexpected(anyhow::anyhow!("board {code}: {e}")))?;
            // Never a row held at the patient's request.
            let rows = worklist::of_board(self.db(), board, &[Status::InfoRequested], None).await?;
            if rows.is_empty() {
                continue;
            }
            let open = information_request::awaiting_answer(
                self.db(),
                rows.iter().map(|r| r.referral_id.clone()),
            )
            .await?;
            if open.is_empty() {
                continue;
            }
            let after = board_settings::in_force_on(self.db(), board, today)
                .await?
                .information_request_reminder_working_days;
            let history = board_settings::history(self.db(), board).await?;
            for request in open {
                let asked_on = days::day_of(request.requested_at);
                if !is_overdue(&history, asked_on, today, after) {
                    continue;
                }
                let waited = history.working_days_between(asked_on, today);
                if self.mark_overdue(&request, now, waited).await? {
                    count += 1;
                }
            }
        }
        if count > 0 {
            self.platform.outbox.notify();
            tracing::info!(count, "information requests overdue: referrers reminded");
        }
        Ok(count)
    }

    /// Mark one request and write its event and audit row; `false` when
    /// another sweep or the answer got there first.
    async fn mark_overdue(
        &self,
        request: &information_request::Model,
        now: chrono::DateTime<chrono::Utc>,
        waited: u32,
    ) -> Result<bool, Error> {
        let txn = self.db().begin().await?;
        if !information_request::mark_overdue(&txn, &request.id, now).await? {
            txn.rollback().await?;
            return Ok(false);
        }
        let event = Event::new(
            &request.board,
            Uuid::parse_str(&request.referral_id).ok(),
            "system",
            now,
            Payload::VettingInfoRequestOverdue(proto::VettingInfoRequestOverdue {
                information_request_id: request.id.clone(),
                question_text_id: request.id.clone(),
                requested_at: Some(proto::timestamp(request.requested_at)),
                working_days: waited,
            }),
        );
        outbox::enqueue(&txn, &event).await?;
        audit::record(
            &txn,
            AuditEntry {
                actor: "system",
                actor_role: "system",
                action: "referral.information_request_overdue",
                referral_id: Some(request.referral_id.clone()),
                board: Some(&request.board),
                source: "vetting",
                purpose: Some("the referrer has not answered in time"),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(true)
    }
}

#[cfg(test)]
#[path = "tests/information_reminder.rs"]
mod tests;
