//! Unit tests of `intake_client.rs`: each answer of intake's keeps its class.

use super::*;

fn refusal(code: i32, message: &str) -> Vec<u8> {
    ReferralLookupReply {
        result: Some(referral_lookup_reply::Result::Refusal(LookupRefusal {
            code,
            message: message.into(),
        })),
    }
    .encode_to_vec()
}

#[test]
fn a_referral_is_given_back_as_sent() {
    let referral = IdentifiableReferral {
        id: "0190a3b4-0000-7000-8000-000000000001".into(),
        referrer_subject: "gp-smith".into(),
        ..Default::default()
    };
    let reply = ReferralLookupReply {
        result: Some(referral_lookup_reply::Result::Referral(referral.clone())),
    };
    let read = classify(&reply.encode_to_vec()).expect("a referral");
    assert_eq!(read, Some(referral));
}

#[test]
fn not_found_is_no_referral() {
    let read = classify(&refusal(RefusalCode::NotFound as i32, "no referral")).expect("no error");
    assert_eq!(read, None);
}

#[test]
fn the_askers_refusals_keep_their_code_and_message() {
    for code in [
        RefusalCode::Forbidden,
        RefusalCode::Unauthenticated,
        RefusalCode::Invalid,
        RefusalCode::Conflict,
        RefusalCode::Unspecified,
    ] {
        match classify(&refusal(code as i32, "not for you")) {
            Err(IntakeError::Refused { code: got, message }) => {
                assert_eq!(got, code);
                assert_eq!(message, "not for you");
            }
            other => panic!("{code:?}: expected a refusal, got {other:?}"),
        }
    }
}

#[test]
fn a_code_from_a_newer_intake_is_a_refusal() {
    assert!(matches!(
        classify(&refusal(99, "new")),
        Err(IntakeError::Refused {
            code: RefusalCode::Unspecified,
            ..
        })
    ));
}

#[test]
fn intakes_own_faults_and_unreadable_answers_may_heal() {
    for payload in [
        refusal(
            RefusalCode::Unavailable as i32,
            "the database did not answer",
        ),
        refusal(RefusalCode::Internal as i32, "internal error"),
        // Neither a referral nor a refusal.
        ReferralLookupReply { result: None }.encode_to_vec(),
        // Not protobuf at all (a truncated varint).
        vec![0x0a, 0xff],
        br#"{"error":{"status":404}}"#.to_vec(),
    ] {
        assert!(
            matches!(classify(&payload), Err(IntakeError::Unavailable(_))),
            "{payload:?}"
        );
    }
}
