//! The notification service's handlers: plan deliveries in the inbox
//! transaction, send them exactly once to the outside world, and answer what
//! became of them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Duration;

use anyhow::Context;
use backon::{ExponentialBuilder, Retryable};
use chrono::{DateTime, NaiveDate, Utc};
use futures::StreamExt;
use http::StatusCode;
use pathway_common::audit::{self, AuditEntry};
use pathway_common::auth::{Caller, Role};
use pathway_common::http::{ApiError, FieldError};
use pathway_common::inbox::HandleError;
use pathway_common::outbox;
use pathway_common::platform::Platform;
use pathway_proto::v1::{self as proto, Event, Payload};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::boards::Boards;
use crate::channels::{Channels, Message, Receipt, SendError};
use crate::db::{board_notification, delivery};
use crate::domain::{
    self, Address, Cause, ChannelKind, Contacts, DecisionFacts, Planned, Recipient, Status,
};
use crate::intake::{IntakeClient, IntakeError};
use crate::settings::{DEFAULT_ACCOUNT, Settings};
use crate::templates::{self, Fields};

/// The actor named on this service's events and audit rows.
const ACTOR: &str = "notification";

/// Deliveries listed at most per answer.
const LIST_LIMIT: u64 = 500;

/// Deliveries sent at the same time by one worker.
const CONCURRENT_SENDS: usize = 16;

#[derive(Clone)]
pub struct Notifications {
    pub platform: Platform,
    pub intake: IntakeClient,
    pub channels: Channels,
    /// Each board's channels and templates.
    pub boards: Arc<Boards>,
    pub settings: Arc<Settings>,
}

/// One delivery, as a service manager sees it: no contact details, no text.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: String,
    pub referral_id: String,
    pub board: String,
    /// `decision` or `information_request`.
    pub cause: String,
    pub cause_event_id: String,
    pub recipient: Recipient,
    pub channel: ChannelKind,
    /// The receiving service's code, for an onward referral.
    pub receiving_service: Option<String>,
    pub template: String,
    pub status: Status,
    /// Requests made to the gateway.
    pub attempts: i32,
    pub last_error: Option<String>,
    /// `notify`, `webhook` or `sink`, once sent, with the gateway's own id.
    pub gateway: Option<String>,
    pub gateway_id: Option<String>,
    /// What the gateway last said of it (e.g. `delivered`), through its callback.
    pub gateway_status: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// A list of deliveries, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryList {
    pub deliveries: Vec<DeliveryView>,
}

fn view(row: delivery::Model) -> DeliveryView {
    DeliveryView {
        recipient: Recipient::parse(&row.recipient).unwrap_or(Recipient::Referrer),
        channel: ChannelKind::parse(&row.channel).unwrap_or(ChannelKind::Webhook),
        status: Status::parse(&row.status).unwrap_or(Status::Failed),
        id: row.id,
        referral_id: row.referral_id,
        board: row.board,
        cause: row.cause,
        cause_event_id: row.cause_event_id,
        receiving_service: row.receiving_service,
        template: row.template,
        attempts: row.attempts,
        last_error: row.last_error,
        gateway: row.gateway,
        gateway_id: row.gateway_id,
        gateway_status: row.gateway_status,
        created_at: row.created_at,
        updated_at: row.updated_at,
        sent_at: row.sent_at,
    }
}

fn rejected(reason: impl Into<String>) -> HandleError {
    HandleError::Rejected(reason.into())
}

fn some_text(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// A date as people write it: `20 March 2026`.
fn plain_date(date: NaiveDate) -> String {
    date.format("%-d %B %Y").to_string()
}

fn priority_code(value: i32) -> Option<String> {
    match proto::Priority::try_from(value).ok()? {
        proto::Priority::Urgent => Some("urgent".into()),
        proto::Priority::Soon => Some("soon".into()),
        proto::Priority::Routine => Some("routine".into()),
        proto::Priority::Unspecified => None,
    }
}

fn mode_code(value: i32) -> Option<String> {
    match proto::AppointmentMode::try_from(value).ok()? {
        proto::AppointmentMode::FaceToFace => Some("face_to_face".into()),
        proto::AppointmentMode::Video => Some("video".into()),
        proto::AppointmentMode::Telephone => Some("telephone".into()),
        proto::AppointmentMode::Unspecified => None,
    }
}

/// What a `decision.recorded` says, as far as messages need.
fn decision_facts(recorded: &proto::DecisionRecorded) -> Result<DecisionFacts, HandleError> {
    let outcome = recorded
        .outcome
        .as_ref()
        .ok_or_else(|| rejected("outcome: missing"))?;
    let code = proto::OutcomeKind::try_from(outcome.kind)
        .ok()
        .and_then(domain::outcome_code)
        .ok_or_else(|| rejected(format!("outcome.kind: {} is not an outcome", outcome.kind)))?;
    let target_date = match some_text(&recorded.target_date) {
        Some(text) => Some(plain_date(
            NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| {
                rejected(format!("target_date: {text:?} is not a date (YYYY-MM-DD)"))
            })?,
        )),
        None => None,
    };
    Ok(DecisionFacts {
        decision_id: recorded.decision_id.clone(),
        outcome: code.to_owned(),
        priority: priority_code(outcome.priority),
        mode: mode_code(outcome.mode),
        partner: some_text(&outcome.partner),
        reason: some_text(&outcome.reason),
        advice: some_text(&outcome.advice),
        target_date,
        opt_in_deadline: recorded
            .opt_in_deadline
            .as_ref()
            .and_then(proto::from_timestamp)
            .map(|at| plain_date(at.date_naive())),
        correction: !recorded.supersedes_decision_id.trim().is_empty(),
    })
}

/// The template fields for one cause and referral.
fn fields(event: &Event, cause: &Cause, contacts: &Contacts, service: Option<&str>) -> Fields {
    let mut fields = Fields {
        referral_id: event.referral_id.clone(),
        board: event.board.clone(),
        board_name: templates::board_name(&event.board),
        patient_name: contacts.patient_given_name.expose().clone(),
        patient_family_name: contacts.patient_family_name.expose().clone(),
        referrer_name: contacts.referrer_name.clone(),
        practice_code: contacts.practice_code.clone(),
        ..Fields::default()
    };
    match cause {
        Cause::Decision(facts) => {
            fields.outcome = Some(facts.outcome.clone());
            fields.outcome_label = Some(templates::outcome_label(&facts.outcome).to_owned());
            fields.priority = facts.priority.clone();
            fields.mode = facts.mode.clone();
            fields.partner = facts.partner.clone();
            fields.partner_name = service
                .map(str::to_owned)
                .or_else(|| facts.partner.clone())
                .map(|code| templates::service_name(&code));
            fields.reason = facts.reason.clone();
            fields.advice = facts.advice.clone();
            fields.target_date = facts.target_date.clone();
            fields.opt_in_deadline = facts.opt_in_deadline.clone();
            fields.correction = facts.correction;
        }
        Cause::InformationRequest { question, .. } => {
            fields.question = Some(question.clone());
        }
    }
    fields
}

/// The JSON document a webhook delivery posts.
fn document(
    delivery_id: &str,
    event: &Event,
    cause: &Cause,
    planned: &Planned,
    contacts: &Contacts,
    rendered: &templates::Rendered,
) -> serde_json::Value {
    let message = json!({"subject": rendered.subject, "body": rendered.body});
    let common = |kind: &str| {
        json!({
            "type": kind,
            "delivery_id": delivery_id,
            "referral_id": event.referral_id,
            "board": event.board,
            "practice_code": contacts.practice_code,
            "message": message,
        })
    };
    let mut out = match (planned.recipient, cause) {
        (Recipient::ReceivingService, Cause::Decision(facts)) => {
            let mut out = common("pathway.onward_referral");
            // The receiving service contacts the patient: it gets what it
            // needs for that, and nothing clinical beyond the outcome.
            out["service"] = json!(planned.receiving_service);
            out["outcome"] = json!(facts.outcome);
            out["patient"] = json!({
                "given_name": contacts.patient_given_name,
                "family_name": contacts.patient_family_name,
                "preferred": contacts.preferred.map(ChannelKind::as_str),
                "mobile": contacts.mobile,
                "email": contacts.email,
                "address": {"lines": contacts.address_lines, "postcode": contacts.postcode},
            });
            out["referrer"] = json!({"clinician_name": contacts.referrer_name});
            out
        }
        (_, Cause::Decision(facts)) => {
            let mut out = common("pathway.decision");
            out["decision"] = json!(facts);
            out
        }
        (
            _,
            Cause::InformationRequest {
                request_id,
                question,
            },
        ) => {
            let mut out = common("pathway.information_request");
            out["information_request_id"] = json!(request_id);
            out["question"] = json!(question);
            out
        }
    };
    if let Some(object) = out.as_object_mut() {
        object.retain(|_, v| !v.is_null());
    }
    out
}

fn sent_event(row: &delivery::Model, failure: Option<(&str, i32)>) -> Event {
    let recipient = Recipient::parse(&row.recipient)
        .map(Recipient::to_proto)
        .unwrap_or(proto::Recipient::Unspecified) as i32;
    let channel = ChannelKind::parse(&row.channel)
        .map(ChannelKind::to_proto)
        .unwrap_or(proto::Channel::Unspecified) as i32;
    let payload = match failure {
        None => Payload::NotificationSent(proto::NotificationSent {
            delivery_id: row.id.clone(),
            recipient,
            channel,
            cause_event_id: row.cause_event_id.clone(),
        }),
        Some((reason, attempts)) => Payload::NotificationFailed(proto::NotificationFailed {
            delivery_id: row.id.clone(),
            recipient,
            channel,
            cause_event_id: row.cause_event_id.clone(),
            reason: reason.to_owned(),
            attempts: u32::try_from(attempts).unwrap_or(0),
        }),
    };
    Event::new(
        &row.board,
        Uuid::parse_str(&row.referral_id).ok(),
        ACTOR,
        Utc::now(),
        payload,
    )
}

impl Notifications {
    fn db(&self) -> &sea_orm::DatabaseConnection {
        &self.platform.db
    }

    /// `decision.recorded`: tell the referrer, the patient and, for an
    /// onward referral, the receiving service.
    #[tracing::instrument(skip_all, fields(referral_id = %event.referral_id), err)]
    pub async fn plan_for_decision<C: ConnectionTrait>(
        &self,
        txn: &C,
        event: &Event,
        recorded: &proto::DecisionRecorded,
    ) -> Result<(), HandleError> {
        let cause = Cause::Decision(decision_facts(recorded)?);
        self.plan(
            txn,
            event,
            &cause,
            "tell the referrer and the patient of the decision",
        )
        .await
    }

    /// `vetting.info_requested`: ask the referrer.
    #[tracing::instrument(skip_all, fields(referral_id = %event.referral_id), err)]
    pub async fn plan_for_information_request<C: ConnectionTrait>(
        &self,
        txn: &C,
        event: &Event,
        requested: &proto::VettingInfoRequested,
    ) -> Result<(), HandleError> {
        let question =
            some_text(&requested.question).ok_or_else(|| rejected("question: missing"))?;
        let cause = Cause::InformationRequest {
            request_id: requested.information_request_id.clone(),
            question,
        };
        self.plan(txn, event, &cause, "ask the referrer for more information")
            .await
    }

    async fn plan<C: ConnectionTrait>(
        &self,
        txn: &C,
        event: &Event,
        cause: &Cause,
        purpose: &str,
    ) -> Result<(), HandleError> {
        let referral = Uuid::parse_str(&event.referral_id).map_err(|_| {
            rejected(format!(
                "referral_id: {:?} is not a UUID",
                event.referral_id
            ))
        })?;
        if event.board.trim().is_empty() {
            return Err(rejected("board: missing"));
        }
        let contacts = self
            .intake
            .contacts_of(&self.platform.auth, &referral.to_string(), purpose)
            .await
            .map_err(|error| match error {
                IntakeError::Refused { .. } => rejected(error.to_string()),
                IntakeError::Unavailable(_) => HandleError::Retry(anyhow::Error::new(error)),
            })?;
        let board = self
            .boards
            .of(txn, &self.channels, &event.board)
            .await
            .map_err(HandleError::Retry)?;
        let now = Utc::now();
        let (cause_name, cause_id) = match cause {
            Cause::Decision(_) => ("decision", event.event_id.clone()),
            Cause::InformationRequest { .. } => ("information_request", event.event_id.clone()),
        };
        for planned in domain::plan(cause, &contacts, &board.channels) {
            let id = Uuid::now_v7().to_string();
            let fields = fields(
                event,
                cause,
                &contacts,
                planned.receiving_service.as_deref(),
            );
            let rendered = board
                .templates
                .render(&planned.template, &fields)
                .map_err(|error| rejected(format!("{error:#}")))?;
            let document = (planned.channel == ChannelKind::Webhook)
                .then(|| document(&id, event, cause, &planned, &contacts, &rendered).to_string());
            let (status, address, last_error) = match &planned.address {
                Ok(address) => (Status::Planned, address.to_stored(), None),
                Err(reason) => (Status::Failed, String::new(), Some(reason.clone())),
            };
            let row = delivery::Model {
                id: id.clone(),
                referral_id: referral.to_string(),
                board: event.board.clone(),
                cause_event_id: cause_id.clone(),
                cause: cause_name.to_owned(),
                recipient: planned.recipient.as_str().to_owned(),
                channel: planned.channel.as_str().to_owned(),
                receiving_service: planned.receiving_service.clone(),
                template: planned.template.clone(),
                address,
                subject: rendered.subject,
                body: rendered.body,
                document,
                status: status.as_str().to_owned(),
                attempts: 0,
                claims: 0,
                last_error: last_error.clone(),
                gateway: None,
                account: Channels::account_for(&board.channels, planned.channel),
                gateway_id: None,
                gateway_status: None,
                gateway_status_at: None,
                lease_until: None,
                created_at: now,
                updated_at: now,
                sent_at: None,
            };
            if let Some(reason) = &last_error {
                tracing::warn!(delivery_id = %id, recipient = %planned.recipient, %reason, "delivery cannot be sent");
                outbox::enqueue(txn, &sent_event(&row, Some((reason, 0)))).await?;
            }
            delivery::Entity::insert(delivery::ActiveModel::from(row))
                .exec(txn)
                .await?;
        }
        Ok(())
    }

    /// `board.settings_changed`: keep the board's notification settings, if
    /// every template renders and every gateway is there. If not, the event
    /// is refused (dead-lettered with the reason, for an admin to see) and the
    /// board keeps the settings it had: a board never sends with half a change.
    #[tracing::instrument(skip_all, fields(board = %event.board), err)]
    pub async fn keep_board_settings<C: ConnectionTrait>(
        &self,
        txn: &C,
        event: &Event,
        changed: &proto::BoardSettingsChanged,
    ) -> Result<(), HandleError> {
        if event.board.trim().is_empty() {
            return Err(rejected("board: missing"));
        }
        let settings: pathway_proto::board::BoardSettings =
            serde_json::from_str(&changed.settings_json)
                .map_err(|e| rejected(format!("settings_json: {e}")))?;
        if let Some((field, reason)) = settings.problems().into_iter().next() {
            return Err(rejected(format!("settings_json.{field}: {reason}")));
        }
        let notification_json = match &settings.notification {
            Some(section) => {
                if let Err(error) = self.boards.build(&self.channels, section) {
                    tracing::error!(
                        error = format!("{error:#}"),
                        "the board's new notification settings cannot be used: it keeps its previous ones"
                    );
                    return Err(rejected(format!("settings_json.notification: {error:#}")));
                }
                Some(serde_json::to_string(section).map_err(|e| {
                    HandleError::Retry(anyhow::Error::new(e).context("cannot encode the settings"))
                })?)
            }
            None => None,
        };
        let changed_at = event.occurred_at().unwrap_or_else(Utc::now);
        let existing = board_notification::Entity::find_by_id(event.board.clone())
            .one(txn)
            .await?;
        let row = board_notification::ActiveModel {
            board: sea_orm::ActiveValue::Set(event.board.clone()),
            notification_json: sea_orm::ActiveValue::Set(notification_json),
            changed_by: sea_orm::ActiveValue::Set(changed.changed_by.clone()),
            changed_at: sea_orm::ActiveValue::Set(changed_at),
            event_id: sea_orm::ActiveValue::Set(event.event_id.clone()),
        };
        match existing {
            None => {
                board_notification::Entity::insert(row).exec(txn).await?;
            }
            // A replay of an older change does not undo a newer one.
            Some(current) if current.changed_at > changed_at => {}
            Some(_) => {
                board_notification::Entity::update(row).exec(txn).await?;
            }
        }
        tracing::info!(by = %changed.changed_by, "the board's notification settings changed");
        Ok(())
    }

    /// Send what is due: planned deliveries, and deliveries left `sending`
    /// past their lease (in doubt: looked up at the gateway first). Returns
    /// how many were finished. The worker runs this; tests call it.
    pub async fn try_send_due(&self) -> anyhow::Result<usize> {
        let now = Utc::now();
        let due = delivery::Entity::find()
            .filter(
                Condition::any()
                    .add(delivery::Column::Status.eq(Status::Planned.as_str()))
                    .add(
                        Condition::all()
                            .add(delivery::Column::Status.eq(Status::Sending.as_str()))
                            .add(delivery::Column::LeaseUntil.lt(now)),
                    ),
            )
            .order_by_asc(delivery::Column::CreatedAt)
            .limit(self.settings.sender.batch.max(1))
            .all(self.db())
            .await
            .context("cannot read the deliveries due")?;
        let finished = futures::stream::iter(due)
            .map(|row| async move {
                match self.claim(&row, now).await {
                    Ok(Some(claimed)) => {
                        let in_doubt = row.status == Status::Sending.as_str();
                        self.deliver(claimed, in_doubt).await.map(|()| 1)
                    }
                    Ok(None) => Ok(0),
                    Err(error) => Err(error),
                }
            })
            .buffer_unordered(CONCURRENT_SENDS)
            .collect::<Vec<anyhow::Result<usize>>>()
            .await;
        let mut count = 0;
        for result in finished {
            count += result?;
        }
        Ok(count)
    }

    /// Take `row` for this worker; `None` when another took it first.
    async fn claim(
        &self,
        row: &delivery::Model,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<delivery::Model>> {
        let lease = chrono::Duration::seconds(
            i64::try_from(self.settings.sender.lease_seconds.max(1)).unwrap_or(600),
        );
        let lease_until = now + lease;
        let result = delivery::Entity::update_many()
            .col_expr(
                delivery::Column::Status,
                Expr::value(Status::Sending.as_str()),
            )
            .col_expr(delivery::Column::Claims, Expr::value(row.claims + 1))
            .col_expr(delivery::Column::LeaseUntil, Expr::value(lease_until))
            .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
            .filter(delivery::Column::Id.eq(row.id.clone()))
            .filter(delivery::Column::Claims.eq(row.claims))
            .filter(delivery::Column::Status.eq(row.status.clone()))
            .exec(self.db())
            .await
            .context("cannot take a delivery")?;
        Ok((result.rows_affected == 1).then(|| delivery::Model {
            status: Status::Sending.as_str().to_owned(),
            claims: row.claims + 1,
            lease_until: Some(lease_until),
            updated_at: now,
            ..row.clone()
        }))
    }

    fn message_of(row: &delivery::Model) -> Result<Message, SendError> {
        let channel = ChannelKind::parse(&row.channel)
            .ok_or_else(|| SendError::Permanent(format!("unknown channel {:?}", row.channel)))?;
        let address = Address::from_stored(channel, &row.address)
            .ok_or_else(|| SendError::Permanent("the delivery has no address".into()))?;
        let document = match &row.document {
            Some(text) => Some(serde_json::from_str(text).map_err(|e| {
                SendError::Permanent(format!("the stored webhook document is unreadable: {e}"))
            })?),
            None => None,
        };
        Ok(Message {
            reference: row.id.clone(),
            referral_id: row.referral_id.clone(),
            board: row.board.clone(),
            channel,
            address,
            subject: row.subject.clone(),
            body: row.body.clone(),
            document,
        })
    }

    /// Send one claimed delivery: look it up first when in doubt, retry what
    /// is worth retrying, then record the end with its event.
    #[tracing::instrument(skip_all, fields(delivery_id = %row.id, referral_id = %row.referral_id, channel = %row.channel))]
    async fn deliver(&self, row: delivery::Model, in_doubt: bool) -> anyhow::Result<()> {
        let attempts = AtomicI32::new(0);
        let board = match self.boards.of(self.db(), &self.channels, &row.board).await {
            Ok(board) => board,
            Err(error) => {
                let reason = format!("the board's channels cannot be read: {error:#}");
                return self
                    .finish(&row, Err(SendError::Permanent(reason)), 0, None)
                    .await;
            }
        };
        let message = match Self::message_of(&row) {
            Ok(message) => message,
            Err(error) => return self.finish(&row, Err(error), 0, None).await,
        };
        let account = if in_doubt {
            // Looked up, and sent again if need be, where it went out.
            Some(
                row.account
                    .clone()
                    .unwrap_or_else(|| DEFAULT_ACCOUNT.to_owned()),
            )
        } else {
            // The board's account now, kept before anything goes out so a
            // send in doubt is looked up there.
            let account = Channels::account_for(&board.channels, message.channel);
            if account != row.account && !self.keep_account(&row, account.clone()).await? {
                tracing::warn!(delivery_id = %row.id, "another worker took this delivery meanwhile");
                return Ok(());
            }
            account
        };
        let channel =
            match self
                .channels
                .for_board(&board.channels, message.channel, account.as_deref())
            {
                Ok(channel) => channel,
                Err(error) => return self.finish(&row, Err(error), 0, None).await,
            };
        let doubt = AtomicBool::new(in_doubt);
        let sender = &self.settings.sender;
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(sender.min_backoff_ms.max(1)))
            .with_max_delay(Duration::from_millis(sender.max_backoff_ms.max(1)))
            .with_max_times(sender.max_attempts.max(1) - 1)
            .with_jitter();
        let attempt = || async {
            if doubt.load(Ordering::SeqCst) {
                if let Some(receipt) = channel.lookup(&message).await? {
                    tracing::info!("the gateway already has this delivery: not sent again");
                    return Ok(receipt);
                }
                doubt.store(false, Ordering::SeqCst);
            }
            attempts.fetch_add(1, Ordering::SeqCst);
            channel.send(&message).await.inspect_err(|error| {
                if error.in_doubt() {
                    doubt.store(true, Ordering::SeqCst);
                }
            })
        };
        let mut result = attempt
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(SendError::is_retryable)
            .adjust(|error: &SendError, delay| delay.map(|d| error.retry_after().unwrap_or(d)))
            .notify(|error: &SendError, delay| {
                tracing::info!(%error, ?delay, "delivery not taken: will try again");
            })
            .await;
        if result.is_err() && doubt.load(Ordering::SeqCst) {
            // The last answer never came: one more look before calling it failed.
            if let Ok(Some(receipt)) = channel.lookup(&message).await {
                result = Ok(receipt);
            }
        }
        self.finish(
            &row,
            result,
            attempts.load(Ordering::SeqCst),
            Some(channel.name()),
        )
        .await
    }

    /// Keep the account a claimed delivery goes out through; false when
    /// another worker took it since.
    async fn keep_account(
        &self,
        row: &delivery::Model,
        account: Option<String>,
    ) -> anyhow::Result<bool> {
        let updated = delivery::Entity::update_many()
            .col_expr(delivery::Column::Account, Expr::value(account))
            .filter(delivery::Column::Id.eq(row.id.clone()))
            .filter(delivery::Column::Claims.eq(row.claims))
            .filter(delivery::Column::Status.eq(Status::Sending.as_str()))
            .exec(self.db())
            .await
            .context("cannot keep the delivery's account")?;
        Ok(updated.rows_affected == 1)
    }

    /// Record how a delivery ended, with its event, in one transaction; only
    /// if nobody took the delivery since.
    async fn finish(
        &self,
        row: &delivery::Model,
        result: Result<Receipt, SendError>,
        attempts: i32,
        gateway: Option<&str>,
    ) -> anyhow::Result<()> {
        let now = Utc::now();
        let total = row.attempts + attempts;
        let txn = self.db().begin().await?;
        let mut update = delivery::Entity::update_many()
            .col_expr(delivery::Column::Attempts, Expr::value(total))
            .col_expr(
                delivery::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
            .col_expr(
                delivery::Column::Gateway,
                Expr::value(gateway.map(str::to_owned)),
            )
            .filter(delivery::Column::Id.eq(row.id.clone()))
            .filter(delivery::Column::Claims.eq(row.claims))
            .filter(delivery::Column::Status.eq(Status::Sending.as_str()));
        let event = match &result {
            Ok(receipt) => {
                update = update
                    .col_expr(delivery::Column::Status, Expr::value(Status::Sent.as_str()))
                    .col_expr(
                        delivery::Column::GatewayId,
                        Expr::value(receipt.gateway_id.clone()),
                    )
                    .col_expr(delivery::Column::SentAt, Expr::value(now))
                    .col_expr(
                        delivery::Column::LastError,
                        Expr::value(Option::<String>::None),
                    )
                    // Sent: the contact detail is no longer needed here.
                    .col_expr(delivery::Column::Address, Expr::value(String::new()));
                sent_event(row, None)
            }
            Err(error) => {
                let reason = error.to_string();
                update = update
                    .col_expr(
                        delivery::Column::Status,
                        Expr::value(Status::Failed.as_str()),
                    )
                    .col_expr(delivery::Column::LastError, Expr::value(reason.clone()));
                sent_event(row, Some((&reason, total)))
            }
        };
        let updated = update.exec(&txn).await?;
        if updated.rows_affected != 1 {
            txn.rollback().await?;
            tracing::warn!(delivery_id = %row.id, "another worker took this delivery meanwhile");
            return Ok(());
        }
        outbox::enqueue(&txn, &event).await?;
        txn.commit()
            .await
            .context("cannot record the delivery's end")?;
        self.platform.outbox.notify();
        match result {
            Ok(_) => tracing::info!(delivery_id = %row.id, attempts, "delivery sent"),
            Err(error) => {
                tracing::warn!(delivery_id = %row.id, attempts = total, %error, "delivery failed")
            }
        }
        Ok(())
    }

    /// A referral's deliveries, for its board's clinicians and admins.
    pub async fn deliveries_of(
        &self,
        caller: &Caller,
        referral_id: &str,
    ) -> Result<DeliveryList, ApiError> {
        caller.require_role(&[Role::BoardAdmin, Role::Clinician])?;
        let referral = Uuid::parse_str(referral_id.trim()).map_err(|_| {
            ApiError::validation(vec![FieldError::new(
                "id",
                "must be a referral id (a UUID)",
            )])
        })?;
        let rows = delivery::Entity::find()
            .filter(delivery::Column::ReferralId.eq(referral.to_string()))
            .order_by_asc(delivery::Column::CreatedAt)
            .order_by_asc(delivery::Column::Id)
            .all(self.db())
            .await?;
        let visible = rows.first().is_some_and(|r| caller.may_act_for(&r.board));
        if !visible {
            return Err(ApiError::not_found(format!(
                "no deliveries for referral {referral} that this token may see"
            )));
        }
        Ok(DeliveryList {
            deliveries: rows.into_iter().map(view).collect(),
        })
    }

    /// Deliveries in `status` of the caller's boards (or of `board`), newest first.
    pub async fn deliveries_by_status(
        &self,
        caller: &Caller,
        status: Option<&str>,
        board: Option<&str>,
    ) -> Result<DeliveryList, ApiError> {
        caller.require_role(&[Role::BoardAdmin])?;
        let mut query = delivery::Entity::find();
        if let Some(text) = status {
            let status = Status::parse(text.trim()).ok_or_else(|| {
                ApiError::validation(vec![FieldError::new(
                    "status",
                    "must be planned, sending, sent or failed",
                )])
            })?;
            query = query.filter(delivery::Column::Status.eq(status.as_str()));
        }
        match board {
            Some(board) => {
                caller.require_board(board)?;
                query = query.filter(delivery::Column::Board.eq(board));
            }
            None if caller.boards.contains("*") => {}
            None => {
                query = query.filter(delivery::Column::Board.is_in(caller.boards.iter().cloned()));
            }
        }
        let rows = query
            .order_by_desc(delivery::Column::CreatedAt)
            .limit(LIST_LIMIT)
            .all(self.db())
            .await?;
        Ok(DeliveryList {
            deliveries: rows.into_iter().map(view).collect(),
        })
    }

    /// Send a failed delivery again, at a board admin's word. A delivery with
    /// no address (it was sent once, or none was known) is addressed again
    /// from the referral as intake holds it now.
    pub async fn retry(&self, caller: &Caller, id: &str) -> Result<DeliveryView, ApiError> {
        caller.require_role(&[Role::BoardAdmin])?;
        let row = delivery::Entity::find_by_id(id.trim().to_owned())
            .one(self.db())
            .await?
            .filter(|row| caller.may_act_for(&row.board))
            .ok_or_else(|| {
                ApiError::not_found(format!("no delivery {id} that this token may see"))
            })?;
        if row.status != Status::Failed.as_str() {
            return Err(ApiError::conflict(
                "not_failed",
                format!(
                    "delivery {id} is {}: only a failed delivery is retried",
                    row.status
                ),
            ));
        }
        let address = if row.address.trim().is_empty() {
            self.address_again(&row).await?
        } else {
            row.address.clone()
        };
        let txn = self.db().begin().await?;
        let now = Utc::now();
        let updated = delivery::Entity::update_many()
            .col_expr(
                delivery::Column::Status,
                Expr::value(Status::Planned.as_str()),
            )
            .col_expr(delivery::Column::Address, Expr::value(address))
            .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
            .filter(delivery::Column::Id.eq(row.id.clone()))
            .filter(delivery::Column::Status.eq(Status::Failed.as_str()))
            .exec(&txn)
            .await?;
        if updated.rows_affected != 1 {
            return Err(ApiError::conflict(
                "changed",
                format!("delivery {id} changed meanwhile: look again"),
            ));
        }
        audit::record(
            &txn,
            AuditEntry {
                actor: &caller.subject,
                actor_role: caller.role.as_str(),
                action: "delivery.retry",
                referral_id: Some(row.referral_id.clone()),
                board: Some(&row.board),
                source: &caller.source,
                purpose: Some("send a failed delivery again"),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(view(delivery::Model {
            status: Status::Planned.as_str().to_owned(),
            updated_at: now,
            ..row
        }))
    }
}

/// A status callback from a Notify-compatible gateway.
#[derive(Debug, Clone, serde::Deserialize, ToSchema)]
pub struct GatewayCallback {
    /// The gateway's id of the notification.
    pub id: String,
    /// The reference Pathway gave: the delivery id.
    pub reference: Option<String>,
    /// `delivered`, `permanent-failure`, `temporary-failure` or `technical-failure`
    /// (Notify's final states); others are kept as they come.
    pub status: String,
}

/// Notify's final states in which the message never reached the person.
const GATEWAY_FAILURES: &[&str] = &[
    "permanent-failure",
    "temporary-failure",
    "technical-failure",
];

impl Notifications {
    /// A gateway's status callback: keep what it says; a final failure of a
    /// sent delivery makes it `failed` (with `notification.failed`), for a
    /// board admin to see and send again. `accounts` are the Notify accounts
    /// whose callback token was presented: only their deliveries are touched.
    pub async fn gateway_callback(
        &self,
        callback: &GatewayCallback,
        accounts: &[&str],
    ) -> Result<(), ApiError> {
        let reference = callback
            .reference
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .ok_or_else(|| {
                ApiError::validation(vec![FieldError::new(
                    "reference",
                    "must be the reference Pathway sent (the delivery id)",
                )])
            })?;
        let status = callback.status.trim();
        if status.is_empty() {
            return Err(ApiError::validation(vec![FieldError::new(
                "status",
                "must not be blank",
            )]));
        }
        let txn = self.db().begin().await?;
        let row = delivery::Entity::find_by_id(reference.to_owned())
            .one(&txn)
            .await?
            .filter(|row| {
                row.gateway.as_deref().is_none_or(|g| g == "notify")
                    && accounts.contains(&row.account.as_deref().unwrap_or(DEFAULT_ACCOUNT))
            })
            .ok_or_else(|| {
                ApiError::not_found(format!("no delivery {reference} sent through this account"))
            })?;
        if row
            .gateway_id
            .as_deref()
            .is_some_and(|id| id != callback.id)
        {
            return Err(ApiError::conflict(
                "other_notification",
                format!("delivery {reference} went out as another notification"),
            ));
        }
        let now = Utc::now();
        let failed = GATEWAY_FAILURES.contains(&status) && row.status == Status::Sent.as_str();
        let mut update = delivery::Entity::update_many()
            .col_expr(
                delivery::Column::GatewayStatus,
                Expr::value(status.to_owned()),
            )
            .col_expr(delivery::Column::GatewayStatusAt, Expr::value(now))
            .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
            .filter(delivery::Column::Id.eq(row.id.clone()))
            .filter(delivery::Column::Status.eq(row.status.clone()));
        if failed {
            let reason = format!("the gateway could not deliver it: {status}");
            update = update
                .col_expr(
                    delivery::Column::Status,
                    Expr::value(Status::Failed.as_str()),
                )
                .col_expr(delivery::Column::LastError, Expr::value(reason.clone()));
            outbox::enqueue(&txn, &sent_event(&row, Some((&reason, row.attempts)))).await?;
        }
        if update.exec(&txn).await?.rows_affected != 1 {
            return Err(ApiError::conflict(
                "changed",
                format!("delivery {reference} changed meanwhile: call again"),
            ));
        }
        txn.commit().await?;
        if failed {
            self.platform.outbox.notify();
            tracing::warn!(delivery_id = %row.id, %status, "the gateway could not deliver a sent message");
        }
        Ok(())
    }
}

impl Notifications {
    /// The address of `row`, from the referral's contact details as intake
    /// holds them now.
    async fn address_again(&self, row: &delivery::Model) -> Result<String, ApiError> {
        let contacts = self
            .intake
            .contacts_of(
                &self.platform.auth,
                &row.referral_id,
                "send a failed delivery again",
            )
            .await
            .map_err(|error| match error {
                IntakeError::Refused { message, .. } => ApiError::conflict(
                    "cannot_be_sent",
                    format!("intake no longer gives this referral's contact details: {message}"),
                ),
                IntakeError::Unavailable(why) => ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "intake_unavailable",
                    format!("{why}: try again shortly"),
                ),
            })?;
        let board = self
            .boards
            .of(self.db(), &self.channels, &row.board)
            .await?;
        let address = match (
            Recipient::parse(&row.recipient),
            ChannelKind::parse(&row.channel),
        ) {
            (Some(recipient), Some(channel)) => domain::address_for(
                recipient,
                channel,
                row.receiving_service.as_deref(),
                &contacts,
                &board.channels,
            ),
            _ => Err(format!(
                "unknown recipient or channel {} {}",
                row.recipient, row.channel
            )),
        };
        address.map(|a| a.to_stored()).map_err(|why| {
            ApiError::conflict(
                "cannot_be_sent",
                format!(
                    "delivery {} has nowhere to go ({why}): correct the referral or the board's channels",
                    row.id
                ),
            )
        })
    }
}
