//! Unit tests of `rpc.rs`: what the asker gets back for each class of
//! failure, and the kinds on the wire.

use pathway_common::validation::FieldError;

use super::*;
use pathway_common::auth::AuthError;

#[test]
fn a_request_that_does_not_decode_is_refused_as_invalid() {
    let refusal = decode(&[0xff, 0xff, 0xff]).expect_err("not a request");
    assert_eq!(refusal.code, RefusalCode::Invalid);
    assert!(refusal.message.contains("ClinicalTextRequest"));
}

#[test]
fn a_request_decodes_with_its_ids_and_purpose() {
    let bytes = ClinicalTextRequest {
        text_ids: vec!["t-1".into(), "t-2".into()],
        purpose: "the referrer's message".into(),
    }
    .encode_to_vec();
    let request = decode(&bytes).expect("decodes");
    assert_eq!(request.text_ids, ["t-1", "t-2"]);
    assert_eq!(request.purpose, "the referrer's message");
}

#[test]
fn each_class_of_error_is_its_own_refusal() {
    let cases = [
        (
            Error::Validation(vec![FieldError::new("purpose", "must not be blank")]),
            RefusalCode::Invalid,
            "purpose: must not be blank",
        ),
        (
            Error::Forbidden(AuthError::Forbidden("not for fife".into())),
            RefusalCode::Forbidden,
            "fife",
        ),
        (
            Error::Forbidden(AuthError::Invalid("bad signature".into())),
            RefusalCode::Unauthenticated,
            "",
        ),
        (
            Error::Unavailable {
                what: "the database",
                cause: anyhow::anyhow!("refused"),
            },
            RefusalCode::Unavailable,
            "try again",
        ),
        (
            Error::Unexpected(anyhow::anyhow!("secret cause")),
            RefusalCode::Internal,
            "internal error",
        ),
    ];
    for (error, code, says) in cases {
        let refusal = Refusal::from(error);
        assert_eq!(refusal.code, code, "{refusal:?}");
        assert!(refusal.message.contains(says), "{refusal:?}");
        assert!(
            !refusal.message.contains("secret cause"),
            "our faults stay in the log"
        );
    }
}

#[test]
fn every_stored_kind_has_its_wire_kind() {
    for (stored, wire) in [
        ("question", ClinicalTextKind::Question),
        ("advice", ClinicalTextKind::Advice),
        ("reason", ClinicalTextKind::Reason),
        ("rationale", ClinicalTextKind::Rationale),
        (
            "red_flag_override_reason",
            ClinicalTextKind::RedFlagOverrideReason,
        ),
        ("something else", ClinicalTextKind::Unspecified),
    ] {
        assert_eq!(kind(stored), wire, "{stored}");
    }
}
