//! `pathway deliveries`: listed, shown and a failed one retried.

use std::time::Duration;

use pathway_notification::store::delivery::Status;
use pathway_proto::v1 as proto;
use pathway_tests::Backend;
use pathway_tests::cli::Platform;
use pathway_tests::notification::{Answer, decision_recorded};
use pathway_tests::referrals::valid_referral;

use super::{json_of, pathway, table};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_are_listed_shown_and_a_failed_one_retried() {
    let p = Platform::start(&Backend::Sqlite).await;
    p.intake.enable_board("highland").await;
    // The gateway refuses the patient's SMS once: a refusal is not retried.
    p.gateway.script(&[Answer::Status(400)]);
    let referral = p.intake.refer(&valid_referral("highland")).await;
    let accept = proto::Outcome {
        kind: proto::OutcomeKind::Accept as i32,
        priority: proto::Priority::Routine as i32,
        mode: proto::AppointmentMode::Video as i32,
        ..proto::Outcome::default()
    };
    let decided = decision_recorded("highland", &referral, accept);
    p.notification.send(&decided).await;
    let rows = p.notification.wait_until_settled(&referral, 2).await;
    let sms = rows
        .iter()
        .find(|r| r.recipient == "patient")
        .expect("an SMS");
    assert_eq!(sms.status, Status::Failed);

    let line = "deliveries list --status failed --board highland";
    let listed = pathway(&p, line).await.ok();
    let lines = table(&listed);
    assert_eq!(lines.len(), 2, "a heading and the failed SMS:\n{listed}");
    assert_eq!(lines[0][..2], ["delivery", "referral"], "{listed}");
    let expected = [
        sms.id.as_str(),
        referral.as_str(),
        "patient",
        "sms",
        "failed",
        "1",
    ];
    assert_eq!(lines[1][..6], expected, "{listed}");
    assert!(
        lines[1][6..].iter().any(|w| w.contains("400")),
        "the reason: {listed}"
    );

    let shown = pathway(&p, &format!("deliveries show {referral}"))
        .await
        .ok();
    let ids: Vec<&str> = table(&shown)[1..].iter().map(|r| r[0]).collect();
    let mut expected: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    expected.sort_unstable();
    assert_eq!(ids.len(), 2, "the patient's and the GP's:\n{shown}");
    assert!(ids.iter().all(|id| expected.contains(id)), "{shown}");
    let printed = pathway(&p, &format!("deliveries show {referral} --json")).await;
    assert_eq!(
        json_of(&printed.ok())["deliveries"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    let out = pathway(&p, &format!("deliveries retry {}", sms.id))
        .await
        .ok();
    assert!(out.starts_with(&format!("delivery {}: ", sms.id)), "{out}");
    let sent = pathway_tests::eventually(Duration::from_secs(15), || async {
        let rows = p.notification.deliveries(&referral).await;
        rows.into_iter()
            .find(|r| r.id == sms.id && r.status == Status::Sent)
    })
    .await
    .expect("the retried SMS is sent");
    assert_eq!((sent.attempts, p.gateway.taken().len()), (2, 1));
    let out = pathway(&p, "deliveries list --status failed").await.ok();
    assert_eq!(out, "no deliveries\n");

    let ran = pathway(&p, "deliveries list --status lost").await;
    ran.refused("the notification service answered 422", &[]);
    p.stop().await;
}
