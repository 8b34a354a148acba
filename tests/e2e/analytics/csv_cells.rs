//! CSV a spreadsheet cannot be made to run: an age band that would start a
//! formula, arriving on the stream, is written as text in the metrics CSV
//! (and kept as it is in JSON).

use pathway_common::auth::Role;
use pathway_proto::v1::{self as proto, Event, Payload};
use pathway_tests::analytics::TestApp;
use pathway_tests::backends;
use uuid::Uuid;

use super::{BOARD, at, day, json};

/// Age bands as a publisher on the stream might send them, and each cell as
/// the CSV must hold it, worked out by hand: a single quote first, quoted
/// (with doubled quotes) when the cell holds a comma, a quote or a carriage
/// return.
pub(crate) const LABELS: [(&str, &str); 7] = [
    (
        "=HYPERLINK(\"https://evil.example\",\"open\")",
        "\"'=HYPERLINK(\"\"https://evil.example\"\",\"\"open\"\")\"",
    ),
    ("+1+1", "'+1+1"),
    ("-2+3", "'-2+3"),
    ("@SUM(1;2)", "'@SUM(1;2)"),
    ("\t=1", "'\t=1"),
    ("\r=1", "\"'\r=1\""),
    ("40-49", "40-49"),
];

/// A referral routed to the standard route in April 2026 with `age_band`.
pub(crate) fn routed_with_age_band(age_band: &str) -> Event {
    let received = at(day(4, 7), 10);
    Event::new(
        BOARD,
        Some(Uuid::now_v7()),
        "test",
        received,
        Payload::ReferralRoutedStandard(proto::ReferralRoutedStandard {
            patient: Some(proto::PatientAttributes {
                age_band: age_band.into(),
                sex: proto::Sex::Female as i32,
                ..Default::default()
            }),
            practice_code: "55501".into(),
            reason: "board_not_on_pathway".into(),
            received_at: Some(proto::timestamp(received)),
        }),
    )
}

#[tokio::test]
async fn a_label_that_could_start_a_formula_is_written_as_text() {
    for backend in backends().await {
        let mut app = TestApp::spawn(&backend).await;
        for (label, _) in LABELS {
            app.send(&routed_with_age_band(label)).await;
        }
        app.wait_until_caught_up(LABELS.len() as u64).await;
        let token = app.token(Role::Evaluator, &[BOARD]);
        let query = "boards=highland&from=2026-04-01&to=2026-04-30&by=month&split=age_band";

        let report = json(app.metrics(&token, query).await).await;
        let groups: Vec<&str> = report["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| r["group"].as_str().expect("a group"))
            .collect();
        for (label, _) in LABELS {
            assert!(groups.contains(&label), "JSON keeps {label:?}: {report}");
        }

        let response = app.metrics_csv(&token, query).await;
        assert_eq!(response.status(), 200, "{}", backend.name());
        let text = response.text().await.expect("a CSV body");
        for (label, cell) in LABELS {
            // period, first and last day, no board (not split by board), the group.
            let line = format!("\n2026-04,2026-04-01,2026-04-30,,{cell},");
            assert!(text.contains(&line), "{label:?} as {cell:?} in:\n{text}");
        }
        for (label, _) in LABELS
            .iter()
            .filter(|(l, _)| l.starts_with(['=', '+', '-', '@']))
        {
            assert!(
                !text.contains(&format!(",{label}")),
                "{label:?} bare in:\n{text}"
            );
        }
        app.stop().await;
    }
}
