//! The life of one delivery: a state machine where an illegal transition is
//! an error value.
//!
//! A delivery is `planned` in the consumer's transaction (or `failed` at
//! once when it has nowhere to go); a worker takes it (`sending`, under a
//! lease) and records how it ended, `sent` or `failed`. A delivery left
//! `sending` past its lease is in doubt and is taken again, to be looked up
//! at the gateway before anything is sent. `sent` and `failed` are final for
//! the sender: only the gateway saying a sent message never arrived
//! (`sent` → `failed`) or a board admin's retry (`failed` → `planned`) moves
//! them, so nothing is ever sent twice by the sender alone.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Planned,
    Sending,
    Sent,
    Failed,
}

/// Something that happened to a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// A worker took it to send (again, when its lease lapsed: in doubt).
    Taken,
    /// The gateway took it.
    Sent,
    /// The gateway refused it, or every attempt failed.
    Failed,
    /// The gateway's callback says a sent message never reached the person.
    Undelivered,
    /// A board admin asked for it to be sent again.
    Retried,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a delivery that is {from} cannot be {transition}")]
pub struct IllegalTransition {
    pub from: Status,
    pub transition: Transition,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Planned,
        Status::Sending,
        Status::Sent,
        Status::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Planned => "planned",
            Status::Sending => "sending",
            Status::Sent => "sent",
            Status::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// A new delivery's status: `planned`, or `failed` when it has nowhere
    /// to go.
    pub fn new_delivery(addressed: bool) -> Self {
        if addressed {
            Status::Planned
        } else {
            Status::Failed
        }
    }

    /// Final for the sender: nothing it does moves the delivery on.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Sent | Status::Failed)
    }

    /// The status after `transition`, or why it cannot happen.
    pub fn apply(self, transition: Transition) -> Result<Status, IllegalTransition> {
        use Status as S;
        use Transition as T;
        let next = match (self, transition) {
            // `sending` again: its worker died, the lease lapsed.
            (S::Planned | S::Sending, T::Taken) => S::Sending,
            (S::Sending, T::Sent) => S::Sent,
            (S::Sending, T::Failed) => S::Failed,
            (S::Sent, T::Undelivered) => S::Failed,
            (S::Failed, T::Retried) => S::Planned,
            (from, transition) => return Err(IllegalTransition { from, transition }),
        };
        Ok(next)
    }
}

impl Transition {
    pub fn as_str(self) -> &'static str {
        match self {
            Transition::Taken => "taken to be sent",
            Transition::Sent => "sent",
            Transition::Failed => "failed",
            Transition::Undelivered => "undelivered",
            Transition::Retried => "retried",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Transition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Notify's final states in which the message never reached the person.
const GATEWAY_FAILURES: &[&str] = &[
    "permanent-failure",
    "temporary-failure",
    "technical-failure",
];

/// Whether a gateway's status (through its callback) says the message never
/// reached the person: a `sent` delivery is then `undelivered`.
pub fn gateway_says_undelivered(gateway_status: &str) -> bool {
    GATEWAY_FAILURES.contains(&gateway_status)
}

#[cfg(test)]
#[path = "tests/status.rs"]
mod tests;
