//! Planning deliveries: a decision tells the referrer, the patient and, for
//! an onward referral, the receiving service; a question from the clinician
//! asks the referrer. The contact details come from intake first, outside
//! any transaction ([`Notifications::contacts_for`]); then, in the
//! consumer's transaction, each message is rendered and kept in its row with
//! the one contact it needs; one that has nowhere to go, or whose template
//! runs over its fuel or output limit, is `failed` at once, with
//! `notification.failed`.

use chrono::Utc;
use pathway_common::outbox;
use pathway_proto::BoardCode;
use pathway_proto::v1::{self as proto, Event, Payload};
use sea_orm::ConnectionTrait;
use serde_json::json;
use uuid::Uuid;

use super::held::PatientTold;
use super::{Error, Notifications, end_event};
use crate::channels::Channels;
use crate::domain::{
    self, Cause, ChannelKind, Contacts, DecisionFacts, Ending, Planned, Recipient, Status, told,
};
use crate::intake;
use crate::store::{deliveries, delivery};
use crate::templates::{self, Fields, Rendered};
use pathway_proto::board::RenderError;

impl Notifications {
    /// The contact details of `event`'s referral, from intake, for
    /// `purpose` (which intake's audit trail keeps). Intake down or
    /// restarting, or our token refused, is a fault that may heal.
    /// What needs no one else is checked first: an event on a board that
    /// does not exist is poison, whether intake answers or not.
    pub async fn contacts_for(&self, event: &Event, purpose: &str) -> Result<Contacts, Error> {
        let referral = referral_of(event)?;
        board_of(event)?;
        let mut contacts = intake::contacts_of(&self.intake, &referral.to_string(), purpose)
            .await
            .map_err(|error| {
                if matches!(error, pathway_common::intake_client::IntakeError::Erased) {
                    Error::Erased
                } else if intake::may_heal(&error) {
                    Error::unavailable("intake", error)
                } else {
                    Error::rejected(error.to_string())
                }
            })?;
        // Intake issues the link when it learns of the decision, which may
        // be after us: the patient's message waits for it.
        if let Some(Payload::DecisionRecorded(recorded)) = &event.payload
            && recorded
                .outcome
                .as_ref()
                .is_some_and(|o| o.kind == proto::OutcomeKind::PatientOptIn as i32)
            && contacts.opt_in.is_none()
        {
            return Err(Error::unavailable(
                "intake",
                anyhow::anyhow!(
                    "intake has not yet issued the opt-in link of decision {}",
                    recorded.decision_id
                ),
            ));
        }
        if let Some(Payload::DecisionOptInReminderDue(due)) = &event.payload
            && contacts.opt_in.is_none()
        {
            return Err(Error::unavailable(
                "intake",
                anyhow::anyhow!(
                    "intake has not issued the opt-in link of decision {}",
                    due.decision_id
                ),
            ));
        }
        contacts.texts = self.texts_for(event).await?;
        Ok(contacts)
    }

    /// `decision.opt_in_reminder_due`: remind the patient, with the link
    /// and code of the same decision. A reminder of a decision a newer one
    /// replaced (its link no longer the latest) tells no one.
    #[tracing::instrument(skip_all, fields(referral_id = %event.referral_id), err)]
    pub async fn plan_for_reminder<C: ConnectionTrait>(
        &self,
        txn: &C,
        event: &Event,
        due: &proto::DecisionOptInReminderDue,
        contacts: &Contacts,
    ) -> Result<(), Error> {
        let cause = Cause::reminder(due).map_err(Error::Rejected)?;
        if contacts
            .opt_in
            .as_ref()
            .is_none_or(|i| i.decision_id != due.decision_id)
        {
            tracing::info!(decision_id = %due.decision_id, "a newer decision replaced the one to remind of: nothing sent");
            return Ok(());
        }
        self.plan(txn, event, &cause, contacts).await
    }

    /// `decision.opt_in_lapsed`: the patient's opt-in window passed; tell
    /// the referrer and the patient, and close the referral once they have
    /// been ([`super::closing`]).
    #[tracing::instrument(skip_all, fields(referral_id = %event.referral_id), err)]
    pub async fn plan_for_lapse<C: ConnectionTrait>(
        &self,
        txn: &C,
        event: &Event,
        contacts: &Contacts,
    ) -> Result<(), Error> {
        self.plan(txn, event, &Cause::OptInClosed, contacts).await?;
        self.keep_ending(txn, event, Ending::OptInWindowPassed, None)
            .await
    }

    /// `referral.withdrawn`: confirm it to the referrer and, where the
    /// board's settings say so, tell the patient.
    #[tracing::instrument(skip_all, fields(referral_id = %event.referral_id), err)]
    pub async fn plan_for_withdrawal<C: ConnectionTrait>(
        &self,
        txn: &C,
        event: &Event,
        withdrawn: &proto::ReferralWithdrawn,
        contacts: &Contacts,
    ) -> Result<(), Error> {
        self.plan(txn, event, &Cause::withdrawn(withdrawn), contacts)
            .await?;
        self.keep_ending(txn, event, Ending::Withdrawn, None).await
    }

    /// `decision.recorded`: tell the referrer, the patient and, for an
    /// onward referral, the receiving service. A decline ends the referral:
    /// it closes once they have been told (a redirect's ending is kept with
    /// its hand-off, [`Self::plan_for_redirect`]).
    #[tracing::instrument(skip_all, fields(referral_id = %event.referral_id), err)]
    pub async fn plan_for_decision<C: ConnectionTrait>(
        &self,
        txn: &C,
        event: &Event,
        recorded: &proto::DecisionRecorded,
        contacts: &Contacts,
    ) -> Result<(), Error> {
        let mut facts = DecisionFacts::from_event(recorded).map_err(Error::Rejected)?;
        facts.reason.clone_from(&contacts.texts.reason);
        facts.advice.clone_from(&contacts.texts.advice);
        let cause = Cause::Decision(facts);
        self.plan(txn, event, &cause, contacts).await?;
        match Ending::of_cause(&cause) {
            Some(ending @ Ending::Declined) => self.keep_ending(txn, event, ending, None).await,
            _ => Ok(()),
        }
    }

    /// `vetting.info_requested`: ask the referrer.
    #[tracing::instrument(skip_all, fields(referral_id = %event.referral_id), err)]
    pub async fn plan_for_information_request<C: ConnectionTrait>(
        &self,
        txn: &C,
        event: &Event,
        requested: &proto::VettingInfoRequested,
        contacts: &Contacts,
    ) -> Result<(), Error> {
        let cause = Cause::InformationRequest {
            request_id: requested.information_request_id.clone(),
            question: question_of(contacts, &requested.question_text_id)?,
            reminder: false,
        };
        self.plan(txn, event, &cause, contacts).await
    }

    /// `vetting.info_request_overdue`: remind the referrer of the question,
    /// once (the inbox keeps a redelivery from planning it again).
    #[tracing::instrument(skip_all, fields(referral_id = %event.referral_id), err)]
    pub async fn plan_for_information_reminder<C: ConnectionTrait>(
        &self,
        txn: &C,
        event: &Event,
        overdue: &proto::VettingInfoRequestOverdue,
        contacts: &Contacts,
    ) -> Result<(), Error> {
        let cause = Cause::InformationRequest {
            request_id: overdue.information_request_id.clone(),
            question: question_of(contacts, &overdue.question_text_id)?,
            reminder: true,
        };
        self.plan(txn, event, &cause, contacts).await
    }

    async fn plan<C: ConnectionTrait>(
        &self,
        txn: &C,
        event: &Event,
        cause: &Cause,
        contacts: &Contacts,
    ) -> Result<(), Error> {
        let referral = referral_of(event)?;
        let board = board_of(event)?;
        let config = self.boards.of(txn, &self.channels, board).await?;
        let now = Utc::now();
        let cause_name = cause.name();
        let all = domain::plan(cause, contacts, &config.channels);
        let ids: Vec<String> = all.iter().map(|_| Uuid::now_v7().to_string()).collect();
        let told = PatientTold::of(cause, &all, &ids);
        let mut patient_failed_at_once = false;
        for (planned, id) in all.into_iter().zip(ids) {
            let mut fields = fields(
                event,
                board,
                cause,
                contacts,
                planned.receiving_service.as_deref(),
            );
            // The version the patient can read; the row keeps which.
            let template = config.templates.variant(
                &planned.template,
                planned.recipient,
                planned.channel,
                &contacts.needs,
            );
            let waits_for = match (&told, planned.recipient) {
                (PatientTold::Held { patient_id }, Recipient::Referrer) => {
                    fields.patient_told = Some(told::MARK.to_owned());
                    Some(patient_id.clone())
                }
                (PatientTold::Known(words), Recipient::Referrer) => {
                    fields.patient_told = Some(words.clone());
                    None
                }
                _ => None,
            };
            // A template over its fuel or output limit with this referral's
            // fields fails its one delivery, with the reason; any other
            // failure to render refuses the event, for the board to correct
            // its template and replay it.
            let (rendered, over_limit) = match config.templates.render(&template, &fields) {
                Ok(rendered) => (rendered, None),
                Err(error @ (RenderError::OutOfFuel | RenderError::TooLong)) => (
                    Rendered {
                        subject: String::new(),
                        body: String::new(),
                    },
                    Some(format!("the template {template} {error}")),
                ),
                Err(error) => {
                    return Err(Error::rejected(format!("the template {template} {error}")));
                }
            };
            let document = (planned.channel == ChannelKind::Webhook && over_limit.is_none())
                .then(|| document(&id, event, cause, &planned, contacts, &rendered).to_string());
            let (address, last_error) = match &planned.address {
                Ok(address) => (address.to_stored(), over_limit),
                Err(reason) => (String::new(), Some(reason.clone())),
            };
            let status = Status::new_delivery(last_error.is_none());
            if planned.recipient == Recipient::Patient && status == Status::Failed {
                patient_failed_at_once = true;
            }
            let row = delivery::Model {
                id: id.clone(),
                referral_id: referral.to_string(),
                board: board.code().to_owned(),
                cause_event_id: event.event_id.clone(),
                cause: cause_name.to_owned(),
                recipient: planned.recipient.as_str().to_owned(),
                channel: planned.channel.as_str().to_owned(),
                receiving_service: planned.receiving_service.clone(),
                template,
                address,
                subject: rendered.subject,
                body: rendered.body,
                document,
                status: status.into(),
                attempts: 0,
                claims: 0,
                last_error: last_error.clone(),
                gateway: None,
                account: Channels::account_for(&config.channels, planned.channel),
                gateway_id: None,
                gateway_status: None,
                gateway_status_at: None,
                lease_until: None,
                created_at: now,
                updated_at: now,
                sent_at: None,
                waits_for: waits_for.filter(|_| status == Status::Planned),
            };
            if let Some(reason) = &last_error {
                tracing::warn!(delivery_id = %id, recipient = %planned.recipient, %reason, "delivery cannot be sent");
                outbox::enqueue(txn, &end_event(&row, Some((reason, 0)))).await?;
            }
            deliveries::insert(txn, &self.cipher, row).await?;
        }
        if let (PatientTold::Held { patient_id }, true) = (&told, patient_failed_at_once) {
            self.release_told(txn, patient_id, false, now).await?;
        }
        Ok(())
    }
}

/// The event's referral.
fn referral_of(event: &Event) -> Result<Uuid, Error> {
    Uuid::parse_str(&event.referral_id).map_err(|_| {
        Error::rejected(format!(
            "referral_id: {:?} is not a UUID",
            event.referral_id
        ))
    })
}

/// The event's board, parsed once here.
pub(super) fn board_of(event: &Event) -> Result<BoardCode, Error> {
    if event.board.trim().is_empty() {
        return Err(Error::rejected("board: missing"));
    }
    BoardCode::parse(&event.board).map_err(|reason| Error::rejected(format!("board: {reason}")))
}

/// The template fields for one cause and referral.
fn fields(
    event: &Event,
    board: BoardCode,
    cause: &Cause,
    contacts: &Contacts,
    service: Option<&str>,
) -> Fields {
    let mut fields = Fields {
        referral_id: event.referral_id.clone(),
        board: event.board.clone(),
        board_name: templates::board_name(board),
        patient_name: contacts.patient_given_name.expose().clone(),
        patient_family_name: contacts.patient_family_name.expose().clone(),
        referrer_name: contacts.referrer_name.clone(),
        practice_code: contacts.practice_code.clone(),
        interpreter_language: contacts.needs.interpreter.clone(),
        british_sign_language: contacts.needs.british_sign_language,
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
            // Only this decision's own link: an older decision's message
            // never carries a newer one's.
            if let Some(invite) = contacts
                .opt_in
                .as_ref()
                .filter(|i| facts.outcome == "patient_opt_in" && i.decision_id == facts.decision_id)
            {
                fields.opt_in_url = Some(invite.url.expose().clone());
                fields.opt_in_code = Some(invite.short_code.expose().clone());
                fields.opt_in_code_page = Some(invite.code_page());
            }
            fields.correction = facts.correction;
        }
        Cause::InformationRequest { question, .. } => {
            fields.question = Some(question.clone());
        }
        Cause::Withdrawn { reason } => {
            fields.reason = Some(reason.clone());
        }
        Cause::OptInReminder {
            decision_id,
            opt_in_deadline,
        } => {
            fields.outcome = Some("patient_opt_in".to_owned());
            fields.outcome_label = Some(templates::outcome_label("patient_opt_in").to_owned());
            fields.opt_in_deadline = Some(opt_in_deadline.clone());
            if let Some(invite) = contacts
                .opt_in
                .as_ref()
                .filter(|i| i.decision_id == *decision_id)
            {
                fields.opt_in_url = Some(invite.url.expose().clone());
                fields.opt_in_code = Some(invite.short_code.expose().clone());
                fields.opt_in_code_page = Some(invite.code_page());
            }
        }
        Cause::OptInClosed => {
            fields.outcome = Some("patient_opt_in".to_owned());
            fields.outcome_label = Some(templates::outcome_label("patient_opt_in").to_owned());
            fields.reason = Some("opt_in_window_passed".to_owned());
        }
    }
    fields
}

/// The question read from vetting, or the event is refused naming the id.
fn question_of(contacts: &Contacts, text_id: &str) -> Result<String, Error> {
    contacts.texts.question.clone().ok_or_else(|| {
        Error::rejected(format!(
            "question_text_id: vetting keeps no question {text_id:?}"
        ))
    })
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
            // What the service must book, and how to write to the patient.
            out["needs"] = json!(contacts.needs);
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
                reminder,
            },
        ) => {
            let mut out = common(if *reminder {
                "pathway.information_request_reminder"
            } else {
                "pathway.information_request"
            });
            out["information_request_id"] = json!(request_id);
            out["question"] = json!(question);
            out
        }
        (_, Cause::OptInReminder { decision_id, .. }) => {
            let mut out = common("pathway.opt_in_reminder");
            out["decision_id"] = json!(decision_id);
            out
        }
        (_, Cause::Withdrawn { reason }) => {
            let mut out = common("pathway.referral_withdrawn");
            out["reason"] = json!(reason);
            out
        }
        (_, Cause::OptInClosed) => {
            let mut out = common("pathway.referral_closed");
            out["reason"] = json!("opt_in_window_passed");
            out
        }
    };
    if let Some(object) = out.as_object_mut() {
        object.retain(|_, v| !v.is_null());
    }
    out
}
