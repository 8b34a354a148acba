//! `vetting.completed`: the clinician's outcome becomes a decision, or a
//! correction that supersedes the current one. The decision row, the
//! patient's opt-in window (for a `patient_opt_in`), the audit row and
//! `decision.recorded` are written in the inbox's transaction.

use chrono::{DateTime, Utc};
use pathway_common::audit::{self, AuditEntry};
use pathway_common::auth::Role;
use pathway_common::outbox;
use pathway_common::validation::FieldError;
use pathway_proto::BoardCode;
use pathway_proto::v1::{self as proto, Event, Payload};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::{Decisions, Error, Fields, board_of, occurred_at, referral_of, some_text};
use crate::domain::Outcome;
use crate::store::{board_settings, decision, opt_in_window};

/// A `vetting.completed` event, its fields parsed.
struct Vetted<'a> {
    referral: Uuid,
    board: BoardCode,
    clinician: String,
    decided_at: DateTime<Utc>,
    outcome: &'a proto::Outcome,
}

impl<'a> Vetted<'a> {
    fn parse(event: &Event, completed: &'a proto::VettingCompleted) -> Result<Self, Error> {
        let mut fields = Fields::default();
        let referral = fields.take(referral_of(event));
        let board = fields.take(board_of(event));
        let clinician = fields.take(
            some_text(&completed.clinician).ok_or_else(|| FieldError::new("clinician", "missing")),
        );
        let decided_at = fields.take(occurred_at(event));
        let outcome = fields.take(
            completed
                .outcome
                .as_ref()
                .ok_or_else(|| FieldError::new("outcome", "missing")),
        );
        let (Some(referral), Some(board), Some(clinician), Some(decided_at), Some(outcome)) =
            (referral, board, clinician, decided_at, outcome)
        else {
            return Err(fields.into_error());
        };
        Ok(Self {
            referral,
            board,
            clinician,
            decided_at,
            outcome,
        })
    }
}

impl Decisions {
    /// Record the outcome as a decision, or as a correction that supersedes
    /// the current one.
    #[tracing::instrument(skip_all, fields(referral_id = %event.referral_id), err)]
    pub async fn record_outcome<C: ConnectionTrait>(
        &self,
        txn: &C,
        event: &Event,
        completed: &proto::VettingCompleted,
    ) -> Result<(), Error> {
        let vetted = Vetted::parse(event, completed)?;
        let referral_id = vetted.referral.to_string();
        let board = vetted.board;
        // The settings in force on the Scottish day of the decision.
        let decided_on = pathway_proto::days::day_of(vetted.decided_at);
        let settings = board_settings::in_force_on(txn, board, decided_on).await?;
        let outcome = Outcome::from_proto(vetted.outcome, &settings)
            .map_err(|e| Error::Refused(e.to_string()))?;
        let placement = super::supersede::place_after(
            txn,
            &referral_id,
            board,
            completed.correction,
            Utc::now(),
        )
        .await?;

        let id = Uuid::now_v7().to_string();
        let decided_at = vetted.decided_at;
        let clinician = vetted.clinician;
        let target_date = outcome.target_date(decided_at, &settings);
        let opt_in_deadline = outcome.opt_in_deadline(decided_at, &settings);
        let rationale_text_id = some_text(&completed.rationale_text_id);
        let override_reason_text_id = some_text(&completed.red_flag_override_reason_text_id);
        let row = row_of(
            &outcome,
            decision::Model {
                id: id.clone(),
                referral_id: referral_id.clone(),
                board: board.code().to_owned(),
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
                rationale: String::new(),
                red_flag_override_reason: None,
                reason_text_id: None,
                advice_text_id: None,
                rationale_text_id: rationale_text_id.clone(),
                red_flag_override_reason_text_id: override_reason_text_id.clone(),
                clinician: clinician.clone(),
                decided_at,
                target_date,
                opt_in_deadline,
                recorded_at: Utc::now(),
            },
        );
        decision::insert(txn, row).await.map_err(|error| {
            if pathway_common::db::is_unique_violation(&error) {
                // Another decision on this referral landed first: the next
                // attempt places this one after it, or refuses it.
                Error::Conflict(format!(
                    "another decision on referral {referral_id} was recorded at the same time"
                ))
            } else {
                error.into()
            }
        })?;
        if let Some(deadline) = opt_in_deadline {
            let remind_at =
                crate::domain::reminder_at(decided_at, deadline, settings.opt_in_reminder_days);
            opt_in_window::open(txn, &id, &referral_id, board.code(), deadline, remind_at).await?;
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
                board: Some(board.code()),
                source: "nats",
                purpose: Some(&purpose),
            },
        )
        .await?;
        let recorded = Event::new(
            board.code(),
            Some(vetted.referral),
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
                rationale_text_id: rationale_text_id.unwrap_or_default(),
                red_flag_override_reason_text_id: override_reason_text_id.unwrap_or_default(),
            }),
        );
        outbox::enqueue(txn, &recorded).await?;
        tracing::info!(decision_id = %id, outcome = outcome.code(), "decision recorded");
        Ok(())
    }
}

/// The outcome's own fields onto the row.
fn row_of(outcome: &Outcome, mut row: decision::Model) -> decision::Model {
    match outcome {
        Outcome::Accept { priority, mode } => {
            row.priority = Some(priority.as_str().to_owned());
            row.mode = Some(mode.as_str().to_owned());
        }
        Outcome::AdviceToReferrer { advice_text_id } => {
            row.advice_text_id = Some(advice_text_id.clone());
        }
        Outcome::SelfManagement { partner } => row.partner.clone_from(partner),
        Outcome::Redirect { reason_text_id } => row.reason_text_id = Some(reason_text_id.clone()),
        Outcome::Decline {
            reason_text_id,
            rejection_reason,
        } => {
            row.reason_text_id = Some(reason_text_id.clone());
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
