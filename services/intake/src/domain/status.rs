//! The referral's life as intake sees it: a state machine where an illegal
//! transition is an error value.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    AwaitingVetting,
    RoutedStandard,
    InVetting,
    InfoRequested,
    Vetted,
    Decided,
    Notified,
    AwaitingOptIn,
    /// The patient attended their first appointment: the wait is over and
    /// the referral is done with.
    Seen,
    Closed,
    Withdrawn,
}

/// Something that happened to a referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Claimed,
    Released,
    InfoRequested,
    InfoProvided,
    Vetted,
    Decided {
        opt_in: bool,
    },
    Notified,
    OptedIn,
    /// The board's hospital system reported the first appointment attended.
    Attended,
    Closed,
    Withdrawn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a referral that is {from} cannot be {transition}")]
pub struct IllegalTransition {
    pub from: &'static str,
    pub transition: &'static str,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::AwaitingVetting => "awaiting_vetting",
            Status::RoutedStandard => "routed_standard",
            Status::InVetting => "in_vetting",
            Status::InfoRequested => "info_requested",
            Status::Vetted => "vetted",
            Status::Decided => "decided",
            Status::Notified => "notified",
            Status::AwaitingOptIn => "awaiting_opt_in",
            Status::Seen => "seen",
            Status::Closed => "closed",
            Status::Withdrawn => "withdrawn",
        }
    }

    pub const ALL: [Status; 11] = [
        Status::AwaitingVetting,
        Status::RoutedStandard,
        Status::InVetting,
        Status::InfoRequested,
        Status::Vetted,
        Status::Decided,
        Status::Notified,
        Status::AwaitingOptIn,
        Status::Seen,
        Status::Closed,
        Status::Withdrawn,
    ];

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Still with the pathway: a second referral for the same patient and
    /// board is a duplicate, and the referrer may withdraw it.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            Status::RoutedStandard
                | Status::Notified
                | Status::Seen
                | Status::Closed
                | Status::Withdrawn
        )
    }

    /// The status after `transition`, or why it cannot happen.
    pub fn apply(self, transition: Transition) -> Result<Status, IllegalTransition> {
        use Status as S;
        use Transition as T;
        let next = match (self, transition) {
            (S::AwaitingVetting, T::Claimed) => S::InVetting,
            (S::InVetting, T::Released) => S::AwaitingVetting,
            (S::InVetting, T::InfoRequested) => S::InfoRequested,
            (S::InfoRequested, T::InfoProvided) => S::AwaitingVetting,
            (S::InVetting, T::Vetted) => S::Vetted,
            // A correction supersedes an earlier decision.
            (S::Vetted | S::Decided | S::Notified | S::AwaitingOptIn, T::Decided { opt_in }) => {
                if opt_in {
                    S::AwaitingOptIn
                } else {
                    S::Decided
                }
            }
            (S::Decided, T::Notified) => S::Notified,
            (S::AwaitingOptIn, T::OptedIn) => S::AwaitingVetting,
            (S::Decided | S::Notified | S::AwaitingOptIn, T::Closed) => S::Closed,
            // The first appointment closes the wait of a referral the
            // pathway decided on; one the patient has still to opt in to, or
            // one never vetted here, is not this pathway's to close.
            (S::Decided | S::Notified, T::Attended) => S::Seen,
            (from, T::Withdrawn) if from.is_open() => S::Withdrawn,
            (from, transition) => {
                return Err(IllegalTransition {
                    from: from.as_str(),
                    transition: transition.as_str(),
                });
            }
        };
        Ok(next)
    }
}

/// Where a referral's history leads: from where it started (`received` or
/// `routed_standard`), each of its transitions applied in the order they
/// happened, one that cannot happen then (a late copy, a notification about
/// a question) left out. Events from other services reach intake in any
/// order (two instances handle them at once, a redelivery comes late), so
/// the status is the history replayed in the order of the events' own
/// times, not the order they arrived.
pub fn replay(start: Status, transitions: impl IntoIterator<Item = Transition>) -> Status {
    transitions.into_iter().fold(start, |status, transition| {
        status.apply(transition).unwrap_or(status)
    })
}

impl Transition {
    /// The transition an event of `kind` (`vetting.claimed`, …) makes, if
    /// any; `opt_in` says whether a decision waits for the patient to opt in.
    pub fn of_kind(kind: &str, opt_in: bool) -> Option<Transition> {
        Some(match kind {
            "vetting.claimed" => Transition::Claimed,
            "vetting.released" => Transition::Released,
            "vetting.info_requested" => Transition::InfoRequested,
            "referral.info_provided" => Transition::InfoProvided,
            "vetting.completed" => Transition::Vetted,
            "decision.recorded" => Transition::Decided { opt_in },
            "notification.sent" => Transition::Notified,
            "referral.opted_in" => Transition::OptedIn,
            "referral.closed" => Transition::Closed,
            "referral.withdrawn" => Transition::Withdrawn,
            _ => return None,
        })
    }

    /// The transition a row of the referral's history makes, if any:
    /// [`of_kind`](Self::of_kind) with what the row's `detail` (the codes
    /// recorded with it) says. A decision waits for the patient when its
    /// outcome is `patient_opt_in`; an attended appointment moves the
    /// referral only when it was the first (`first_appointment`), a
    /// follow-up never does.
    pub fn of_history(kind: &str, detail: Option<&str>) -> Option<Transition> {
        let detail = detail.and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok());
        let detail = detail.as_ref();
        if kind == "appointment.attended" {
            let first = detail.is_some_and(|d| d["first_appointment"] == true);
            return first.then_some(Transition::Attended);
        }
        let opt_in = detail.is_some_and(|d| d["outcome"] == "patient_opt_in");
        Self::of_kind(kind, opt_in)
    }

    /// Where a transition falls among others at the same instant: the order
    /// the pathway makes them in.
    pub fn rank(self) -> u8 {
        match self {
            Transition::Claimed => 1,
            Transition::InfoRequested => 2,
            Transition::InfoProvided => 3,
            Transition::Released => 4,
            Transition::Vetted => 5,
            Transition::Decided { .. } => 6,
            Transition::Notified => 7,
            // An appointment comes after the decision and its notice.
            Transition::Attended => 8,
            Transition::OptedIn => 9,
            Transition::Closed => 10,
            Transition::Withdrawn => 11,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Transition::Claimed => "claimed",
            Transition::Released => "released",
            Transition::InfoRequested => "asked for information",
            Transition::InfoProvided => "given information",
            Transition::Vetted => "vetted",
            Transition::Decided { .. } => "decided",
            Transition::Notified => "notified",
            Transition::OptedIn => "opted in",
            Transition::Attended => "seen at a first appointment",
            Transition::Closed => "closed",
            Transition::Withdrawn => "withdrawn",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
#[path = "tests/status.rs"]
mod tests;
