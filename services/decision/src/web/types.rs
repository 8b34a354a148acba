//! The API's response bodies, made from the application's read model.

use chrono::{DateTime, NaiveDate, Utc};
use pathway_proto::BoardCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::application::{History, Recorded, RecordedOptIn, RecordedOutcome};
use crate::domain::WindowState;

/// A referral's decisions: the current one and those it superseded.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DecisionHistory {
    pub referral_id: String,
    pub board: BoardCode,
    pub current: DecisionView,
    /// The decisions the current one superseded, newest first.
    pub superseded: Vec<DecisionView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DecisionView {
    pub id: String,
    pub referral_id: String,
    pub board: BoardCode,
    pub outcome: OutcomeView,
    /// Why the clinician chose this outcome.
    pub rationale: String,
    /// Why a red-flag referral was closed with advice or self-management.
    pub red_flag_override_reason: Option<String>,
    /// The clinician's subject.
    pub clinician: String,
    /// The instant (UTC) the clinician decided; its Scottish day is the
    /// decided day.
    pub decided_at: DateTime<Utc>,
    /// For an accept: the Scottish day by which the patient should be seen,
    /// the decided day plus the board's calendar days for the priority.
    pub target_date: Option<NaiveDate>,
    /// For a patient opt-in: the patient's window.
    pub opt_in: Option<OptInView>,
    pub supersedes_decision_id: Option<String>,
    pub superseded_by_decision_id: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OutcomeView {
    /// e.g. `accept`.
    pub code: String,
    /// The board's label for it.
    pub label: String,
    /// `urgent`, `soon` or `routine` (accept only).
    pub priority: Option<String>,
    /// `face_to_face`, `video` or `telephone` (accept only).
    pub mode: Option<String>,
    /// Third-sector partner code (self_management with a direct referral).
    pub partner: Option<String>,
    /// `01`, `02` or `03` (decline).
    pub rejection_reason: Option<String>,
    /// Reason for a redirect or decline.
    pub reason: Option<String>,
    /// Written advice to the referrer (advice_to_referrer).
    pub advice: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OptInView {
    /// When the window closes (UTC): the time of the decision on Scotland's
    /// clock, the board's opt-in window of Scottish days later.
    pub deadline: DateTime<Utc>,
    /// `open`, `opted_in`, `opt_in_window_passed` or `superseded`.
    pub status: WindowState,
    pub resolved_at: Option<DateTime<Utc>>,
}

impl From<History> for DecisionHistory {
    fn from(history: History) -> Self {
        Self {
            referral_id: history.referral_id.to_string(),
            board: history.board,
            current: history.current.into(),
            superseded: history.superseded.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<Recorded> for DecisionView {
    fn from(d: Recorded) -> Self {
        Self {
            id: d.id,
            referral_id: d.referral_id,
            board: d.board,
            outcome: d.outcome.into(),
            rationale: d.rationale,
            red_flag_override_reason: d.red_flag_override_reason,
            clinician: d.clinician,
            decided_at: d.decided_at,
            target_date: d.target_date,
            opt_in: d.opt_in.map(Into::into),
            supersedes_decision_id: d.supersedes_decision_id,
            superseded_by_decision_id: d.superseded_by_decision_id,
            recorded_at: d.recorded_at,
        }
    }
}

impl From<RecordedOutcome> for OutcomeView {
    fn from(o: RecordedOutcome) -> Self {
        Self {
            code: o.code,
            label: o.label,
            priority: o.priority,
            mode: o.mode,
            partner: o.partner,
            rejection_reason: o.rejection_reason,
            reason: o.reason,
            advice: o.advice,
        }
    }
}

impl From<RecordedOptIn> for OptInView {
    fn from(w: RecordedOptIn) -> Self {
        Self {
            deadline: w.deadline,
            status: w.state,
            resolved_at: w.resolved_at,
        }
    }
}
