//! Where a rebuild starts: the rule that keeps it from losing a fact
//! silently. A rebuild restores the latest snapshot of the facts and reads
//! the stream from the message after the last one the snapshot holds; with
//! no snapshot, from the stream's first message. When the stream no longer
//! holds a message the rebuild needs (aged out under the stream's
//! `max_age`), it refuses, unless the operator said to start from what the
//! stream holds and accept the loss (`from_start`).

use std::fmt;

/// How many snapshots are kept: the latest, and two before it should it
/// turn out to be wrong.
pub const KEEP: usize = 3;

/// The snapshot a rebuild may start from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Covering {
    pub id: String,
    /// The last stream sequence it is complete up to.
    pub stream_sequence: u64,
    /// When it was taken, as people read it.
    pub taken: String,
}

/// What the stream holds now: its first and last sequence (JetStream says
/// first = last + 1 once every message has aged out, and 0 for a stream that
/// never held one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub first: u64,
    pub last: u64,
}

/// Where the rebuild starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The snapshot restored first, if any.
    pub snapshot: Option<Covering>,
    /// The first stream sequence read (1: the start of the stream).
    pub start_sequence: u64,
}

/// Why a rebuild cannot start without losing facts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Messages the rebuild needs have aged out.
    #[error(
        "the stream no longer holds messages {needed} to {} (removed under its max_age, \
         PATHWAY_NATS__STREAM_MAX_AGE_DAYS) and {}: nothing was changed. Restore a snapshot \
         that covers them into analytics' database and rebuild again, or rebuild from what the \
         stream holds and accept that the facts of those messages are lost ({FROM_START})",
        first - 1,
        Coverage(snapshot)
    )]
    AgedOut {
        needed: u64,
        first: u64,
        snapshot: Option<Covering>,
    },
    /// The snapshot holds more than the stream ever did: the stream was made
    /// anew since, and its sequences started again.
    #[error(
        "the latest snapshot ({}, taken {}) holds the stream up to message {}, but the stream \
         ends at {last}: it was made anew since. Nothing was changed. Rebuild from what the \
         stream holds, without the snapshot, accepting that the facts it alone holds are lost \
         ({FROM_START})",
        snapshot.id,
        snapshot.taken,
        snapshot.stream_sequence
    )]
    StreamBehind { snapshot: Covering, last: u64 },
}

/// How an operator says to start from the stream's start.
const FROM_START: &str = "`analytics rebuild --from-start`, `pathway analytics rebuild \
                          --from-start` or `POST /v1/rebuild?from_start=true`";

struct Coverage<'a>(&'a Option<Covering>);

impl fmt::Display for Coverage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => write!(f, "there is no snapshot of the facts to cover them"),
            Some(s) => write!(
                f,
                "the latest snapshot ({}, taken {}) holds only up to message {}",
                s.id, s.taken, s.stream_sequence
            ),
        }
    }
}

/// Where a rebuild starts, given the latest snapshot and what the stream
/// holds; `from_start` ignores any snapshot and reads what the stream holds
/// from its first message, whatever aged out before it.
pub fn plan(latest: Option<Covering>, held: Held, from_start: bool) -> Result<Plan, Refusal> {
    if from_start {
        return Ok(Plan {
            snapshot: None,
            start_sequence: 1,
        });
    }
    let needed = latest.as_ref().map_or(1, |s| s.stream_sequence + 1);
    if let Some(snapshot) = &latest
        && snapshot.stream_sequence > held.last
    {
        return Err(Refusal::StreamBehind {
            snapshot: snapshot.clone(),
            last: held.last,
        });
    }
    if held.first > needed {
        return Err(Refusal::AgedOut {
            needed,
            first: held.first,
            snapshot: latest,
        });
    }
    Ok(Plan {
        snapshot: latest,
        start_sequence: needed,
    })
}

#[cfg(test)]
#[path = "tests/snapshot.rs"]
mod tests;
