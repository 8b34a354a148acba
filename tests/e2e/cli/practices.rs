//! `pathway practices`: a referral sent to intake reaches analytics with its
//! practice code, and the command prints the board's practices, the board's
//! totals last, hiding the small counts; the CSV is the service's.

use pathway_tests::Backend;
use pathway_tests::cli::Platform;
use pathway_tests::referrals::valid_referral;

use super::{json_of, pathway, table};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn practices_are_printed_from_the_referrals_intake_received() {
    let p = Platform::start(&Backend::Sqlite).await;
    pathway(&p, "board enable highland").await.ok();
    let before = p.intake.stream_count().await;
    p.intake.refer(&valid_referral("highland")).await;
    p.intake
        .wait_for_events(usize::try_from(before + 1).expect("a small count"))
        .await;
    p.analytics.wait_until_caught_up().await;

    let (status, report) = p
        .analytics("/v1/practices?board=highland&from=2020-01-01")
        .await;
    assert_eq!(status, 200, "{report}");
    let report = json_of(&report);
    assert_eq!(report["practices"][0]["practice"], "55005", "{report}");
    assert_eq!(report["practices"][0]["received"], serde_json::Value::Null);

    let printed = pathway(&p, "practices --board highland --from 2020-01-01")
        .await
        .ok();
    let lines = table(&printed);
    assert_eq!(
        lines.len(),
        4,
        "heading, 55005, all, a footnote:\n{printed}"
    );
    assert_eq!(
        lines[0][..3],
        ["practice", "received", "decided"],
        "{printed}"
    );
    assert_eq!(
        lines[1][..3],
        ["55005", "*", "0"],
        "1 is too few:\n{printed}"
    );
    assert_eq!(lines[2][..3], ["all", "*", "0"], "{printed}");
    let csv = pathway(&p, "practices --board highland --from 2020-01-01 --csv")
        .await
        .ok();
    let (_, expected) = p
        .analytics("/v1/practices.csv?board=highland&from=2020-01-01")
        .await;
    assert_eq!(csv, expected, "the service's CSV as it came");
    let ran = pathway(&p, "practices --board atlantis --from 2020-01-01").await;
    ran.refused("analytics answered 400", &["\n  - board: "]);
    p.stop().await;
}
