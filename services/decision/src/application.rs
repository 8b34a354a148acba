//! The decision service's handlers: load, decide with the domain, save the
//! decision, its audit row and its events (outbox) in one transaction.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use http::StatusCode;
use pathway_common::audit::{self, AuditEntry};
use pathway_common::auth::{Caller, Role};
use pathway_common::http::{ApiError, FieldError};
use pathway_common::inbox::HandleError;
use pathway_common::outbox;
use pathway_common::platform::Platform;
use pathway_proto::board::BoardSettings;
use pathway_proto::v1::{self as proto, Event, Payload};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::{board_settings, decision, opt_in_window};
use crate::domain::{self, ChainLink, Outcome};
use crate::intake::{Referrer, referrer_of};
use pathway_common::intake_client::IntakeClient;

/// How an opt-in window ended.
pub const OPTED_IN: &str = "opted_in";
pub const WINDOW_PASSED: &str = "opt_in_window_passed";
pub const SUPERSEDED: &str = "superseded";

/// Windows closed per transaction batch by the sweeper.
const SWEEP_BATCH: u64 = 200;

#[derive(Clone)]
pub struct Decisions {
    pub platform: Platform,
    pub intake: IntakeClient,
}

/// A referral's decisions: the current one and those it superseded.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DecisionHistory {
    pub referral_id: String,
    pub board: String,
    pub current: DecisionView,
    /// The decisions the current one superseded, newest first.
    pub superseded: Vec<DecisionView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DecisionView {
    pub id: String,
    pub referral_id: String,
    pub board: String,
    pub outcome: OutcomeView,
    /// Why the clinician chose this outcome.
    pub rationale: String,
    /// Why a red-flag referral was closed with advice or self-management.
    pub red_flag_override_reason: Option<String>,
    /// The clinician's subject.
    pub clinician: String,
    pub decided_at: DateTime<Utc>,
    /// For an accept: the date by which the patient should be seen.
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
    pub deadline: DateTime<Utc>,
    /// `open`, `opted_in`, `opt_in_window_passed` or `superseded`.
    pub status: String,
    pub resolved_at: Option<DateTime<Utc>>,
}

fn rejected(reason: impl Into<String>) -> HandleError {
    HandleError::Rejected(reason.into())
}

fn some_text(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// The board's latest settings, or the defaults when it never changed them.
pub async fn settings_of<C: ConnectionTrait>(db: &C, board: &str) -> anyhow::Result<BoardSettings> {
    match board_settings::Entity::find_by_id(board.to_owned())
        .one(db)
        .await?
    {
        Some(row) => serde_json::from_str(&row.settings_json)
            .with_context(|| format!("the stored settings of {board} are unreadable")),
        None => Ok(BoardSettings::default()),
    }
}

async fn decisions_of<C: ConnectionTrait>(
    db: &C,
    referral_id: &str,
) -> Result<Vec<decision::Model>, sea_orm::DbErr> {
    decision::Entity::find()
        .filter(decision::Column::ReferralId.eq(referral_id))
        .order_by_asc(decision::Column::Sequence)
        .all(db)
        .await
}

async fn windows_of<C: ConnectionTrait>(
    db: &C,
    referral_id: &str,
) -> Result<Vec<opt_in_window::Model>, sea_orm::DbErr> {
    opt_in_window::Entity::find()
        .filter(opt_in_window::Column::ReferralId.eq(referral_id))
        .all(db)
        .await
}

fn links(decisions: &[decision::Model], windows: &[opt_in_window::Model]) -> Vec<ChainLink> {
    decisions
        .iter()
        .map(|d| ChainLink {
            id: d.id.clone(),
            supersedes: d.supersedes_decision_id.clone(),
            sequence: d.sequence,
            reopened: windows
                .iter()
                .any(|w| w.decision_id == d.id && w.resolution.as_deref() == Some(OPTED_IN)),
        })
        .collect()
}

/// Resolve an open window; false when it was no longer open.
async fn resolve_window<C: ConnectionTrait>(
    db: &C,
    decision_id: &str,
    at: DateTime<Utc>,
    resolution: &str,
) -> Result<bool, sea_orm::DbErr> {
    let result = opt_in_window::Entity::update_many()
        .col_expr(opt_in_window::Column::ResolvedAt, Expr::value(at))
        .col_expr(opt_in_window::Column::Resolution, Expr::value(resolution))
        .filter(opt_in_window::Column::DecisionId.eq(decision_id))
        .filter(opt_in_window::Column::ResolvedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

impl Decisions {
    fn db(&self) -> &sea_orm::DatabaseConnection {
        &self.platform.db
    }

    /// `vetting.completed`: record the outcome as a decision, or as a
    /// correction that supersedes the current one.
    #[tracing::instrument(skip_all, fields(referral_id = %event.referral_id), err)]
    pub async fn record_outcome<C: ConnectionTrait>(
        &self,
        txn: &C,
        event: &Event,
        completed: &proto::VettingCompleted,
    ) -> Result<(), HandleError> {
        let referral = Uuid::parse_str(&event.referral_id).map_err(|_| {
            rejected(format!(
                "referral_id: {:?} is not a UUID",
                event.referral_id
            ))
        })?;
        let referral_id = referral.to_string();
        if event.board.trim().is_empty() {
            return Err(rejected("board: missing"));
        }
        let clinician =
            some_text(&completed.clinician).ok_or_else(|| rejected("clinician: missing"))?;
        let decided_at = event
            .occurred_at()
            .ok_or_else(|| rejected("occurred_at: missing or not a valid time"))?;
        let wire = completed
            .outcome
            .as_ref()
            .ok_or_else(|| rejected("outcome: missing"))?;
        let settings = settings_of(txn, &event.board).await?;
        let outcome = Outcome::from_proto(wire, &settings).map_err(|e| rejected(e.to_string()))?;

        let existing = decisions_of(txn, &referral_id).await?;
        if let Some(other) = existing.iter().find(|d| d.board != event.board) {
            return Err(rejected(format!(
                "board: the referral's decisions are with {}, not {}",
                other.board, event.board
            )));
        }
        let windows = windows_of(txn, &referral_id).await?;
        let placement = domain::place(&links(&existing, &windows), completed.correction)
            .map_err(|e| rejected(e.to_string()))?;
        if let Some(previous) = &placement.supersedes {
            // A superseded opt-in decision no longer waits on the patient.
            resolve_window(txn, previous, Utc::now(), SUPERSEDED).await?;
        }

        let id = Uuid::now_v7().to_string();
        let target_date = outcome.target_date(decided_at, &settings);
        let opt_in_deadline = outcome.opt_in_deadline(decided_at, &settings);
        let rationale = completed.rationale.trim().to_owned();
        let override_reason = some_text(&completed.red_flag_override_reason);
        let row = row_of(
            &outcome,
            decision::Model {
                id: id.clone(),
                referral_id: referral_id.clone(),
                board: event.board.clone(),
                sequence: placement.sequence,
                supersedes_decision_id: placement.supersedes.clone(),
                vetting_event_id: event.event_id.clone(),
                outcome: outcome.code().to_owned(),
                priority: None,
                mode: None,
                partner: None,
                rejection_reason: None,
                reason: None,
                advice: None,
                rationale: rationale.clone(),
                red_flag_override_reason: override_reason.clone(),
                clinician: clinician.clone(),
                decided_at,
                target_date,
                opt_in_deadline,
                recorded_at: Utc::now(),
            },
        );
        decision::Entity::insert(decision::ActiveModel::from(row))
            .exec(txn)
            .await?;
        if let Some(deadline) = opt_in_deadline {
            opt_in_window::Entity::insert(opt_in_window::ActiveModel {
                decision_id: Set(id.clone()),
                referral_id: Set(referral_id.clone()),
                board: Set(event.board.clone()),
                deadline: Set(deadline),
                resolved_at: Set(None),
                resolution: Set(None),
            })
            .exec(txn)
            .await?;
        }
        let purpose = match &placement.supersedes {
            Some(previous) => format!("correct decision {previous}"),
            None => "record the vetting outcome".to_owned(),
        };
        audit::record(
            txn,
            AuditEntry {
                actor: &clinician,
                actor_role: Role::Clinician.as_str(),
                action: "decision.record",
                referral_id: Some(referral_id.clone()),
                board: Some(&event.board),
                source: "nats",
                purpose: Some(&purpose),
            },
        )
        .await?;
        let recorded = Event::new(
            &event.board,
            Some(referral),
            &clinician,
            Utc::now(),
            Payload::DecisionRecorded(proto::DecisionRecorded {
                decision_id: id.clone(),
                outcome: Some(outcome.to_proto()),
                clinician: clinician.clone(),
                decided_at: Some(proto::timestamp(decided_at)),
                target_date: target_date.map(|d| d.to_string()).unwrap_or_default(),
                supersedes_decision_id: placement.supersedes.unwrap_or_default(),
                opt_in_deadline: opt_in_deadline.map(proto::timestamp),
                rationale,
                red_flag_override_reason: override_reason.unwrap_or_default(),
            }),
        );
        outbox::enqueue(txn, &recorded).await?;
        tracing::info!(decision_id = %id, outcome = outcome.code(), "decision recorded");
        Ok(())
    }

    /// `referral.opted_in`: the patient opted back in, within the window.
    #[tracing::instrument(skip_all, fields(referral_id = %event.referral_id), err)]
    pub async fn record_opt_in<C: ConnectionTrait>(
        &self,
        txn: &C,
        event: &Event,
        opted_in: &proto::ReferralOptedIn,
    ) -> Result<(), HandleError> {
        let at = event
            .occurred_at()
            .ok_or_else(|| rejected("occurred_at: missing or not a valid time"))?;
        let window = if opted_in.decision_id.trim().is_empty() {
            // Without a decision id: the referral's open window, if it has one.
            windows_of(txn, &event.referral_id)
                .await?
                .into_iter()
                .filter(|w| w.resolved_at.is_none())
                .max_by_key(|w| w.deadline)
        } else {
            opt_in_window::Entity::find_by_id(opted_in.decision_id.trim().to_owned())
                .one(txn)
                .await?
        };
        let Some(window) = window else {
            return Err(rejected(format!(
                "decision_id: no opt-in window for decision {:?} of referral {}",
                opted_in.decision_id, event.referral_id
            )));
        };
        if window.referral_id != event.referral_id {
            return Err(rejected(format!(
                "decision_id: decision {} is not of referral {}",
                window.decision_id, event.referral_id
            )));
        }
        match window.resolution.as_deref() {
            Some(OPTED_IN) => return Ok(()),
            Some(other) => {
                return Err(rejected(format!(
                    "the opt-in window of decision {} had already ended ({other})",
                    window.decision_id
                )));
            }
            None => {}
        }
        if at > window.deadline {
            return Err(rejected(format!(
                "opted in at {at}, after the window closed at {}",
                window.deadline
            )));
        }
        if !resolve_window(txn, &window.decision_id, at, OPTED_IN).await? {
            // The sweeper got there in the same instant: look again.
            return Err(HandleError::Retry(anyhow::anyhow!(
                "the opt-in window changed while the opt-in was handled"
            )));
        }
        Ok(())
    }

    /// `board.settings_changed`: keep the board's latest settings.
    pub async fn keep_board_settings<C: ConnectionTrait>(
        &self,
        txn: &C,
        event: &Event,
        changed: &proto::BoardSettingsChanged,
    ) -> Result<(), HandleError> {
        if event.board.trim().is_empty() {
            return Err(rejected("board: missing"));
        }
        let settings: BoardSettings = serde_json::from_str(&changed.settings_json)
            .map_err(|e| rejected(format!("settings_json: {e}")))?;
        if let Some((field, reason)) = settings.problems().into_iter().next() {
            return Err(rejected(format!("settings_json.{field}: {reason}")));
        }
        let changed_at = event.occurred_at().unwrap_or_else(Utc::now);
        let existing = board_settings::Entity::find_by_id(event.board.clone())
            .one(txn)
            .await?;
        let row = board_settings::ActiveModel {
            board: Set(event.board.clone()),
            settings_json: Set(changed.settings_json.clone()),
            changed_by: Set(changed.changed_by.clone()),
            changed_at: Set(changed_at),
            event_id: Set(event.event_id.clone()),
        };
        match existing {
            None => {
                board_settings::Entity::insert(row).exec(txn).await?;
            }
            // A replay of an older change does not undo a newer one.
            Some(current) if current.changed_at > changed_at => {}
            Some(_) => {
                board_settings::Entity::update(row).exec(txn).await?;
            }
        }
        Ok(())
    }

    /// Close every opt-in window whose deadline is at or before `now`:
    /// one `referral.closed` each, once. Returns how many were closed.
    pub async fn close_lapsed_opt_in_windows(&self, now: DateTime<Utc>) -> anyhow::Result<usize> {
        let mut closed = 0;
        loop {
            let lapsed = opt_in_window::Entity::find()
                .filter(opt_in_window::Column::ResolvedAt.is_null())
                .filter(opt_in_window::Column::Deadline.lte(now))
                .order_by_asc(opt_in_window::Column::Deadline)
                .limit(SWEEP_BATCH)
                .all(self.db())
                .await
                .context("cannot read the opt-in windows")?;
            let batch = lapsed.len();
            let txn = self.db().begin().await?;
            for window in lapsed {
                // Another instance, or an opt-in, may have resolved it since.
                if !resolve_window(&txn, &window.decision_id, now, WINDOW_PASSED).await? {
                    continue;
                }
                let referral = Uuid::parse_str(&window.referral_id)
                    .with_context(|| format!("stored referral id {:?}", window.referral_id))?;
                let event = Event::new(
                    &window.board,
                    Some(referral),
                    "system",
                    now,
                    Payload::ReferralClosed(proto::ReferralClosed {
                        reason: WINDOW_PASSED.into(),
                    }),
                );
                outbox::enqueue(&txn, &event).await?;
                audit::record(
                    &txn,
                    AuditEntry {
                        actor: "decision",
                        actor_role: Role::Service.as_str(),
                        action: "referral.close",
                        referral_id: Some(window.referral_id.clone()),
                        board: Some(&window.board),
                        source: "decision",
                        purpose: Some("the patient's opt-in window passed"),
                    },
                )
                .await?;
                closed += 1;
            }
            txn.commit().await.context("cannot commit closed windows")?;
            if usize::try_from(SWEEP_BATCH).map_or(true, |max| batch < max) {
                break;
            }
        }
        if closed > 0 {
            self.platform.outbox.notify();
            tracing::info!(closed, "opt-in windows passed: referrals closed");
        }
        Ok(closed)
    }

    /// GET /v1/referrals/{id}/decision.
    pub async fn decision_history(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<DecisionHistory, ApiError> {
        caller.require_role(&[Role::Clinician, Role::Referrer])?;
        let referral = Uuid::parse_str(id).map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_referral_id",
                "the referral id must be a UUID",
            )
            .with_fields(vec![FieldError::new("id", "not a UUID")])
        })?;
        let referral_id = referral.to_string();
        // The same answer for "not yours" and "no decision": no probing.
        let not_found = || {
            ApiError::not_found(format!(
                "no decision for referral {id} that this token may see"
            ))
        };
        let decisions = decisions_of(self.db(), &referral_id).await?;
        let Some(board) = decisions.first().map(|d| d.board.clone()) else {
            return Err(not_found());
        };
        if !caller.may_act_for(&board) {
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
        let windows = windows_of(self.db(), &referral_id).await?;
        let settings = settings_of(self.db(), &board).await?;
        let chain_links = links(&decisions, &windows);
        let mut views = domain::chain_of(&chain_links)
            .into_iter()
            .filter_map(|link| decisions.iter().find(|d| d.id == link.id))
            .map(|d| view_of(d, &decisions, &windows, &settings));
        let current = views.next().ok_or_else(not_found)?;
        let superseded = views.collect();
        audit::record(
            self.db(),
            AuditEntry {
                actor: &caller.subject,
                actor_role: caller.role.as_str(),
                action: "decision.read",
                referral_id: Some(referral_id.clone()),
                board: Some(&board),
                source: &caller.source,
                purpose: Some("view decision"),
            },
        )
        .await?;
        Ok(DecisionHistory {
            referral_id,
            board,
            current,
            superseded,
        })
    }
}

/// The outcome's own fields onto the row.
fn row_of(outcome: &Outcome, mut row: decision::Model) -> decision::Model {
    match outcome {
        Outcome::Accept { priority, mode } => {
            row.priority = Some(priority.as_str().to_owned());
            row.mode = Some(mode.as_str().to_owned());
        }
        Outcome::AdviceToReferrer { advice } => row.advice = Some(advice.clone()),
        Outcome::SelfManagement { partner } => row.partner.clone_from(partner),
        Outcome::Redirect { reason } => row.reason = Some(reason.clone()),
        Outcome::Decline {
            reason,
            rejection_reason,
        } => {
            row.reason = Some(reason.clone());
            row.rejection_reason = Some(rejection_reason.code().to_owned());
        }
        Outcome::PainManagementProgramme
        | Outcome::PainPsychology
        | Outcome::Physiotherapy
        | Outcome::ResidentialProgramme
        | Outcome::PatientOptIn => {}
    }
    row
}

fn view_of(
    row: &decision::Model,
    all: &[decision::Model],
    windows: &[opt_in_window::Model],
    settings: &BoardSettings,
) -> DecisionView {
    let opt_in = windows
        .iter()
        .find(|w| w.decision_id == row.id)
        .map(|w| OptInView {
            deadline: w.deadline,
            status: w.resolution.clone().unwrap_or_else(|| "open".into()),
            resolved_at: w.resolved_at,
        });
    DecisionView {
        id: row.id.clone(),
        referral_id: row.referral_id.clone(),
        board: row.board.clone(),
        outcome: OutcomeView {
            code: row.outcome.clone(),
            label: settings.label(&row.outcome),
            priority: row.priority.clone(),
            mode: row.mode.clone(),
            partner: row.partner.clone(),
            rejection_reason: row.rejection_reason.clone(),
            reason: row.reason.clone(),
            advice: row.advice.clone(),
        },
        rationale: row.rationale.clone(),
        red_flag_override_reason: row.red_flag_override_reason.clone(),
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
    }
}
