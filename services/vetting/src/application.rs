//! Vetting's commands and queries: load the worklist row, check who may do
//! what in which state, then save the change, its audit row and its event
//! (outbox) in one transaction. A change is saved only if the row is still
//! at the version it was read at, so two clinicians racing for one referral
//! cannot both win.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use http::StatusCode;
use pathway_common::audit::{self, AuditEntry, AuditQuery, AuditRow};
use pathway_common::auth::{Caller, Role};
use pathway_common::http::{ApiError, FieldError};
use pathway_common::intake_client::{IntakeClient, IntakeError};
use pathway_common::outbox;
use pathway_common::platform::Platform;
use pathway_proto::board::BoardSettings;
use pathway_proto::v1::{self as proto, Event, Payload};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::clock::Clock;
use crate::db::{board_settings, information_request, outcome, worklist};
use crate::domain::calendar::WorkingCalendar;
use crate::domain::outcome::{OutcomeRequest, ValidOutcome};
use crate::domain::status;

/// Longest question to a referrer.
pub const MAX_QUESTION: usize = 2000;

#[derive(Clone)]
pub struct Vetting {
    pub platform: Platform,
    pub clock: Clock,
    pub intake: IntakeClient,
}

/// One referral on a worklist. No patient identifier: the worklist is built
/// from the de-identified event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorklistRow {
    pub referral_id: String,
    pub board: String,
    pub status: String,
    pub received_at: DateTime<Utc>,
    /// Red flag codes, e.g. `history_of_cancer`.
    pub red_flags: Vec<String>,
    pub age_band: String,
    pub sex: String,
    pub practice_code: String,
    /// 0 to 10.
    pub pain_intensity: i32,
    pub pain_duration_months: i32,
    pub re_referral: bool,
    /// Working days waited on the board's calendar, not counting days spent
    /// waiting for the referrer's answers.
    pub waited_working_days: u32,
    pub target_working_days: u32,
    pub over_target: bool,
    /// True while the referrer is asked for information.
    pub clock_paused: bool,
    pub claimed_by: Option<String>,
    pub claimed_by_name: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// The caller holds the claim.
    pub claimed_by_me: bool,
    /// The referrer answered a question since the last claim.
    pub answer_received: bool,
    pub version: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Worklist {
    pub board: String,
    pub target_working_days: u32,
    /// The statuses shown.
    pub statuses: Vec<String>,
    pub referrals: Vec<WorklistRow>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorklistQuery {
    /// Comma-separated statuses; `awaiting_vetting,in_vetting,info_requested` when left out.
    pub status: Option<String>,
    /// Only the referrals the caller has claimed.
    pub mine: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InformationRequestView {
    pub id: String,
    pub question: String,
    pub requested_by: String,
    pub requested_by_name: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    /// The referrer's answer, as intake holds it.
    pub answer: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OutcomeView {
    pub id: String,
    pub clinician: String,
    pub clinician_name: Option<String>,
    pub recorded_at: DateTime<Utc>,
    pub correction: bool,
    pub outcome: OutcomeRequest,
}

/// A referral as the vetting clinician sees it: the worklist row, the
/// referral as received (identifiable, from intake), questions and answers,
/// and the outcomes recorded.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReferralDetail {
    #[serde(flatten)]
    pub row: WorklistRow,
    /// What the caller may do now: `claim`, `release`, `request_information`,
    /// `record_outcome`, `correct_outcome`.
    pub allowed_actions: Vec<String>,
    /// The referral as the referrer sent it.
    #[schema(value_type = Object)]
    pub referral: serde_json::Value,
    pub information_requests: Vec<InformationRequestView>,
    pub outcomes: Vec<OutcomeView>,
}

/// The answer to a claim, a release, a question or an outcome.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ActionResult {
    pub referral_id: String,
    pub status: String,
    pub claimed_by: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// The event published (`vetting.claimed`, ...), or the earlier one when
    /// an identical outcome is sent again.
    pub event_id: String,
    pub version: i64,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InformationRequestBody {
    /// The question for the referrer (no patient identifiers: it travels to the GP as written).
    pub question: Option<String>,
}

fn not_found() -> ApiError {
    ApiError::not_found("no referral with this id on your boards' worklists")
}

fn conflict(code: &str, message: impl Into<String>) -> ApiError {
    ApiError::conflict(code, message)
}

fn holder(row: &worklist::Model) -> String {
    match (&row.claimed_by_name, &row.claimed_by) {
        (Some(name), Some(subject)) => format!("{name} ({subject})"),
        (None, Some(subject)) => subject.clone(),
        _ => "nobody".into(),
    }
}

fn red_flags(row: &worklist::Model) -> Vec<String> {
    serde_json::from_str(&row.red_flags).unwrap_or_default()
}

impl Vetting {
    fn db(&self) -> &sea_orm::DatabaseConnection {
        &self.platform.db
    }

    /// GET /v1/boards/{board}/worklist.
    pub async fn worklist(
        &self,
        caller: &Caller,
        board: &str,
        query: &WorklistQuery,
    ) -> Result<Worklist, ApiError> {
        caller.require_role(&[Role::Clinician])?;
        caller.require_board(board)?;
        let statuses: Vec<String> = match query.status.as_deref().map(str::trim) {
            None | Some("") => status::WAITING.iter().map(|s| (*s).to_owned()).collect(),
            Some(list) => {
                let mut out = Vec::new();
                for s in list.split(',').map(str::trim) {
                    if !status::ALL.contains(&s) {
                        return Err(ApiError::bad_request(format!(
                            "unknown status {s:?}: expected one or more of {}",
                            status::ALL.join(", ")
                        ))
                        .with_fields(vec![FieldError::new("status", "unknown status")]));
                    }
                    out.push(s.to_owned());
                }
                out
            }
        };
        let mut select = worklist::Entity::find()
            .filter(worklist::Column::Board.eq(board))
            .filter(worklist::Column::Status.is_in(statuses.clone()));
        if query.mine == Some(true) {
            select = select.filter(worklist::Column::ClaimedBy.eq(caller.subject.clone()));
        }
        let rows = select
            .order_by_asc(worklist::Column::ReceivedAt)
            .all(self.db())
            .await?;
        let settings = board_settings(self.db(), board).await?;
        let calendar = calendar_of(&settings);
        let requests = requests_of(self.db(), rows.iter().map(|r| r.referral_id.clone())).await?;
        let now = self.clock.now();
        let mut referrals: Vec<WorklistRow> = rows
            .iter()
            .map(|row| {
                let asked: Vec<&information_request::Model> = requests
                    .iter()
                    .filter(|r| r.referral_id == row.referral_id)
                    .collect();
                self.row_view(caller, row, &settings, &calendar, &asked, now)
            })
            .collect();
        // Red flags first, then the longest wait, then the oldest.
        referrals.sort_by(|a, b| {
            a.red_flags
                .is_empty()
                .cmp(&b.red_flags.is_empty())
                .then(b.waited_working_days.cmp(&a.waited_working_days))
                .then(a.received_at.cmp(&b.received_at))
        });
        Ok(Worklist {
            board: board.to_owned(),
            target_working_days: settings.vetting_target_working_days,
            statuses,
            referrals,
        })
    }

    fn row_view(
        &self,
        caller: &Caller,
        row: &worklist::Model,
        settings: &BoardSettings,
        calendar: &WorkingCalendar,
        requests: &[&information_request::Model],
        now: DateTime<Utc>,
    ) -> WorklistRow {
        let today = now.date_naive();
        let waited = waited_working_days(calendar, row.received_at.date_naive(), requests, today);
        let lease_live = row.lease_expires_at.is_some_and(|at| at > now);
        let claimed = row.status == status::IN_VETTING && lease_live;
        WorklistRow {
            referral_id: row.referral_id.clone(),
            board: row.board.clone(),
            status: if row.status == status::IN_VETTING && !lease_live {
                // Lapsed but not yet swept: it is back on the list.
                status::AWAITING_VETTING.to_owned()
            } else {
                row.status.clone()
            },
            received_at: row.received_at,
            red_flags: red_flags(row),
            age_band: row.age_band.clone(),
            sex: row.sex.clone(),
            practice_code: row.practice_code.clone(),
            pain_intensity: row.pain_intensity,
            pain_duration_months: row.pain_duration_months,
            re_referral: row.re_referral,
            waited_working_days: waited,
            target_working_days: settings.vetting_target_working_days,
            over_target: waited > settings.vetting_target_working_days,
            clock_paused: row.status == status::INFO_REQUESTED,
            claimed_by: row.claimed_by.clone().filter(|_| claimed),
            claimed_by_name: row.claimed_by_name.clone().filter(|_| claimed),
            lease_expires_at: row.lease_expires_at.filter(|_| claimed),
            claimed_by_me: claimed && row.claimed_by.as_deref() == Some(caller.subject.as_str()),
            answer_received: row.answer_received,
            version: row.version,
        }
    }

    /// Load a referral for a clinician of its board: anything else is "not
    /// found", so nobody learns what another board holds.
    async fn load<C: ConnectionTrait>(
        &self,
        db: &C,
        caller: &Caller,
        id: &str,
    ) -> Result<worklist::Model, ApiError> {
        caller.require_role(&[Role::Clinician])?;
        let row = worklist::Entity::find_by_id(id.to_owned())
            .one(db)
            .await?
            .ok_or_else(not_found)?;
        if !caller.may_act_for(&row.board) {
            return Err(not_found());
        }
        Ok(row)
    }

    /// GET /v1/referrals/{id}: the referral with its identifiable content,
    /// read from intake; one audit row per view.
    pub async fn referral(&self, caller: &Caller, id: &str) -> Result<ReferralDetail, ApiError> {
        let row = self.load(self.db(), caller, id).await?;
        let identifiable = self.fetch_from_intake(id, "clinical vetting").await?;
        let settings = board_settings(self.db(), &row.board).await?;
        let requests = requests_of(self.db(), [row.referral_id.clone()]).await?;
        let outcomes = outcome::Entity::find()
            .filter(outcome::Column::ReferralId.eq(id))
            .order_by_asc(outcome::Column::RecordedAt)
            .all(self.db())
            .await?;
        let txn = self.db().begin().await?;
        audit_referral(
            &txn,
            caller,
            "referral.read_identifiable",
            &row,
            "clinical vetting",
        )
        .await?;
        txn.commit().await?;

        let now = self.clock.now();
        let asked: Vec<&information_request::Model> = requests.iter().collect();
        let view = self.row_view(
            caller,
            &row,
            &settings,
            &calendar_of(&settings),
            &asked,
            now,
        );
        let answers = identifiable
            .get("information_requests")
            .and_then(|v| v.as_array())
            .cloned()
            .unwrap_or_default();
        let information_requests = requests
            .iter()
            .map(|r| InformationRequestView {
                id: r.id.clone(),
                question: r.question.clone(),
                requested_by: r.requested_by.clone(),
                requested_by_name: r.requested_by_name.clone(),
                requested_at: r.requested_at,
                answered_at: r.answered_at,
                answer: answers
                    .iter()
                    .find(|a| a.get("id").and_then(|v| v.as_str()) == Some(r.id.as_str()))
                    .and_then(|a| a.get("answer"))
                    .and_then(|v| v.as_str())
                    .map(str::to_owned),
            })
            .collect();
        let outcomes = outcomes
            .into_iter()
            .map(|o| OutcomeView {
                outcome: serde_json::from_str(&o.body).unwrap_or_default(),
                id: o.id,
                clinician: o.clinician,
                clinician_name: o.clinician_name,
                recorded_at: o.recorded_at,
                correction: o.correction,
            })
            .collect();
        Ok(ReferralDetail {
            allowed_actions: allowed_actions(&view),
            row: view,
            referral: identifiable.get("referral").cloned().unwrap_or_default(),
            information_requests,
            outcomes,
        })
    }

    /// POST /v1/referrals/{id}/claim: a lease on the referral for the caller;
    /// claiming one's own claim again renews it.
    pub async fn claim(&self, caller: &Caller, id: &str) -> Result<ActionResult, ApiError> {
        let txn = self.db().begin().await?;
        let row = self.load(&txn, caller, id).await?;
        let now = self.clock.now();
        let settings = board_settings(&txn, &row.board).await?;
        match row.status.as_str() {
            status::AWAITING_VETTING => {}
            status::IN_VETTING => {
                let live = row.lease_expires_at.is_some_and(|at| at > now);
                let mine = row.claimed_by.as_deref() == Some(caller.subject.as_str());
                if live && !mine {
                    return Err(claimed_by_other(&row));
                }
            }
            other => return Err(not_claimable(other)),
        }
        let expires = now + chrono::Duration::minutes(i64::from(settings.claim_lease_minutes));
        let event = Event::new(
            &row.board,
            Some(parse_id(id)?),
            &caller.subject,
            now,
            Payload::VettingClaimed(proto::VettingClaimed {
                clinician: caller.subject.clone(),
                lease_expires_at: Some(proto::timestamp(expires)),
            }),
        );
        let saved = save(&txn, &row, now, |active| {
            active.status = Set(status::IN_VETTING.to_owned());
            active.claimed_by = Set(Some(caller.subject.clone()));
            active.claimed_by_name = Set(caller.name.clone());
            active.lease_expires_at = Set(Some(expires));
            active.answer_received = Set(row.answer_received);
        })
        .await?;
        self.commit_action(
            txn,
            caller,
            &row,
            &event,
            "referral.claim",
            "claim for vetting",
        )
        .await?;
        Ok(result(&saved, &event))
    }

    /// POST /v1/referrals/{id}/release: give a claim back to the worklist.
    pub async fn release(&self, caller: &Caller, id: &str) -> Result<ActionResult, ApiError> {
        let txn = self.db().begin().await?;
        let row = self.load(&txn, caller, id).await?;
        let now = self.clock.now();
        self.require_live_claim(&row, caller, now)?;
        let event = Event::new(
            &row.board,
            Some(parse_id(id)?),
            &caller.subject,
            now,
            Payload::VettingReleased(proto::VettingReleased {
                clinician: caller.subject.clone(),
                reason: "released".into(),
            }),
        );
        let saved = save(&txn, &row, now, |active| {
            active.status = Set(status::AWAITING_VETTING.to_owned());
            clear_claim(active);
        })
        .await?;
        self.commit_action(
            txn,
            caller,
            &row,
            &event,
            "referral.release",
            "give back to the worklist",
        )
        .await?;
        Ok(result(&saved, &event))
    }

    /// POST /v1/referrals/{id}/information-requests: ask the referrer; the
    /// clock pauses until they answer.
    pub async fn request_information(
        &self,
        caller: &Caller,
        id: &str,
        body: &InformationRequestBody,
    ) -> Result<ActionResult, ApiError> {
        let txn = self.db().begin().await?;
        let row = self.load(&txn, caller, id).await?;
        let question = body.question.as_deref().map(str::trim).unwrap_or("");
        if question.is_empty() {
            return Err(ApiError::validation(vec![FieldError::new(
                "question",
                "required: what do you need the referrer to tell you?",
            )]));
        }
        if question.chars().count() > MAX_QUESTION {
            return Err(ApiError::validation(vec![FieldError::new(
                "question",
                format!("at most {MAX_QUESTION} characters"),
            )]));
        }
        let now = self.clock.now();
        self.require_live_claim(&row, caller, now)?;
        let request_id = Uuid::now_v7().to_string();
        let event = Event::new(
            &row.board,
            Some(parse_id(id)?),
            &caller.subject,
            now,
            Payload::VettingInfoRequested(proto::VettingInfoRequested {
                information_request_id: request_id.clone(),
                clinician: caller.subject.clone(),
                question: question.to_owned(),
            }),
        );
        information_request::Entity::insert(information_request::ActiveModel {
            id: Set(request_id),
            referral_id: Set(row.referral_id.clone()),
            question: Set(question.to_owned()),
            requested_by: Set(caller.subject.clone()),
            requested_by_name: Set(caller.name.clone()),
            requested_at: Set(now),
            answered_at: Set(None),
        })
        .exec(&txn)
        .await?;
        let saved = save(&txn, &row, now, |active| {
            active.status = Set(status::INFO_REQUESTED.to_owned());
            active.answer_received = Set(false);
            clear_claim(active);
        })
        .await?;
        self.commit_action(
            txn,
            caller,
            &row,
            &event,
            "referral.request_information",
            "ask the referrer",
        )
        .await?;
        Ok(result(&saved, &event))
    }

    /// POST /v1/referrals/{id}/outcome: only the holder of a live claim.
    /// Sending the same outcome again answers as the first time and writes
    /// nothing.
    pub async fn record_outcome(
        &self,
        caller: &Caller,
        id: &str,
        body: &OutcomeRequest,
    ) -> Result<(ActionResult, bool), ApiError> {
        let txn = self.db().begin().await?;
        let row = self.load(&txn, caller, id).await?;
        let settings = board_settings(&txn, &row.board).await?;
        let valid = body
            .validate(&settings, &red_flags(&row))
            .map_err(ApiError::validation)?;
        let now = self.clock.now();
        if row.status == status::VETTED {
            let last = last_outcome(&txn, id).await?;
            if let Some(last) = last.filter(|o| {
                o.clinician == caller.subject
                    && serde_json::from_str::<OutcomeRequest>(&o.body)
                        .ok()
                        .as_ref()
                        == Some(&valid.request)
            }) {
                return Ok((
                    ActionResult {
                        referral_id: row.referral_id.clone(),
                        status: row.status.clone(),
                        claimed_by: None,
                        lease_expires_at: None,
                        event_id: last.id,
                        version: row.version,
                    },
                    true,
                ));
            }
            return Err(conflict(
                "already_vetted",
                "an outcome is already recorded for this referral: to change it, record a correction",
            ));
        }
        self.require_live_claim(&row, caller, now)?;
        let (saved, event) = self
            .write_outcome(&txn, caller, &row, &valid, false, now)
            .await?;
        audit_referral(
            &txn,
            caller,
            "referral.record_outcome",
            &row,
            "record the vetting outcome",
        )
        .await?;
        txn.commit().await?;
        self.platform.outbox.notify();
        Ok((result(&saved, &event), false))
    }

    /// POST /v1/referrals/{id}/correction: a clinician of the board corrects
    /// a recorded outcome; the decision service supersedes the decision.
    pub async fn correct_outcome(
        &self,
        caller: &Caller,
        id: &str,
        body: &OutcomeRequest,
    ) -> Result<ActionResult, ApiError> {
        let txn = self.db().begin().await?;
        let row = self.load(&txn, caller, id).await?;
        let settings = board_settings(&txn, &row.board).await?;
        let valid = body
            .validate(&settings, &red_flags(&row))
            .map_err(ApiError::validation)?;
        if row.status != status::VETTED {
            return Err(conflict(
                "nothing_to_correct",
                format!(
                    "the referral is {}: only a vetted referral's outcome can be corrected",
                    row.status
                ),
            ));
        }
        let now = self.clock.now();
        let (saved, event) = self
            .write_outcome(&txn, caller, &row, &valid, true, now)
            .await?;
        audit_referral(
            &txn,
            caller,
            "referral.correct_outcome",
            &row,
            "correct the vetting outcome",
        )
        .await?;
        txn.commit().await?;
        self.platform.outbox.notify();
        Ok(result(&saved, &event))
    }

    async fn write_outcome(
        &self,
        txn: &DatabaseTransaction,
        caller: &Caller,
        row: &worklist::Model,
        valid: &ValidOutcome,
        correction: bool,
        now: DateTime<Utc>,
    ) -> Result<(worklist::Model, Event), ApiError> {
        let event = Event::new(
            &row.board,
            Some(parse_id(&row.referral_id)?),
            &caller.subject,
            now,
            Payload::VettingCompleted(proto::VettingCompleted {
                clinician: caller.subject.clone(),
                outcome: Some(valid.outcome.clone()),
                red_flag_override_reason: valid
                    .red_flag_override_reason
                    .clone()
                    .unwrap_or_default(),
                rationale: valid.rationale.clone(),
                correction,
            }),
        );
        outcome::Entity::insert(outcome::ActiveModel {
            id: Set(event.event_id.clone()),
            referral_id: Set(row.referral_id.clone()),
            board: Set(row.board.clone()),
            clinician: Set(caller.subject.clone()),
            clinician_name: Set(caller.name.clone()),
            body: Set(serde_json::to_string(&valid.request).context("outcome as JSON")?),
            red_flag_override_reason: Set(valid.red_flag_override_reason.clone()),
            correction: Set(correction),
            recorded_at: Set(now),
        })
        .exec(txn)
        .await?;
        let saved = save(txn, row, now, |active| {
            active.status = Set(status::VETTED.to_owned());
            active.answer_received = Set(false);
            clear_claim(active);
        })
        .await?;
        outbox::enqueue(txn, &event).await?;
        Ok((saved, event))
    }

    /// Publish `event` and audit `action` beside the change already made in
    /// `txn`, then commit: all of it or nothing.
    async fn commit_action(
        &self,
        txn: DatabaseTransaction,
        caller: &Caller,
        row: &worklist::Model,
        event: &Event,
        action: &str,
        purpose: &str,
    ) -> Result<(), ApiError> {
        outbox::enqueue(&txn, event).await?;
        audit_referral(&txn, caller, action, row, purpose).await?;
        txn.commit().await?;
        self.platform.outbox.notify();
        Ok(())
    }

    fn require_live_claim(
        &self,
        row: &worklist::Model,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        match row.status.as_str() {
            status::IN_VETTING => {}
            status::AWAITING_VETTING => {
                return Err(conflict(
                    "not_claimed",
                    "claim the referral first: POST /v1/referrals/{id}/claim",
                ));
            }
            other => return Err(not_claimable(other)),
        }
        let mine = row.claimed_by.as_deref() == Some(caller.subject.as_str());
        let live = row.lease_expires_at.is_some_and(|at| at > now);
        match (mine, live) {
            (true, true) => Ok(()),
            (true, false) => Err(conflict(
                "lease_lapsed",
                "your claim lapsed and the referral went back to the worklist: claim it again",
            )
            .with_detail(
                "lapsed_at",
                row.lease_expires_at
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_default(),
            )),
            (false, true) => Err(claimed_by_other(row)),
            (false, false) => Err(conflict(
                "not_claimed",
                "claim the referral first: POST /v1/referrals/{id}/claim",
            )),
        }
    }

    /// Return lapsed claims to the worklist, publishing `vetting.released`
    /// with the reason `lapsed`. Returns how many lapsed.
    pub async fn expire_leases(&self) -> anyhow::Result<usize> {
        let now = self.clock.now();
        let lapsed = worklist::Entity::find()
            .filter(worklist::Column::Status.eq(status::IN_VETTING))
            .filter(worklist::Column::LeaseExpiresAt.lte(now))
            .all(self.db())
            .await?;
        let mut count = 0;
        for row in lapsed {
            let txn = self.db().begin().await?;
            let event = Event::new(
                &row.board,
                Uuid::parse_str(&row.referral_id).ok(),
                "system",
                now,
                Payload::VettingReleased(proto::VettingReleased {
                    clinician: row.claimed_by.clone().unwrap_or_default(),
                    reason: "lapsed".into(),
                }),
            );
            match save(&txn, &row, now, |active| {
                active.status = Set(status::AWAITING_VETTING.to_owned());
                clear_claim(active);
            })
            .await
            {
                Ok(_) => {}
                // Claimed again or vetted meanwhile: nothing lapsed.
                Err(ApiError::Client { .. }) => continue,
                Err(ApiError::Internal(error)) => return Err(error),
            }
            outbox::enqueue(&txn, &event).await?;
            audit::record(
                &txn,
                AuditEntry {
                    actor: "system",
                    actor_role: "system",
                    action: "referral.lease_lapsed",
                    referral_id: Some(row.referral_id.clone()),
                    board: Some(&row.board),
                    source: "vetting",
                    purpose: Some("the claim lapsed"),
                },
            )
            .await?;
            txn.commit().await?;
            count += 1;
        }
        if count > 0 {
            self.platform.outbox.notify();
        }
        Ok(count)
    }

    /// GET /v1/boards/{board}/audit: the audit trail, for the board's admins.
    pub async fn audit_trail(
        &self,
        caller: &Caller,
        board: &str,
        query: &AuditQuery,
    ) -> Result<Vec<AuditRow>, ApiError> {
        audit::trail(self.db(), caller, board, query).await
    }

    /// What was done to a referral (claims, questions, outcomes), oldest
    /// first, for the history on the clinician's page.
    pub async fn actions_on(&self, caller: &Caller, id: &str) -> Result<Vec<AuditRow>, ApiError> {
        let row = self.load(self.db(), caller, id).await?;
        Ok(audit::entity::Entity::find()
            .filter(audit::entity::Column::ReferralId.eq(row.referral_id))
            .filter(audit::entity::Column::Action.ne("referral.read_identifiable"))
            .order_by_asc(audit::entity::Column::At)
            .all(self.db())
            .await?
            .into_iter()
            .map(|r| AuditRow {
                at: r.at,
                actor: r.actor,
                actor_role: r.actor_role,
                action: r.action,
                referral_id: r.referral_id,
                source: r.source,
                purpose: r.purpose,
            })
            .collect())
    }

    /// The board's settings as vetting last heard them.
    pub async fn settings_of(&self, board: &str) -> Result<BoardSettings, ApiError> {
        board_settings(self.db(), board).await
    }

    /// Ask intake for the identifiable referral (intake audits the read).
    async fn fetch_from_intake(
        &self,
        id: &str,
        purpose: &str,
    ) -> Result<serde_json::Value, ApiError> {
        match self.intake.referral(id, purpose).await {
            Ok(Some(referral)) => Ok(referral),
            Ok(None) => Err(not_found()),
            Err(IntakeError::Unavailable(why)) => Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "intake_unavailable",
                format!(
                    "the referral's content cannot be fetched from intake ({why}): try again in a moment"
                ),
            )),
            Err(IntakeError::Failed(error)) => Err(ApiError::Internal(error)),
        }
    }
}

/// What a clinician may do with a referral in this state.
pub fn allowed_actions(row: &WorklistRow) -> Vec<String> {
    let mut out = Vec::new();
    match row.status.as_str() {
        status::AWAITING_VETTING => out.push("claim"),
        status::IN_VETTING if row.claimed_by_me => {
            out.extend(["claim", "release", "request_information", "record_outcome"]);
        }
        status::VETTED => out.push("correct_outcome"),
        _ => {}
    }
    out.into_iter().map(str::to_owned).collect()
}

fn claimed_by_other(row: &worklist::Model) -> ApiError {
    conflict(
        "claimed_by_another_clinician",
        format!(
            "{} is vetting this referral until {}: choose another, or wait for the claim to be released or lapse",
            holder(row),
            row.lease_expires_at
                .map(|t| t.format("%H:%M UTC").to_string())
                .unwrap_or_default()
        ),
    )
    .with_detail("claimed_by", row.claimed_by.clone().unwrap_or_default())
    .with_detail(
        "lease_expires_at",
        row.lease_expires_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
    )
}

fn not_claimable(state: &str) -> ApiError {
    let message = match state {
        status::INFO_REQUESTED => {
            "the referrer has been asked for information: the referral returns to the worklist when they answer"
        }
        status::VETTED => "an outcome is already recorded for this referral",
        status::WITHDRAWN => "the referrer withdrew this referral",
        _ => "this referral is closed",
    };
    conflict(state, message).with_detail("status", state)
}

fn clear_claim(active: &mut worklist::ActiveModel) {
    active.claimed_by = Set(None);
    active.claimed_by_name = Set(None);
    active.lease_expires_at = Set(None);
}

fn result(row: &worklist::Model, event: &Event) -> ActionResult {
    ActionResult {
        referral_id: row.referral_id.clone(),
        status: row.status.clone(),
        claimed_by: row.claimed_by.clone(),
        lease_expires_at: row.lease_expires_at,
        event_id: event.event_id.clone(),
        version: row.version,
    }
}

fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored referral id {id:?}: {e}")))
}

/// Save a change to `row` only if nobody changed it since it was read.
async fn save(
    txn: &DatabaseTransaction,
    row: &worklist::Model,
    now: DateTime<Utc>,
    change: impl FnOnce(&mut worklist::ActiveModel),
) -> Result<worklist::Model, ApiError> {
    let mut active = worklist::ActiveModel {
        updated_at: Set(now),
        version: Set(row.version + 1),
        ..Default::default()
    };
    change(&mut active);
    let updated = worklist::Entity::update_many()
        .set(active)
        .filter(worklist::Column::ReferralId.eq(row.referral_id.clone()))
        .filter(worklist::Column::Version.eq(row.version))
        .exec(txn)
        .await?;
    if updated.rows_affected != 1 {
        let current = worklist::Entity::find_by_id(row.referral_id.clone())
            .one(txn)
            .await?;
        return Err(match current {
            Some(current) if current.status == status::IN_VETTING => claimed_by_other(&current),
            _ => conflict(
                "changed_meanwhile",
                "the referral changed while you were acting on it: reload it and try again",
            ),
        });
    }
    worklist::Entity::find_by_id(row.referral_id.clone())
        .one(txn)
        .await?
        .ok_or_else(not_found)
}

async fn audit_referral<C: ConnectionTrait>(
    db: &C,
    caller: &Caller,
    action: &str,
    row: &worklist::Model,
    purpose: &str,
) -> Result<(), sea_orm::DbErr> {
    audit::record(
        db,
        AuditEntry {
            actor: &caller.subject,
            actor_role: caller.role.as_str(),
            action,
            referral_id: Some(row.referral_id.clone()),
            board: Some(&row.board),
            source: &caller.source,
            purpose: Some(purpose),
        },
    )
    .await
}

async fn last_outcome<C: ConnectionTrait>(
    db: &C,
    referral_id: &str,
) -> Result<Option<outcome::Model>, sea_orm::DbErr> {
    outcome::Entity::find()
        .filter(outcome::Column::ReferralId.eq(referral_id))
        .order_by_desc(outcome::Column::RecordedAt)
        .order_by_desc(outcome::Column::Id)
        .one(db)
        .await
}

/// The board's settings as last published, or the defaults.
pub async fn board_settings<C: ConnectionTrait>(
    db: &C,
    board: &str,
) -> Result<BoardSettings, ApiError> {
    let row = board_settings::Entity::find_by_id(board.to_owned())
        .one(db)
        .await?;
    Ok(row
        .and_then(|r| serde_json::from_str(&r.settings_json).ok())
        .unwrap_or_default())
}

fn calendar_of(settings: &BoardSettings) -> WorkingCalendar {
    WorkingCalendar::new(settings.scottish_bank_holidays, &settings.extra_holidays)
}

async fn requests_of<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = String>,
) -> Result<Vec<information_request::Model>, sea_orm::DbErr> {
    let ids: Vec<String> = ids.into_iter().collect();
    let mut out = Vec::new();
    // Bounded IN lists keep every database happy.
    for chunk in ids.chunks(500) {
        out.extend(
            information_request::Entity::find()
                .filter(information_request::Column::ReferralId.is_in(chunk.to_vec()))
                .order_by_asc(information_request::Column::RequestedAt)
                .all(db)
                .await?,
        );
    }
    Ok(out)
}

/// Working days from receipt to `today`, less the working days spent
/// waiting for the referrer's answers (the clock is paused then).
pub fn waited_working_days(
    calendar: &WorkingCalendar,
    received: NaiveDate,
    requests: &[&information_request::Model],
    today: NaiveDate,
) -> u32 {
    let total = calendar.working_days_between(received, today);
    let paused: u32 = requests
        .iter()
        .map(|r| {
            let until = r.answered_at.map_or(today, |a| a.date_naive());
            calendar.working_days_between(r.requested_at.date_naive(), until)
        })
        .sum();
    total.saturating_sub(paused)
}
