//! Intake's command and query handlers: load, decide with the domain, save
//! the change, its history, its audit row and its events (outbox) in one
//! transaction.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use http::StatusCode;
use pathway_common::audit::{self, AuditEntry};
use pathway_common::auth::{Caller, Role};
use pathway_common::db::is_unique_violation;
use pathway_common::http::{ApiError, FieldError};
use pathway_common::outbox;
use pathway_common::platform::Platform;
use pathway_proto::board::BoardSettings;
use pathway_proto::v1::{self as proto, Event, Payload};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::{
    board_settings_change, history, idempotency, information_request, open_referral,
    pathway_change, postcode, referral,
};
use crate::domain::referral::{NewReferral, ReferralRequest};
use crate::domain::{self, BoardCode, Status, Transition};

/// NHS Data Dictionary referral rejection reasons.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct RejectionReason {
    /// `01`, `02` or `03`.
    pub code: &'static str,
    pub description: &'static str,
}

pub const REJECTED_DUPLICATE: RejectionReason = RejectionReason {
    code: "01",
    description: "duplicate",
};
pub const REJECTED_INAPPROPRIATE: RejectionReason = RejectionReason {
    code: "02",
    description: "inappropriate",
};
pub const REJECTED_INCOMPLETE: RejectionReason = RejectionReason {
    code: "03",
    description: "incomplete",
};

#[derive(Clone)]
pub struct Intake {
    pub platform: Platform,
    pub pseudonym_key: Vec<u8>,
}

/// Answer to a new referral.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReferralCreated {
    pub id: String,
    pub board: String,
    #[schema(value_type = String)]
    pub status: Status,
    /// `remote_pathway` or `standard`.
    pub route: String,
    pub received_at: DateTime<Utc>,
    pub version: i64,
}

/// A referral as its referrer or a clinician of its board sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReferralView {
    pub id: String,
    pub board: String,
    #[schema(value_type = String)]
    pub status: Status,
    pub route: String,
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

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawRequest {
    /// `patient_request`, `condition_resolved`, `referred_elsewhere`, `sent_in_error` or `other`.
    pub reason_code: String,
}

const WITHDRAW_REASONS: [&str; 5] = [
    "patient_request",
    "condition_resolved",
    "referred_elsewhere",
    "sent_in_error",
    "other",
];

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
    /// YYYY-MM-DD; today when left out.
    pub effective_date: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BoardView {
    pub code: String,
    pub name: String,
    /// Whether referrals received today go onto the remote pathway.
    pub pathway_enabled: bool,
    /// The date the current setting took effect, if it was ever set.
    pub since: Option<NaiveDate>,
    pub changes: Vec<PathwayChangeView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PathwayChangeView {
    pub enabled: bool,
    pub effective_date: NaiveDate,
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
    pub reason: Option<String>,
}

/// A board's settings as they stand, and every change with who and when.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BoardSettingsView {
    pub board: String,
    pub name: String,
    /// The settings in force: the defaults until a board admin stores some.
    #[schema(value_type = Object)]
    pub settings: BoardSettings,
    /// True while the board has never stored settings of its own.
    pub defaults: bool,
    /// Who stored the settings in force, and when.
    pub changed_by: Option<String>,
    pub changed_at: Option<DateTime<Utc>>,
    /// Every stored document, oldest first.
    pub changes: Vec<BoardSettingsChangeView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BoardSettingsChangeView {
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
    /// The whole document as it was stored.
    #[schema(value_type = Object)]
    pub settings: BoardSettings,
}

/// A referral's board, read from its row, for the request/reply endpoint.
pub struct IdentifiableReferral {
    pub board: String,
    pub body: serde_json::Value,
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn etag_mismatch(current: i64) -> ApiError {
    ApiError::new(
        StatusCode::PRECONDITION_FAILED,
        "stale_version",
        "the referral has changed since you read it: fetch it again and retry",
    )
    .with_detail("current_version", current)
}

impl Intake {
    fn db(&self) -> &sea_orm::DatabaseConnection {
        &self.platform.db
    }

    /// POST /v1/referrals.
    pub async fn submit_referral(
        &self,
        caller: &Caller,
        idempotency_key: Option<&str>,
        body: &[u8],
        request: ReferralRequest,
    ) -> Result<(StatusCode, ReferralCreated), ApiError> {
        caller.require_role(&[Role::Referrer])?;
        // A token for another board learns nothing about this body's faults.
        if let Some(board) = request
            .board
            .as_deref()
            .and_then(|b| BoardCode::parse(b).ok())
        {
            caller.require_board(board.code())?;
        }
        let referral = request.validate(today()).map_err(|fields| {
            let consent_refused = request.consent_to_remote_pathway == Some(false);
            let reason = if consent_refused {
                REJECTED_INAPPROPRIATE
            } else {
                REJECTED_INCOMPLETE
            };
            ApiError::validation(fields).with_detail("rejection_reason", serde_json::json!(reason))
        })?;
        let request_hash = hex::encode(Sha256::digest(body));

        for attempt in 0..3 {
            match self
                .try_submit(caller, idempotency_key, &request_hash, &referral)
                .await
            {
                Err(Submit::Raced) if attempt < 2 => continue,
                Err(Submit::Raced) => break,
                Err(Submit::Api(error)) => return Err(error),
                Ok(answer) => return Ok(answer),
            }
        }
        Err(ApiError::conflict(
            "concurrent_request",
            "another request with this Idempotency-Key is in progress: retry in a moment",
        ))
    }

    async fn try_submit(
        &self,
        caller: &Caller,
        idempotency_key: Option<&str>,
        request_hash: &str,
        referral: &NewReferral,
    ) -> Result<(StatusCode, ReferralCreated), Submit> {
        let txn = self.db().begin().await.map_err(ApiError::from)?;
        if let Some(key) = idempotency_key
            && let Some(previous) =
                idempotency::Entity::find_by_id((caller.subject.clone(), key.to_owned()))
                    .one(&txn)
                    .await
                    .map_err(ApiError::from)?
        {
            if previous.request_hash != request_hash {
                return Err(Submit::Api(ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "idempotency_key_reused",
                        "this Idempotency-Key was used for a different referral: use a new key for a new referral",
                    )
                    .with_fields(vec![FieldError::new("Idempotency-Key", "already used with another body")])));
            }
            let created: ReferralCreated = serde_json::from_str(&previous.response)
                .context("stored idempotent answer is unreadable")
                .map_err(ApiError::from)?;
            let status = StatusCode::from_u16(u16::try_from(previous.status_code).unwrap_or(201))
                .unwrap_or(StatusCode::CREATED);
            return Ok((status, created));
        }

        let now = Utc::now();
        let board = referral.board.code();
        let pseudonym = domain::patient_pseudonym(&self.pseudonym_key, &referral.patient.chi)
            .map_err(|e| {
                ApiError::Internal(anyhow::anyhow!("the pseudonym key is unusable: {e}"))
            })?;
        if !referral.re_referral
            && let Some(open) =
                open_referral::Entity::find_by_id((board.to_owned(), pseudonym.clone()))
                    .one(&txn)
                    .await
                    .map_err(ApiError::from)?
        {
            return Err(Submit::Api(duplicate(&open.referral_id)));
        }
        let on_pathway = pathway_enabled(&txn, board, now.date_naive())
            .await
            .map_err(ApiError::from)?;
        let id = Uuid::now_v7();
        let (status, route) = if on_pathway {
            (Status::AwaitingVetting, "remote_pathway")
        } else {
            (Status::RoutedStandard, "standard")
        };
        let document = serde_json::to_string(referral)
            .context("cannot store the referral")
            .map_err(ApiError::from)?;
        referral::Entity::insert(referral::ActiveModel {
            id: Set(id.to_string()),
            board: Set(board.to_owned()),
            status: Set(status.as_str().to_owned()),
            route: Set(route.to_owned()),
            patient_pseudonym: Set(pseudonym.clone()),
            referrer_subject: Set(caller.subject.clone()),
            practice_code: Set(referral.referrer.practice_code.clone()),
            document: Set(document),
            received_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
        })
        .exec(&txn)
        .await
        .map_err(ApiError::from)?;
        if on_pathway && !referral.re_referral {
            let lock = open_referral::ActiveModel {
                board: Set(board.to_owned()),
                patient_pseudonym: Set(pseudonym.clone()),
                referral_id: Set(id.to_string()),
            };
            if let Err(error) = open_referral::Entity::insert(lock).exec(&txn).await {
                txn.rollback().await.ok();
                if is_unique_violation(&error) {
                    // A duplicate sent at the same instant: report it as one.
                    return Err(Submit::Raced);
                }
                return Err(Submit::Api(error.into()));
            }
        }

        let attributes = self
            .attributes(&txn, referral, &pseudonym, now.date_naive())
            .await?;
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
                reason: "board_not_on_pathway".into(),
                received_at: Some(proto::timestamp(now)),
            })
        };
        let event = Event::new(board, Some(id), &caller.subject, now, payload);
        record(&txn, &event, status, None)
            .await
            .map_err(ApiError::from)?;
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
        .await
        .map_err(ApiError::from)?;

        let created = ReferralCreated {
            id: id.to_string(),
            board: board.to_owned(),
            status,
            route: route.to_owned(),
            received_at: now,
            version: 1,
        };
        if let Some(key) = idempotency_key {
            let row = idempotency::ActiveModel {
                caller: Set(caller.subject.clone()),
                key: Set(key.to_owned()),
                request_hash: Set(request_hash.to_owned()),
                status_code: Set(201),
                response: Set(serde_json::to_string(&created)
                    .context("cannot store the answer")
                    .map_err(ApiError::from)?),
                created_at: Set(now),
            };
            if let Err(error) = idempotency::Entity::insert(row).exec(&txn).await {
                txn.rollback().await.ok();
                if is_unique_violation(&error) {
                    return Err(Submit::Raced);
                }
                return Err(Submit::Api(error.into()));
            }
        }
        txn.commit().await.map_err(ApiError::from)?;
        self.platform.outbox.notify();
        tracing::info!(referral_id = %id, board, route, "referral received");
        Ok((StatusCode::CREATED, created))
    }

    async fn attributes(
        &self,
        txn: &DatabaseTransaction,
        referral: &NewReferral,
        pseudonym: &str,
        on: NaiveDate,
    ) -> Result<proto::PatientAttributes, ApiError> {
        let area = postcode::Entity::find_by_id(referral.patient.postcode.as_str().to_owned())
            .one(txn)
            .await?;
        let (urban_rural_class, simd_quintile) = area
            .map(|a| {
                (
                    u32::try_from(a.urban_rural_class).unwrap_or(0),
                    u32::try_from(a.simd_quintile).unwrap_or(0),
                )
            })
            .unwrap_or((0, 0));
        Ok(proto::PatientAttributes {
            age_band: domain::age_band(*referral.patient.date_of_birth.expose(), on).to_owned(),
            sex: referral.patient.sex.to_proto() as i32,
            urban_rural_class,
            simd_quintile,
            patient_pseudonym: pseudonym.to_owned(),
        })
    }

    async fn load_for(
        &self,
        txn: &DatabaseTransaction,
        caller: &Caller,
        id: &str,
    ) -> Result<referral::Model, ApiError> {
        let not_found = || ApiError::not_found(format!("no referral {id} that this token may see"));
        Uuid::parse_str(id).map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_referral_id",
                "the referral id must be a UUID",
            )
            .with_fields(vec![FieldError::new("id", "not a UUID")])
        })?;
        let row = referral::Entity::find_by_id(id.to_owned())
            .one(txn)
            .await?
            .ok_or_else(not_found)?;
        let allowed = match caller.role {
            Role::Referrer => {
                row.referrer_subject == caller.subject && caller.may_act_for(&row.board)
            }
            Role::Clinician => caller.may_act_for(&row.board),
            _ => false,
        };
        if !allowed {
            // The same answer for "not yours" and "does not exist": no probing.
            if matches!(caller.role, Role::Referrer | Role::Clinician) {
                return Err(not_found());
            }
            return Err(ApiError::forbidden(format!(
                "the role {} cannot read referrals: only the referrer who sent it or a clinician of its board",
                caller.role
            )));
        }
        Ok(row)
    }

    /// GET /v1/referrals/{id}.
    pub async fn get_referral(&self, caller: &Caller, id: &str) -> Result<ReferralView, ApiError> {
        let txn = self.db().begin().await?;
        let row = self.load_for(&txn, caller, id).await?;
        let history = history::Entity::find()
            .filter(history::Column::ReferralId.eq(id))
            .order_by_asc(history::Column::OccurredAt)
            .order_by_asc(history::Column::EventId)
            .all(&txn)
            .await?
            .into_iter()
            .map(|h| HistoryEntry {
                event_id: h.event_id,
                event: h.kind,
                status: h.status,
                occurred_at: h.occurred_at,
                actor: h.actor,
                detail: h.detail.and_then(|d| serde_json::from_str(&d).ok()),
            })
            .collect();
        let information_requests = information_requests(&txn, id).await?;
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
        let status = Status::parse(&row.status).unwrap_or(Status::Closed);
        let mut allowed_actions = Vec::new();
        if caller.role == Role::Referrer {
            if status.apply(Transition::Withdrawn).is_ok() {
                allowed_actions.push("withdraw".to_owned());
            }
            if status == Status::InfoRequested {
                allowed_actions.push("provide_information".to_owned());
            }
        }
        Ok(ReferralView {
            referral: serde_json::from_str(&row.document)
                .context("stored referral is unreadable")?,
            id: row.id,
            board: row.board,
            status,
            route: row.route,
            received_at: row.received_at,
            updated_at: row.updated_at,
            version: row.version,
            allowed_actions,
            information_requests,
            history,
        })
    }

    /// POST /v1/referrals/{id}/withdraw.
    pub async fn withdraw(
        &self,
        caller: &Caller,
        id: &str,
        if_match: Option<i64>,
        request: WithdrawRequest,
    ) -> Result<ReferralCreated, ApiError> {
        caller.require_role(&[Role::Referrer])?;
        if !WITHDRAW_REASONS.contains(&request.reason_code.as_str()) {
            return Err(ApiError::validation(vec![FieldError::new(
                "reason_code",
                format!("must be one of {}", WITHDRAW_REASONS.join(", ")),
            )]));
        }
        let txn = self.db().begin().await?;
        let row = self.load_for(&txn, caller, id).await?;
        check_version(&row, if_match)?;
        let from = Status::parse(&row.status).unwrap_or(Status::Closed);
        let next = from.apply(Transition::Withdrawn).map_err(|e| {
            ApiError::conflict("not_withdrawable", format!("{e}: nothing was changed"))
                .with_detail("status", from.as_str())
        })?;
        let now = Utc::now();
        let event = Event::new(
            &row.board,
            Some(parse_id(&row.id)?),
            &caller.subject,
            now,
            Payload::ReferralWithdrawn(proto::ReferralWithdrawn {
                previous_status: from.as_str().to_owned(),
                reason_code: request.reason_code.clone(),
            }),
        );
        let updated = self
            .change_status(
                &txn,
                row,
                next,
                &event,
                Some(serde_json::json!({"reason_code": request.reason_code})),
            )
            .await?;
        audit_referral(
            &txn,
            caller,
            "referral.withdraw",
            &updated.id,
            &updated.board,
            "referrer withdrew the referral",
        )
        .await?;
        txn.commit().await?;
        self.platform.outbox.notify();
        Ok(summary(&updated, next))
    }

    /// POST /v1/referrals/{id}/information.
    pub async fn provide_information(
        &self,
        caller: &Caller,
        id: &str,
        if_match: Option<i64>,
        request: InformationAnswer,
    ) -> Result<ReferralCreated, ApiError> {
        caller.require_role(&[Role::Referrer])?;
        let answer = request.answer.trim();
        if answer.is_empty() || answer.chars().count() > 8000 {
            return Err(ApiError::validation(vec![FieldError::new(
                "answer",
                "must be from 1 to 8000 characters",
            )]));
        }
        let txn = self.db().begin().await?;
        let row = self.load_for(&txn, caller, id).await?;
        check_version(&row, if_match)?;
        let from = Status::parse(&row.status).unwrap_or(Status::Closed);
        let next = from.apply(Transition::InfoProvided).map_err(|_| {
            ApiError::conflict(
                "no_information_requested",
                format!("no information has been asked for: the referral is {from}"),
            )
            .with_detail("status", from.as_str())
        })?;
        let mut open = information_request::Entity::find()
            .filter(information_request::Column::ReferralId.eq(id))
            .filter(information_request::Column::AnsweredAt.is_null())
            .order_by_desc(information_request::Column::RequestedAt)
            .all(&txn)
            .await?;
        let pending = match &request.information_request_id {
            Some(wanted) => open.drain(..).find(|r| &r.id == wanted).ok_or_else(|| {
                ApiError::validation(vec![FieldError::new(
                    "information_request_id",
                    "is not an open information request of this referral",
                )])
            })?,
            None => open.into_iter().next().ok_or_else(|| {
                ApiError::conflict(
                    "no_information_requested",
                    "no open information request on this referral",
                )
            })?,
        };
        let now = Utc::now();
        let request_id = pending.id.clone();
        let mut active: information_request::ActiveModel = pending.into();
        active.answer = Set(Some(answer.to_owned()));
        active.answered_by = Set(Some(caller.subject.clone()));
        active.answered_at = Set(Some(now));
        active.update(&txn).await?;
        let event = Event::new(
            &row.board,
            Some(parse_id(&row.id)?),
            &caller.subject,
            now,
            Payload::ReferralInfoProvided(proto::ReferralInfoProvided {
                information_request_id: request_id.clone(),
            }),
        );
        let updated = self
            .change_status(
                &txn,
                row,
                next,
                &event,
                Some(serde_json::json!({"information_request_id": request_id})),
            )
            .await?;
        audit_referral(
            &txn,
            caller,
            "referral.information_provided",
            &updated.id,
            &updated.board,
            "referrer answered an information request",
        )
        .await?;
        txn.commit().await?;
        self.platform.outbox.notify();
        Ok(summary(&updated, next))
    }

    async fn change_status(
        &self,
        txn: &DatabaseTransaction,
        row: referral::Model,
        next: Status,
        event: &Event,
        detail: Option<serde_json::Value>,
    ) -> Result<referral::Model, ApiError> {
        let updated = set_status(txn, row, next).await?;
        if !next.is_open() {
            release_open_lock(txn, &updated.id).await?;
        }
        record(txn, event, next, detail).await?;
        Ok(updated)
    }

    /// PUT /v1/boards/{board}/pathway.
    pub async fn switch_pathway(
        &self,
        caller: &Caller,
        board: &str,
        request: PathwaySwitch,
    ) -> Result<BoardView, ApiError> {
        let board = Self::board_for(caller, board, &[Role::BoardAdmin])?;
        let effective_date = match &request.effective_date {
            None => today(),
            Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
                ApiError::validation(vec![FieldError::new(
                    "effective_date",
                    "must be a date as YYYY-MM-DD",
                )])
            })?,
        };
        let reason = request
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        if reason.is_some_and(|r| r.chars().count() > 500) {
            return Err(ApiError::validation(vec![FieldError::new(
                "reason",
                "must be at most 500 characters",
            )]));
        }
        let now = Utc::now();
        let txn = self.db().begin().await?;
        pathway_change::Entity::insert(pathway_change::ActiveModel {
            id: Set(Uuid::now_v7().to_string()),
            board: Set(board.code().to_owned()),
            enabled: Set(request.enabled),
            effective_date: Set(effective_date),
            changed_by: Set(caller.subject.clone()),
            changed_at: Set(now),
            reason: Set(reason.map(str::to_owned)),
        })
        .exec(&txn)
        .await?;
        let event = Event::new(
            board.code(),
            None,
            &caller.subject,
            now,
            Payload::BoardPathwayChanged(proto::BoardPathwayChanged {
                enabled: request.enabled,
                effective_date: effective_date.to_string(),
                changed_by: caller.subject.clone(),
                reason: reason.unwrap_or_default().to_owned(),
            }),
        );
        outbox::enqueue(&txn, &event).await?;
        audit::record(
            &txn,
            AuditEntry {
                actor: &caller.subject,
                actor_role: caller.role.as_str(),
                action: if request.enabled {
                    "board.pathway_on"
                } else {
                    "board.pathway_off"
                },
                referral_id: None,
                board: Some(board.code()),
                source: &caller.source,
                purpose: reason,
            },
        )
        .await?;
        txn.commit().await?;
        self.platform.outbox.notify();
        tracing::info!(board = board.code(), enabled = request.enabled, %effective_date, "pathway switched");
        Ok(board_view(self.db(), board).await?)
    }

    /// The board named in a board API path, for a caller with one of
    /// `roles` on it: 403 for another role or board, 404 for no such board.
    /// Checked before the body is read, so a caller who may not change a
    /// board learns nothing from its answer about the body.
    pub fn board_for(caller: &Caller, board: &str, roles: &[Role]) -> Result<BoardCode, ApiError> {
        caller.require_role(roles)?;
        let board = BoardCode::parse(board).map_err(|reason| {
            ApiError::not_found(reason)
                .with_fields(vec![FieldError::new("board", "unknown board code")])
        })?;
        caller.require_board(board.code())?;
        Ok(board)
    }

    /// PUT /v1/boards/{board}/settings: store the whole document, announce
    /// it (`board.settings_changed`) and audit it, in one transaction.
    pub async fn set_board_settings(
        &self,
        caller: &Caller,
        board: &str,
        settings: BoardSettings,
    ) -> Result<BoardSettingsView, ApiError> {
        let board = Self::board_for(caller, board, &[Role::BoardAdmin])?;
        let problems = settings.problems();
        if !problems.is_empty() {
            return Err(ApiError::validation(
                problems
                    .into_iter()
                    .map(|(field, reason)| FieldError::new(field, reason))
                    .collect(),
            ));
        }
        let settings_json =
            serde_json::to_string(&settings).context("cannot serialise board settings")?;
        let now = Utc::now();
        let txn = self.db().begin().await?;
        board_settings_change::Entity::insert(board_settings_change::ActiveModel {
            id: Set(Uuid::now_v7().to_string()),
            board: Set(board.code().to_owned()),
            settings_json: Set(settings_json.clone()),
            changed_by: Set(caller.subject.clone()),
            changed_at: Set(now),
        })
        .exec(&txn)
        .await?;
        let event = Event::new(
            board.code(),
            None,
            &caller.subject,
            now,
            Payload::BoardSettingsChanged(proto::BoardSettingsChanged {
                vetting_target_working_days: settings.vetting_target_working_days,
                changed_by: caller.subject.clone(),
                settings_json,
            }),
        );
        outbox::enqueue(&txn, &event).await?;
        audit::record(
            &txn,
            AuditEntry {
                actor: &caller.subject,
                actor_role: caller.role.as_str(),
                action: "board.settings_changed",
                referral_id: None,
                board: Some(board.code()),
                source: &caller.source,
                purpose: Some("board settings changed"),
            },
        )
        .await?;
        let view = board_settings_view(&txn, board).await?;
        txn.commit().await?;
        self.platform.outbox.notify();
        tracing::info!(
            board = board.code(),
            vetting_target_working_days = settings.vetting_target_working_days,
            "board settings changed"
        );
        Ok(view)
    }

    /// GET /v1/boards/{board}/settings.
    pub async fn board_settings(
        &self,
        caller: &Caller,
        board: &str,
    ) -> Result<BoardSettingsView, ApiError> {
        let board = Self::board_for(caller, board, &[Role::BoardAdmin, Role::Clinician])?;
        board_settings_view(self.db(), board).await
    }

    /// GET /v1/boards.
    pub async fn boards(&self) -> Result<Vec<BoardView>, ApiError> {
        let mut out = Vec::new();
        for board in BoardCode::all() {
            out.push(board_view(self.db(), board).await?);
        }
        Ok(out)
    }

    /// The identifiable referral for another service, with an audit row.
    pub async fn identifiable_referral(
        &self,
        caller: &Caller,
        id: &str,
        purpose: &str,
    ) -> Result<IdentifiableReferral, ApiError> {
        caller.require_role(&[Role::Service])?;
        let txn = self.db().begin().await?;
        let row = referral::Entity::find_by_id(id.to_owned())
            .one(&txn)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("no referral {id}")))?;
        caller.require_board(&row.board)?;
        audit::record(
            &txn,
            AuditEntry {
                actor: &caller.subject,
                actor_role: caller.role.as_str(),
                action: "referral.read_identifiable",
                referral_id: Some(row.id.clone()),
                board: Some(&row.board),
                source: "nats",
                purpose: Some(purpose),
            },
        )
        .await?;
        let information_requests = information_requests(&txn, id).await?;
        txn.commit().await?;
        let body = serde_json::json!({
            "id": row.id,
            "board": row.board,
            "status": row.status,
            "route": row.route,
            "received_at": row.received_at,
            "version": row.version,
            "referrer_subject": row.referrer_subject,
            "referral": serde_json::from_str::<serde_json::Value>(&row.document).context("stored referral is unreadable")?,
            "information_requests": information_requests,
        });
        Ok(IdentifiableReferral {
            board: row.board,
            body,
        })
    }
}

/// One audit row for `caller` acting on a referral through the API.
async fn audit_referral<C: ConnectionTrait>(
    db: &C,
    caller: &Caller,
    action: &str,
    referral_id: &str,
    board: &str,
    purpose: &str,
) -> Result<(), sea_orm::DbErr> {
    audit::record(
        db,
        AuditEntry {
            actor: &caller.subject,
            actor_role: caller.role.as_str(),
            action,
            referral_id: Some(referral_id.to_owned()),
            board: Some(board),
            source: &caller.source,
            purpose: Some(purpose),
        },
    )
    .await
}

enum Submit {
    Raced,
    Api(ApiError),
}

impl From<ApiError> for Submit {
    fn from(error: ApiError) -> Self {
        Self::Api(error)
    }
}

fn duplicate(open_referral_id: &str) -> ApiError {
    ApiError::conflict(
        "duplicate_referral",
        "this patient already has an open referral with this board: follow that one, or send this again marked as a deliberate re-referral (\"re_referral\": true)",
    )
    .with_detail("open_referral_id", open_referral_id)
    .with_detail("rejection_reason", serde_json::json!(REJECTED_DUPLICATE))
}

fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored referral id {id:?}: {e}")))
}

fn check_version(row: &referral::Model, if_match: Option<i64>) -> Result<(), ApiError> {
    match if_match {
        Some(version) if version != row.version => Err(etag_mismatch(row.version)),
        _ => Ok(()),
    }
}

fn summary(row: &referral::Model, status: Status) -> ReferralCreated {
    ReferralCreated {
        id: row.id.clone(),
        board: row.board.clone(),
        status,
        route: row.route.clone(),
        received_at: row.received_at,
        version: row.version,
    }
}

fn red_flag_to_proto(flag: crate::domain::referral::RedFlag) -> proto::RedFlag {
    use crate::domain::referral::RedFlag as F;
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

/// Write `event` to the outbox and the referral's history.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    event: &Event,
    status_after: Status,
    detail: Option<serde_json::Value>,
) -> Result<(), sea_orm::DbErr> {
    outbox::enqueue(db, event).await?;
    record_history(db, event, status_after, detail).await
}

/// Add `event` to the referral's history (no publication).
pub async fn record_history<C: ConnectionTrait>(
    db: &C,
    event: &Event,
    status_after: Status,
    detail: Option<serde_json::Value>,
) -> Result<(), sea_orm::DbErr> {
    let (aggregate, name) = event.kind().unwrap_or(("unknown", "unknown"));
    history::Entity::insert(history::ActiveModel {
        event_id: Set(event.event_id.clone()),
        referral_id: Set(event.referral_id.clone()),
        kind: Set(format!("{aggregate}.{name}")),
        status: Set(status_after.as_str().to_owned()),
        occurred_at: Set(event.occurred_at().unwrap_or_else(Utc::now)),
        actor: Set(event.actor.clone()),
        detail: Set(detail.map(|d| d.to_string())),
    })
    .exec(db)
    .await?;
    Ok(())
}

pub async fn set_status<C: ConnectionTrait>(
    db: &C,
    row: referral::Model,
    next: Status,
) -> Result<referral::Model, sea_orm::DbErr> {
    let version = row.version + 1;
    let mut active: referral::ActiveModel = row.into();
    active.status = Set(next.as_str().to_owned());
    active.version = Set(version);
    active.updated_at = Set(Utc::now());
    active.update(db).await
}

pub async fn release_open_lock<C: ConnectionTrait>(
    db: &C,
    referral_id: &str,
) -> Result<(), sea_orm::DbErr> {
    open_referral::Entity::delete_many()
        .filter(open_referral::Column::ReferralId.eq(referral_id))
        .exec(db)
        .await?;
    Ok(())
}

async fn information_requests<C: ConnectionTrait>(
    db: &C,
    referral_id: &str,
) -> Result<Vec<InformationRequestView>, sea_orm::DbErr> {
    Ok(information_request::Entity::find()
        .filter(information_request::Column::ReferralId.eq(referral_id))
        .order_by_asc(information_request::Column::RequestedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|r| InformationRequestView {
            id: r.id,
            requested_by: r.requested_by,
            requested_at: r.requested_at,
            question: r.question,
            answer: r.answer,
            answered_at: r.answered_at,
        })
        .collect())
}

/// Whether referrals received on `on` for `board` go onto the remote pathway:
/// the latest switch that has taken effect by then decides; never switched
/// means off.
pub async fn pathway_enabled<C: ConnectionTrait>(
    db: &C,
    board: &str,
    on: NaiveDate,
) -> Result<bool, sea_orm::DbErr> {
    Ok(pathway_change::Entity::find()
        .filter(pathway_change::Column::Board.eq(board))
        .filter(pathway_change::Column::EffectiveDate.lte(on))
        .order_by_desc(pathway_change::Column::EffectiveDate)
        .order_by_desc(pathway_change::Column::ChangedAt)
        .one(db)
        .await?
        .is_some_and(|c| c.enabled))
}

async fn board_view<C: ConnectionTrait>(
    db: &C,
    board: BoardCode,
) -> Result<BoardView, sea_orm::DbErr> {
    let changes = pathway_change::Entity::find()
        .filter(pathway_change::Column::Board.eq(board.code()))
        .order_by_asc(pathway_change::Column::EffectiveDate)
        .order_by_asc(pathway_change::Column::ChangedAt)
        .all(db)
        .await?;
    let today = today();
    let current = changes
        .iter()
        .filter(|c| c.effective_date <= today)
        .max_by_key(|c| (c.effective_date, c.changed_at));
    Ok(BoardView {
        code: board.code().to_owned(),
        name: board.name().to_owned(),
        pathway_enabled: current.is_some_and(|c| c.enabled),
        since: current.map(|c| c.effective_date),
        changes: changes
            .into_iter()
            .map(|c| PathwayChangeView {
                enabled: c.enabled,
                effective_date: c.effective_date,
                changed_by: c.changed_by,
                changed_at: c.changed_at,
                reason: c.reason,
            })
            .collect(),
    })
}

async fn board_settings_view<C: ConnectionTrait>(
    db: &C,
    board: BoardCode,
) -> Result<BoardSettingsView, ApiError> {
    let rows = board_settings_change::Entity::find()
        .filter(board_settings_change::Column::Board.eq(board.code()))
        .order_by_asc(board_settings_change::Column::ChangedAt)
        .order_by_asc(board_settings_change::Column::Id)
        .all(db)
        .await?;
    let mut changes = Vec::with_capacity(rows.len());
    for row in rows {
        let settings: BoardSettings =
            serde_json::from_str(&row.settings_json).with_context(|| {
                format!("stored settings {} of {} are unreadable", row.id, row.board)
            })?;
        changes.push(BoardSettingsChangeView {
            changed_by: row.changed_by,
            changed_at: row.changed_at,
            settings,
        });
    }
    let current = changes.last();
    Ok(BoardSettingsView {
        board: board.code().to_owned(),
        name: board.name().to_owned(),
        settings: current.map(|c| c.settings.clone()).unwrap_or_default(),
        defaults: current.is_none(),
        changed_by: current.map(|c| c.changed_by.clone()),
        changed_at: current.map(|c| c.changed_at),
        changes,
    })
}
