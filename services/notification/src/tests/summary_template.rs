//! Unit tests of `summary_template.rs`.

use super::*;

fn summary() -> proto::AnalyticsDailySummary {
    proto::AnalyticsDailySummary {
        day: "2026-07-14".into(),
        received: 4,
        routed_standard: 1,
        vetted: 3,
        decided: vec![
            proto::OutcomeCount {
                outcome: "accept".into(),
                count: 2,
            },
            proto::OutcomeCount {
                outcome: "patient_opt_in".into(),
                count: 1,
            },
        ],
        withdrawn: 1,
        awaiting_vetting: 7,
        over_vetting_target: 2,
        awaiting_information: 1,
        awaiting_opt_in: 3,
    }
}

#[test]
fn the_summary_names_the_scottish_day_in_words_and_every_count() {
    let day = NaiveDate::from_ymd_opt(2026, 7, 14).expect("a date");
    let board = BoardCode::parse("highland").expect("a board");
    let rendered = render(&SummaryFields::new(board, day, &summary(), 5)).expect("renders");
    assert_eq!(
        rendered.subject,
        "Pain pathway daily summary, NHS Highland: Tuesday 14 July 2026"
    );
    for line in [
        "- received: 4",
        "- handed to the standard route: 1",
        "- vetted: 3",
        "- decided: 3",
        "    - accepted for the pain clinic: 2",
        "    - patient asked to opt in: 1",
        "- withdrawn: 1",
        "- messages that could not be delivered: 5",
        "- for vetting: 7, of which past the vetting target: 2",
        "- for the referrer's answer to a question: 1",
        "- for the patient to opt in: 3",
    ] {
        assert!(
            rendered.body.lines().any(|l| l == line),
            "{line:?} in\n{}",
            rendered.body
        );
    }
}

#[test]
fn a_quiet_day_renders_with_no_outcomes() {
    let day = NaiveDate::from_ymd_opt(2026, 12, 25).expect("a date");
    let board = BoardCode::parse("greater-glasgow-clyde").expect("a board");
    let quiet = proto::AnalyticsDailySummary::default();
    let rendered = render(&SummaryFields::new(board, day, &quiet, 0)).expect("renders");
    assert!(rendered.subject.ends_with("Friday 25 December 2026"));
    assert!(rendered.body.contains("- decided: 0\n- withdrawn: 0"));
}
