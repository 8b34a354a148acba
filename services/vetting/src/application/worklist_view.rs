//! A board's worklist as a clinician reads it: red flags first, then the
//! longest wait, then the oldest.

use chrono::{DateTime, Utc};
use pathway_common::auth::{Caller, Role};
use pathway_proto::BoardCode;
use pathway_proto::board::BoardSettings;

use super::views::{Worklist, WorklistRow};
use super::{Error, Vetting};
use crate::domain::calendar::WorkingCalendar;
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

impl Vetting {
    /// GET /v1/boards/{board}/worklist.
    pub async fn worklist(
        &self,
        caller: &Caller,
        board: BoardCode,
        filter: &WorklistFilter,
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
        let calendar = calendar_of(&settings);
        let requests = information_request::of_referrals(
            self.db(),
            rows.iter().map(|r| r.referral_id.clone()),
        )
        .await?;
        let now = self.clock.now();
        let mut referrals = Vec::with_capacity(rows.len());
        for row in &rows {
            let asked: Vec<&information_request::Model> = requests
                .iter()
                .filter(|r| r.referral_id == row.referral_id)
                .collect();
            referrals.push(row_view(caller, row, &settings, &calendar, &asked, now)?);
        }
        // Red flags first, then the longest wait, then the oldest.
        referrals.sort_by(|a, b| {
            a.red_flags
                .is_empty()
                .cmp(&b.red_flags.is_empty())
                .then(b.waited_working_days.cmp(&a.waited_working_days))
                .then(a.received_at.cmp(&b.received_at))
        });
        Ok(Worklist {
            board,
            target_working_days: settings.vetting_target_working_days,
            statuses,
            referrals,
        })
    }
}

/// A worklist row as `caller` sees it at `now`.
pub(super) fn row_view(
    caller: &Caller,
    row: &worklist::Model,
    settings: &BoardSettings,
    calendar: &WorkingCalendar,
    requests: &[&information_request::Model],
    now: DateTime<Utc>,
) -> Result<WorklistRow, Error> {
    let pauses: Vec<Pause> = requests.iter().map(|r| r.pause()).collect();
    let waited = waited_at(calendar, row.received_at, &pauses, now);
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
        target_working_days: settings.vetting_target_working_days,
        over_target: waited > settings.vetting_target_working_days,
        clock_paused: claim.status == Status::InfoRequested,
        claimed_by: row.claimed_by.clone().filter(|_| claimed),
        claimed_by_name: row.claimed_by_name.clone().filter(|_| claimed),
        lease_expires_at: row.lease_expires_at.filter(|_| claimed),
        claimed_by_me: claimed && claim.is_held_by(&caller.subject),
        answer_received: row.answer_received,
        version: row.version,
    })
}

pub(super) fn calendar_of(settings: &BoardSettings) -> WorkingCalendar {
    WorkingCalendar::new(settings.scottish_bank_holidays, &settings.extra_holidays)
}
