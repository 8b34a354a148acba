//! A referrer or a clinician of its board reads a referral: its status, what
//! the caller may do now, its information requests and its history. The read
//! leaves an audit row.

use anyhow::Context;
use chrono::{DateTime, Utc};
use pathway_common::auth::{Caller, Role};
use sea_orm::DbErr;
use serde::Serialize;

use super::{ReferralSummary, load_for};
use crate::application::{Error, Intake, audit_referral};
use crate::domain::{Status, Transition};
use crate::store::{encrypted, history, information_request, queries};

/// A referral as its referrer or a clinician of its board sees it.
#[derive(Debug, Clone)]
pub struct ReferralDetails {
    pub summary: ReferralSummary,
    pub updated_at: DateTime<Utc>,
    /// What the caller may do now.
    pub allowed_actions: Vec<Action>,
    /// The referral as received (identifiable).
    pub document: serde_json::Value,
    pub information_requests: Vec<InformationRequest>,
    pub history: Vec<HistoryItem>,
}

/// Something the caller may do to the referral in its current status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Withdraw,
    ProvideInformation,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Withdraw => "withdraw",
            Action::ProvideInformation => "provide_information",
        }
    }

    /// What a referrer may do to a referral that is `status`.
    pub fn for_referrer(status: Status) -> Vec<Action> {
        let mut actions = Vec::new();
        if status.apply(Transition::Withdrawn).is_ok() {
            actions.push(Action::Withdraw);
        }
        if status == Status::InfoRequested {
            actions.push(Action::ProvideInformation);
        }
        actions
    }
}

/// A clinician's request for more information, and its answer.
#[derive(Debug, Clone, Serialize)]
pub struct InformationRequest {
    pub id: String,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    /// Absent for requests made before questions were kept.
    pub question: Option<String>,
    pub answer: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
}

impl From<information_request::Model> for InformationRequest {
    fn from(r: information_request::Model) -> Self {
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

/// One event in a referral's history.
#[derive(Debug, Clone)]
pub struct HistoryItem {
    pub event_id: String,
    /// e.g. `referral.received`, `vetting.claimed`.
    pub event: String,
    /// Status after the event.
    pub status: Status,
    pub occurred_at: DateTime<Utc>,
    pub actor: String,
    pub detail: Option<serde_json::Value>,
}

impl From<history::Model> for HistoryItem {
    fn from(h: history::Model) -> Self {
        Self {
            event_id: h.event_id,
            event: h.kind,
            status: h.status.into(),
            occurred_at: h.occurred_at,
            actor: h.actor,
            detail: h.detail.and_then(|d| serde_json::from_str(&d).ok()),
        }
    }
}

impl Intake {
    /// The requests with their questions, vetting's read for those intake
    /// does not keep (`questions.rs`).
    async fn with_questions(
        &self,
        stored: Vec<information_request::Model>,
    ) -> Vec<InformationRequest> {
        let mut requests: Vec<InformationRequest> = stored.into_iter().map(Into::into).collect();
        let found = self
            .questions_from_vetting(
                requests
                    .iter()
                    .map(|r| (r.id.as_str(), r.question.as_deref())),
                "the referral's view, for the referrer to answer",
            )
            .await;
        for request in &mut requests {
            if request.question.is_none() {
                request.question = found.get(&request.id).cloned();
            }
        }
        requests
    }

    /// The referral `id`, as `caller` may see it.
    pub async fn get_referral(&self, caller: &Caller, id: &str) -> Result<ReferralDetails, Error> {
        let txn = self.snapshot().await?;
        let row = load_for(&txn, caller, id).await?;
        let history = queries::history(&txn, id).await?;
        let information_requests = queries::information_requests(&txn, id)
            .await?
            .into_iter()
            .map(|r| encrypted::open_answer(&self.cipher, r))
            .collect::<Result<Vec<_>, _>>()
            .map_err(DbErr::from)?;
        audit_referral(
            &txn,
            caller,
            "referral.read",
            &row.id,
            &row.board,
            "view referral",
        )
        .await?;
        txn.commit().await?;
        let summary = ReferralSummary::of(&row)?;
        let allowed_actions = if caller.role == Role::Referrer {
            Action::for_referrer(summary.status)
        } else {
            Vec::new()
        };
        Ok(ReferralDetails {
            document: serde_json::from_str(
                &encrypted::open_document(&self.cipher, &row).map_err(DbErr::from)?,
            )
            .context("stored referral is unreadable")?,
            summary,
            updated_at: row.updated_at,
            allowed_actions,
            information_requests: self.with_questions(information_requests).await,
            history: history.into_iter().map(Into::into).collect(),
        })
    }
}
