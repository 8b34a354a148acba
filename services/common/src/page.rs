//! Lists a page at a time: how many items one page holds, the same for
//! every list Pathway answers (dead letters, deliveries, worklists, audit
//! trails). What marks where a page ended is each list's own.

use crate::validation::FieldError;

/// Items in a page when `limit` is left out.
pub const DEFAULT_LIMIT: u64 = 50;
/// The most items one page holds.
pub const MAX_LIMIT: u64 = 500;

/// The `limit` a caller gave (surrounding spaces ignored): [`DEFAULT_LIMIT`]
/// when left out, or the field error naming it.
pub fn limit(given: Option<&str>) -> Result<u64, FieldError> {
    match given.map(|text| text.trim().parse::<u64>()) {
        None => Ok(DEFAULT_LIMIT),
        Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(FieldError::new(
            "limit",
            format!("must be a whole number from 1 to {MAX_LIMIT}"),
        )),
    }
}

#[cfg(test)]
#[path = "tests/page.rs"]
mod tests;
