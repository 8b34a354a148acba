//! A referral's decisions for the API: the current one first, then those it
//! superseded. A clinician of the referral's board sees them; a referrer
//! only when intake confirms they sent the referral. Everyone else, and
//! anyone asking about a referral with no decision, gets the same "not
//! found", so that nobody can probe. Every answer that shows something is
//! audited.

use chrono::{DateTime, NaiveDate, Utc};
use pathway_common::audit::{self, AuditEntry};
use pathway_common::auth::{Caller, Role};
use pathway_proto::BoardCode;
use pathway_proto::board::BoardSettings;
use uuid::Uuid;

use super::supersede::links;
use super::texts::{Texts, text_of};
use super::{Decisions, Error};
use crate::domain::{self, WindowState};
use crate::intake::{Referrer, referrer_of};
use crate::store::{board_settings, decision, opt_in_window};

/// A referral's decisions: the current one and those it superseded.
#[derive(Debug, Clone)]
pub struct History {
    pub referral_id: Uuid,
    pub board: BoardCode,
    pub current: Recorded,
    /// Newest first.
    pub superseded: Vec<Recorded>,
}

/// One recorded decision.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub id: String,
    pub referral_id: String,
    pub board: BoardCode,
    pub outcome: RecordedOutcome,
    pub rationale: String,
    pub red_flag_override_reason: Option<String>,
    pub clinician: String,
    pub decided_at: DateTime<Utc>,
    /// A Scottish day.
    pub target_date: Option<NaiveDate>,
    pub opt_in: Option<RecordedOptIn>,
    pub supersedes_decision_id: Option<String>,
    pub superseded_by_decision_id: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

/// The outcome as recorded, with the board's label for it.
#[derive(Debug, Clone)]
pub struct RecordedOutcome {
    pub code: String,
    pub label: String,
    pub priority: Option<String>,
    pub mode: Option<String>,
    pub partner: Option<String>,
    pub rejection_reason: Option<String>,
    pub reason: Option<String>,
    pub advice: Option<String>,
}

/// A patient-opt-in decision's window.
#[derive(Debug, Clone, Copy)]
pub struct RecordedOptIn {
    pub deadline: DateTime<Utc>,
    pub state: WindowState,
    pub resolved_at: Option<DateTime<Utc>>,
}

impl Decisions {
    pub async fn decision_history(
        &self,
        caller: &Caller,
        referral: Uuid,
    ) -> Result<History, Error> {
        caller.require_role(&[Role::Clinician, Role::Referrer])?;
        let referral_id = referral.to_string();
        let not_found = || Error::NotFound {
            referral_id: referral,
        };
        let decisions = decision::of_referral(self.db(), &referral_id).await?;
        let Some(first) = decisions.first() else {
            return Err(not_found());
        };
        let board = stored_board(&first.board)?;
        if !caller.may_act_for(board.code()) {
            return Err(not_found());
        }
        if caller.role == Role::Referrer {
            let referrer = referrer_of(
                &self.intake,
                &referral_id,
                "check that the caller sent the referral before showing its decision",
            )
            .await?;
            if referrer != Referrer::Subject(caller.subject.clone()) {
                return Err(not_found());
            }
        }
        let windows = opt_in_window::of_referral(self.db(), &referral_id).await?;
        let settings = board_settings::of_board(self.db(), board).await?;
        let texts = self.texts_of(&decisions).await?;
        let chain_links = links(&decisions, &windows);
        let mut chain = Vec::new();
        for link in domain::chain_of(&chain_links) {
            if let Some(row) = decisions.iter().find(|d| d.id == link.id) {
                chain.push(recorded(row, &decisions, &windows, &settings, &texts)?);
            }
        }
        let mut chain = chain.into_iter();
        let current = chain.next().ok_or_else(not_found)?;
        let superseded = chain.collect();
        audit::record(
            self.db(),
            AuditEntry {
                actor: &caller.subject,
                actor_role: caller.role.as_str(),
                action: "decision.read",
                referral_id: Some(referral_id),
                board: Some(board.code()),
                source: &caller.source,
                purpose: Some("view decision"),
            },
        )
        .await?;
        Ok(History {
            referral_id: referral,
            board,
            current,
            superseded,
        })
    }
}

/// A board read back from a row: only ever written from a [`BoardCode`].
fn stored_board(text: &str) -> Result<BoardCode, Error> {
    BoardCode::parse(text)
        .map_err(|why| Error::Unexpected(anyhow::anyhow!("a stored decision's board: {why}")))
}

fn recorded(
    row: &decision::Model,
    all: &[decision::Model],
    windows: &[opt_in_window::Model],
    settings: &BoardSettings,
    texts: &Texts,
) -> Result<Recorded, Error> {
    let opt_in = windows
        .iter()
        .find(|w| w.decision_id == row.id)
        .map(|w| RecordedOptIn {
            deadline: w.deadline,
            state: w.state(),
            resolved_at: w.resolved_at,
        });
    Ok(Recorded {
        id: row.id.clone(),
        referral_id: row.referral_id.clone(),
        board: stored_board(&row.board)?,
        outcome: RecordedOutcome {
            code: row.outcome.clone(),
            label: settings.label(&row.outcome),
            priority: row.priority.clone(),
            mode: row.mode.clone(),
            partner: row.partner.clone(),
            rejection_reason: row.rejection_reason.clone(),
            reason: text_of(texts, &row.reason_text_id, &row.reason),
            advice: text_of(texts, &row.advice_text_id, &row.advice),
        },
        rationale: text_of(texts, &row.rationale_text_id, &Some(row.rationale.clone()))
            .unwrap_or_default(),
        red_flag_override_reason: text_of(
            texts,
            &row.red_flag_override_reason_text_id,
            &row.red_flag_override_reason,
        ),
        clinician: row.clinician.clone(),
        decided_at: row.decided_at,
        target_date: row.target_date,
        opt_in,
        supersedes_decision_id: row.supersedes_decision_id.clone(),
        superseded_by_decision_id: all
            .iter()
            .find(|d| d.supersedes_decision_id.as_deref() == Some(row.id.as_str()))
            .map(|d| d.id.clone()),
        recorded_at: row.recorded_at,
    })
}
