//! Outbound HTTP for every channel that speaks it: the shared client of
//! [`pathway_common::outbound`] (no redirects, no proxy, capped answers,
//! non-public addresses refused unless a board allows them).

pub use pathway_common::outbound::*;

#[cfg(test)]
#[path = "tests/http.rs"]
mod tests;
