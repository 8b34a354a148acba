//! Handing a referral on: `referral.routed_standard` (a board not on the
//! pathway, a child's referral) and a `redirect` decision forward the
//! referral to the board's route and tell the referrer where it went
//! ([`crate::domain::handoff`]). The referral comes from intake first,
//! outside any transaction, for the named purpose `handoff` (which intake
//! audits); then, in the consumer's transaction, each message is rendered
//! and kept in its row like any delivery: sent by the sweep with retries and
//! back-off, or failed at once with `notification.failed` when it has
//! nowhere to go (a board with no route set), for the board to see on its
//! failed deliveries and retry once it has set one. A route of kind `fhir`
//! is sent the referral as a FHIR `transaction` Bundle
//! ([`crate::domain::handoff_fhir`]) on the same webhook delivery, so its
//! retries, dead letters and the referrer's held notice are the same.

use chrono::Utc;
use pathway_common::outbox;
use pathway_common::pii::Pii;
use pathway_proto::BoardCode;
use pathway_proto::board::RenderError;
use pathway_proto::board::handoff::RouteKind;
use pathway_proto::v1::{self as proto, Event};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::plan::board_of;
use super::{Error, Notifications, end_event};
use crate::channels::Channels;
use crate::domain::handoff::{self, CAUSE, Handoff, REASON_REDIRECT};
use crate::domain::handoff_fhir::{self, HandedOn};
use crate::domain::{ChannelKind, Contacts, Ending, Planned, Recipient, Status};
use crate::intake;
use crate::store::{deliveries, delivery};
use crate::templates::{self, Fields, Rendered};

impl Notifications {
    /// The referral of `event` to hand on, and the contact details that
    /// tell its referrer, from intake for `purpose`. Intake down, or our
    /// token refused, may heal; a referral intake refuses is the event's.
    pub async fn handoff_for(
        &self,
        event: &Event,
        purpose: &str,
    ) -> Result<(Contacts, Pii<Value>), Error> {
        let referral = referral_of(event)?;
        board_of(event)?;
        intake::handoff_of(&self.intake, &referral.to_string(), purpose)
            .await
            .map_err(|error| {
                if matches!(error, pathway_common::intake_client::IntakeError::Erased) {
                    Error::Erased
                } else if intake::may_heal(&error) {
                    Error::unavailable("intake", error)
                } else {
                    Error::rejected(error.to_string())
                }
            })
    }

    /// `referral.routed_standard`: hand the referral to the board's
    /// standard route, or to its paediatric service for a child.
    #[tracing::instrument(skip_all, fields(referral_id = %event.referral_id), err)]
    pub async fn plan_for_routed<C: ConnectionTrait>(
        &self,
        txn: &C,
        event: &Event,
        routed: &proto::ReferralRoutedStandard,
        contacts: &Contacts,
        referral: Pii<Value>,
    ) -> Result<(), Error> {
        let handoff = Handoff::routed(&routed.reason, referral);
        self.plan_handoff(txn, event, &handoff, contacts).await
    }

    /// A `redirect` decision: hand the referral to the board's standard
    /// route (the decision's own messages are planned beside this).
    #[tracing::instrument(skip_all, fields(referral_id = %event.referral_id), err)]
    pub async fn plan_for_redirect<C: ConnectionTrait>(
        &self,
        txn: &C,
        event: &Event,
        recorded: &proto::DecisionRecorded,
        contacts: &Contacts,
        referral: Pii<Value>,
    ) -> Result<(), Error> {
        let mut handoff = Handoff::redirect(&recorded.decision_id, referral);
        handoff.correction = !recorded.supersedes_decision_id.trim().is_empty();
        self.plan_handoff(txn, event, &handoff, contacts).await?;
        // Closed once the decision's messages and the hand-off have all ended.
        let handoff_id = redirect_handoff_id(event);
        self.keep_ending(txn, event, Ending::Redirected, Some(handoff_id))
            .await
    }

    async fn plan_handoff<C: ConnectionTrait>(
        &self,
        txn: &C,
        event: &Event,
        handoff: &Handoff,
        contacts: &Contacts,
    ) -> Result<(), Error> {
        let referral = referral_of(event)?;
        let board = board_of(event)?;
        let config = self.boards.of(txn, &self.channels, board).await?;
        let route = config.routes.get(handoff.route);
        let service_name = route.map(|r| r.name.clone());
        let fhir = route.is_some_and(|r| r.kind == RouteKind::Fhir);
        let cause_event_id = cause_event_id(event, handoff);
        let now = Utc::now();
        // The forward comes first; the referrer's notices are held until it ends.
        let mut forward: Option<(String, bool)> = None;
        for planned in handoff::plan(handoff, contacts, &config.channels) {
            let id = Uuid::now_v7().to_string();
            let held = match (&forward, planned.recipient) {
                (Some((forward_id, _)), Recipient::Referrer) => Some(forward_id.clone()),
                _ => None,
            };
            let fields = fields(event, board, handoff, contacts, service_name.as_deref());
            // As for any delivery: a template over a limit fails its one
            // delivery; any other failure refuses the event.
            let (rendered, over_limit) = match config.templates.render(&planned.template, &fields) {
                Ok(rendered) => (rendered, None),
                Err(error @ (RenderError::OutOfFuel | RenderError::TooLong)) => (
                    Rendered {
                        subject: String::new(),
                        body: String::new(),
                    },
                    Some(format!("the template {} {error}", planned.template)),
                ),
                Err(error) => {
                    return Err(Error::rejected(format!(
                        "the template {} {error}",
                        planned.template
                    )));
                }
            };
            let document =
                (planned.channel == ChannelKind::Webhook && over_limit.is_none()).then(|| {
                    let service_name = service_name.as_deref();
                    if fhir && planned.recipient == Recipient::ReceivingService {
                        return fhir_bundle(handoff, service_name).to_string();
                    }
                    document(
                        &id,
                        event,
                        handoff,
                        &planned,
                        contacts,
                        service_name,
                        &rendered,
                    )
                    .to_string()
                });
            let (address, last_error) = match &planned.address {
                Ok(address) => (address.to_stored(), over_limit),
                // A held notice with nowhere to go fails when it is due (and
                // only the one that is): the sender finds no address.
                Err(_) if held.is_some() && over_limit.is_none() => (String::new(), None),
                Err(reason) => (String::new(), Some(reason.clone())),
            };
            let status = Status::new_delivery(last_error.is_none());
            if planned.recipient == Recipient::ReceivingService {
                forward = Some((id.clone(), status == Status::Failed));
            }
            let row = delivery::Model {
                id: id.clone(),
                referral_id: referral.to_string(),
                board: board.code().to_owned(),
                cause_event_id: cause_event_id.clone(),
                cause: CAUSE.to_owned(),
                recipient: planned.recipient.as_str().to_owned(),
                channel: planned.channel.as_str().to_owned(),
                receiving_service: planned.receiving_service.clone(),
                template: planned.template.clone(),
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
                waits_for: held,
            };
            if let Some(reason) = &last_error {
                tracing::warn!(delivery_id = %id, recipient = %planned.recipient, %reason, "hand-off delivery cannot be sent");
                outbox::enqueue(txn, &end_event(&row, Some((reason, 0)))).await?;
            }
            deliveries::insert(txn, &self.cipher, row).await?;
        }
        // A forward with nowhere to go has ended already.
        if let Some((forward_id, true)) = &forward {
            release_notice(txn, forward_id, false).await?;
        }
        tracing::info!(route = handoff.route.code(), reason = %handoff.reason, "referral handed on");
        Ok(())
    }
}

/// The forward `forward_id` ended (`sent` or not): the referrer's notice
/// that says so is due now, the other dropped. Answers the cause ids of the
/// notices now due.
pub(super) async fn release_notice<C: ConnectionTrait>(
    txn: &C,
    forward_id: &str,
    sent: bool,
) -> Result<Vec<String>, Error> {
    let (send, drop) = handoff::notice_once_ended(sent);
    Ok(deliveries::release_held(txn, forward_id, send, drop).await?)
}

/// Whether a decision is a `redirect`, which hands the referral on.
pub fn is_redirect(recorded: &proto::DecisionRecorded) -> bool {
    recorded
        .outcome
        .as_ref()
        .is_some_and(|o| o.kind == proto::OutcomeKind::Redirect as i32)
}

/// The cause a hand-off's deliveries are kept under. A referral routed away
/// is its own event's only cause of messages; a redirect's decision event
/// already causes the decision's own (one per recipient and channel), so its
/// hand-off is kept under an id derived from that event's: the same on every
/// redelivery, and no other event's.
fn cause_event_id(event: &Event, handoff: &Handoff) -> String {
    if handoff.reason != REASON_REDIRECT {
        return event.event_id.clone();
    }
    redirect_handoff_id(event)
}

/// The cause a redirect's hand-off deliveries are kept under.
pub(super) fn redirect_handoff_id(event: &Event) -> String {
    let digest = Sha256::digest(format!("handoff:{}", event.event_id).as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .to_string()
}

fn referral_of(event: &Event) -> Result<Uuid, Error> {
    Uuid::parse_str(&event.referral_id).map_err(|_| {
        Error::rejected(format!(
            "referral_id: {:?} is not a UUID",
            event.referral_id
        ))
    })
}

/// The template fields of a hand-off: the route's name as `partner_name`
/// (none when the board has not set the route), its code as `partner`, and
/// why as `reason` (`board_not_on_pathway`, `paediatric_patient`,
/// `redirect`).
fn fields(
    event: &Event,
    board: BoardCode,
    handoff: &Handoff,
    contacts: &Contacts,
    service_name: Option<&str>,
) -> Fields {
    let redirect = handoff.reason == REASON_REDIRECT;
    Fields {
        referral_id: event.referral_id.clone(),
        board: event.board.clone(),
        board_name: templates::board_name(board),
        patient_name: contacts.patient_given_name.expose().clone(),
        patient_family_name: contacts.patient_family_name.expose().clone(),
        referrer_name: contacts.referrer_name.clone(),
        practice_code: contacts.practice_code.clone(),
        outcome: redirect.then(|| REASON_REDIRECT.to_owned()),
        outcome_label: redirect.then(|| templates::outcome_label(REASON_REDIRECT).to_owned()),
        partner: Some(handoff.route.code().to_owned()),
        partner_name: service_name.map(str::to_owned),
        reason: Some(handoff.reason.clone()),
        interpreter_language: contacts.needs.interpreter.clone(),
        british_sign_language: contacts.needs.british_sign_language,
        correction: handoff.correction,
        ..Fields::default()
    }
}

/// The transaction Bundle a FHIR route is POSTed: the referral as FHIR, in
/// place of the `pathway.handoff` document (the webhook channel sends it as
/// `application/fhir+json` for its `resourceType`).
fn fhir_bundle(handoff: &Handoff, service_name: Option<&str>) -> Value {
    handoff_fhir::bundle(
        handoff.referral.expose(),
        HandedOn {
            reason: &handoff.reason,
            decision_id: handoff.decision_id.as_deref(),
            service_name,
        },
    )
}

/// The JSON document a hand-off webhook posts: to the route, the referral
/// itself (`pathway.handoff`); to the referrer, where it went
/// (`pathway.handoff_notice`).
fn document(
    delivery_id: &str,
    event: &Event,
    handoff: &Handoff,
    planned: &Planned,
    contacts: &Contacts,
    service_name: Option<&str>,
    rendered: &Rendered,
) -> Value {
    let kind = match planned.recipient {
        Recipient::ReceivingService => "pathway.handoff",
        _ => "pathway.handoff_notice",
    };
    let mut out = json!({
        "type": kind,
        "delivery_id": delivery_id,
        "referral_id": event.referral_id,
        "board": event.board,
        "practice_code": contacts.practice_code,
        "route": handoff.route.code(),
        "service_name": service_name,
        "reason": handoff.reason,
        "decision_id": handoff.decision_id,
        "message": {"subject": rendered.subject, "body": rendered.body},
    });
    if planned.recipient == Recipient::ReceivingService {
        out["referral"] = handoff.referral.expose().clone();
        // What the route must book, apart from the referral's own codes.
        out["needs"] = json!(contacts.needs);
    } else {
        out["handed_on"] = json!(planned.template == handoff::REFERRER_TEMPLATE);
    }
    if let Some(object) = out.as_object_mut() {
        object.retain(|_, v| !v.is_null());
    }
    out
}
