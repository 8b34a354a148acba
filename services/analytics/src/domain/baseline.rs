//! Baseline import: a board's referrals from before it adopted the pathway,
//! from its existing system, as de-identified facts, so "before adoption" has
//! real numbers.
//!
//! The file is CSV with a header row and these columns (any order; optional
//! ones may be left out or empty):
//!
//! | column | required | meaning |
//! |---|---|---|
//! | `reference` | yes | the board's own de-identified reference, unique in the file |
//! | `received_on` | yes | `YYYY-MM-DD`, the Scottish day of receipt |
//! | `vetted_on` | no | `YYYY-MM-DD`, not before `received_on` |
//! | `outcome` | with `vetted_on` | an outcome code, e.g. `accept`, `physiotherapy` |
//! | `priority` | no | `urgent`, `soon` or `routine`, for `accept` only |
//! | `withdrawn_on` | no | `YYYY-MM-DD`, not before `received_on` |
//! | `age_band` | no | e.g. `40-49` (default `unknown`) |
//! | `sex` | no | `male`, `female`, `not_known` (default `unspecified`) |
//! | `urban_rural_class` | no | 1–6 (default 0, unknown) |
//! | `simd_quintile` | no | 1–5 (default 0, unknown) |
//!
//! No cell may start with `=`, `+`, `-`, `@`, a tab or a carriage return
//! (before or after leading white space): a spreadsheet could run it as a
//! formula when the figures are exported, and no column has such a value
//! (dates, codes and classes never do; references and age bands need not).
//!
//! Every row is checked before anything is written; one bad row rejects the
//! file with every problem listed by line and column. A good file is loaded
//! in one transaction; loading the same references again replaces them.
//! Imported facts are on the standard route and are kept by a rebuild.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use pathway_common::csv_cell;
use pathway_proto::board::OUTCOME_CODES;
use pathway_proto::{BoardCode, days};
use serde::Deserialize;

use super::fact::{Attributes, Fact, Route};

/// Referral ids of imported facts start with this, so they can never meet
/// a referral id from the stream (a UUID) and a rebuild can keep them.
pub const PREFIX: &str = "baseline:";

/// One problem in a file: the line (1 is the header), the column, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    pub line: u64,
    pub column: String,
    pub reason: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Row {
    reference: Option<String>,
    received_on: Option<String>,
    vetted_on: Option<String>,
    outcome: Option<String>,
    priority: Option<String>,
    withdrawn_on: Option<String>,
    age_band: Option<String>,
    sex: Option<String>,
    urban_rural_class: Option<String>,
    simd_quintile: Option<String>,
}

impl Row {
    fn cells(&self) -> [(&'static str, &Option<String>); 10] {
        [
            ("reference", &self.reference),
            ("received_on", &self.received_on),
            ("vetted_on", &self.vetted_on),
            ("outcome", &self.outcome),
            ("priority", &self.priority),
            ("withdrawn_on", &self.withdrawn_on),
            ("age_band", &self.age_band),
            ("sex", &self.sex),
            ("urban_rural_class", &self.urban_rural_class),
            ("simd_quintile", &self.simd_quintile),
        ]
    }
}

/// The character that would make a spreadsheet read `cell` as a formula:
/// its first, or its first after leading white space (which the import
/// drops, and a spreadsheet may).
fn formula_start(cell: &str) -> Option<char> {
    [cell, cell.trim_start()]
        .into_iter()
        .find(|c| csv_cell::starts_formula(c))
        .and_then(|c| c.chars().next())
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Read a whole file for `board`: every fact, or every problem.
pub fn parse(board: BoardCode, bytes: &[u8]) -> Result<Vec<Fact>, Vec<RowProblem>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::Headers)
        .from_reader(bytes);
    let mut problems = Vec::new();
    let known: BTreeSet<&str> = [
        "reference",
        "received_on",
        "vetted_on",
        "outcome",
        "priority",
        "withdrawn_on",
        "age_band",
        "sex",
        "urban_rural_class",
        "simd_quintile",
    ]
    .into_iter()
    .collect();
    let headers = match reader.headers() {
        Ok(headers) => {
            for name in headers.iter().filter(|h| !known.contains(h)) {
                problems.push(RowProblem {
                    line: 1,
                    column: name.to_owned(),
                    reason: "unknown column".into(),
                });
            }
            for required in ["reference", "received_on"] {
                if !headers.iter().any(|h| h == required) {
                    problems.push(RowProblem {
                        line: 1,
                        column: required.into(),
                        reason: "required column missing".into(),
                    });
                }
            }
            headers.clone()
        }
        Err(error) => {
            problems.push(RowProblem {
                line: 1,
                column: String::new(),
                reason: format!("not a CSV header: {error}"),
            });
            csv::StringRecord::new()
        }
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut facts = Vec::new();
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                problems.push(RowProblem {
                    line: error.position().map_or(0, |p| p.line()),
                    column: String::new(),
                    reason: format!("cannot read the row: {error}"),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let row: Row = match record.deserialize(Some(&headers)) {
            Ok(row) => row,
            Err(error) => {
                problems.push(RowProblem {
                    line,
                    column: String::new(),
                    reason: format!("cannot read the row: {error}"),
                });
                continue;
            }
        };
        // A cell that could start a formula is refused for that alone; the
        // column's own rules are not applied to it.
        let mut formulas = BTreeSet::new();
        for (column, value) in row.cells() {
            if let Some(first) = value.as_deref().and_then(formula_start) {
                formulas.insert(column);
                problems.push(RowProblem {
                    line,
                    column: column.to_owned(),
                    reason: format!(
                        "starts with {first:?}, which a spreadsheet could run as a formula"
                    ),
                });
            }
        }
        let mut problem = |column: &str, reason: String| {
            if formulas.contains(column) {
                return;
            }
            problems.push(RowProblem {
                line,
                column: column.to_owned(),
                reason,
            });
        };
        let date = |column: &str, value: &Option<String>, problem: &mut dyn FnMut(&str, String)| {
            given(value).and_then(|text| {
                NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .map_err(|_| problem(column, format!("{text:?} is not a date YYYY-MM-DD")))
                    .ok()
            })
        };
        let reference = given(&row.reference).map(str::to_owned);
        match &reference {
            None => problem("reference", "required".into()),
            Some(r) if r.len() > 64 => problem("reference", "at most 64 characters".into()),
            Some(r) => {
                if let Some(first) = seen.insert(r.clone(), line) {
                    problem("reference", format!("{r:?} is already on line {first}"));
                }
            }
        }
        let received = date("received_on", &row.received_on, &mut problem);
        if given(&row.received_on).is_none() {
            problem("received_on", "required".into());
        }
        let vetted = date("vetted_on", &row.vetted_on, &mut problem);
        let withdrawn = date("withdrawn_on", &row.withdrawn_on, &mut problem);
        for (column, day) in [("vetted_on", vetted), ("withdrawn_on", withdrawn)] {
            if let (Some(r), Some(d)) = (received, day)
                && d < r
            {
                problem(column, format!("{d} is before received_on ({r})"));
            }
        }
        let outcome = given(&row.outcome).map(str::to_owned);
        match (&outcome, vetted) {
            (Some(code), _) if !OUTCOME_CODES.contains(&code.as_str()) => problem(
                "outcome",
                format!(
                    "unknown outcome {code:?}: expected one of {}",
                    OUTCOME_CODES.join(", ")
                ),
            ),
            (None, Some(_)) => problem("outcome", "required when vetted_on is given".into()),
            (Some(_), None) => problem("vetted_on", "required when outcome is given".into()),
            _ => {}
        }
        let priority = given(&row.priority).map(str::to_owned);
        if let Some(p) = &priority {
            if !["urgent", "soon", "routine"].contains(&p.as_str()) {
                problem(
                    "priority",
                    format!("{p:?}: expected urgent, soon or routine"),
                );
            } else if outcome.as_deref() != Some("accept") {
                problem("priority", "only an accept has a priority".into());
            }
        }
        let sex = given(&row.sex).unwrap_or("unspecified").to_owned();
        if !["male", "female", "not_known", "unspecified"].contains(&sex.as_str()) {
            problem(
                "sex",
                format!("{sex:?}: expected male, female, not_known or unspecified"),
            );
        }
        let mut class = |column: &str, value: &Option<String>, max: u8| -> u8 {
            match given(value).map(str::parse::<u8>) {
                None => 0,
                Some(Ok(n)) if n <= max => n,
                Some(_) => {
                    problem(column, format!("expected a whole number 0 to {max}"));
                    0
                }
            }
        };
        let urban_rural_class = class("urban_rural_class", &row.urban_rural_class, 6);
        let simd_quintile = class("simd_quintile", &row.simd_quintile, 5);
        let age_band = given(&row.age_band).unwrap_or("unknown").to_owned();
        if age_band.len() > 16 {
            problem("age_band", "at most 16 characters".into());
        }
        let (Some(reference), Some(received)) = (reference, received) else {
            continue;
        };
        // Imported days are Scottish days with no time of day: twelve hours
        // after the day begins in Scotland keeps each on its date.
        let noon = |d: NaiveDate| days::start_of(d) + chrono::Duration::hours(12);
        let mut fact = Fact::new(&format!("{PREFIX}{board}:{reference}"), board);
        fact.route = Some(Route::Standard);
        fact.received_at = Some(noon(received));
        fact.attributes = Attributes {
            age_band,
            sex,
            urban_rural_class,
            simd_quintile,
            patient_pseudonym: String::new(),
        };
        fact.vetted_at = vetted.map(noon);
        fact.decided_at = vetted.map(noon);
        fact.outcome = outcome;
        fact.priority = priority;
        fact.withdrawn_at = withdrawn.map(noon);
        facts.push(fact);
    }
    if problems.is_empty() {
        Ok(facts)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
#[path = "tests/baseline.rs"]
mod tests;
