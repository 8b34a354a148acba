//! The outbound adapter to intake: a referral's contact details, asked over
//! NATS request/reply with this service's token through the shared
//! [`IntakeClient`], and converted from the typed look-up reply into the
//! [`Contacts`] a delivery needs. Notification copies only what each
//! delivery needs into that delivery's row.
//!
//! The client's error keeps its class, and notification's handling depends
//! on it through [`may_heal`]: a refusal of the event's own (no such
//! referral, which this adapter reports as a `NOT_FOUND` refusal, a
//! forbidden board, an invalid request) is dead-lettered (or answered 409 to
//! an admin's retry); a fault that may heal is tried again, never
//! dead-lettered (a 503 to an admin): intake not answering, too slow,
//! failing on its own account or answering unreadably
//! ([`IntakeError::Unavailable`]), and intake refusing our own service token
//! (`UNAUTHENTICATED`: expired or not yet rotated, mended by configuration,
//! not by the event) or our having none ([`IntakeError::NoToken`]). A
//! referral whose processing the patient asked to restrict waits, like a
//! fault that may heal, until the restriction is lifted; one whose data was
//! erased ([`IntakeError::Erased`]) has nothing left to send.

use pathway_common::intake_client::{IntakeClient, IntakeError};
use pathway_common::pii::Pii;
use pathway_proto::v1::{self as proto, LookupPurpose, RefusalCode};

use crate::domain::{ChannelKind, Contacts, Needs, OptInInvite};

/// The contact details of `referral_id` (intake gives nothing else for
/// [`LookupPurpose::ContactDetails`]), and why we ask (`purpose`, for
/// intake's audit row).
pub async fn contacts_of(
    intake: &IntakeClient,
    referral_id: &str,
    purpose: &str,
) -> Result<Contacts, IntakeError> {
    intake
        .referral(referral_id, LookupPurpose::ContactDetails, purpose)
        .await?
        .map(contacts)
        .ok_or_else(|| IntakeError::Refused {
            code: RefusalCode::NotFound,
            message: format!("intake has no referral {referral_id}"),
        })
}

/// A referral to hand on ([`LookupPurpose::Handoff`]): the contact details
/// that tell its referrer, and the referral as the receiving route is sent
/// it ([`handoff_document`]); `purpose` is for intake's audit row.
pub async fn handoff_of(
    intake: &IntakeClient,
    referral_id: &str,
    purpose: &str,
) -> Result<(Contacts, Pii<serde_json::Value>), IntakeError> {
    let referral = intake
        .referral(referral_id, LookupPurpose::Handoff, purpose)
        .await?
        .ok_or_else(|| IntakeError::Refused {
            code: RefusalCode::NotFound,
            message: format!("intake has no referral {referral_id}"),
        })?;
    let document = Pii::new(handoff_document(&referral));
    Ok((contacts(referral), document))
}

/// The referral as a receiving route is sent it: the patient's
/// identifiers, contact details and accessibility needs, the referrer, the
/// clinical content and the questions asked of the referrer, with codes as
/// intake's API spells them.
pub fn handoff_document(referral: &proto::IdentifiableReferral) -> serde_json::Value {
    use serde_json::json;
    let code = |name: &str, prefix: &str| {
        name.strip_prefix(prefix)
            .unwrap_or(name)
            .to_ascii_lowercase()
    };
    let patient = referral.patient.clone().unwrap_or_default();
    let contact = patient.contact.unwrap_or_default();
    let address = contact.address.unwrap_or_default();
    let referrer = referral.referrer.clone().unwrap_or_default();
    let reply = referrer.reply.unwrap_or_default();
    let clinical = referral.clinical.clone().unwrap_or_default();
    let impact = clinical.impact.unwrap_or_default();
    let sex = proto::Sex::try_from(patient.sex).unwrap_or(proto::Sex::Unspecified);
    let when = |at: Option<&_>| at.and_then(proto::from_timestamp).map(|at| at.to_rfc3339());
    json!({
        "id": referral.id,
        "route": referral.route,
        "received_at": when(referral.received_at.as_ref()),
        "re_referral": referral.re_referral,
        "patient": {
            "chi": patient.chi,
            "given_name": patient.given_name,
            "family_name": patient.family_name,
            "date_of_birth": patient.date_of_birth,
            "sex": code(sex.as_str_name(), "SEX_"),
            "postcode": patient.postcode,
            "contact": {
                "preferred": contact.preferred,
                "mobile": contact.mobile,
                "email": contact.email,
                "address": {"lines": address.lines, "postcode": address.postcode},
            },
            "accessibility_needs": patient.accessibility_needs,
            "interpreter_language": patient.interpreter_language,
            "preferred_language": patient.preferred_language,
        },
        "referrer": {
            "practice_code": referrer.practice_code,
            "clinician_name": referrer.clinician_name,
            "reply": {"channel": reply.channel, "address": reply.address},
        },
        "clinical": {
            "pain_duration_months": clinical.pain_duration_months,
            "pain_sites": clinical.pain_sites,
            "pain_intensity": clinical.pain_intensity,
            "impact": {"function": impact.function, "sleep": impact.sleep, "mood": impact.mood},
            "red_flags": clinical.red_flags.iter().map(|flag| {
                let flag = proto::RedFlag::try_from(*flag).unwrap_or(proto::RedFlag::Unspecified);
                code(flag.as_str_name(), "RED_FLAG_")
            }).collect::<Vec<_>>(),
            "current_treatments": clinical.current_treatments,
            "previous_treatments": clinical.previous_treatments,
            "question": clinical.question,
        },
        "information_requests": referral.information_requests.iter().map(|asked| json!({
            "id": asked.id,
            "question": asked.question,
            "requested_at": when(asked.requested_at.as_ref()),
            "answer": asked.answer,
            "answered_at": when(asked.answered_at.as_ref()),
        })).collect::<Vec<_>>(),
    })
}

/// Whether `error` is a fault that may heal (asking again later may
/// succeed), rather than the event's own.
pub fn may_heal(error: &IntakeError) -> bool {
    match error {
        // A restriction holds the message until the board lifts it.
        IntakeError::Unavailable(_) | IntakeError::NoToken(_) | IntakeError::Restricted => true,
        IntakeError::Refused { code, .. } => *code == RefusalCode::Unauthenticated,
        IntakeError::Erased => false,
    }
}

fn some(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

fn contacts(referral: proto::IdentifiableReferral) -> Contacts {
    let patient = referral.patient.unwrap_or_default();
    let referrer = referral.referrer.unwrap_or_default();
    let contact = patient.contact.unwrap_or_default();
    let address = contact.address.unwrap_or_default();
    let reply = referrer
        .reply
        .and_then(|reply| Some((ChannelKind::parse(&reply.channel)?, reply.address)));
    Contacts {
        patient_given_name: Pii::new(patient.given_name),
        patient_family_name: Pii::new(patient.family_name),
        preferred: ChannelKind::parse(&contact.preferred).filter(|c| *c != ChannelKind::Webhook),
        mobile: some(contact.mobile).map(Pii::new),
        email: some(contact.email).map(Pii::new),
        address_lines: Pii::new(address.lines),
        postcode: some(Some(address.postcode)).map(Pii::new),
        referrer_name: referrer.clinician_name,
        practice_code: referrer.practice_code,
        reply,
        opt_in: referral
            .opt_in_link
            .filter(|link| !link.url.trim().is_empty())
            .map(|link| OptInInvite {
                decision_id: link.decision_id,
                url: Pii::new(link.url),
                short_code: Pii::new(link.short_code),
            }),
        texts: Default::default(),
        needs: Needs::from_intake(
            &patient.accessibility_needs,
            patient.interpreter_language.as_deref(),
            patient.preferred_language.as_deref(),
        ),
    }
}

#[cfg(test)]
#[path = "tests/intake.rs"]
mod tests;
