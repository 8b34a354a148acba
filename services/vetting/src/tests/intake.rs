//! Unit tests of `intake.rs`: the typed look-up reply becomes what a vetting
//! clinician reads, in the shape the clinician API has always given.

use super::*;

fn reply() -> proto::IdentifiableReferral {
    proto::IdentifiableReferral {
        id: "0190a3b4-0000-7000-8000-000000000001".into(),
        board: "highland".into(),
        patient: Some(proto::IdentifiablePatient {
            chi: "1204670021".into(),
            given_name: "Morag".into(),
            family_name: "MacLeod".into(),
            date_of_birth: "1967-04-12".into(),
            sex: proto::Sex::Female as i32,
            postcode: "IV2 3UJ".into(),
            contact: Some(proto::PatientContact {
                preferred: "sms".into(),
                mobile: Some("07700 900123".into()),
                email: None,
                address: None,
            }),
            accessibility_needs: vec!["large_print".into()],
            interpreter_language: None,
            preferred_language: None,
        }),
        referrer: Some(proto::ReferringClinician {
            practice_code: "55005".into(),
            clinician_name: "Dr Ann Smith".into(),
            reply: Some(proto::ReplyAddress {
                channel: "email".into(),
                address: "gp@example.org".into(),
            }),
        }),
        clinical: Some(proto::ClinicalContent {
            pain_duration_months: 18,
            pain_sites: vec!["lower_back".into()],
            pain_intensity: 7,
            red_flags: vec![proto::RedFlag::HistoryOfCancer as i32],
            question: "Is a programme suitable?".into(),
            ..Default::default()
        }),
        information_requests: vec![
            proto::InformationExchange {
                id: "q-1".into(),
                answer: Some("Yes".into()),
                ..Default::default()
            },
            proto::InformationExchange {
                id: "q-2".into(),
                ..Default::default()
            },
        ],
        ..Default::default()
    }
}

#[test]
fn the_content_reads_as_intakes_referral_did() {
    let read = Identifiable::from(reply());
    let json = serde_json::to_value(&read.content).expect("serialisable");
    assert_eq!(json["patient"]["family_name"], "MacLeod");
    assert_eq!(json["patient"]["chi"], "1204670021");
    assert_eq!(json["patient"]["sex"], "female");
    assert_eq!(json["patient"]["contact"]["mobile"], "07700 900123");
    assert_eq!(json["patient"]["contact"]["email"], serde_json::Value::Null);
    assert_eq!(json["referrer"]["reply"]["channel"], "email");
    assert_eq!(
        json["clinical"]["red_flags"],
        serde_json::json!(["history_of_cancer"])
    );
    assert_eq!(json["clinical"]["pain_intensity"], 7);
}

#[test]
fn answers_are_kept_by_request_and_unanswered_ones_left_out() {
    let read = Identifiable::from(reply());
    assert_eq!(read.answers.get("q-1").map(String::as_str), Some("Yes"));
    assert!(!read.answers.contains_key("q-2"));
}

#[test]
fn identifiers_are_masked_in_debug() {
    let read = Identifiable::from(reply());
    let shown = format!("{read:?}");
    assert!(!shown.contains("MacLeod"), "{shown}");
    assert!(!shown.contains("1204670021"), "{shown}");
}
