//! The identifiable look-up gives each purpose only its own fields, refuses
//! a request that names no purpose, and names the purpose in the audit row.

use pathway_common::auth::Role;
use pathway_proto::v1::{self as proto, LookupPurpose, referral_lookup_reply::Result as Answer};
use pathway_tests::Backend;
use pathway_tests::intake::TestApp;
use pathway_tests::referrals::valid_referral;
use prost::Message as _;
use sea_orm::EntityTrait;

/// Ask intake for `id` as a service of highland, for `purpose`.
async fn ask(app: &TestApp, id: &str, purpose: i32, reason: &str) -> Answer {
    let token = app.token_for("svc-test", Role::Service, &["highland"]);
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Authorization", format!("Bearer {token}").as_str());
    let request = proto::ReferralLookupRequest {
        referral_id: id.to_owned(),
        purpose: reason.to_owned(),
        lookup_purpose: purpose,
    };
    let reply = app
        .nats
        .request_with_headers(
            pathway_proto::rpc::REFERRAL_LOOKUP,
            headers,
            request.encode_to_vec().into(),
        )
        .await
        .expect("intake replies");
    proto::ReferralLookupReply::decode(reply.payload)
        .expect("a ReferralLookupReply")
        .result
        .expect("a referral or a refusal")
}

async fn referral(app: &TestApp, id: &str, purpose: LookupPurpose) -> proto::IdentifiableReferral {
    match ask(app, id, purpose as i32, "purposes test").await {
        Answer::Referral(referral) => referral,
        Answer::Refusal(refusal) => panic!("{purpose:?} refused: {refusal:?}"),
    }
}

/// The purposes of the audit rows of reads of `id`, in alphabetical order.
async fn audited_purposes(app: &TestApp, id: &str) -> Vec<String> {
    let mut purposes: Vec<String> = pathway_common::audit::entity::Entity::find()
        .all(&app.db)
        .await
        .expect("read audit")
        .into_iter()
        .filter(|row| {
            row.action == "referral.read_identifiable" && row.referral_id.as_deref() == Some(id)
        })
        .map(|row| row.purpose.unwrap_or_default())
        .collect();
    purposes.sort();
    purposes
}

/// The envelope every purpose is given.
fn assert_envelope(referral: &proto::IdentifiableReferral, id: &str) {
    assert_eq!(referral.id, id);
    assert_eq!(referral.board, "highland");
    assert!(!referral.status.is_empty());
    assert!(!referral.route.is_empty());
    assert!(referral.received_at.is_some());
    assert!(referral.version >= 1);
}

#[tokio::test]
async fn each_purpose_is_given_only_its_own_fields() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    app.enable_board("highland").await;
    let sent = valid_referral("highland");
    let id = app.refer(&sent).await;

    // A vetting clinician's view: identifiers, contact details, referrer and
    // clinical content, but not the referrer's token subject.
    let vetting = referral(&app, &id, LookupPurpose::VettingView).await;
    assert_envelope(&vetting, &id);
    let patient = vetting.patient.clone().expect("the patient");
    assert_eq!(patient.chi, sent["patient"]["chi"].as_str().expect("sent"));
    assert_eq!(patient.given_name, "Morag");
    assert_eq!(
        patient.date_of_birth,
        sent["patient"]["date_of_birth"].as_str().expect("sent")
    );
    assert_eq!(patient.sex(), proto::Sex::Female);
    assert_eq!(patient.postcode, "IV2 3UJ");
    assert_eq!(patient.accessibility_needs, ["large_print"]);
    let contact = patient.contact.expect("contact details");
    assert_eq!(contact.mobile.as_deref(), Some("07700900123"));
    let referrer = vetting.referrer.clone().expect("the referrer");
    assert_eq!(referrer.clinician_name, "Dr Ann Smith");
    let clinical = vetting.clinical.clone().expect("clinical content");
    assert_eq!(clinical.pain_intensity, 7);
    assert_eq!(
        clinical.question,
        "Would she benefit from the pain management programme?"
    );
    assert_eq!(
        vetting.referrer_subject, "",
        "no referrer subject for vetting"
    );

    // Contact details: names and how to reach the patient and the referrer;
    // no identifiers, clinical content or referrer subject.
    let contacts = referral(&app, &id, LookupPurpose::ContactDetails).await;
    assert_envelope(&contacts, &id);
    let expected_patient = proto::IdentifiablePatient {
        given_name: "Morag".into(),
        family_name: sent["patient"]["family_name"]
            .as_str()
            .expect("sent")
            .into(),
        contact: vetting.patient.clone().and_then(|p| p.contact),
        // What words the message and what the receiving service books.
        accessibility_needs: vec!["large_print".into()],
        ..Default::default()
    };
    assert!(expected_patient.contact.is_some());
    assert_eq!(contacts.patient, Some(expected_patient));
    assert_eq!(contacts.referrer, vetting.referrer);
    assert_eq!(contacts.clinical, None);
    assert!(contacts.information_requests.is_empty());
    assert!(!contacts.re_referral);
    assert_eq!(contacts.referrer_subject, "");

    // Referrer check: the referrer's token subject, nothing about the patient.
    let check = referral(&app, &id, LookupPurpose::ReferrerCheck).await;
    assert_envelope(&check, &id);
    let expected = proto::IdentifiableReferral {
        id: check.id.clone(),
        board: check.board.clone(),
        status: check.status.clone(),
        route: check.route.clone(),
        received_at: check.received_at,
        version: check.version,
        referrer_subject: format!("test-{}", Role::Referrer),
        ..Default::default()
    };
    assert_eq!(check, expected);

    // Every read is audited with its purpose and the reason given.
    assert_eq!(
        audited_purposes(&app, &id).await,
        [
            "contact_details: purposes test",
            "referrer_check: purposes test",
            "vetting_view: purposes test",
        ]
    );
}

#[tokio::test]
async fn a_look_up_naming_no_purpose_is_refused_and_not_audited() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    app.enable_board("highland").await;
    let id = app.refer(&valid_referral("highland")).await;
    for purpose in [LookupPurpose::Unspecified as i32, 42] {
        match ask(&app, &id, purpose, "no purpose").await {
            Answer::Refusal(refusal) => {
                assert_eq!(refusal.code(), proto::RefusalCode::Invalid, "{purpose}");
                assert!(
                    refusal.message.starts_with("lookup_purpose:"),
                    "{}",
                    refusal.message
                );
            }
            Answer::Referral(referral) => panic!("{purpose} given {}", referral.id),
        }
    }
    // A purpose without a reason in words is refused too.
    match ask(&app, &id, LookupPurpose::ContactDetails as i32, " ").await {
        Answer::Refusal(refusal) => assert_eq!(refusal.code(), proto::RefusalCode::Invalid),
        Answer::Referral(referral) => panic!("a blank reason given {}", referral.id),
    }
    assert!(audited_purposes(&app, &id).await.is_empty());
}
