//! A board's worklist as a clinician reads it, a page at a time: red flags
//! first, then the longest wait, then the oldest.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use pathway_common::auth::{Caller, Role};
use pathway_proto::board::history::SettingsHistory;
use pathway_proto::{BoardCode, days};

use super::views::{Worklist, WorklistRow};
use super::{Error, Vetting};
use crate::domain::status::Status;
use crate::domain::wait::{Pause, waited_at};
use crate::store::{board_settings, information_request, worklist};

/// Which rows a worklist shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorklistFilter {
    /// [`Status::WAITING`] when `None`.
    pub statuses: Option<Vec<Status>>,
    /// Only the caller's claims.
    pub mine: bool,
}

/// Which page of a worklist: at most `limit` rows, those after `after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorklistPage {
    pub limit: u64,
    pub after: Option<WorklistCursor>,
}

/// Where a page of the worklist ended: the last row's place in the order.
///
/// Waits grow as working days pass, and the order follows them; so a cursor
/// also carries the instant its walk began, and every later page is ordered
/// by the waits as they stood then. A day turning over between two pages
/// then moves no row from one side of the cursor to the other: nothing is
/// skipped or shown twice. The rows still show their waits as they are now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorklistCursor {
    as_of: DateTime<Utc>,
    key: OrderKey,
}

/// A row's place on the worklist; the derived order is the worklist's:
/// red flags first, then the longest wait, then the oldest, then the id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct OrderKey {
    no_red_flags: bool,
    longest_wait: Reverse<u32>,
    received_at: DateTime<Utc>,
    referral_id: String,
}

impl WorklistCursor {
    /// `<as of>.<red flags 1|0>.<waited>.<received seconds>.<received nanoseconds>.<referral id>`.
    pub fn encode(&self) -> String {
        let key = &self.key;
        format!(
            "{}.{}.{}.{}.{}.{}",
            self.as_of.timestamp(),
            u8::from(!key.no_red_flags),
            key.longest_wait.0,
            key.received_at.timestamp(),
            key.received_at.timestamp_subsec_nanos(),
            key.referral_id
        )
    }

    /// A cursor [`encode`](Self::encode) wrote, or `None`.
    pub fn decode(text: &str) -> Option<Self> {
        let mut parts = text.splitn(6, '.');
        let as_of = DateTime::from_timestamp(parts.next()?.parse().ok()?, 0)?;
        let red_flags = match parts.next()? {
            "1" => true,
            "0" => false,
            _ => return None,
        };
        let waited: u32 = parts.next()?.parse().ok()?;
        let seconds: i64 = parts.next()?.parse().ok()?;
        let nanos: u32 = parts.next()?.parse().ok()?;
        let referral_id = parts.next()?;
        uuid::Uuid::parse_str(referral_id).ok()?;
        Some(Self {
            as_of,
            key: OrderKey {
                no_red_flags: !red_flags,
                longest_wait: Reverse(waited),
                received_at: DateTime::from_timestamp(seconds, nanos)?,
                referral_id: referral_id.to_owned(),
            },
        })
    }
}

impl Vetting {
    /// GET /v1/boards/{board}/worklist: one page of it.
    pub async fn worklist(
        &self,
        caller: &Caller,
        board: BoardCode,
        filter: &WorklistFilter,
        page: &WorklistPage,
    ) -> Result<Worklist, Error> {
        caller.require_role(&[Role::Clinician])?;
        caller.require_board(board.code())?;
        let statuses = filter
            .statuses
            .clone()
            .unwrap_or_else(|| Status::WAITING.to_vec());
        let mine = filter.mine.then_some(caller.subject.as_str());
        let rows = worklist::of_board(self.db(), board, &statuses, mine).await?;
        let settings = board_settings::of_board(self.db(), board).await?;
        let history = board_settings::history(self.db(), board).await?;
        let requests = information_request::of_referrals(
            self.db(),
            rows.iter().map(|r| r.referral_id.clone()),
        )
        .await?;
        let now = self.clock.now();
        // A cursor from a clock a little ahead of this one counts no further than now.
        let as_of = page.after.as_ref().map_or(now, |c| c.as_of.min(now));
        // The wait is counted on the board's calendar, so the order is made here, not in SQL.
        let mut asked_of: BTreeMap<&str, Vec<&information_request::Model>> = BTreeMap::new();
        for request in &requests {
            asked_of
                .entry(request.referral_id.as_str())
                .or_default()
                .push(request);
        }
        let mut ordered: Vec<(OrderKey, &worklist::Model, Vec<&information_request::Model>)> = rows
            .iter()
            .map(|row| {
                let asked = asked_of
                    .remove(row.referral_id.as_str())
                    .unwrap_or_default();
                let pauses: Vec<Pause> = asked.iter().map(|r| r.pause()).collect();
                let key = OrderKey {
                    no_red_flags: row.red_flags().is_empty(),
                    longest_wait: Reverse(waited_at(&history, row.received_at, &pauses, as_of)),
                    received_at: row.received_at,
                    referral_id: row.referral_id.clone(),
                };
                (key, row, asked)
            })
            .collect();
        ordered.sort_by(|a, b| a.0.cmp(&b.0));
        let start = page.after.as_ref().map_or(0, |after| {
            ordered.partition_point(|(key, ..)| *key <= after.key)
        });
        let rest = &ordered[start..];
        let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
        let shown = &rest[..rest.len().min(limit)];
        let next_after = (rest.len() > shown.len())
            .then(|| shown.last())
            .flatten()
            .map(|(key, ..)| {
                WorklistCursor {
                    as_of,
                    key: key.clone(),
                }
                .encode()
            });
        let referrals = shown
            .iter()
            .map(|(_, row, asked)| row_view(caller, row, &history, asked, now))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Worklist {
            board,
            target_working_days: settings.vetting_target_working_days,
            statuses,
            referrals,
            next_after,
        })
    }
}

/// A worklist row as `caller` sees it at `now`: the wait counted on each
/// day's calendar, against the target in force on the day of receipt, as
/// analytics judges it.
pub(super) fn row_view(
    caller: &Caller,
    row: &worklist::Model,
    history: &SettingsHistory,
    requests: &[&information_request::Model],
    now: DateTime<Utc>,
) -> Result<WorklistRow, Error> {
    let pauses: Vec<Pause> = requests.iter().map(|r| r.pause()).collect();
    let waited = waited_at(history, row.received_at, &pauses, now);
    let target = history.target_on(days::day_of(row.received_at));
    let claim = row.claim();
    let claimed = claim.is_live(now);
    Ok(WorklistRow {
        referral_id: row.referral_id.clone(),
        board: row.board_code()?,
        // Lapsed but not yet swept: it is back on the list.
        status: claim.shown_status(now),
        received_at: row.received_at,
        red_flags: row.red_flags(),
        age_band: row.age_band.clone(),
        sex: row.sex.clone(),
        practice_code: row.practice_code.clone(),
        pain_intensity: row.pain_intensity,
        pain_duration_months: row.pain_duration_months,
        re_referral: row.re_referral,
        waited_working_days: waited,
        target_working_days: target,
        over_target: waited > target,
        clock_paused: claim.status == Status::InfoRequested,
        information_overdue: claim.status == Status::InfoRequested
            && requests
                .iter()
                .any(|r| r.answered_at.is_none() && r.overdue_at.is_some()),
        claimed_by: row.claimed_by.clone().filter(|_| claimed),
        claimed_by_name: row.claimed_by_name.clone().filter(|_| claimed),
        lease_expires_at: row.lease_expires_at.filter(|_| claimed),
        claimed_by_me: claimed && claim.is_held_by(&caller.subject),
        answer_received: row.answer_received,
        version: row.version,
    })
}

#[cfg(test)]
#[path = "tests/worklist_view.rs"]
mod tests;
