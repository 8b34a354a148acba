//! First appointments reported by the board's hospital system (PAS): one
//! FHIR `Appointment` at a time, or a whole extract all-or-nothing. Each
//! report that changes what is known stores the appointment's row, the
//! referral's history, an audit row and its `appointment.*` event (outbox)
//! in one transaction; a repeat changes nothing and publishes nothing.
//!
//! A first appointment attended (arrived or fulfilled) closes the wait of a
//! referral the pathway decided on: it becomes `seen`, in the same
//! transaction. A first appointment booked, missed or cancelled leaves the
//! status as it is (a referral whose patient missed or cancelled waits for
//! the hospital system to report the next booking, or for the referrer to
//! withdraw it) but still counts as a change of the referral, whose version
//! and modification time move so that a GP system polling its Tasks by
//! `_lastUpdated` hears of it. Follow-up appointments change nothing here.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use pathway_common::auth::{AuthError, Caller, Role};
use pathway_common::db::is_unique_violation;
use pathway_common::validation::FieldError;
use pathway_proto::BoardCode;
use pathway_proto::v1::{self as proto, Event, Payload};
use sea_orm::{DatabaseTransaction, DbErr, EntityTrait, QuerySelect, TransactionTrait};
use serde::Serialize;

use super::{Intake, audit_referral};
use crate::domain::appointment::{
    self, AppointmentId, AppointmentReport, AppointmentStatus, Change, ClinicType, Happened,
    Refused, When, extract,
};
use crate::domain::{Status, Transition};
use crate::store::appointments::{self as store, appointment as row};
use crate::store::{queries, referral};

/// Why an appointment was not recorded. Nothing was changed in any case.
#[derive(Debug, thiserror::Error)]
pub enum AppointmentError {
    /// Fields the caller sent wrong (for a file, `line N.column`).
    #[error("{} field(s) not valid", .0.len())]
    Invalid(Vec<FieldError>),
    /// No referral with that id that this caller may report on.
    #[error("no referral {0} that this token may report appointments for")]
    UnknownReferral(String),
    /// The report contradicts what was recorded.
    #[error(transparent)]
    Refused(Refused),
    #[error(transparent)]
    Forbidden(AuthError),
    /// Another report of the same appointment was recorded at the same
    /// moment; the same request may succeed now.
    #[error("another report of this appointment is being recorded")]
    Concurrent,
    /// The database did not answer; the same request may succeed later.
    #[error("the database did not answer")]
    Unavailable(#[source] anyhow::Error),
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl From<DbErr> for AppointmentError {
    fn from(error: DbErr) -> Self {
        if is_unique_violation(&error) {
            Self::Concurrent
        } else if pathway_common::db::is_unavailable(&error) {
            Self::Unavailable(error.into())
        } else {
            Self::Unexpected(error.into())
        }
    }
}

impl From<AuthError> for AppointmentError {
    fn from(error: AuthError) -> Self {
        Self::Forbidden(error)
    }
}

/// An appointment as recorded after a report, and what the report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub board: String,
    pub report: AppointmentReport,
    pub change: Change,
    /// This report recorded the appointment for the first time.
    pub created: bool,
    pub recorded_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What an extract did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AppointmentImport {
    pub board: BoardCode,
    /// Rows in the file.
    pub rows: u64,
    /// Events published, by kind (`appointment.booked`, ...).
    pub published: BTreeMap<String, u64>,
    /// Rows that said what was recorded already.
    pub unchanged: u64,
}

impl Intake {
    /// Record one appointment reported by a hospital system.
    #[tracing::instrument(skip_all, fields(referral_id = %report.referral_id), err)]
    pub async fn record_appointment(
        &self,
        caller: &Caller,
        report: AppointmentReport,
        now: DateTime<Utc>,
    ) -> Result<Recorded, AppointmentError> {
        caller.require_role(&[Role::HospitalSystem])?;
        let txn = self.db().begin().await?;
        let recorded = apply(&txn, caller, None, report, now).await?;
        txn.commit().await?;
        self.platform.outbox.notify();
        Ok(recorded)
    }

    /// Record a PAS extract for `board`: every row, or nothing and every
    /// problem by line and column.
    #[tracing::instrument(skip_all, fields(board = %board), err)]
    pub async fn import_appointments(
        &self,
        caller: &Caller,
        board: BoardCode,
        file: &[u8],
        now: DateTime<Utc>,
    ) -> Result<AppointmentImport, AppointmentError> {
        caller.require_role(&[Role::HospitalSystem, Role::BoardAdmin])?;
        caller.require_board(board.code())?;
        let lines = extract::parse(file).map_err(AppointmentError::Invalid)?;
        let txn = self.db().begin().await?;
        let mut problems = Vec::new();
        let mut import = AppointmentImport {
            board,
            rows: lines.len() as u64,
            published: BTreeMap::new(),
            unchanged: 0,
        };
        for line in lines {
            match apply(&txn, caller, Some(board), line.report, now).await {
                Ok(recorded) => match recorded.change {
                    Change::Publish(happened) => {
                        *import
                            .published
                            .entry(format!("appointment.{}", happened.as_str()))
                            .or_default() += 1;
                    }
                    Change::Restate | Change::Repeat => import.unchanged += 1,
                },
                Err(AppointmentError::UnknownReferral(id)) => problems.push(FieldError::new(
                    extract::field(line.line, "referral_id"),
                    format!("no referral {id} of {board}"),
                )),
                Err(AppointmentError::Refused(refused)) => {
                    let column = match refused {
                        Refused::OtherReferral => "referral_id",
                        Refused::Settled { .. } | Refused::Altered(_) => "status",
                    };
                    problems.push(FieldError::new(
                        extract::field(line.line, column),
                        refused.to_string(),
                    ));
                }
                Err(other) => return Err(other),
            }
        }
        if !problems.is_empty() {
            txn.rollback().await?;
            return Err(AppointmentError::Invalid(problems));
        }
        txn.commit().await?;
        self.platform.outbox.notify();
        tracing::info!(board = %board, by = %caller.subject, rows = import.rows, "appointments imported");
        Ok(import)
    }
}

/// Apply one report in `txn`: load the referral and the appointment,
/// decide, and store what changed with its event.
async fn apply(
    txn: &DatabaseTransaction,
    caller: &Caller,
    board: Option<BoardCode>,
    report: AppointmentReport,
    now: DateTime<Utc>,
) -> Result<Recorded, AppointmentError> {
    let referral_id = report.referral_id.to_string();
    // Locked (PostgreSQL), as the status consumer locks it: the two may
    // move the same referral at once.
    let referral = referral::Entity::find_by_id(referral_id.clone())
        .lock_exclusive()
        .one(txn)
        .await?
        .filter(|r| caller.may_act_for(&r.board))
        .filter(|r| board.is_none_or(|b| b.code() == r.board))
        .ok_or_else(|| AppointmentError::UnknownReferral(referral_id.clone()))?;
    let existing = store::find(txn, &referral.board, report.appointment_id.as_str()).await?;
    let recorded = existing.as_ref().map(from_row).transpose()?;
    let change =
        appointment::change(recorded.as_ref(), &report).map_err(AppointmentError::Refused)?;
    let recorded_at = store::recorded_at(existing.as_ref(), now);
    if change == Change::Repeat {
        let updated_at = existing.as_ref().map_or(now, |r| r.updated_at);
        return Ok(Recorded {
            board: referral.board,
            report,
            change,
            created: false,
            recorded_at,
            updated_at,
        });
    }
    let saved = store::save(
        txn,
        row::Model {
            board: referral.board.clone(),
            appointment_id: report.appointment_id.as_str().to_owned(),
            referral_id: referral_id.clone(),
            status: report.status.code().to_owned(),
            starts_at: report.when.instant(),
            day: report.when.day(),
            clinic_type: report.clinic_type.code().to_owned(),
            first_appointment: report.first,
            reported_by: caller.subject.clone(),
            recorded_at,
            updated_at: now,
        },
        existing.is_some(),
    )
    .await?;
    if let Change::Publish(happened) = change {
        let appointment = Some(report.to_proto());
        let payload = match happened {
            Happened::Booked => {
                Payload::AppointmentBooked(proto::AppointmentBooked { appointment })
            }
            Happened::Attended => {
                Payload::AppointmentAttended(proto::AppointmentAttended { appointment })
            }
            Happened::DidNotAttend => {
                Payload::AppointmentDidNotAttend(proto::AppointmentDidNotAttend { appointment })
            }
            Happened::Cancelled => {
                Payload::AppointmentCancelled(proto::AppointmentCancelled { appointment })
            }
        };
        let event = Event::new(
            &referral.board,
            Some(report.referral_id),
            &caller.subject,
            now,
            payload,
        );
        let from: Status = referral.status.into();
        let mut status = from;
        if report.first {
            if happened == Happened::Attended {
                // Reported now, so after every event the history holds: no
                // replay needed (the consumer replays this one in its turn).
                status = from.apply(Transition::Attended).unwrap_or(from);
            }
            queries::set_status(txn, referral.clone(), status).await?;
            if from.is_open() && !status.is_open() {
                queries::release_open_lock(txn, &referral_id).await?;
            }
        }
        queries::record(
            txn,
            &event,
            status,
            Some(serde_json::json!({
                "appointment_id": report.appointment_id.as_str(),
                "status": report.status.code(),
                "first_appointment": report.first,
            })),
        )
        .await?;
        audit_referral(
            txn,
            caller,
            &format!("appointment.{}", happened.as_str()),
            &referral_id,
            &referral.board,
            "the hospital system reported an appointment",
        )
        .await?;
    }
    Ok(Recorded {
        board: referral.board,
        report,
        change,
        created: existing.is_none(),
        recorded_at: saved.recorded_at,
        updated_at: saved.updated_at,
    })
}

/// The report a stored row holds.
fn from_row(row: &row::Model) -> Result<AppointmentReport, AppointmentError> {
    let bad = |what: &str| {
        AppointmentError::Unexpected(anyhow::anyhow!(
            "stored appointment {}/{}: {what}",
            row.board,
            row.appointment_id
        ))
    };
    Ok(AppointmentReport {
        appointment_id: AppointmentId::parse(&row.appointment_id).map_err(|_| bad("id"))?,
        referral_id: uuid::Uuid::parse_str(&row.referral_id).map_err(|_| bad("referral id"))?,
        status: AppointmentStatus::parse(&row.status).ok_or_else(|| bad("status"))?,
        when: match (row.starts_at, row.day) {
            (Some(at), _) => When::At(at),
            (None, Some(day)) => When::On(day),
            (None, None) => When::Unknown,
        },
        clinic_type: ClinicType::parse(&row.clinic_type).ok_or_else(|| bad("clinic type"))?,
        first: row.first_appointment,
    })
}
