//! `pathway analytics` and `pathway metrics`: a baseline imported, metrics
//! printed (as CSV, with no cell a spreadsheet could run), analytics rebuilt.

use pathway_common::auth::Role;
use pathway_tests::Backend;
use pathway_tests::cli::{Platform, file};
use pathway_tests::referrals::valid_referral;

use super::{json_of, pathway, table};

/// A board's history before the pathway, as its system would export it.
const BASELINE: &str = "reference,received_on,vetted_on,outcome,sex\n\
    H-001,2025-12-01,2025-12-05,accept,female\n\
    H-002,2025-12-22,2026-01-05,physiotherapy,female\n\
    H-003,2025-12-10,2025-12-12,accept,male\n\
    H-004,2025-12-15,2025-12-29,advice_to_referrer,female\n\
    H-005,2025-12-03,2025-12-03,accept,female\n\
    H-006,2025-12-19,2026-01-06,accept,male\n\
    H-007,2025-12-23,2025-12-31,self_management,female\n\
    H-008,2025-12-11,2025-12-30,accept,female\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_baseline_is_imported_metrics_are_printed_and_analytics_rebuilt() {
    let p = Platform::start(&Backend::Sqlite).await;
    let dir = tempfile::tempdir().expect("a temporary folder");

    // One bad row loads nothing, and every problem is named by line and column.
    let bad = "reference,received_on,vetted_on,outcome\nH-001,2025-12-01,2025-12-05,accept\n\
               H-002,2025-12-32,,\nH-003,2025-12-10,2025-12-12,surgery\n";
    let bad = file(&dir, "bad.csv", bad);
    let ran = pathway(&p, &format!("analytics import --board highland {bad}")).await;
    let problems = [
        "\n2 rows rejected, nothing loaded:",
        "\n  - line 3.received_on: ",
        "\n  - line 4.outcome: ",
    ];
    ran.refused(
        &format!("{bad} was not loaded: analytics answered 422"),
        &problems,
    );

    let good = file(&dir, "highland.csv", BASELINE);
    let out = pathway(&p, &format!("analytics import --board highland {good}")).await;
    let loaded = format!("highland: 8 rows loaded from {good} (0 replaced rows loaded before)\n");
    assert_eq!(out.ok(), loaded);

    // The table shows the service's figures, hiding the small ones.
    let query = "boards=highland&from=2025-12-01&to=2026-01-31&by=month";
    let (status, report) = p.analytics(&format!("/v1/metrics?{query}")).await;
    assert_eq!(status, 200, "{report}");
    let report = json_of(&report);
    assert_eq!(report["rows"][0]["received"], 8, "{report}");
    assert_eq!(report["rows"][0]["vetted"], 6, "{report}");
    let metrics = "metrics --board highland --from 2025-12-01 --to 2026-01-31";
    let printed = pathway(&p, metrics).await.ok();
    let lines = table(&printed);
    assert_eq!(
        lines.len(),
        4,
        "heading, December, January, a footnote:\n{printed}"
    );
    assert_eq!(
        lines[0][..4],
        ["period", "board", "group", "received"],
        "{printed}"
    );
    assert_eq!(
        lines[1][..6],
        ["2025-12", "all", "all", "8", "0", "6"],
        "{printed}"
    );
    assert_eq!(
        lines[2][..6],
        ["2026-01", "all", "all", "0", "0", "*"],
        "2 is too few:\n{printed}"
    );
    assert!(
        printed.contains("\ncounts from 1 to 4 are shown as *; "),
        "{printed}"
    );
    let csv = pathway(&p, &format!("{metrics} --csv")).await.ok();
    let (_, expected) = p.analytics(&format!("/v1/metrics.csv?{query}")).await;
    assert_eq!(csv, expected, "the service's CSV as it came");
    let ran = pathway(&p, "metrics --from 2025-12-01 --by fortnight").await;
    ran.refused("analytics answered 400", &["\n  - by: "]);

    // A rebuild reads the whole stream again, and keeps the baseline.
    let before = p.intake.stream_count().await;
    pathway(&p, "board enable highland").await.ok();
    p.intake.refer(&valid_referral("highland")).await;
    // The switch-on and the referral are both on the stream (the relay
    // publishes after the answer) before the count is read.
    p.intake
        .wait_for_events(usize::try_from(before + 2).expect("a small count"))
        .await;
    p.analytics.wait_until_caught_up().await;
    let published = p.intake.stream_count().await;
    let out = pathway(&p, "analytics rebuild").await.ok();
    assert_eq!(
        out,
        format!(
            "rebuilt every fact from the latest snapshot and the stream: {published} messages handled\n"
        )
    );
    let (_, after) = p.analytics(&format!("/v1/metrics?{query}")).await;
    assert_eq!(json_of(&after), report);
    // From the start of what the stream holds, ignoring any snapshot: the
    // same here, where the stream still holds every event.
    let out = pathway(&p, "analytics rebuild --from-start").await.ok();
    assert_eq!(
        out,
        format!(
            "rebuilt every fact from the latest snapshot and the stream: {published} messages handled\n"
        )
    );
    let (_, after) = p.analytics(&format!("/v1/metrics?{query}")).await;
    assert_eq!(json_of(&after), report);
    // Only a board admin for every board may rebuild.
    let admin = p.token("admin-ruth", Role::BoardAdmin, &["highland"]);
    let ran = pathway(&p, &format!("--token {admin} analytics rebuild")).await;
    ran.refused("analytics answered 403", &[]);
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_as_csv_hold_no_cell_a_spreadsheet_could_run() {
    use crate::analytics::csv_cells::{LABELS, routed_with_age_band};
    let p = Platform::start(&Backend::Sqlite).await;
    for (label, _) in LABELS {
        p.analytics.send(&routed_with_age_band(label)).await;
    }
    p.analytics.wait_until_caught_up().await;
    let csv = pathway(
        &p,
        "metrics --board highland --from 2026-04-01 --to 2026-04-30 --split age_band --csv",
    )
    .await
    .ok();
    for (label, cell) in LABELS {
        let line = format!("\n2026-04,2026-04-01,2026-04-30,,{cell},");
        assert!(csv.contains(&line), "{label:?} as {cell:?} in:\n{csv}");
    }
    p.stop().await;
}
