//! Monthly metrics from the generated history, every number checked against
//! the hand-worked expectation, and the same rows as CSV.

use pathway_common::auth::Role;
use pathway_tests::analytics::TestApp;
use pathway_tests::backends;
use serde_json::Value;

use super::expected::{check_rows, expected_by_month, hidden};
use super::history::{history, publish_history};
use super::{BOARD, json};

#[tokio::test]
async fn monthly_metrics_match_a_generated_history_worked_out_by_hand() {
    let cases = history();
    let expected = expected_by_month(&cases, |_| true);
    for backend in backends().await {
        let mut app = TestApp::spawn(&backend).await;
        let events = publish_history(&app, &cases).await;
        app.wait_until_caught_up(events).await;
        let token = app.token(Role::Evaluator, &[BOARD]);
        let query = "boards=highland&from=2026-01-01&to=2026-06-30&by=month";
        let report = json(app.metrics(&token, query).await).await;
        let rows = report["rows"].as_array().expect("rows");
        let months: Vec<&str> = rows
            .iter()
            .map(|r| r["period"].as_str().expect("a period"))
            .collect();
        assert_eq!(
            months,
            [
                "2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"
            ],
            "{}",
            backend.name()
        );
        let vetted_total = check_rows(rows, &expected);
        // Every vetted highland referral is counted once, however often it
        // was delivered; lothian's are not counted at all.
        assert_eq!(vetted_total, 36, "{}", backend.name());
        assert_eq!(
            cases
                .iter()
                .filter(|c| c.board == BOARD && c.vetted.is_some())
                .count() as u64,
            vetted_total
        );

        // February's three standard referrals are hidden, and so is the
        // total they are part of.
        let feb = &rows[1];
        assert!(
            hidden(feb, "received_standard") && hidden(feb, "received"),
            "{feb}"
        );
        assert_eq!(feb["received_remote"], 0);

        // The same rows as CSV: `*` where JSON says suppressed.
        let response = app.metrics_csv(&token, query).await;
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .expect("ascii")
                .starts_with("text/csv")
        );
        let text = response.text().await.expect("a CSV body");
        assert_csv_matches_json(&text, rows);
        app.stop().await;
    }
}

/// Each CSV cell equals the JSON field of the same name: `*` for a
/// suppressed one, empty for no value.
fn assert_csv_matches_json(text: &str, rows: &[Value]) {
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let body: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(!text.contains('"'), "no cell needs quoting here");
    assert_eq!(body.len(), rows.len());
    for (cells, row) in body.iter().zip(rows) {
        assert_eq!(cells.len(), head.len());
        for (name, cell) in head.iter().zip(cells) {
            let (field, value) = match name.strip_prefix("outcome_") {
                Some(code) => (format!("outcomes.{code}"), &row["outcomes"][code]),
                None => ((*name).to_owned(), &row[*name]),
            };
            let flagged = row["suppressed"]
                .as_array()
                .expect("a list")
                .iter()
                .any(|f| f == &field);
            match value {
                Value::Null if flagged => assert_eq!(*cell, "*", "{field}"),
                Value::Null => assert_eq!(*cell, "", "{field}"),
                Value::String(s) => assert_eq!(cell, s, "{field}"),
                Value::Number(n) => {
                    let csv: f64 = cell.parse().unwrap_or_else(|_| panic!("{field}={cell}"));
                    assert!(
                        (csv - n.as_f64().expect("a number")).abs() < 1e-12,
                        "{field}"
                    );
                }
                other => panic!("{field} is {other}"),
            }
        }
    }
}
