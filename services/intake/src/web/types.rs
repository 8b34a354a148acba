//! The API's request and response bodies, and their conversions from the
//! application's outcomes. Field names here are the API's contract.

use chrono::{DateTime, NaiveDate, Utc};
use pathway_proto::board::BoardSettings;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::application::boards::{Board, BoardSettingsRecord, PathwayChange, SettingsChange};
use crate::application::referrals::{
    HistoryItem, InformationRequest, ReferralDetails, ReferralSummary,
};
use crate::domain::Status;
use crate::domain::referral::RejectionReason;

/// NHS Data Dictionary referral rejection reasons.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[schema(as = RejectionReason)]
pub struct RejectionReasonBody {
    /// `01`, `02` or `03`.
    pub code: &'static str,
    pub description: &'static str,
}

impl From<RejectionReason> for RejectionReasonBody {
    fn from(reason: RejectionReason) -> Self {
        Self {
            code: reason.code(),
            description: reason.description(),
        }
    }
}

/// Answer to a new referral.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReferralCreated {
    pub id: String,
    pub board: String,
    #[schema(value_type = String)]
    pub status: Status,
    /// `remote_pathway`, `standard` (the board is not on the pathway) or
    /// `paediatric` (the patient is under the board's paediatric age).
    pub route: String,
    /// The instant (UTC); the Scottish day it falls on is the receipt day.
    pub received_at: DateTime<Utc>,
    pub version: i64,
}

impl From<ReferralSummary> for ReferralCreated {
    fn from(s: ReferralSummary) -> Self {
        Self {
            id: s.id,
            board: s.board.code().to_owned(),
            status: s.status,
            route: s.route.as_str().to_owned(),
            received_at: s.received_at,
            version: s.version,
        }
    }
}

/// A referral as its referrer or a clinician of its board sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReferralView {
    pub id: String,
    pub board: String,
    #[schema(value_type = String)]
    pub status: Status,
    pub route: String,
    /// The instant (UTC); the Scottish day it falls on is the receipt day.
    pub received_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
    /// What the caller may do now, e.g. `withdraw`, `provide_information`.
    pub allowed_actions: Vec<String>,
    /// The referral as received (identifiable).
    #[schema(value_type = Object)]
    pub referral: serde_json::Value,
    pub information_requests: Vec<InformationRequestView>,
    pub history: Vec<HistoryEntry>,
}

impl From<ReferralDetails> for ReferralView {
    fn from(d: ReferralDetails) -> Self {
        Self {
            id: d.summary.id,
            board: d.summary.board.code().to_owned(),
            status: d.summary.status,
            route: d.summary.route.as_str().to_owned(),
            received_at: d.summary.received_at,
            updated_at: d.updated_at,
            version: d.summary.version,
            allowed_actions: d
                .allowed_actions
                .into_iter()
                .map(|a| a.as_str().to_owned())
                .collect(),
            referral: d.document,
            information_requests: d.information_requests.into_iter().map(Into::into).collect(),
            history: d.history.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryEntry {
    pub event_id: String,
    /// e.g. `referral.received`, `vetting.claimed`.
    pub event: String,
    /// Status after the event.
    pub status: String,
    pub occurred_at: DateTime<Utc>,
    pub actor: String,
    #[schema(value_type = Object)]
    pub detail: Option<serde_json::Value>,
}

impl From<HistoryItem> for HistoryEntry {
    fn from(h: HistoryItem) -> Self {
        Self {
            event_id: h.event_id,
            event: h.event,
            status: h.status.as_str().to_owned(),
            occurred_at: h.occurred_at,
            actor: h.actor,
            detail: h.detail,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InformationRequestView {
    pub id: String,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    /// What the clinician asked; absent for requests made before questions
    /// were kept.
    pub question: Option<String>,
    pub answer: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
}

impl From<InformationRequest> for InformationRequestView {
    fn from(r: InformationRequest) -> Self {
        Self {
            id: r.id,
            requested_by: r.requested_by,
            requested_at: r.requested_at,
            question: r.question,
            answer: r.answer,
            answered_at: r.answered_at,
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawRequest {
    /// `patient_request`, `condition_resolved`, `referred_elsewhere`, `sent_in_error` or `other`.
    pub reason_code: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InformationAnswer {
    /// The request being answered; the open one when left out.
    pub information_request_id: Option<String>,
    pub answer: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PathwaySwitch {
    pub enabled: bool,
    /// YYYY-MM-DD, a Scottish day: referrals received from the start of
    /// that day on Scotland's clock follow the switch. Today in Scotland when
    /// left out.
    pub effective_date: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BoardView {
    pub code: String,
    pub name: String,
    /// Whether referrals received today (the Scottish day) go onto the
    /// remote pathway.
    pub pathway_enabled: bool,
    /// The Scottish day the current setting took effect, if it was ever set.
    pub since: Option<NaiveDate>,
    pub changes: Vec<PathwayChangeView>,
}

impl From<Board> for BoardView {
    fn from(b: Board) -> Self {
        Self {
            code: b.board.code().to_owned(),
            name: b.board.name().to_owned(),
            pathway_enabled: b.pathway_enabled,
            since: b.since,
            changes: b.changes.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PathwayChangeView {
    pub enabled: bool,
    /// The Scottish day from which referrals received follow this switch.
    pub effective_date: NaiveDate,
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
    pub reason: Option<String>,
}

impl From<PathwayChange> for PathwayChangeView {
    fn from(c: PathwayChange) -> Self {
        Self {
            enabled: c.enabled,
            effective_date: c.effective_date,
            changed_by: c.changed_by,
            changed_at: c.changed_at,
            reason: c.reason,
        }
    }
}

/// A board's settings as they stand, and every change with who and when.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BoardSettingsView {
    pub board: String,
    pub name: String,
    /// The settings in force today in Scotland: the defaults until settings
    /// a board admin stored are in force.
    #[schema(value_type = Object)]
    pub settings: BoardSettings,
    /// True while no settings of the board's own are in force.
    pub defaults: bool,
    /// Who stored the settings in force, and when.
    pub changed_by: Option<String>,
    pub changed_at: Option<DateTime<Utc>>,
    /// The Scottish day the settings in force took effect.
    pub effective_from: Option<NaiveDate>,
    /// Every stored document in the order saved, oldest first, including
    /// any in force from a later day.
    pub changes: Vec<BoardSettingsChangeView>,
}

impl From<BoardSettingsRecord> for BoardSettingsView {
    fn from(r: BoardSettingsRecord) -> Self {
        Self {
            board: r.board.code().to_owned(),
            name: r.board.name().to_owned(),
            settings: r.settings,
            defaults: r.defaults,
            changed_by: r.changed_by,
            changed_at: r.changed_at,
            effective_from: r.effective_from,
            changes: r.changes.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BoardSettingsChangeView {
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
    /// The Scottish day from which it is in force.
    pub effective_from: NaiveDate,
    /// The whole document as it was stored.
    #[schema(value_type = Object)]
    pub settings: BoardSettings,
}

impl From<SettingsChange> for BoardSettingsChangeView {
    fn from(c: SettingsChange) -> Self {
        Self {
            changed_by: c.changed_by,
            changed_at: c.changed_at,
            effective_from: c.effective_from,
            settings: c.settings,
        }
    }
}
