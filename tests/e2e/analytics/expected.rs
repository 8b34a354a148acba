//! What each month should show, worked out from the history case by case,
//! and the checks that a row shows it — or hides it, where a number is small
//! enough to identify someone (disclosure control).

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde_json::Value;

use super::calendar::{calendar_days, percentile, working_days};
use super::history::Case;
use super::{BOARD, TARGET, scottish_day};

/// What one period should show, before disclosure control.
#[derive(Debug, Default, Clone)]
pub(crate) struct Expected {
    pub(crate) remote: u64,
    pub(crate) standard: u64,
    pub(crate) working: Vec<u32>,
    pub(crate) calendar: Vec<u32>,
    pub(crate) working_net: Vec<u32>,
    pub(crate) calendar_net: Vec<u32>,
    pub(crate) within_target: u64,
    pub(crate) info_requested: u64,
    pub(crate) without_specialist: u64,
    pub(crate) notification_failed: u64,
    pub(crate) outcomes: BTreeMap<&'static str, u64>,
    pub(crate) withdrawn: u64,
    /// Working days from question to answer, by the month of the answer.
    pub(crate) turnaround: Vec<u32>,
}

pub(crate) fn month(d: NaiveDate) -> String {
    format!("{}-{:02}", d.year(), d.month())
}

pub(crate) fn quarter(d: NaiveDate) -> String {
    format!("{}-Q{}", d.year(), d.month0() / 3 + 1)
}

/// Per month, what the highland referrals of `cases` should show.
pub(crate) fn expected_by_month(
    cases: &[Case],
    keep: impl Fn(&Case) -> bool,
) -> BTreeMap<String, Expected> {
    expected_by(cases, keep, month)
}

/// Per period (named by `period` from a day), what the highland referrals
/// of `cases` should show. Every day is the Scottish day of its instant.
pub(crate) fn expected_by(
    cases: &[Case],
    keep: impl Fn(&Case) -> bool,
    month: impl Fn(NaiveDate) -> String,
) -> BTreeMap<String, Expected> {
    let mut out: BTreeMap<String, Expected> = BTreeMap::new();
    for case in cases.iter().filter(|c| c.board == BOARD && keep(c)) {
        let r = scottish_day(case.received);
        let e = out.entry(month(r)).or_default();
        if case.remote {
            e.remote += 1;
        } else {
            e.standard += 1;
        }
        if let Some(vetted) = case.vetted {
            let v = scottish_day(vetted);
            let e = out.entry(month(v)).or_default();
            let (paused_working, paused_calendar) = match case.pause {
                Some((asked, answered)) => {
                    let a = scottish_day(asked);
                    let b = answered.map_or(v, scottish_day).min(v);
                    (working_days(a, b), calendar_days(a, b))
                }
                None => (0, 0),
            };
            let working = working_days(r, v);
            let calendar = calendar_days(r, v);
            e.working.push(working);
            e.calendar.push(calendar);
            e.working_net.push(working - paused_working);
            e.calendar_net.push(calendar - paused_calendar);
            if working - paused_working <= TARGET {
                e.within_target += 1;
            }
            if case.pause.is_some() {
                e.info_requested += 1;
            }
            if case.notification_failed {
                e.notification_failed += 1;
            }
            let code = case
                .corrected_to
                .or(case.outcome)
                .expect("vetted with an outcome");
            *e.outcomes.entry(code).or_default() += 1;
            if ["advice_to_referrer", "self_management", "physiotherapy"].contains(&code) {
                e.without_specialist += 1;
            }
        }
        if let Some(w) = case.withdrawn {
            out.entry(month(scottish_day(w))).or_default().withdrawn += 1;
        }
        if let Some((asked, Some(answered))) = case.pause {
            out.entry(month(scottish_day(answered)))
                .or_default()
                .turnaround
                .push(working_days(scottish_day(asked), scottish_day(answered)));
        }
    }
    out
}

/// Check each of `rows` (one group, `all`) against what its period should
/// show; returns how many vetted referrals the rows count.
pub(crate) fn check_rows(rows: &[Value], expected: &BTreeMap<String, Expected>) -> u64 {
    let mut vetted_total = 0;
    for row in rows {
        let label = row["period"].as_str().expect("a period");
        let e = expected.get(label).cloned().unwrap_or_default();
        assert_eq!(row["group"], "all");
        check_count(row, "received_remote", e.remote);
        check_count(row, "received_standard", e.standard);
        if small(e.remote) || small(e.standard) || small(e.remote + e.standard) {
            assert!(hidden(row, "received"), "{row}");
        } else {
            assert_eq!(row["received"].as_u64(), Some(e.remote + e.standard));
        }
        let vetted = e.working.len() as u64;
        vetted_total += vetted;
        check_count(row, "vetted", vetted);
        check_quantiles(row, "wait_working_days", &e.working);
        check_quantiles(row, "wait_calendar_days", &e.calendar);
        check_quantiles(row, "wait_working_days_excl_paused", &e.working_net);
        check_quantiles(row, "wait_calendar_days_excl_paused", &e.calendar_net);
        check_subset(row, "vetted_within_target", e.within_target, vetted);
        check_subset(row, "info_requested", e.info_requested, vetted);
        check_subset(
            row,
            "managed_without_specialist",
            e.without_specialist,
            vetted,
        );
        if let Some(share) = row["vetted_within_target_share"].as_f64() {
            assert!((share - e.within_target as f64 / vetted as f64).abs() < 1e-9);
        }
        for (code, value) in row["outcomes"].as_object().expect("outcomes") {
            let n = e.outcomes.get(code.as_str()).copied().unwrap_or(0);
            match value.as_u64() {
                Some(shown) => assert_eq!(shown, n, "outcome {code} in {label}"),
                None => assert!(
                    row["suppressed"]
                        .as_array()
                        .expect("a list")
                        .iter()
                        .any(|f| f == &format!("outcomes.{code}")),
                    "{code} is null but not flagged: {row}"
                ),
            }
            if small(n) {
                assert!(
                    value.is_null(),
                    "outcome {code}={n} must be hidden in {label}"
                );
            }
        }
        check_count(row, "withdrawn", e.withdrawn);
        check_subset(row, "notification_failed", e.notification_failed, vetted);
        check_count(row, "info_answered", e.turnaround.len() as u64);
        check_quantiles(row, "info_turnaround_working_days", &e.turnaround);
    }
    vetted_total
}

pub(crate) fn small(n: u64) -> bool {
    n > 0 && n < 5
}

pub(crate) fn hidden(row: &Value, field: &str) -> bool {
    row[field].is_null()
        && row["suppressed"]
            .as_array()
            .expect("suppressed is a list")
            .iter()
            .any(|f| f == field)
}

/// A count is shown exactly when it is not small, and then it is right.
pub(crate) fn check_count(row: &Value, field: &str, n: u64) {
    if small(n) {
        assert!(hidden(row, field), "{field}={n} must be hidden: {row}");
    } else {
        assert_eq!(row[field].as_u64(), Some(n), "{field}: {row}");
    }
}

/// A subset of the vetted is shown exactly when neither it nor its
/// complement is small.
pub(crate) fn check_subset(row: &Value, field: &str, n: u64, of: u64) {
    if small(n) || small(of - n) || small(of) {
        assert!(
            hidden(row, field),
            "{field}={n} of {of} must be hidden: {row}"
        );
        assert!(
            hidden(row, &format!("{field}_share"))
                || ["info_requested", "notification_failed"].contains(&field)
        );
    } else {
        assert_eq!(row[field].as_u64(), Some(n), "{field}: {row}");
    }
}

pub(crate) fn check_quantiles(row: &Value, name: &str, values: &[u32]) {
    for (suffix, q) in [("median", 0.5), ("p90", 0.9)] {
        let field = format!("{name}_{suffix}");
        if values.is_empty() {
            assert!(row[&field].is_null(), "{field}: {row}");
        } else if small(values.len() as u64) {
            assert!(
                hidden(row, &field),
                "{field} over {} must be hidden",
                values.len()
            );
        } else {
            let got = row[&field]
                .as_f64()
                .unwrap_or_else(|| panic!("{field} shown: {row}"));
            let want = percentile(values, q);
            assert!(
                (got - want).abs() < 1e-9,
                "{field}: got {got}, want {want} from {values:?}"
            );
        }
    }
}
