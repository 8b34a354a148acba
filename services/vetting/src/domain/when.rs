//! Dates and times as a clinician reads them: on Scotland's clock (GMT in
//! winter, BST in summer), whatever instant is stored. A referral received at
//! 23:30 UTC on a summer night was received at 00:30 the next day.

use chrono::{DateTime, Utc};
use pathway_proto::days;

/// `30 Mar 2026`: the Scottish day `at` falls on.
pub fn date(at: DateTime<Utc>) -> String {
    days::local(at).format("%d %b %Y").to_string()
}

/// `30 Mar 2026 00:30`, on Scotland's clock.
pub fn date_time(at: DateTime<Utc>) -> String {
    days::local(at).format("%d %b %Y %H:%M").to_string()
}

/// `00:30`, on Scotland's clock.
pub fn time(at: DateTime<Utc>) -> String {
    days::local(at).format("%H:%M").to_string()
}

#[cfg(test)]
#[path = "tests/when.rs"]
mod tests;
