//! `GET /fhir/Task?...`: the search parameters a GP system polls with,
//! parsed once and every problem named.
//!
//! - `requester`: a token, `[system|]code`, the practice code (system
//!   [`PRACTICE_SYSTEM`] when given); repeatable values are not supported.
//! - `owner`: a token, `[system|]code`, the board code (system [`BOARD_SYSTEM`]).
//! - `_lastUpdated`: a FHIR date or dateTime with the prefix `ge`, `gt`,
//!   `le` or `lt`; at most one lower and one upper bound.
//! - `_count`: page size, 1 to [`MAX_COUNT`] (default [`DEFAULT_COUNT`]).
//! - `_cursor`: where the previous page ended, as its `next` link says.
//!
//! Any other parameter is refused rather than ignored: a poll that asks
//! for something this server cannot do must not be answered as if it had.

use chrono::{DateTime, NaiveDate, Utc};
use pathway_proto::days;

use super::{BOARD_SYSTEM, Issue, PRACTICE_SYSTEM};

/// Largest page.
pub const MAX_COUNT: u64 = 100;
/// Page size when `_count` is absent.
pub const DEFAULT_COUNT: u64 = 20;

/// Where a page starts: after the Task last modified at `updated_at` with id `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub updated_at: DateTime<Utc>,
    pub id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        // Nanoseconds: the instant exactly as stored, so that the next page
        // starts right after this one.
        let nanos = self.updated_at.timestamp_nanos_opt().unwrap_or(i64::MAX);
        format!("{nanos}_{}", self.id)
    }

    fn decode(text: &str) -> Option<Self> {
        let (nanos, id) = text.split_once('_')?;
        let updated_at = DateTime::from_timestamp_nanos(nanos.parse().ok()?);
        uuid::Uuid::parse_str(id).ok()?;
        Some(Self {
            updated_at,
            id: id.to_owned(),
        })
    }
}

/// A Task search, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskSearch {
    pub practice_code: Option<String>,
    pub board: Option<String>,
    /// Modified at or after (inclusive) this instant.
    pub since: Option<DateTime<Utc>>,
    /// Modified before (exclusive) this instant.
    pub before: Option<DateTime<Utc>>,
    pub count: u64,
    pub cursor: Option<Cursor>,
}

/// A FHIR date or dateTime as the bounds it covers: `[start, end)`.
fn date_range(text: &str) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        let at = at.with_timezone(&Utc);
        // A dateTime covers its own precision: a second, or a fraction of one.
        let width = if text.contains('.') {
            chrono::Duration::microseconds(1)
        } else {
            chrono::Duration::seconds(1)
        };
        return Some((at, at + width));
    }
    if !text.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        return None;
    }
    let day = |y: i32, m: u32, d: u32| NaiveDate::from_ymd_opt(y, m, d);
    let start_end = match text.len() {
        4 => {
            let y = text.parse().ok()?;
            (day(y, 1, 1)?, day(y + 1, 1, 1)?)
        }
        7 => {
            let (y, m) = text.split_once('-')?;
            let (y, m): (i32, u32) = (y.parse().ok()?, m.parse().ok()?);
            let next = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            (day(y, m, 1)?, day(next.0, next.1, 1)?)
        }
        10 => {
            let d = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
            (d, d.succ_opt()?)
        }
        _ => return None,
    };
    // A date without a zone is a day in Scotland.
    Some((days::start_of(start_end.0), days::start_of(start_end.1)))
}

/// A token parameter `[system|]code` whose system, when given, is `system`.
fn token(name: &str, value: &str, system: &str) -> Result<String, Issue> {
    let code = match value.split_once('|') {
        Some((given, code)) if given.is_empty() || given == system => code,
        Some(_) => {
            return Err(Issue::new(
                "value",
                name,
                format!("{name}: the system must be {system} (or left out)"),
            ));
        }
        None => value,
    };
    let code = code.trim();
    if code.is_empty() || code.len() > 64 {
        return Err(Issue::new(
            "value",
            name,
            format!("{name}: a code of 1 to 64 characters is needed"),
        ));
    }
    Ok(code.to_owned())
}

impl TaskSearch {
    /// Parse the query's pairs, reporting every problem at once (each
    /// issue's `expression` is the parameter's name).
    pub fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, Vec<Issue>> {
        let mut search = TaskSearch {
            count: DEFAULT_COUNT,
            ..TaskSearch::default()
        };
        let mut issues = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for (name, value) in pairs {
            if name != "_lastUpdated" && !seen.insert(name.to_owned()) {
                issues.push(Issue::new("value", name, format!("{name}: give it once")));
                continue;
            }
            match name {
                "requester" => match token(name, value, PRACTICE_SYSTEM) {
                    Ok(code) => search.practice_code = Some(code),
                    Err(issue) => issues.push(issue),
                },
                "owner" => match token(name, value, BOARD_SYSTEM) {
                    Ok(code) => search.board = Some(code),
                    Err(issue) => issues.push(issue),
                },
                "_lastUpdated" => {
                    let bad = || {
                        Issue::new(
                            "value",
                            "_lastUpdated",
                            format!(
                                "_lastUpdated: {value:?} is not ge, gt, le or lt followed by a FHIR date or dateTime with its zone, e.g. ge2026-11-01 or gt2026-11-01T09:00:00Z"
                            ),
                        )
                    };
                    // `get`, not indexing: the value may not be ASCII.
                    let (Some(prefix), Some(date)) = (value.get(..2), value.get(2..)) else {
                        issues.push(bad());
                        continue;
                    };
                    let Some((start, end)) = date_range(date) else {
                        issues.push(bad());
                        continue;
                    };
                    let (lower, bound) = match prefix {
                        "ge" => (true, start),
                        "gt" => (true, end),
                        "lt" => (false, start),
                        "le" => (false, end),
                        _ => {
                            issues.push(bad());
                            continue;
                        }
                    };
                    let slot = if lower {
                        &mut search.since
                    } else {
                        &mut search.before
                    };
                    if slot.replace(bound).is_some() {
                        issues.push(Issue::new(
                            "value",
                            "_lastUpdated",
                            "_lastUpdated: at most one lower (ge/gt) and one upper (le/lt) bound",
                        ));
                    }
                }
                "_count" => match value.parse::<u64>() {
                    Ok(n) if (1..=MAX_COUNT).contains(&n) => search.count = n,
                    _ => issues.push(Issue::new(
                        "value",
                        "_count",
                        format!("_count: a whole number from 1 to {MAX_COUNT}"),
                    )),
                },
                "_cursor" => match Cursor::decode(value) {
                    Some(cursor) => search.cursor = Some(cursor),
                    None => issues.push(Issue::new(
                        "value",
                        "_cursor",
                        "_cursor: not one this server issued; follow the Bundle's next link as it is",
                    )),
                },
                other => issues.push(Issue::new(
                    "not-supported",
                    other,
                    format!(
                        "{other}: not a supported search parameter of Task (requester, owner, _lastUpdated, _count, _cursor)"
                    ),
                )),
            }
        }
        if issues.is_empty() {
            Ok(search)
        } else {
            Err(issues)
        }
    }

    /// The query of the page after `cursor`, for the `next` link.
    pub fn next_query(&self, cursor: &Cursor) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if let Some(code) = &self.practice_code {
            query.append_pair("requester", &format!("{PRACTICE_SYSTEM}|{code}"));
        }
        if let Some(board) = &self.board {
            query.append_pair("owner", &format!("{BOARD_SYSTEM}|{board}"));
        }
        let stamp = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        if let Some(since) = self.since {
            query.append_pair("_lastUpdated", &format!("ge{}", stamp(since)));
        }
        if let Some(before) = self.before {
            query.append_pair("_lastUpdated", &format!("lt{}", stamp(before)));
        }
        query.append_pair("_count", &self.count.to_string());
        query.append_pair("_cursor", &cursor.encode());
        query.finish()
    }
}

#[cfg(test)]
#[path = "tests/search.rs"]
mod tests;
