//! Baseline import: a board's history from before the pathway, loaded from
//! a CSV file whole or not at all, and kept through a rebuild.

use chrono::NaiveDate;
use pathway_common::auth::Role;
use pathway_tests::analytics::TestApp;
use pathway_tests::backends;
use serde_json::Value;

use super::calendar::working_days;
use super::expected::check_quantiles;
use super::{BOARD, json};

/// (reference, received, vetted, outcome) of a board's history before the pathway.
const BASELINE: [(&str, &str, &str, &str); 8] = [
    ("H-001", "2025-12-01", "2025-12-05", "accept"),
    ("H-002", "2025-12-22", "2026-01-05", "physiotherapy"),
    ("H-003", "2025-12-10", "2025-12-12", "accept"),
    ("H-004", "2025-12-15", "2025-12-29", "advice_to_referrer"),
    ("H-005", "2025-12-03", "2025-12-03", "accept"),
    ("H-006", "2025-12-19", "2026-01-06", "accept"),
    ("H-007", "2025-12-23", "2025-12-31", "self_management"),
    ("H-008", "2025-12-11", "2025-12-30", "accept"),
];

async fn post_baseline(app: &TestApp, token: &str, board: &str, file: String) -> reqwest::Response {
    app.http
        .post(format!("{}/v1/baseline?board={board}", app.base))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(file)
        .send()
        .await
        .expect("analytics answers")
}

#[tokio::test]
async fn a_baseline_file_loads_whole_or_not_at_all_and_survives_a_rebuild() {
    for backend in backends().await {
        let mut app = TestApp::spawn(&backend).await;
        let admin = app.token(Role::BoardAdmin, &[BOARD]);
        let evaluator = app.token(Role::Evaluator, &[BOARD]);
        let query = "boards=highland&from=2025-12-01&to=2025-12-31&by=month";

        let bad = "reference,received_on,vetted_on,outcome\n\
                   H-001,2025-12-01,2025-12-05,accept\n\
                   H-002,2025-12-32,,\n\
                   H-003,2025-12-10,2025-12-12,surgery\n"
            .to_owned();
        let response = post_baseline(&app, &admin, BOARD, bad).await;
        assert_eq!(response.status(), 422, "{}", backend.name());
        let body: Value = response.json().await.expect("a JSON error");
        let fields: Vec<&str> = body["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .map(|f| f["field"].as_str().expect("a field"))
            .collect();
        assert_eq!(fields, ["line 3.received_on", "line 4.outcome"], "{body}");
        assert_eq!(body["rejected_rows"], 2);
        let report = json(app.metrics(&evaluator, query).await).await;
        assert_eq!(report["rows"][0]["received"], 0, "nothing half-loaded");

        let mut file = "reference,received_on,vetted_on,outcome,sex\n".to_owned();
        for (reference, received, vetted, outcome) in BASELINE {
            file.push_str(&format!(
                "{reference},{received},{vetted},{outcome},female\n"
            ));
        }
        let response = post_baseline(&app, &evaluator, BOARD, file.clone()).await;
        assert_eq!(response.status(), 403, "only a board admin imports");
        let loaded = json(post_baseline(&app, &admin, BOARD, file.clone()).await).await;
        assert_eq!(loaded["loaded"], 8);
        assert_eq!(loaded["replaced"], 0);
        // Loading the same file again replaces, never doubles.
        let again = json(post_baseline(&app, &admin, BOARD, file).await).await;
        assert_eq!(again["replaced"], 8);

        let parse = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").expect("a date");
        let december: Vec<u32> = BASELINE
            .iter()
            .filter(|(_, _, vetted, _)| vetted.starts_with("2025-12"))
            .map(|(_, received, vetted, _)| working_days(parse(received), parse(vetted)))
            .collect();
        let check = |report: &Value| {
            let row = &report["rows"][0];
            assert_eq!(row["received_standard"], 8, "{row}");
            assert_eq!(row["vetted"].as_u64(), Some(december.len() as u64), "{row}");
            check_quantiles(row, "wait_working_days", &december);
        };
        check(&json(app.metrics(&evaluator, query).await).await);

        app.stop().await;
        pathway_analytics::startup::rebuild(&app.settings, false, |_| {})
            .await
            .expect("the rebuild runs");
        let mut app = app.restart().await;
        let evaluator = app.token(Role::Evaluator, &[BOARD]);
        check(&json(app.metrics(&evaluator, query).await).await);
        app.stop().await;
    }
}

#[tokio::test]
async fn a_baseline_cell_that_could_start_a_formula_is_refused_and_nothing_is_loaded() {
    for backend in backends().await {
        let mut app = TestApp::spawn(&backend).await;
        let admin = app.token(Role::BoardAdmin, &[BOARD]);
        let evaluator = app.token(Role::Evaluator, &[BOARD]);
        let file = "reference,received_on,vetted_on,outcome,age_band,urban_rural_class\n\
                    H-001,2025-12-01,2025-12-05,accept,40-49,1\n\
                    H-002,2025-12-02,,,\"=HYPERLINK(\"\"https://evil.example\"\")\",2\n\
                    @H-003,2025-12-03,,,85+,3\n\
                    H-004,2025-12-04,,,\"\t=1\",-1\n\
                    H-005,2025-12-05,,, +1,\n"
            .to_owned();
        let response = post_baseline(&app, &admin, BOARD, file).await;
        assert_eq!(response.status(), 422, "{}", backend.name());
        let body: Value = response.json().await.expect("a JSON error");
        let fields: Vec<(&str, &str)> = body["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .map(|f| {
                (
                    f["field"].as_str().expect("a field"),
                    f["reason"].as_str().expect("a reason"),
                )
            })
            .collect();
        let formula =
            |c: &str| format!("starts with {c}, which a spreadsheet could run as a formula");
        assert_eq!(
            fields,
            [
                ("line 3.age_band", formula("'='").as_str()),
                ("line 4.reference", formula("'@'").as_str()),
                ("line 5.age_band", formula("'\\t'").as_str()),
                ("line 5.urban_rural_class", formula("'-'").as_str()),
                ("line 6.age_band", formula("'+'").as_str()),
            ],
            "{body}"
        );
        assert_eq!(body["rejected_rows"], 4);
        let query = "boards=highland&from=2025-12-01&to=2025-12-31&by=month";
        let report = json(app.metrics(&evaluator, query).await).await;
        assert_eq!(
            report["rows"][0]["received"], 0,
            "nothing of the file is stored"
        );
        app.stop().await;
    }
}
