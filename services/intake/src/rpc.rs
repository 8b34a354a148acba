//! The authenticated request/reply endpoint through which other services
//! read a referral's identifiable data ([`crate::application::lookup`]).
//! Every read leaves an audit row.
//!
//! The contract is `pathway/v1/lookup.proto` on
//! [`pathway_proto::rpc::REFERRAL_LOOKUP`]: a [`ReferralLookupRequest`] with
//! an `Authorization: Bearer <service token>` header, answered with a
//! [`ReferralLookupReply`] holding the referral or a [`LookupRefusal`]. The
//! request's [`LookupPurpose`] decides which fields the reply carries
//! ([`for_purpose`]); a request that does not decode, or names no purpose
//! this build knows, is refused as invalid; nothing the asker sends can make
//! this loop stop.

use pathway_common::rpc::{self, Refusal};
use pathway_proto::rpc::REFERRAL_LOOKUP;
use pathway_proto::v1::{
    self as proto, LookupPurpose, ReferralLookupReply, ReferralLookupRequest, RefusalCode,
    referral_lookup_reply,
};
use prost::Message;
use tokio_util::sync::CancellationToken;

use crate::application::lookup::{IdentifiableReferral, Purpose};
use crate::application::referrals::{InformationRequest, IssuedLink};
use crate::application::{Error, Intake};
use crate::domain::referral::{ContactChannel, NewReferral, RedFlag, ReplyTo};

/// The one place the application's errors become refusals.
impl From<Error> for Refusal {
    fn from(error: Error) -> Self {
        let code = match &error {
            Error::Validation(fields) | Error::Rejected { fields, .. } => {
                let reasons: Vec<&str> = fields.iter().map(|f| f.reason.as_str()).collect();
                return Self::new(RefusalCode::Invalid, reasons.join("; "));
            }
            Error::Forbidden(_) => RefusalCode::Forbidden,
            Error::NotFound(_) | Error::UnknownBoard(_) => RefusalCode::NotFound,
            Error::MalformedId => RefusalCode::Invalid,
            Error::Erased => RefusalCode::Erased,
            Error::Restricted => RefusalCode::Restricted,
            Error::Duplicate { .. }
            | Error::Concurrent
            | Error::IllegalTransition { .. }
            | Error::NoOpenInformationRequest
            | Error::Stale { .. }
            | Error::IdempotencyKeyReused => RefusalCode::Conflict,
            Error::Unavailable(cause) => {
                tracing::warn!(error = format!("{cause:#}"), "the database did not answer");
                return Self::new(
                    RefusalCode::Unavailable,
                    "the database did not answer: try again",
                );
            }
            Error::Unexpected(cause) => {
                tracing::error!(error = format!("{cause:#}"), "referral look-up failed");
                return Self::new(RefusalCode::Internal, "internal error");
            }
        };
        Self::new(code, error.to_string())
    }
}

/// Answer requests until `shutdown`; an error when the subscription ends
/// before it (the worker's supervisor subscribes again).
pub async fn serve(intake: Intake, shutdown: CancellationToken) -> anyhow::Result<()> {
    let client = intake.platform.nats.clone();
    rpc::serve(client, REFERRAL_LOOKUP, "intake", shutdown, |message| {
        let intake = &intake;
        async move { reply(intake, &message).await }
    })
    .await
}

/// The encoded answer to one request: the referral as its purpose allows,
/// or a refusal.
async fn reply(intake: &Intake, message: &async_nats::Message) -> Vec<u8> {
    let result = match answer(intake, message).await {
        Ok((purpose, referral, opt_in_link)) => {
            let mut full = to_proto(referral);
            full.opt_in_link = opt_in_link.map(|link| proto::OptInLink {
                decision_id: link.decision_id,
                url: link.url,
                short_code: link.short_code,
                window_closes_at: Some(proto::timestamp(link.closes_at)),
            });
            referral_lookup_reply::Result::Referral(for_purpose(purpose, full))
        }
        Err(refusal) => referral_lookup_reply::Result::Refusal(refusal.into_proto()),
    };
    ReferralLookupReply {
        result: Some(result),
    }
    .encode_to_vec()
}

async fn answer(
    intake: &Intake,
    message: &async_nats::Message,
) -> Result<(Purpose, IdentifiableReferral, Option<IssuedLink>), Refusal> {
    let caller = rpc::caller(&intake.platform.auth, message).await?;
    let (request, purpose) = decode(&message.payload)?;
    let referral = intake
        .identifiable_referral(&caller, &request.referral_id, purpose, &request.purpose)
        .await?;
    let opt_in_link = match purpose {
        Purpose::ContactDetails => intake.opt_in_link(&referral.id).await?,
        _ => None,
    };
    Ok((purpose, referral, opt_in_link))
}

/// The request and its purpose, or an invalid-request refusal naming what is
/// wrong.
fn decode(payload: &[u8]) -> Result<(ReferralLookupRequest, Purpose), Refusal> {
    let request = ReferralLookupRequest::decode(payload).map_err(|e| {
        Refusal::new(
            RefusalCode::Invalid,
            format!("the request is not a ReferralLookupRequest: {e}"),
        )
    })?;
    if request.referral_id.trim().is_empty() {
        return Err(Refusal::new(
            RefusalCode::Invalid,
            "referral_id: must not be blank",
        ));
    }
    let purpose = match LookupPurpose::try_from(request.lookup_purpose) {
        Ok(LookupPurpose::VettingView) => Purpose::VettingView,
        Ok(LookupPurpose::ContactDetails) => Purpose::ContactDetails,
        Ok(LookupPurpose::ReferrerCheck) => Purpose::ReferrerCheck,
        Ok(LookupPurpose::Handoff) => Purpose::Handoff,
        Ok(LookupPurpose::Unspecified) | Err(_) => {
            return Err(Refusal::new(
                RefusalCode::Invalid,
                format!(
                    "lookup_purpose: say what the referral is needed for \
                     (LOOKUP_PURPOSE_VETTING_VIEW, LOOKUP_PURPOSE_CONTACT_DETAILS or \
                     LOOKUP_PURPOSE_REFERRER_CHECK); {} is not one",
                    request.lookup_purpose
                ),
            ));
        }
    };
    Ok((request, purpose))
}

/// Only the fields `purpose` needs, as `lookup.proto` lists them under
/// `LookupPurpose`: every field is named here, so a field added to the
/// contract is given to nobody until a purpose is given it.
fn for_purpose(purpose: Purpose, full: proto::IdentifiableReferral) -> proto::IdentifiableReferral {
    let proto::IdentifiableReferral {
        id,
        board,
        status,
        route,
        received_at,
        version,
        referrer_subject,
        patient,
        referrer,
        clinical,
        re_referral,
        information_requests,
        opt_in_link,
    } = full;
    let envelope = proto::IdentifiableReferral {
        id,
        board,
        status,
        route,
        received_at,
        version,
        ..Default::default()
    };
    match purpose {
        Purpose::VettingView | Purpose::Handoff => proto::IdentifiableReferral {
            patient,
            referrer,
            clinical,
            re_referral,
            information_requests,
            ..envelope
        },
        Purpose::ContactDetails => proto::IdentifiableReferral {
            patient: patient.map(|p| proto::IdentifiablePatient {
                given_name: p.given_name,
                family_name: p.family_name,
                contact: p.contact,
                accessibility_needs: p.accessibility_needs,
                interpreter_language: p.interpreter_language,
                preferred_language: p.preferred_language,
                ..Default::default()
            }),
            referrer,
            opt_in_link,
            ..envelope
        },
        Purpose::ReferrerCheck => proto::IdentifiableReferral {
            referrer_subject,
            ..envelope
        },
    }
}

fn to_proto(found: IdentifiableReferral) -> proto::IdentifiableReferral {
    let NewReferral {
        board: _,
        patient,
        referrer,
        clinical,
        re_referral,
    } = found.referral;
    let contact = patient.contact;
    let (reply_channel, reply_address) = match referrer.reply {
        ReplyTo::Email(address) => ("email", address),
        ReplyTo::Webhook(address) => ("webhook", address),
    };
    proto::IdentifiableReferral {
        id: found.id,
        board: found.board,
        status: found.status.as_str().to_owned(),
        route: found.route.as_str().to_owned(),
        received_at: Some(proto::timestamp(found.received_at)),
        version: found.version,
        referrer_subject: found.referrer_subject,
        patient: Some(proto::IdentifiablePatient {
            chi: patient.chi.expose().to_owned(),
            given_name: patient.given_name.into_inner(),
            family_name: patient.family_name.into_inner(),
            date_of_birth: patient
                .date_of_birth
                .expose()
                .format("%Y-%m-%d")
                .to_string(),
            sex: patient.sex.to_proto() as i32,
            postcode: patient.postcode.as_str().to_owned(),
            contact: Some(proto::PatientContact {
                preferred: match contact.preferred {
                    ContactChannel::Sms => "sms",
                    ContactChannel::Email => "email",
                    ContactChannel::Letter => "letter",
                }
                .to_owned(),
                mobile: contact.mobile.map(|m| m.into_inner()),
                email: contact.email.map(|e| e.into_inner()),
                address: contact.address.map(|a| proto::PostalAddress {
                    lines: a.lines.into_inner(),
                    postcode: a.postcode.as_str().to_owned(),
                }),
            }),
            accessibility_needs: patient
                .accessibility_needs
                .iter()
                .map(|n| n.code().to_owned())
                .collect(),
            interpreter_language: patient.interpreter_language,
            preferred_language: patient.preferred_language.map(String::from),
        }),
        referrer: Some(proto::ReferringClinician {
            practice_code: referrer.practice_code,
            clinician_name: referrer.clinician_name,
            reply: Some(proto::ReplyAddress {
                channel: reply_channel.to_owned(),
                address: reply_address,
            }),
        }),
        clinical: Some(proto::ClinicalContent {
            pain_duration_months: clinical.pain_duration_months,
            pain_sites: clinical
                .pain_sites
                .iter()
                .map(|s| s.code().to_owned())
                .collect(),
            pain_intensity: u32::from(clinical.pain_intensity),
            impact: Some(proto::PainImpact {
                function: clinical.impact.function.code().to_owned(),
                sleep: clinical.impact.sleep.code().to_owned(),
                mood: clinical.impact.mood.code().to_owned(),
            }),
            red_flags: clinical
                .red_flags
                .iter()
                .map(|f| red_flag(*f) as i32)
                .collect(),
            current_treatments: clinical.current_treatments,
            previous_treatments: clinical.previous_treatments,
            question: clinical.question,
        }),
        re_referral,
        information_requests: found
            .information_requests
            .into_iter()
            .map(exchange)
            .collect(),
        opt_in_link: None,
    }
}

/// `history_of_cancer` → `RED_FLAG_HISTORY_OF_CANCER`: the contract's names
/// are intake's codes, so the two lists cannot drift apart unnoticed (the
/// unit tests map every flag).
fn red_flag(flag: RedFlag) -> proto::RedFlag {
    proto::RedFlag::from_str_name(&format!("RED_FLAG_{}", flag.code().to_ascii_uppercase()))
        .unwrap_or(proto::RedFlag::Unspecified)
}

fn exchange(request: InformationRequest) -> proto::InformationExchange {
    proto::InformationExchange {
        id: request.id,
        question: request.question,
        requested_by: request.requested_by,
        requested_at: Some(proto::timestamp(request.requested_at)),
        answer: request.answer,
        answered_at: request.answered_at.map(proto::timestamp),
    }
}

#[cfg(test)]
#[path = "tests/rpc.rs"]
mod tests;
