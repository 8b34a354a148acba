use chrono::NaiveDate;

use super::Retention;
use crate::board::BoardSettings;
use crate::days;

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date")
}

#[test]
fn the_defaults_are_valid_and_a_document_without_the_section_reads() {
    assert!(Retention::default().problems().is_empty());
    let settings: BoardSettings = serde_json::from_str("{}").expect("an empty document reads");
    assert_eq!(settings.retention, Retention::default());
    let partial: BoardSettings = serde_json::from_str(r#"{"retention": {"delivery_days": 90}}"#)
        .expect("a partial section reads");
    assert_eq!(partial.retention.delivery_days, 90);
    assert_eq!(partial.retention.referral_years, 8);
}

#[test]
fn each_bad_period_is_named() {
    let retention = Retention {
        referral_years: 0,
        clinical_text_years: 31,
        delivery_days: 7,
        audit_years: 40,
    };
    let fields: Vec<String> = retention.problems().into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        fields,
        [
            "retention.referral_years",
            "retention.clinical_text_years",
            "retention.audit_years",
            "retention.clinical_text_years",
            "retention.delivery_days",
        ]
    );
    let settings = BoardSettings {
        retention,
        ..BoardSettings::default()
    };
    assert!(
        settings
            .problems()
            .iter()
            .any(|(f, _)| f == "retention.delivery_days")
    );
}

#[test]
fn text_may_not_outlive_its_referral() {
    let retention = Retention {
        referral_years: 6,
        clinical_text_years: 7,
        ..Retention::default()
    };
    let problems = retention.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].0, "retention.clinical_text_years");
}

#[test]
fn cutoffs_are_the_start_of_a_scottish_day() {
    let retention = Retention::default();
    // Summer: the Scottish day starts at 23:00 UTC the evening before.
    assert_eq!(
        retention.referral_cutoff(day("2026-07-10")),
        days::start_of(day("2018-07-10"))
    );
    assert_eq!(
        retention.referral_cutoff(day("2026-07-10")).to_rfc3339(),
        "2018-07-09T23:00:00+00:00"
    );
    assert_eq!(
        retention.delivery_cutoff(day("2026-01-31")),
        days::start_of(day("2025-01-31"))
    );
    // 29 February back to a year without one.
    let short = Retention {
        audit_years: 1,
        ..Retention::default()
    };
    assert_eq!(
        short.audit_cutoff(day("2028-02-29")),
        days::start_of(day("2027-02-28"))
    );
}
