//! The clinician's question reaches the referrer, and a direct
//! self-management referral reaches the partner.

use pathway_notification::startup::Workers;
use pathway_notification::store::delivery::Status;
use pathway_proto::v1 as proto;
use pathway_tests::backends;
use pathway_tests::notification::{decision_recorded, info_requested};
use pathway_tests::referrals::valid_referral;

use super::setup;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_from_the_clinician_reaches_the_referrer() {
    for backend in backends().await {
        let s = setup(&backend, Workers::default()).await;
        let referral = s.intake.refer(&valid_referral("highland")).await;
        let question = "Has she had imaging of the lumbar spine?";
        s.app
            .send(&info_requested("highland", &referral, question))
            .await;

        let rows = s.app.wait_until_settled(&referral, 1).await;
        assert_eq!(
            rows.len(),
            1,
            "{}: only the referrer is asked",
            backend.name()
        );
        assert_eq!(rows[0].recipient, "referrer");
        assert_eq!(rows[0].status, Status::Sent);
        let hooks = s.receiver.hooks();
        assert_eq!(hooks.len(), 1);
        assert_eq!(hooks[0].document["type"], "pathway.information_request");
        assert_eq!(hooks[0].document["question"], question);
        assert!(
            hooks[0].document["message"]["body"]
                .as_str()
                .unwrap_or_default()
                .contains(question)
        );
        assert!(s.gateway.taken().is_empty(), "the patient is not messaged");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_direct_self_management_referral_reaches_the_partner() {
    for backend in backends().await {
        let s = setup(&backend, Workers::default()).await;
        let referral = s.intake.refer(&valid_referral("highland")).await;
        let outcome = proto::Outcome {
            kind: proto::OutcomeKind::SelfManagement as i32,
            partner: "pain-association-scotland".into(),
            ..proto::Outcome::default()
        };
        s.app
            .send(&decision_recorded("highland", &referral, outcome))
            .await;

        let rows = s.app.wait_until_settled(&referral, 3).await;
        assert!(
            rows.iter().all(|r| r.status == Status::Sent),
            "{}: {rows:?}",
            backend.name()
        );
        let hooks = s.receiver.hooks();
        let partner = hooks
            .iter()
            .find(|h| h.path == "partner")
            .expect("to the partner");
        assert_eq!(partner.document["type"], "pathway.onward_referral");
        assert_eq!(partner.document["service"], "pain-association-scotland");
        assert_eq!(partner.document["patient"]["given_name"], "Morag");
        assert_eq!(partner.document["patient"]["mobile"], "07700900123");
        let sms = &s.gateway.taken()[0];
        assert!(
            sms.body["personalisation"]["body"]
                .as_str()
                .unwrap_or_default()
                .contains("Pain Association Scotland")
        );
        s.stop().await;
    }
}
