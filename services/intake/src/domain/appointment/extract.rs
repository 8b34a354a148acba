//! A PAS extract of first appointments: CSV with a header row and these
//! columns (any order):
//!
//! | column | required | meaning |
//! |---|---|---|
//! | `appointment_id` | yes | the PAS's own id of the appointment, unique in the file |
//! | `referral_id` | yes | the Pathway referral id (a UUID) |
//! | `status` | yes | `booked`, `arrived`, `fulfilled`, `noshow` or `cancelled` (FHIR's codes) |
//! | `start` | unless cancelled | RFC 3339 with its offset, `YYYY-MM-DD HH:MM` in Scottish local time, or `YYYY-MM-DD` |
//! | `clinic_type` | yes | `pain-clinic`, `pain-psychology`, `physiotherapy`, `pain-management-programme` |
//! | `first_appointment` | yes | `yes` or `no` (also `true`/`false`) |
//!
//! No cell may start with `=`, `+`, `-`, `@`, a tab or a carriage return
//! (before or after leading white space), as in every file Pathway takes.
//! Every row is checked before anything is written; the problems come back
//! as `line N.column`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, TimeZone};
use pathway_common::csv_cell;
use pathway_common::validation::FieldError;
use pathway_proto::days;
use serde::Deserialize;
use uuid::Uuid;

use super::{AppointmentId, AppointmentReport, AppointmentStatus, ClinicType, When};

/// The columns, in the order a template would list them.
pub const COLUMNS: [&str; 6] = [
    "appointment_id",
    "referral_id",
    "status",
    "start",
    "clinic_type",
    "first_appointment",
];

/// A row read, with its line (1 is the header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub line: u64,
    pub report: AppointmentReport,
}

/// The field a problem on `line` in `column` is reported under.
pub fn field(line: u64, column: &str) -> String {
    if column.is_empty() {
        format!("line {line}")
    } else {
        format!("line {line}.{column}")
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Row {
    appointment_id: Option<String>,
    referral_id: Option<String>,
    status: Option<String>,
    start: Option<String>,
    clinic_type: Option<String>,
    first_appointment: Option<String>,
}

impl Row {
    fn cells(&self) -> [(&'static str, &Option<String>); 6] {
        [
            ("appointment_id", &self.appointment_id),
            ("referral_id", &self.referral_id),
            ("status", &self.status),
            ("start", &self.start),
            ("clinic_type", &self.clinic_type),
            ("first_appointment", &self.first_appointment),
        ]
    }
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// `text` as an appointment time: an instant with its offset, a Scottish
/// local time, or a Scottish day.
pub fn parse_start(text: &str) -> Result<When, String> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(When::At(at.to_utc()));
    }
    for format in [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
    ] {
        if let Ok(local) = NaiveDateTime::parse_from_str(text, format) {
            return match days::SCOTLAND.from_local_datetime(&local) {
                LocalResult::Single(at) => Ok(When::At(at.to_utc())),
                LocalResult::Ambiguous(..) => Err(format!(
                    "{text:?} happens twice in Scotland (the clocks go back): give the offset, e.g. {text}+01:00"
                )),
                LocalResult::None => Err(format!(
                    "{text:?} does not happen in Scotland (the clocks go forward)"
                )),
            };
        }
    }
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(When::On(day));
    }
    Err(format!(
        "{text:?} is not a time: expected 2026-09-10T09:30:00+01:00, 2026-09-10 09:30 (Scottish time) or 2026-09-10"
    ))
}

/// Read a whole file: every row, or every problem.
pub fn parse(bytes: &[u8]) -> Result<Vec<Line>, Vec<FieldError>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::Headers)
        .from_reader(bytes);
    let mut problems = Vec::new();
    let headers = match reader.headers() {
        Ok(headers) => {
            for name in headers.iter().filter(|h| !COLUMNS.contains(h)) {
                problems.push(FieldError::new(field(1, name), "unknown column"));
            }
            for required in COLUMNS {
                if !headers.iter().any(|h| h == required) {
                    problems.push(FieldError::new(
                        field(1, required),
                        "required column missing",
                    ));
                }
            }
            headers.clone()
        }
        Err(error) => {
            problems.push(FieldError::new(
                field(1, ""),
                format!("not a CSV header: {error}"),
            ));
            csv::StringRecord::new()
        }
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut lines = Vec::new();
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = error.position().map_or(0, |p| p.line());
                problems.push(FieldError::new(
                    field(line, ""),
                    format!("cannot read the row: {error}"),
                ));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let row: Row = match record.deserialize(Some(&headers)) {
            Ok(row) => row,
            Err(error) => {
                problems.push(FieldError::new(
                    field(line, ""),
                    format!("cannot read the row: {error}"),
                ));
                continue;
            }
        };
        if let Some(report) = read_row(&row, line, &mut seen, &mut problems) {
            lines.push(Line { line, report });
        }
    }
    if problems.is_empty() {
        Ok(lines)
    } else {
        Err(problems)
    }
}

fn read_row(
    row: &Row,
    line: u64,
    seen: &mut BTreeMap<String, u64>,
    problems: &mut Vec<FieldError>,
) -> Option<AppointmentReport> {
    let before = problems.len();
    // A cell that could start a formula is refused for that alone.
    let mut formulas = BTreeSet::new();
    for (column, value) in row.cells() {
        let Some(cell) = value.as_deref() else {
            continue;
        };
        if let Some(first) = [cell, cell.trim_start()]
            .into_iter()
            .find(|c| csv_cell::starts_formula(c))
            .and_then(|c| c.chars().next())
        {
            formulas.insert(column);
            problems.push(FieldError::new(
                field(line, column),
                format!("starts with {first:?}, which a spreadsheet could run as a formula"),
            ));
        }
    }
    let mut problem = |column: &'static str, reason: String| {
        if !formulas.contains(column) {
            problems.push(FieldError::new(field(line, column), reason));
        }
    };
    let appointment_id = match given(&row.appointment_id) {
        None => {
            problem("appointment_id", "required".into());
            None
        }
        Some(text) => match AppointmentId::parse(text) {
            Err(reason) => {
                problem("appointment_id", reason);
                None
            }
            Ok(id) => {
                if let Some(first) = seen.insert(id.as_str().to_owned(), line) {
                    problem(
                        "appointment_id",
                        format!("{text:?} is already on line {first}"),
                    );
                }
                Some(id)
            }
        },
    };
    let referral_id = match given(&row.referral_id) {
        None => {
            problem("referral_id", "required".into());
            None
        }
        Some(text) => Uuid::parse_str(text)
            .map_err(|_| {
                problem(
                    "referral_id",
                    format!("{text:?} is not a Pathway referral id (a UUID)"),
                )
            })
            .ok(),
    };
    let status = match given(&row.status) {
        None => {
            problem(
                "status",
                format!("required: one of {}", AppointmentStatus::CODES),
            );
            None
        }
        Some(code) => AppointmentStatus::parse(code).or_else(|| {
            problem(
                "status",
                format!("{code:?}: expected one of {}", AppointmentStatus::CODES),
            );
            None
        }),
    };
    let when = match given(&row.start) {
        None => {
            if status.is_some_and(|s| s != AppointmentStatus::Cancelled) {
                problem(
                    "start",
                    "required unless the appointment is cancelled".into(),
                );
            }
            When::Unknown
        }
        Some(text) => parse_start(text).unwrap_or_else(|reason| {
            problem("start", reason);
            When::Unknown
        }),
    };
    let clinic_type = match given(&row.clinic_type) {
        None => {
            problem(
                "clinic_type",
                format!("required: one of {}", ClinicType::CODES),
            );
            None
        }
        Some(code) => ClinicType::parse(code).or_else(|| {
            problem(
                "clinic_type",
                format!("{code:?}: expected one of {}", ClinicType::CODES),
            );
            None
        }),
    };
    let first = match given(&row.first_appointment)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("yes" | "true" | "y") => Some(true),
        Some("no" | "false" | "n") => Some(false),
        Some(other) => {
            problem(
                "first_appointment",
                format!("{other:?}: expected yes or no"),
            );
            None
        }
        None => {
            problem("first_appointment", "required: yes or no".into());
            None
        }
    };
    if problems.len() > before {
        return None;
    }
    Some(AppointmentReport {
        appointment_id: appointment_id?,
        referral_id: referral_id?,
        status: status?,
        when,
        clinic_type: clinic_type?,
        first: first?,
    })
}
