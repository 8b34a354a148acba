//! Where a referral is, as vetting sees it: a state machine where an illegal
//! transition is an error value. Vetting's part of the journey ends at
//! `vetted`; it follows the referral further only where the referral comes
//! back to it (the patient opts in) or closes (the opt-in window passes).
//! `withdrawn` and `closed` are terminal.
//!
//! Both the clinicians' actions (the use cases) and the events other services
//! publish (the consumer) move a referral only through [`Status::apply`], so
//! an event that arrives late (a withdrawal that raced the outcome, an answer
//! nobody waits for any more) cannot undo what happened since.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    AwaitingVetting,
    InVetting,
    InfoRequested,
    Vetted,
    Withdrawn,
    Closed,
}

/// Something that happened to a referral on the worklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// A clinician claims it, or renews their claim, or takes over a claim
    /// that lapsed (the lease rules are [`crate::domain::claim`]'s).
    Claimed,
    /// The claim is given back or lapses.
    Released,
    InfoRequested,
    /// The referrer answers (`referral.info_provided`).
    InfoProvided,
    /// An outcome is recorded.
    Vetted,
    /// A recorded outcome is corrected.
    Corrected,
    /// The patient opts back in (`referral.opted_in`).
    OptedIn,
    /// The opt-in window passes (`referral.closed`).
    Closed,
    /// The referrer withdraws (`referral.withdrawn`).
    Withdrawn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a referral that is {from} cannot be {transition}")]
pub struct IllegalTransition {
    pub from: Status,
    pub transition: Transition,
}

impl Status {
    /// Every status, in the order a referral usually passes through them.
    pub const ALL: [Status; 6] = [
        Status::AwaitingVetting,
        Status::InVetting,
        Status::InfoRequested,
        Status::Vetted,
        Status::Withdrawn,
        Status::Closed,
    ];

    /// The statuses a worklist shows unless asked otherwise.
    pub const WAITING: [Status; 3] = [
        Status::AwaitingVetting,
        Status::InVetting,
        Status::InfoRequested,
    ];

    /// Where a referral starts when `referral.received` puts it on the worklist.
    pub const RECEIVED: Status = Status::AwaitingVetting;

    pub fn as_str(self) -> &'static str {
        match self {
            Status::AwaitingVetting => "awaiting_vetting",
            Status::InVetting => "in_vetting",
            Status::InfoRequested => "info_requested",
            Status::Vetted => "vetted",
            Status::Withdrawn => "withdrawn",
            Status::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Nothing moves it any more.
    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Withdrawn | Status::Closed)
    }

    /// Waiting for vetting: a referrer's withdrawal takes it off the worklist.
    pub fn is_waiting(self) -> bool {
        Self::WAITING.contains(&self)
    }

    /// The status after `transition`, or why it cannot happen.
    pub fn apply(self, transition: Transition) -> Result<Status, IllegalTransition> {
        use Status as S;
        use Transition as T;
        let next = match (self, transition) {
            (S::AwaitingVetting | S::InVetting, T::Claimed) => S::InVetting,
            (S::InVetting, T::Released) => S::AwaitingVetting,
            (S::InVetting, T::InfoRequested) => S::InfoRequested,
            (S::InfoRequested, T::InfoProvided) => S::AwaitingVetting,
            (S::InVetting, T::Vetted) => S::Vetted,
            (S::Vetted, T::Corrected) => S::Vetted,
            // A `patient_opt_in` outcome: the patient opts back in, or the
            // window passes.
            (S::Vetted, T::OptedIn) => S::AwaitingVetting,
            (S::Vetted, T::Closed) => S::Closed,
            // Once an outcome is recorded, vetting's part is done and
            // `vetting.completed` is out: a withdrawal arriving after it
            // (one that raced the outcome) is for intake and the decision
            // service to settle, not a reason to rewrite the worklist.
            (from, T::Withdrawn) if from.is_waiting() => S::Withdrawn,
            (from, transition) => return Err(IllegalTransition { from, transition }),
        };
        Ok(next)
    }
}

impl Transition {
    pub fn as_str(self) -> &'static str {
        match self {
            Transition::Claimed => "claimed",
            Transition::Released => "released",
            Transition::InfoRequested => "asked for information",
            Transition::InfoProvided => "given information",
            Transition::Vetted => "vetted",
            Transition::Corrected => "corrected",
            Transition::OptedIn => "opted in",
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

impl std::fmt::Display for Transition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
#[path = "tests/status.rs"]
mod tests;
