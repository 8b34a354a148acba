//! What the use cases answer with: the worklist, a referral as the vetting
//! clinician sees it, and the result of an action. No patient identifier is
//! in a worklist row; the referral detail carries what intake holds.

use chrono::{DateTime, Utc};
use pathway_proto::BoardCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::claim::Action;
use crate::domain::outcome::OutcomeRequest;
use crate::domain::status::Status;
use crate::intake::ReferralContent;
use crate::store::worklist;

/// One referral on a worklist. No patient identifier: the worklist is built
/// from the de-identified event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorklistRow {
    pub referral_id: String,
    pub board: BoardCode,
    pub status: Status,
    /// When intake received the referral (UTC); the day it was received is
    /// the Scottish day (Europe/London) this instant falls on.
    pub received_at: DateTime<Utc>,
    /// Red flag codes, e.g. `history_of_cancer`.
    pub red_flags: Vec<String>,
    pub age_band: String,
    pub sex: String,
    pub practice_code: String,
    /// 0 to 10.
    pub pain_intensity: i32,
    pub pain_duration_months: i32,
    pub re_referral: bool,
    /// Working days waited on the board's calendar, not counting days spent
    /// waiting for the referrer's answers: from the Scottish day of receipt
    /// to today in Scotland (Europe/London), not UTC days.
    pub waited_working_days: u32,
    pub target_working_days: u32,
    pub over_target: bool,
    /// True while the referrer is asked for information.
    pub clock_paused: bool,
    /// True while a question to the referrer is unanswered past the board's
    /// `information_request_reminder_working_days` (the referrer was
    /// reminded).
    pub information_overdue: bool,
    pub claimed_by: Option<String>,
    pub claimed_by_name: Option<String>,
    /// When the claim lapses (UTC); pages show it on Scotland's clock.
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// The caller holds the claim.
    pub claimed_by_me: bool,
    /// The referrer answered a question since the last claim.
    pub answer_received: bool,
    pub version: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Worklist {
    pub board: BoardCode,
    pub target_working_days: u32,
    /// The statuses shown.
    pub statuses: Vec<Status>,
    /// This page: red flags first, then the longest wait, then the oldest.
    pub referrals: Vec<WorklistRow>,
    /// Pass as `after` for the next page, as it is; absent on the last page.
    pub next_after: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InformationRequestView {
    pub id: String,
    pub question: String,
    pub requested_by: String,
    pub requested_by_name: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    /// When the question was found unanswered past the board's
    /// `information_request_reminder_working_days` and the referrer was
    /// reminded; it stays set once answered.
    pub overdue_at: Option<DateTime<Utc>>,
    /// The referrer's answer, as intake holds it.
    pub answer: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OutcomeView {
    pub id: String,
    pub clinician: String,
    pub clinician_name: Option<String>,
    pub recorded_at: DateTime<Utc>,
    pub correction: bool,
    pub outcome: OutcomeRequest,
}

/// A referral as the vetting clinician sees it: the worklist row, the
/// referral as received (identifiable, from intake), questions and answers,
/// and the outcomes recorded.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReferralDetail {
    #[serde(flatten)]
    pub row: WorklistRow,
    /// What the caller may do now: `claim`, `release`, `request_information`,
    /// `record_outcome`, `correct_outcome`.
    #[schema(value_type = Vec<String>)]
    pub allowed_actions: Vec<Action>,
    /// The referral as the referrer sent it, with the patient's identifiers
    /// (read from intake for this view).
    #[schema(value_type = Object)]
    pub referral: ReferralContent,
    pub information_requests: Vec<InformationRequestView>,
    pub outcomes: Vec<OutcomeView>,
}

impl ReferralDetail {
    pub fn allows(&self, action: &str) -> bool {
        self.allowed_actions.iter().any(|a| a.as_str() == action)
    }
}

/// The answer to a claim, a release, a question or an outcome.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ActionResult {
    pub referral_id: String,
    pub status: Status,
    pub claimed_by: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// The event published (`vetting.claimed`, ...), or the earlier one when
    /// an identical outcome is sent again.
    pub event_id: String,
    pub version: i64,
}

impl ActionResult {
    pub(super) fn of(row: &worklist::Model, event_id: &str) -> Self {
        Self {
            referral_id: row.referral_id.clone(),
            status: row.status(),
            claimed_by: row.claimed_by.clone(),
            lease_expires_at: row.lease_expires_at,
            event_id: event_id.to_owned(),
            version: row.version,
        }
    }
}
