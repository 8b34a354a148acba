//! A patient's requests about their data, acted on by a board admin:
//! erasure (the patient's identifiers, letter, contacts and the clinicians'
//! words about them removed from every service, their de-identified facts
//! left to analytics) and restriction (nothing deleted, nothing processed
//! until lifted).
//!
//! Intake finds the patient's referrals with the board (by CHI number,
//! through the keyed pseudonym the duplicate rule keeps, or by referral id),
//! and in one transaction scrubs or flags what it holds, keeps the request
//! (`patient_requests`) with what it touched, leaves an audit row per
//! referral and puts `referral.erased` or `referral.restriction_changed` in
//! the outbox: vetting and notification act on those, each in its own
//! tables, and report under the request's id. Asking again is safe: an
//! erased referral is not erased twice, a restricted one not restricted
//! twice, and the answer says so.

use chrono::{DateTime, Utc};
use pathway_common::auth::{Caller, Role};
use pathway_common::validation::FieldError;
use pathway_proto::v1::{self as proto, Event, Payload};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};
use uuid::Uuid;

use super::{Error, Intake, audit_referral};
use crate::domain::{self, BoardCode, ChiNumber};
use crate::store::patients::{self, Touched, patient_request};
use crate::store::{queries, referral};

/// The longest reason a board admin may give.
const REASON_MAX: usize = 500;

/// What a patient asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// Erase their identifiable data.
    Erase,
    /// Stop processing it, without deleting.
    Restrict,
    /// Lift a restriction.
    Lift,
}

impl RequestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Erase => "erase",
            Self::Restrict => "restrict",
            Self::Lift => "lift",
        }
    }

    fn parse(code: &str) -> Option<Self> {
        [Self::Erase, Self::Restrict, Self::Lift]
            .into_iter()
            .find(|kind| kind.as_str() == code)
    }

    fn audit_action(self) -> &'static str {
        match self {
            Self::Erase => "patient.erase",
            Self::Restrict => "patient.restrict",
            Self::Lift => "patient.lift_restriction",
        }
    }
}

/// Whose data, as the board admin gave it: exactly one of the two.
#[derive(Debug, Clone, Copy)]
pub struct PatientRequest<'a> {
    pub chi: Option<&'a str>,
    pub referral_id: Option<&'a str>,
    /// Why, in the board admin's words (the request's reference): kept in
    /// the audit trail.
    pub reason: Option<&'a str>,
}

/// A request acted on, as intake kept it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub id: String,
    pub board: BoardCode,
    pub kind: RequestKind,
    /// The referrals it covered.
    pub referral_ids: Vec<String>,
    /// What intake removed (erasure), or how many referrals changed.
    pub touched: Touched,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
}

enum Whose {
    Patient(ChiNumber),
    Referral(String),
}

impl Intake {
    /// Act on `request` of `kind` for a patient of `board`, as `caller` (a
    /// board admin of that board).
    pub async fn act_on_patient_request(
        &self,
        caller: &Caller,
        board: &str,
        kind: RequestKind,
        request: PatientRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<RequestRecord, Error> {
        caller.require_role(&[Role::BoardAdmin])?;
        let board = BoardCode::parse(board).map_err(Error::UnknownBoard)?;
        caller.require_board(board.code())?;
        let (whose, reason) = parse(request)?;
        let txn = self.db().begin().await?;
        let referrals = self.referrals_of(&txn, board, &whose).await?;
        let id = Uuid::now_v7().to_string();
        let mut touched = Touched::default();
        for row in &referrals {
            let changed = match kind {
                RequestKind::Erase => {
                    let done = patients::scrub(&txn, &row.id, now).await?;
                    touched = add(touched, done);
                    done.referrals == 1
                }
                RequestKind::Restrict | RequestKind::Lift => {
                    let restricted = kind == RequestKind::Restrict;
                    let changed = patients::set_restricted(&txn, &row.id, restricted, now).await?;
                    touched.referrals += u64::from(changed);
                    changed
                }
            };
            if changed {
                let payload = match kind {
                    RequestKind::Erase => Payload::ReferralErased(proto::ReferralErased {
                        erasure_id: id.clone(),
                    }),
                    RequestKind::Restrict | RequestKind::Lift => {
                        Payload::ReferralRestrictionChanged(proto::ReferralRestrictionChanged {
                            request_id: id.clone(),
                            restricted: kind == RequestKind::Restrict,
                        })
                    }
                };
                let referral_id = Uuid::parse_str(&row.id).map_err(|e| {
                    Error::Unexpected(anyhow::anyhow!("stored referral id {:?}: {e}", row.id))
                })?;
                let event = Event::new(
                    board.code(),
                    Some(referral_id),
                    &caller.subject,
                    now,
                    payload,
                );
                queries::record(
                    &txn,
                    &event,
                    row.status.into(),
                    Some(serde_json::json!({"request_id": id})),
                )
                .await?;
            }
            audit_referral(
                &txn,
                caller,
                kind.audit_action(),
                &row.id,
                board.code(),
                reason,
            )
            .await?;
        }
        let referral_ids: Vec<String> = referrals.into_iter().map(|row| row.id).collect();
        patient_request::Entity::insert(patient_request::ActiveModel {
            id: Set(id.clone()),
            board: Set(board.code().to_owned()),
            kind: Set(kind.as_str().to_owned()),
            referral_ids: Set(serde_json::to_string(&referral_ids).map_err(anyhow::Error::from)?),
            touched: Set(serde_json::to_string(&touched).map_err(anyhow::Error::from)?),
            requested_by: Set(caller.subject.clone()),
            requested_at: Set(now),
        })
        .exec(&txn)
        .await?;
        txn.commit().await?;
        self.platform.outbox.notify();
        if kind == RequestKind::Erase {
            pathway_common::db::scrub_free_space(self.db()).await;
        }
        Ok(RequestRecord {
            id,
            board,
            kind,
            referral_ids,
            touched,
            requested_by: caller.subject.clone(),
            requested_at: now,
        })
    }

    /// A request acted on earlier, for a board admin of its board.
    pub async fn patient_request(
        &self,
        caller: &Caller,
        board: &str,
        id: &str,
    ) -> Result<RequestRecord, Error> {
        caller.require_role(&[Role::BoardAdmin])?;
        let board = BoardCode::parse(board).map_err(Error::UnknownBoard)?;
        caller.require_board(board.code())?;
        let not_found = || Error::NotFound(format!("no patient request {id} for {board}"));
        let row = patient_request::Entity::find_by_id(id.to_owned())
            .one(self.db())
            .await?
            .filter(|row| row.board == board.code())
            .ok_or_else(not_found)?;
        let unreadable = |what: &str, e: serde_json::Error| {
            Error::Unexpected(anyhow::anyhow!("stored {what} of request {id}: {e}"))
        };
        Ok(RequestRecord {
            kind: RequestKind::parse(&row.kind)
                .ok_or_else(|| Error::Unexpected(anyhow::anyhow!("stored kind {:?}", row.kind)))?,
            referral_ids: serde_json::from_str(&row.referral_ids)
                .map_err(|e| unreadable("referrals", e))?,
            touched: serde_json::from_str(&row.touched).map_err(|e| unreadable("counts", e))?,
            id: row.id,
            board,
            requested_by: row.requested_by,
            requested_at: row.requested_at,
        })
    }

    /// The patient's referrals with `board`, oldest first: every referral
    /// whose CHI number's pseudonym matches (an erased one no longer does),
    /// or the one named.
    async fn referrals_of<C: ConnectionTrait>(
        &self,
        db: &C,
        board: BoardCode,
        whose: &Whose,
    ) -> Result<Vec<referral::Model>, Error> {
        let query = referral::Entity::find().filter(referral::Column::Board.eq(board.code()));
        let query = match whose {
            Whose::Patient(chi) => {
                let pseudonym = domain::patient_pseudonym(&self.pseudonym_key, chi)
                    .map_err(|e| Error::Unexpected(anyhow::anyhow!("pseudonym key: {e}")))?;
                query.filter(referral::Column::PatientPseudonym.eq(pseudonym))
            }
            Whose::Referral(id) => {
                let found = query
                    .filter(referral::Column::Id.eq(id.as_str()))
                    .one(db)
                    .await?;
                return found
                    .map(|row| vec![row])
                    .ok_or_else(|| Error::NotFound(format!("no referral {id} with {board}")));
            }
        };
        Ok(query
            .order_by_asc(referral::Column::ReceivedAt)
            .all(db)
            .await?)
    }
}

fn blank(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|t| !t.is_empty())
}

/// Every field wrong at once, or whose data and why.
fn parse(request: PatientRequest<'_>) -> Result<(Whose, &str), Error> {
    let mut errors = Vec::new();
    let whose = match (blank(request.chi), blank(request.referral_id)) {
        (Some(chi), None) => match ChiNumber::parse(chi) {
            Ok(chi) => Some(Whose::Patient(chi)),
            Err(reason) => {
                errors.push(FieldError::new("chi", reason.to_string()));
                None
            }
        },
        (None, Some(id)) => match Uuid::parse_str(id) {
            Ok(id) => Some(Whose::Referral(id.to_string())),
            Err(_) => {
                errors.push(FieldError::new("referral_id", "not a UUID"));
                None
            }
        },
        (Some(_), Some(_)) => {
            errors.push(FieldError::new(
                "chi",
                "give the patient's CHI number or one referral_id, not both",
            ));
            None
        }
        (None, None) => {
            errors.push(FieldError::new(
                "chi",
                "required: the patient's CHI number (or a referral_id instead)",
            ));
            None
        }
    };
    let reason = match blank(request.reason) {
        Some(reason) if reason.chars().count() > REASON_MAX => {
            errors.push(FieldError::new(
                "reason",
                format!("at most {REASON_MAX} characters"),
            ));
            None
        }
        Some(reason) => Some(reason),
        None => {
            errors.push(FieldError::new(
                "reason",
                "required: the reference of the patient's request, for the audit trail",
            ));
            None
        }
    };
    match (whose, reason) {
        (Some(whose), Some(reason)) if errors.is_empty() => Ok((whose, reason)),
        _ => Err(Error::Validation(errors)),
    }
}

fn add(a: Touched, b: Touched) -> Touched {
    Touched {
        referrals: a.referrals + b.referrals,
        information_requests: a.information_requests + b.information_requests,
        opt_in_links: a.opt_in_links + b.opt_in_links,
        fhir_notifications: a.fhir_notifications + b.fhir_notifications,
        idempotency_keys: a.idempotency_keys + b.idempotency_keys,
    }
}
