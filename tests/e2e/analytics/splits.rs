//! Metrics split by group: before and after the board's adoption of the
//! pathway, by sex, and by priority.

use pathway_common::auth::Role;
use pathway_proto::v1 as proto;
use pathway_tests::analytics::TestApp;
use pathway_tests::backends;

use super::calendar::working_days;
use super::expected::check_quantiles;
use super::history::{history, publish_history};
use super::{BOARD, json, scottish_day};

#[tokio::test]
async fn before_and_after_adoption_and_by_sex() {
    let cases = history();
    for backend in backends().await {
        let mut app = TestApp::spawn(&backend).await;
        let events = publish_history(&app, &cases).await;
        app.wait_until_caught_up(events).await;
        let token = app.token(Role::BoardAdmin, &[BOARD]);
        let report = json(
            app.metrics(
                &token,
                "boards=highland&from=2026-01-01&to=2026-06-30&by=quarter&split=adoption",
            )
            .await,
        )
        .await;
        let rows = report["rows"].as_array().expect("rows");
        let find = |period: &str, group: &str| {
            rows.iter()
                .find(|r| r["period"] == period && r["group"] == group && r["board"] == BOARD)
                .unwrap_or_else(|| panic!("a {period} {group} row in {report}"))
        };
        // Received before 1 March: the ten standard referrals, all in Q1.
        assert_eq!(
            find("2026-Q1", "before")["received"],
            10,
            "{}",
            backend.name()
        );
        assert_eq!(find("2026-Q1", "before")["received_standard"], 10);
        assert_eq!(find("2026-Q1", "after")["received"], 0);
        assert_eq!(find("2026-Q2", "before")["received"], 0);
        let remote = cases
            .iter()
            .filter(|c| c.board == BOARD && c.remote)
            .count() as u64;
        assert_eq!(
            find("2026-Q2", "after")["received_remote"].as_u64(),
            Some(remote)
        );
        assert_eq!(rows.len(), 4, "two quarters × before/after for one board");

        let by_sex = json(
            app.metrics(
                &token,
                "boards=highland&from=2026-04-01&to=2026-06-30&by=quarter&split=sex",
            )
            .await,
        )
        .await;
        for sex in ["female", "male"] {
            let want = cases
                .iter()
                .filter(|c| c.board == BOARD && c.remote)
                .filter(|c| (c.sex == proto::Sex::Female) == (sex == "female"))
                .count() as u64;
            let row = by_sex["rows"]
                .as_array()
                .expect("rows")
                .iter()
                .find(|r| r["group"] == sex)
                .unwrap_or_else(|| panic!("a {sex} row: {by_sex}"));
            assert_eq!(row["received"].as_u64(), Some(want), "{sex}");
        }

        // Accepts by priority (all routine here); everything else is `none`.
        let accepted: Vec<u32> = cases
            .iter()
            .filter(|c| c.board == BOARD && c.corrected_to.or(c.outcome) == Some("accept"))
            .map(|c| {
                working_days(
                    scottish_day(c.received),
                    scottish_day(c.vetted.expect("vetted")),
                )
            })
            .collect();
        let by_priority = json(
            app.metrics(
                &token,
                "boards=highland&from=2026-04-01&to=2026-06-30&by=quarter&split=priority",
            )
            .await,
        )
        .await;
        let routine = by_priority["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["group"] == "routine")
            .unwrap_or_else(|| panic!("a routine row: {by_priority}"));
        assert_eq!(routine["vetted"].as_u64(), Some(accepted.len() as u64));
        check_quantiles(routine, "wait_working_days", &accepted);
        app.stop().await;
    }
}
