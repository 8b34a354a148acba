//! `pathway demo`: boards switched on, baselines imported, referrals vetted.

use pathway_common::auth::Role;
use pathway_tests::Backend;
use pathway_tests::cli::Platform;

use super::{json_of, pathway};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_switches_boards_on_imports_baselines_and_vets_referrals() {
    let p = Platform::start(&Backend::Sqlite).await;
    let demo =
        "demo --referrals 6 --boards highland,orkney --seed 7 --baseline-months 1 --no-history";
    let out = pathway(&p, &format!("{demo} --vet 1 --concurrency 3"))
        .await
        .ok();
    let today = pathway_proto::days::today();
    let since = pathway_cli::commands::demo::switch_on_date(0, today).to_string();
    let head = format!(
        "highland: remote pathway on since {since}\n\
         orkney: standard route (not on the pathway)\n"
    );
    assert!(out.starts_with(&head), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    for board in ["highland", "orkney"] {
        let imported = |l: &&str| l.starts_with(board) && l.ends_with(" imported as its baseline");
        assert!(lines.iter().any(imported), "{board}'s baseline:\n{out}");
    }
    assert!(lines.contains(&"sent 6 referrals:"), "{out}");
    // The first number on the line that starts with `start` and ends with `end`.
    let count = |start: &str, end: &str| {
        let line = lines
            .iter()
            .find(|l| l.starts_with(start) && l.ends_with(end));
        let number = line.and_then(|l| l[start.len()..].split_whitespace().next());
        number.and_then(|n| n.parse::<usize>().ok()).unwrap_or(0)
    };
    let remote = count("  ", "  awaiting_vetting");
    let vetted = count("the demo clinician vetted ", " referrals:");
    assert!(remote > 0, "some went to highland's pathway:\n{out}");
    assert_eq!(
        vetted, remote,
        "--vet 1 vets every one on the pathway:\n{out}"
    );
    assert!(out.contains(&format!(
        "{}/dashboard (sign in with `pathway token",
        p.analytics.base
    )));

    // In the services: highland on since then; six referrals; those on the
    // pathway vetted (or asked about); the baselines in analytics.
    let highland = p.board("highland").await;
    assert_eq!(highland["pathway_enabled"], true);
    assert_eq!(highland["since"], since.as_str());
    assert_eq!(p.referral_count().await, 6);
    let clinician = p.token("dr-mackay", Role::Clinician, &["highland"]);
    let done = "?status=vetted,info_requested,closed";
    let worklist = p.vetting.worklist(&clinician, "highland", done).await;
    assert_eq!(
        worklist["referrals"].as_array().map(Vec::len),
        Some(vetted),
        "{worklist}"
    );
    let from = today - chrono::Duration::days(400);
    let query = format!("/v1/metrics?boards=highland,orkney&from={from}&by=quarter");
    let (status, report) = p.analytics(&query).await;
    assert_eq!(status, 200, "{report}");
    let rows = json_of(&report)["rows"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let standard: u64 = rows
        .iter()
        .filter_map(|r| r["received_standard"].as_u64())
        .sum();
    assert!(standard > 0, "the baselines are in analytics: {rows:?}");

    // An unknown board stops the demo before anything is sent.
    let ran = pathway(&p, "demo --boards highland,atlantis").await;
    ran.refused("", &["atlantis"]);
    assert_eq!(p.referral_count().await, 6);
    p.stop().await;
}
