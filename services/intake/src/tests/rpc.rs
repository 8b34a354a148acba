//! Unit tests of `rpc.rs`: every refusal has its code, a malformed request
//! is refused rather than panicking, and the contract's red flags are
//! intake's.

use pathway_common::validation::FieldError;

use super::*;
use pathway_common::auth::AuthError;

#[test]
fn application_errors_become_refusals_of_their_class() {
    let cases: Vec<(Error, RefusalCode)> = vec![
        (
            Error::Validation(vec![FieldError::new("purpose", "must not be blank")]),
            RefusalCode::Invalid,
        ),
        (Error::MalformedId, RefusalCode::Invalid),
        (
            Error::Forbidden(AuthError::Forbidden("not your board".into())),
            RefusalCode::Forbidden,
        ),
        (Error::NotFound("no referral".into()), RefusalCode::NotFound),
        (Error::Concurrent, RefusalCode::Conflict),
        (
            Error::Unavailable(anyhow::anyhow!("connection refused")),
            RefusalCode::Unavailable,
        ),
        (
            Error::Unexpected(anyhow::anyhow!("a bug")),
            RefusalCode::Internal,
        ),
    ];
    for (error, code) in cases {
        let what = format!("{error:?}");
        assert_eq!(Refusal::from(error).code, code, "{what}");
    }
}

#[test]
fn a_blank_purpose_is_named_in_the_refusal() {
    let refusal = Refusal::from(Error::Validation(vec![FieldError::new(
        "purpose",
        "say why the referral is read",
    )]));
    assert_eq!(refusal.message, "say why the referral is read");
}

#[test]
fn our_own_faults_do_not_leak_their_cause() {
    let refusal = Refusal::from(Error::Unexpected(anyhow::anyhow!("secret detail")));
    assert_eq!(refusal.message, "internal error");
}

#[test]
fn token_problems_are_unauthenticated_or_forbidden() {
    assert_eq!(
        Refusal::from(AuthError::Missing).code,
        RefusalCode::Unauthenticated
    );
    assert_eq!(
        Refusal::from(AuthError::Invalid("bad signature".into())).code,
        RefusalCode::Unauthenticated
    );
    assert_eq!(
        Refusal::from(AuthError::Forbidden("clinician".into())).code,
        RefusalCode::Forbidden
    );
    assert_eq!(
        Refusal::from(AuthError::KeysUnavailable("jwks".into())).code,
        RefusalCode::Unavailable
    );
}

#[test]
fn a_malformed_request_is_refused_as_invalid() {
    for payload in [
        br#"{"referral_id":"x","purpose":"y"}"#.to_vec(),
        vec![0x0a, 0xff],
        Vec::new(),
    ] {
        let refusal = decode(&payload).expect_err("refused");
        assert_eq!(refusal.code, RefusalCode::Invalid, "{payload:?}");
    }
    let request = ReferralLookupRequest {
        referral_id: "0190a3b4-0000-7000-8000-000000000001".into(),
        purpose: "clinical vetting".into(),
        lookup_purpose: LookupPurpose::VettingView as i32,
    };
    assert_eq!(
        decode(&request.encode_to_vec()).expect("decodes"),
        (request.clone(), Purpose::VettingView)
    );
    for unknown in [LookupPurpose::Unspecified as i32, 99] {
        let without = ReferralLookupRequest {
            lookup_purpose: unknown,
            ..request.clone()
        };
        let refusal = decode(&without.encode_to_vec()).expect_err("refused");
        assert_eq!(refusal.code, RefusalCode::Invalid);
        assert!(
            refusal.message.starts_with("lookup_purpose:"),
            "{refusal:?}"
        );
    }
}

#[test]
fn every_red_flag_has_its_contract_value() {
    for flag in RedFlag::ALL {
        assert_ne!(red_flag(*flag), proto::RedFlag::Unspecified, "{flag:?}");
    }
}

#[test]
fn a_handoff_is_given_the_referral_but_not_who_sent_it_nor_the_opt_in_link() {
    let full = proto::IdentifiableReferral {
        id: "r".into(),
        referrer_subject: "gp-1".into(),
        patient: Some(proto::IdentifiablePatient {
            chi: "0101011234".into(),
            date_of_birth: "2001-01-01".into(),
            accessibility_needs: vec!["interpreter".into()],
            ..Default::default()
        }),
        referrer: Some(proto::ReferringClinician {
            practice_code: "55005".into(),
            ..Default::default()
        }),
        clinical: Some(proto::ClinicalContent {
            pain_intensity: 7,
            ..Default::default()
        }),
        re_referral: true,
        information_requests: vec![proto::InformationExchange {
            id: "q".into(),
            ..Default::default()
        }],
        opt_in_link: Some(proto::OptInLink {
            url: "https://pathway.example/opt-in/x".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let given = for_purpose(Purpose::Handoff, full.clone());
    assert_eq!(given.patient, full.patient);
    assert_eq!(given.referrer, full.referrer);
    assert_eq!(given.clinical, full.clinical);
    assert_eq!(given.information_requests, full.information_requests);
    assert!(given.re_referral);
    assert_eq!(given.referrer_subject, "");
    assert_eq!(given.opt_in_link, None);
    let request = ReferralLookupRequest {
        referral_id: "0190a3b4-0000-7000-8000-000000000001".into(),
        purpose: "hand the referral on".into(),
        lookup_purpose: LookupPurpose::Handoff as i32,
    };
    assert_eq!(
        decode(&request.encode_to_vec()).expect("decodes").1,
        Purpose::Handoff
    );
}

#[test]
fn contact_details_carry_what_words_the_message_but_no_identifiers() {
    let full = proto::IdentifiableReferral {
        id: "r".into(),
        patient: Some(proto::IdentifiablePatient {
            chi: "0101011234".into(),
            given_name: "Morag".into(),
            date_of_birth: "2001-01-01".into(),
            postcode: "IV2 3UJ".into(),
            accessibility_needs: vec!["interpreter".into(), "large_print".into()],
            interpreter_language: Some("Polish".into()),
            preferred_language: Some("gd".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let given = for_purpose(Purpose::ContactDetails, full);
    assert_eq!(
        given.patient,
        Some(proto::IdentifiablePatient {
            given_name: "Morag".into(),
            accessibility_needs: vec!["interpreter".into(), "large_print".into()],
            interpreter_language: Some("Polish".into()),
            preferred_language: Some("gd".into()),
            ..Default::default()
        })
    );
}
