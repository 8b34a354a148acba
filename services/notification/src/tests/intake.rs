//! Unit tests of `intake.rs`.

use super::*;

fn referral() -> proto::IdentifiableReferral {
    proto::IdentifiableReferral {
        patient: Some(proto::IdentifiablePatient {
            chi: "1204670021".into(),
            given_name: "Morag".into(),
            family_name: "MacLeod".into(),
            postcode: "IV2 3UJ".into(),
            contact: Some(proto::PatientContact {
                preferred: "email".into(),
                mobile: Some("07700 900123".into()),
                email: Some("m@example.org".into()),
                address: Some(proto::PostalAddress {
                    lines: vec!["12 Culduthel Road".into()],
                    postcode: "IV2 4AG".into(),
                }),
            }),
            ..Default::default()
        }),
        referrer: Some(proto::ReferringClinician {
            practice_code: "55005".into(),
            clinician_name: "Dr Ann Smith".into(),
            reply: Some(proto::ReplyAddress {
                channel: "webhook".into(),
                address: "https://gp.example.org/in".into(),
            }),
        }),
        ..Default::default()
    }
}

#[test]
fn reads_the_referral_as_intake_gives_it() {
    let contacts = contacts(referral());
    assert_eq!(contacts.preferred, Some(ChannelKind::Email));
    assert_eq!(
        contacts.reply,
        Some((ChannelKind::Webhook, "https://gp.example.org/in".into()))
    );
    assert_eq!(
        contacts.postcode.map(Pii::into_inner).as_deref(),
        Some("IV2 4AG")
    );
    assert_eq!(contacts.referrer_name, "Dr Ann Smith");
}

#[test]
fn blank_details_and_a_webhook_preference_are_no_details() {
    let mut referral = referral();
    let patient = referral.patient.as_mut().expect("a patient");
    let contact = patient.contact.as_mut().expect("a contact");
    contact.preferred = "webhook".into();
    contact.mobile = Some("  ".into());
    contact.address = None;
    let contacts = contacts(referral);
    assert_eq!(contacts.preferred, None);
    assert!(contacts.mobile.is_none());
    assert!(contacts.postcode.is_none());
}

#[test]
fn intake_down_or_our_token_refused_may_heal_and_the_events_own_refusals_do_not() {
    let refused = |code| IntakeError::Refused {
        code,
        message: "no".into(),
    };
    for heals in [
        IntakeError::Unavailable("intake is not answering"),
        IntakeError::Unavailable("intake did not answer in time"),
        IntakeError::Unavailable("intake failed the look-up"),
        IntakeError::NoToken(anyhow::anyhow!("no key")),
        refused(RefusalCode::Unauthenticated),
    ] {
        assert!(may_heal(&heals), "{heals:?}");
    }
    for poison in [
        RefusalCode::NotFound,
        RefusalCode::Forbidden,
        RefusalCode::Invalid,
        RefusalCode::Conflict,
        RefusalCode::Unspecified,
    ] {
        assert!(!may_heal(&refused(poison)), "{poison:?}");
    }
}

#[test]
fn reads_how_the_patient_reads_and_speaks() {
    let mut referral = referral();
    if let Some(patient) = referral.patient.as_mut() {
        patient.accessibility_needs = vec!["easy_read".into(), "interpreter".into(), "x".into()];
        patient.interpreter_language = Some("Polish".into());
        patient.preferred_language = Some("gd".into());
    }
    assert_eq!(
        contacts(referral).needs,
        Needs {
            language: Some("gd".into()),
            easy_read: true,
            large_print: false,
            interpreter: Some("Polish".into()),
            british_sign_language: false,
        }
    );
}
