//! `pathway demo`'s history after adoption: demo referral journeys from
//! each board's switch-on up to yesterday, published onto the stream. They
//! fill analytics' periods after the switch-on, and no other service acts on
//! them: no referral in intake, no worklist entry, no decision, no delivery.

use std::time::Duration;

use async_nats::jetstream;
use pathway_common::auth::Role;
use pathway_tests::cli::Platform;
use pathway_tests::{Backend, eventually};
use sea_orm::{EntityTrait, PaginatorTrait};

use super::{json_of, pathway};

/// The consumers that must take no demo event in.
const IGNORING: [&str; 4] = [
    "intake-status",
    "vetting-worklist",
    "decision",
    "notification",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_history_fills_analytics_after_switch_on_and_nothing_else() {
    let p = Platform::start(&Backend::Sqlite).await;
    let nats = p.intake.settings.nats.url.clone();
    let line = format!(
        "demo --referrals 0 --boards highland,orkney --seed 11 --baseline-months 0 --vet 0 \
         --nats-url {nats}"
    );
    let out = pathway(&p, &line).await.ok();
    let today = pathway_proto::days::today();
    let since = pathway_cli::commands::demo::switch_on_date(0, today);
    let published = out
        .lines()
        .find(|l| l.starts_with("highland: ") && l.ends_with(" published as history"))
        .unwrap_or_else(|| panic!("no history line:\n{out}"));
    assert!(
        published.contains(&format!(" from {since} to ")),
        "{published}"
    );
    assert!(
        !out.lines()
            .any(|l| l.starts_with("orkney: ") && l.contains("history")),
        "orkney is not on the pathway, so it has no history after adoption:\n{out}"
    );

    // The other services acknowledged every demo event without effect.
    let stream = p.intake.jetstream.clone();
    for name in IGNORING {
        let drained = eventually(Duration::from_secs(60), || async {
            let mut consumer: jetstream::consumer::PullConsumer = stream
                .get_consumer_from_stream(name, pathway_proto::stream::NAME)
                .await
                .ok()?;
            let info = consumer.info().await.ok()?;
            (info.num_pending == 0 && info.num_ack_pending == 0).then_some(())
        })
        .await;
        assert!(drained.is_some(), "{name} went through the demo events");
    }
    assert_eq!(
        p.referral_count().await,
        0,
        "intake stores no demo referral"
    );
    let clinician = p.token("dr-mackay", Role::Clinician, &["highland"]);
    let all = "?status=awaiting_vetting,in_vetting,info_requested,vetted,withdrawn,closed";
    let worklist = p.vetting.worklist_all(&clinician, "highland", all).await;
    assert!(worklist.is_empty(), "no worklist entries: {worklist:?}");
    let decisions = pathway_decision::store::decision::Entity::find()
        .count(&p.decision.db)
        .await
        .expect("count decisions");
    assert_eq!(
        decisions, 0,
        "the decision service recorded no demo decision"
    );
    let deliveries = pathway_notification::store::delivery::Entity::find()
        .count(&p.notification.db)
        .await
        .expect("count deliveries");
    assert_eq!(
        deliveries, 0,
        "notification sent nothing about demo referrals"
    );

    p.analytics.wait_until_caught_up().await;
    let query = format!("/v1/metrics?boards=highland&from={since}&by=quarter");
    let (status, report) = p.analytics(&query).await;
    assert_eq!(status, 200, "{report}");
    let rows = json_of(&report)["rows"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    // A year of a board's referrals: every whole quarter since the switch-on
    // has some, vetted, with waits.
    let full: Vec<_> = rows
        .iter()
        .filter(|r| r["period_last"].as_str() < Some(&today.to_string()))
        .collect();
    assert!(full.len() >= 3, "quarters since {since}: {rows:?}");
    for row in &full {
        let received = row["received_remote"].as_u64().unwrap_or(0);
        assert!(received > 20, "{} has demo referrals: {row}", row["period"]);
        assert!(row["vetted"].as_u64().unwrap_or(0) > 0, "{row}");
        assert!(row["wait_working_days_median"].is_number(), "{row}");
    }

    // The same seed again publishes the same events: analytics adds nothing.
    let again = pathway(&p, &line).await.ok();
    assert!(again.contains(published), "{again}");
    p.analytics.wait_until_caught_up().await;
    let (_, report_again) = p.analytics(&query).await;
    assert_eq!(
        json_of(&report_again)["rows"],
        json_of(&report)["rows"],
        "a second run with the same seed changes nothing"
    );
    p.stop().await;
}
