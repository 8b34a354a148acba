//! A GP system sends a referral: validate every field, refuse a duplicate
//! (naming the open referral only to the referrer who sent it),
//! route it by whether its board is on the pathway on the Scottish day of
//! receipt and whether the patient is a child then ([`Routing`]), and save it with its history, audit row, event and (with an
//! Idempotency-Key) the answer, in one transaction.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use pathway_common::audit::{self, AuditEntry};
use pathway_common::auth::{Caller, Role};
use pathway_common::db::is_unique_violation;
use pathway_proto::board::BoardSettings;
use pathway_proto::days;
use pathway_proto::v1::{self as proto, Event, Payload};
use sea_orm::{ActiveValue::Set, DatabaseTransaction, DbErr, EntityTrait, TransactionTrait};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::ReferralSummary;
use crate::application::{Error, Intake, OpenReferral};
use crate::domain::referral::{NewReferral, RedFlag, ReferralRequest, RejectionReason};
use crate::domain::retention::KeepUntil;
use crate::domain::routing::Routing;
use crate::domain::{self, BoardCode};
use crate::store::{encrypted, idempotency, open_referral, postcodes, queries, referral};

/// A referral taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitted {
    /// Received now.
    Created(ReferralSummary),
    /// The same Idempotency-Key and body were received before: the first
    /// answer again, and no second referral.
    Replayed(ReferralSummary),
}

/// How one attempt ended short of an answer.
enum Attempt {
    /// A request racing this one took the open-referral lock or the
    /// Idempotency-Key first: try again, and find what it did.
    Raced,
    Failed(Error),
}

impl From<Error> for Attempt {
    fn from(error: Error) -> Self {
        Self::Failed(error)
    }
}

impl From<DbErr> for Attempt {
    fn from(error: DbErr) -> Self {
        Self::Failed(error.into())
    }
}

impl From<anyhow::Error> for Attempt {
    fn from(error: anyhow::Error) -> Self {
        Self::Failed(error.into())
    }
}

impl Intake {
    /// Receive `request` from `caller` at `now`; `body` is the request as
    /// sent, for telling a retry from another referral under the same
    /// Idempotency-Key. The Scottish day `now` falls on is the receipt day:
    /// it decides whether the board is on the pathway, the patient's age
    /// band, and that a birth date is not in the future.
    pub async fn submit_referral(
        &self,
        caller: &Caller,
        idempotency_key: Option<&str>,
        body: &[u8],
        request: ReferralRequest,
        now: DateTime<Utc>,
    ) -> Result<Submitted, Error> {
        caller.require_role(&[Role::Referrer])?;
        // A token for another board learns nothing about this body's faults.
        if let Some(board) = request
            .board
            .as_deref()
            .and_then(|b| BoardCode::parse(b).ok())
        {
            caller.require_board(board.code())?;
        }
        let referral = request
            .validate(days::day_of(now))
            .map_err(|fields| Error::Rejected {
                reason: RejectionReason::of_invalid(&request),
                fields,
            })?;
        if referral.replies_by_webhook() {
            let settings = current_board_settings(self.db(), referral.board).await?;
            referral
                .check_reply_address(settings.as_ref().and_then(|s| s.notification.as_ref()))
                .map_err(|field| Error::Rejected {
                    reason: RejectionReason::of_invalid(&request),
                    fields: vec![field],
                })?;
        }
        let request_hash = hex::encode(Sha256::digest(body));

        for attempt in 0..3 {
            match self
                .try_submit(caller, idempotency_key, &request_hash, &referral, now)
                .await
            {
                Err(Attempt::Raced) if attempt < 2 => continue,
                Err(Attempt::Raced) => break,
                Err(Attempt::Failed(error)) => return Err(error),
                Ok(answer) => return Ok(answer),
            }
        }
        Err(Error::Concurrent)
    }

    async fn try_submit(
        &self,
        caller: &Caller,
        idempotency_key: Option<&str>,
        request_hash: &str,
        referral: &NewReferral,
        now: DateTime<Utc>,
    ) -> Result<Submitted, Attempt> {
        let txn = self.db().begin().await?;
        if let Some(key) = idempotency_key
            && let Some(previous) =
                idempotency::Entity::find_by_id((caller.subject.clone(), key.to_owned()))
                    .one(&txn)
                    .await?
        {
            if previous.request_hash != request_hash {
                return Err(Error::IdempotencyKeyReused.into());
            }
            let summary: ReferralSummary = serde_json::from_str(&previous.response)
                .context("stored idempotent answer is unreadable")?;
            return Ok(Submitted::Replayed(summary));
        }

        let received_on = days::day_of(now);
        let board = referral.board.code();
        let pseudonym = domain::patient_pseudonym(&self.pseudonym_key, &referral.patient.chi)
            .map_err(|e| anyhow::anyhow!("the pseudonym key is unusable: {e}"))?;
        if !referral.re_referral
            && let Some(open) =
                open_referral::Entity::find_by_id((board.to_owned(), pseudonym.clone()))
                    .one(&txn)
                    .await?
        {
            return Err(refuse_duplicate(txn, caller, board, open).await.into());
        }
        let on_pathway = queries::pathway_enabled(&txn, board, received_on).await?;
        let paediatric_under_age = current_board_settings(&txn, referral.board)
            .await?
            .and_then(|s| s.notification)
            .and_then(|n| n.paediatric_route)
            .map(|p| p.under_age);
        let routing = Routing::decide(
            on_pathway,
            *referral.patient.date_of_birth.expose(),
            received_on,
            paediatric_under_age,
        );
        let on_pathway = routing == Routing::Pathway;
        let id = Uuid::now_v7();
        let (status, route) = (routing.status(), routing.route());
        let document = serde_json::to_string(referral).context("cannot store the referral")?;
        let document = encrypted::seal_document(&self.cipher, board, &id.to_string(), &document)
            .map_err(DbErr::from)?;
        referral::Entity::insert(referral::ActiveModel {
            id: Set(id.to_string()),
            board: Set(board.to_owned()),
            status: Set(status.into()),
            route: Set(route.into()),
            patient_pseudonym: Set(pseudonym.clone()),
            referrer_subject: Set(caller.subject.clone()),
            practice_code: Set(referral.referrer.practice_code.clone()),
            document: Set(document),
            received_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            keep_until_year: Set(Some(
                KeepUntil::of(*referral.patient.date_of_birth.expose(), received_on).stored(),
            )),
            erased_at: Set(None),
            restricted_at: Set(None),
        })
        .exec(&txn)
        .await?;
        if on_pathway && !referral.re_referral {
            let lock = open_referral::ActiveModel {
                board: Set(board.to_owned()),
                patient_pseudonym: Set(pseudonym.clone()),
                referral_id: Set(id.to_string()),
            };
            if let Err(error) = open_referral::Entity::insert(lock).exec(&txn).await {
                // A duplicate sent at the same instant: report it as one.
                return Err(raced_or_failed(txn, error).await);
            }
        }

        let attributes = attributes(&txn, referral, &pseudonym, received_on).await?;
        let payload = if on_pathway {
            Payload::ReferralReceived(proto::ReferralReceived {
                patient: Some(attributes),
                practice_code: referral.referrer.practice_code.clone(),
                red_flags: referral
                    .clinical
                    .red_flags
                    .iter()
                    .map(|f| red_flag_to_proto(*f) as i32)
                    .collect(),
                pain_intensity: u32::from(referral.clinical.pain_intensity),
                pain_duration_months: referral.clinical.pain_duration_months,
                re_referral: referral.re_referral,
                received_at: Some(proto::timestamp(now)),
            })
        } else {
            Payload::ReferralRoutedStandard(proto::ReferralRoutedStandard {
                patient: Some(attributes),
                practice_code: referral.referrer.practice_code.clone(),
                reason: routing.reason().unwrap_or_default().into(),
                received_at: Some(proto::timestamp(now)),
            })
        };
        let event = Event::new(board, Some(id), &caller.subject, now, payload);
        queries::record(&txn, &event, status, None).await?;
        audit::record(
            &txn,
            AuditEntry {
                actor: &caller.subject,
                actor_role: caller.role.as_str(),
                action: "referral.create",
                referral_id: Some(id.to_string()),
                board: Some(board),
                source: &caller.source,
                purpose: Some("referral received"),
            },
        )
        .await?;

        let created = ReferralSummary {
            id: id.to_string(),
            board: referral.board,
            status,
            route,
            received_at: now,
            version: 1,
        };
        if let Some(key) = idempotency_key {
            let row = idempotency::ActiveModel {
                caller: Set(caller.subject.clone()),
                key: Set(key.to_owned()),
                request_hash: Set(request_hash.to_owned()),
                // Kept for databases written before outcomes: every answer
                // kept is a 201 Created.
                status_code: Set(201),
                response: Set(serde_json::to_string(&created).context("cannot store the answer")?),
                created_at: Set(now),
            };
            if let Err(error) = idempotency::Entity::insert(row).exec(&txn).await {
                return Err(raced_or_failed(txn, error).await);
            }
        }
        txn.commit().await?;
        self.platform.outbox.notify();
        tracing::info!(referral_id = %id, board, route = route.as_str(), "referral received");
        Ok(Submitted::Created(created))
    }
}

/// Refuse a referral for a patient whose referral `open` is still open with
/// `board`: name it only to the referrer who sent it. Both answers take the
/// same reads and write the same audit row (which the board's information
/// governance team can read: who was told that this patient has an open
/// referral), so neither the answer's timing nor its work tells them apart.
async fn refuse_duplicate(
    txn: DatabaseTransaction,
    caller: &Caller,
    board: &str,
    open: open_referral::Model,
) -> Error {
    let decided: Result<OpenReferral, Error> = async {
        let sender = referral::Entity::find_by_id(open.referral_id.clone())
            .one(&txn)
            .await?
            .map(|row| row.referrer_subject);
        let (answer, purpose) = if sender.as_deref() == Some(caller.subject.as_str()) {
            (
                OpenReferral::Yours(open.referral_id.clone()),
                "duplicate refused: the open referral named to its referrer",
            )
        } else {
            (
                OpenReferral::NotYours,
                "duplicate refused: another referrer told a referral is open",
            )
        };
        audit::record(
            &txn,
            AuditEntry {
                actor: &caller.subject,
                actor_role: caller.role.as_str(),
                action: DUPLICATE_REFUSED,
                referral_id: Some(open.referral_id.clone()),
                board: Some(board),
                source: &caller.source,
                purpose: Some(purpose),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(answer)
    }
    .await;
    match decided {
        Ok(open_referral) => Error::Duplicate { open_referral },
        Err(error) => error,
    }
}

/// The audit action of a duplicate refused, on the open referral.
pub const DUPLICATE_REFUSED: &str = "referral.duplicate_refused";

/// Roll back; a unique violation means a racing request won.
async fn raced_or_failed(txn: DatabaseTransaction, error: DbErr) -> Attempt {
    txn.rollback().await.ok();
    if is_unique_violation(&error) {
        Attempt::Raced
    } else {
        error.into()
    }
}

/// The de-identified attributes that travel in place of the patient, the
/// age band as of the Scottish day `on` the referral was received.
async fn attributes(
    txn: &DatabaseTransaction,
    referral: &NewReferral,
    pseudonym: &str,
    on: NaiveDate,
) -> Result<proto::PatientAttributes, Error> {
    let (urban_rural_class, simd_quintile) =
        postcodes::area_of(txn, &referral.patient.postcode).await?;
    Ok(proto::PatientAttributes {
        age_band: domain::age_band(*referral.patient.date_of_birth.expose(), on).to_owned(),
        sex: referral.patient.sex.to_proto() as i32,
        urban_rural_class,
        simd_quintile,
        patient_pseudonym: pseudonym.to_owned(),
    })
}

fn red_flag_to_proto(flag: RedFlag) -> proto::RedFlag {
    use RedFlag as F;
    match flag {
        F::UnexplainedWeightLoss => proto::RedFlag::UnexplainedWeightLoss,
        F::HistoryOfCancer => proto::RedFlag::HistoryOfCancer,
        F::FeverOrSystemicIllness => proto::RedFlag::FeverOrSystemicIllness,
        F::NewNeurologicalDeficit => proto::RedFlag::NewNeurologicalDeficit,
        F::BladderOrBowelDysfunction => proto::RedFlag::BladderOrBowelDysfunction,
        F::SaddleAnaesthesia => proto::RedFlag::SaddleAnaesthesia,
        F::NonMechanicalNightPain => proto::RedFlag::NonMechanicalNightPain,
        F::SignificantTrauma => proto::RedFlag::SignificantTrauma,
        F::Immunosuppression => proto::RedFlag::Immunosuppression,
    }
}

/// The settings `board` last stored, if it ever stored any.
async fn current_board_settings<C: sea_orm::ConnectionTrait>(
    db: &C,
    board: BoardCode,
) -> Result<Option<BoardSettings>, Error> {
    let Some(row) = queries::latest_board_settings(db, board.code()).await? else {
        return Ok(None);
    };
    let settings = serde_json::from_str(&row.settings_json)
        .with_context(|| format!("stored settings {} of {} are unreadable", row.id, row.board))?;
    Ok(Some(settings))
}
