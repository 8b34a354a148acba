//! Personal data wrapped so that `Debug` and log lines never show it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A value that is personal data: serialised as itself (it has to reach the
/// database and the callers entitled to it), shown as `***` everywhere else.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Pii<T>(T);

impl<T> Pii<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The value itself: every use is a deliberate choice to read personal data.
    pub fn expose(&self) -> &T {
        &self.0
    }

    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Pii<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
#[path = "tests/pii.rs"]
mod tests;
