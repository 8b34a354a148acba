//! Times as people in Scotland read them. The services answer with UTC
//! instants; what the command line prints for a person is on Scotland's
//! clock (GMT in winter, BST in summer), as RFC 3339 with its offset, to the
//! second: `2026-07-01T00:30:00+01:00`. `--json` prints the answer as given.

use chrono::{DateTime, SecondsFormat};
use pathway_proto::days;
use serde_json::Value;

/// `text`, an RFC 3339 instant, on Scotland's clock; anything else as it is.
pub fn time(text: &str) -> String {
    DateTime::parse_from_rfc3339(text).map_or_else(
        |_| text.to_owned(),
        |t| days::local(t.to_utc()).to_rfc3339_opts(SecondsFormat::Secs, false),
    )
}

/// The instant in `value` on Scotland's clock; `missing` when it holds none.
pub fn time_of(value: &Value, missing: &str) -> String {
    value.as_str().map_or_else(|| missing.to_owned(), time)
}

#[cfg(test)]
#[path = "tests/local_time.rs"]
mod tests;
