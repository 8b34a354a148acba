//! `pathway patient`: a patient erased by CHI number with the report of
//! every service's part, the report read again, a referral restricted and
//! lifted, and a request refused naming the field.

use pathway_common::auth::Role;
use pathway_proto::v1 as proto;
use pathway_tests::Backend;
use pathway_tests::cli::Platform;
use pathway_tests::notification::decision_recorded;
use pathway_tests::referrals::valid_referral;

use super::{json_of, pathway};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_is_erased_restricted_and_lifted_from_the_command_line() {
    let p = Platform::start(&Backend::Sqlite).await;
    p.intake.enable_board("highland").await;
    let body = valid_referral("highland");
    let chi = body["patient"]["chi"].as_str().expect("a CHI").to_owned();
    let erased = p.intake.refer(&body).await;
    let kept = p.intake.refer(&valid_referral("highland")).await;
    p.vetting.wait_for_referral("highland", &erased).await;
    p.vetting.wait_for_referral("highland", &kept).await;
    // Messages about the patient, for notification to empty.
    let accept = proto::Outcome {
        kind: proto::OutcomeKind::Accept as i32,
        priority: proto::Priority::Routine as i32,
        mode: proto::AppointmentMode::Video as i32,
        ..proto::Outcome::default()
    };
    p.notification
        .send(&decision_recorded("highland", &erased, accept))
        .await;
    let sent = p.notification.wait_until_settled(&erased, 2).await;

    let line = format!("patient erase --board highland --chi {chi} --reason \"SAR 2026/7\"");
    let printed = pathway(&p, &line).await.ok();
    assert!(printed.starts_with("erase request "), "{printed}");
    assert!(printed.contains(&erased), "the referral: {printed}");
    assert!(!printed.contains(&kept), "only the patient's: {printed}");
    assert!(
        printed.contains("intake: 1 referral(s) emptied"),
        "{printed}"
    );
    assert!(printed.contains("vetting: "), "{printed}");
    assert!(
        printed.contains(&format!("notification: {} messages", sent.len())),
        "{printed}"
    );
    assert!(!printed.contains("not reported yet"), "{printed}");
    let id = printed
        .split_whitespace()
        .nth(2)
        .expect("the request's id")
        .to_owned();

    // The report again, as JSON, from every service.
    let again = pathway(&p, &format!("patient erasure {id} --board highland --json"))
        .await
        .ok();
    let again = json_of(&again);
    assert_eq!(again["intake"]["referral_ids"][0], erased.as_str());
    for service in ["vetting", "notification"] {
        assert_eq!(
            again["services"][service]["referrals"][0]["referral_id"],
            erased.as_str(),
            "{again}"
        );
    }
    let referrer = p.intake.token(Role::Referrer, &["highland"]);
    assert_eq!(
        p.intake.get_referral(&referrer, &erased).await.status(),
        410
    );

    // A restriction, then lifted.
    let line = format!("patient restrict --board highland --referral {kept} --reason objection");
    let printed = pathway(&p, &line).await.ok();
    assert!(printed.contains("restricted"), "{printed}");
    assert_eq!(p.intake.get_referral(&referrer, &kept).await.status(), 409);
    let line = format!("patient lift --board highland --referral {kept} --reason resolved");
    let printed = pathway(&p, &line).await.ok();
    assert!(printed.contains("lifted"), "{printed}");
    assert_eq!(p.intake.get_referral(&referrer, &kept).await.status(), 200);

    // A CHI number that is not one is refused, naming the field.
    pathway(
        &p,
        "patient erase --board highland --chi 1234567890 --reason r",
    )
    .await
    .refused("intake answered 422", &["chi"]);
    p.stop().await;
}
