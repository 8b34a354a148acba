//! What each month should show, worked out from the history case by case,
//! and the checks that a row shows it — or hides it, where a number is small
//! enough to identify someone (disclosure control).

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde_json::Value;

use super::calendar::{calendar_days, percentile, working_days};
use super::history::Case;
use super::{BOARD, TARGET};

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

fn month(d: NaiveDate) -> String {
    format!("{}-{:02}", d.year(), d.month())
}

/// Per month, what the highland referrals of `cases` should show.
pub(crate) fn expected_by_month(
    cases: &[Case],
    keep: impl Fn(&Case) -> bool,
) -> BTreeMap<String, Expected> {
    let mut out: BTreeMap<String, Expected> = BTreeMap::new();
    for case in cases.iter().filter(|c| c.board == BOARD && keep(c)) {
        let r = case.received.date_naive();
        let e = out.entry(month(r)).or_default();
        if case.remote {
            e.remote += 1;
        } else {
            e.standard += 1;
        }
        if let Some(vetted) = case.vetted {
            let v = vetted.date_naive();
            let e = out.entry(month(v)).or_default();
            let (paused_working, paused_calendar) = match case.pause {
                Some((asked, answered)) => {
                    let a = asked.date_naive();
                    let b = answered.map_or(v, |x| x.date_naive()).min(v);
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
            out.entry(month(w.date_naive())).or_default().withdrawn += 1;
        }
        if let Some((asked, Some(answered))) = case.pause {
            out.entry(month(answered.date_naive()))
                .or_default()
                .turnaround
                .push(working_days(asked.date_naive(), answered.date_naive()));
        }
    }
    out
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
