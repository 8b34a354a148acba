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
    Decided { opt_in: bool },
    Notified,
    OptedIn,
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
            Status::Closed => "closed",
            Status::Withdrawn => "withdrawn",
        }
    }

    pub const ALL: [Status; 10] = [
        Status::AwaitingVetting,
        Status::RoutedStandard,
        Status::InVetting,
        Status::InfoRequested,
        Status::Vetted,
        Status::Decided,
        Status::Notified,
        Status::AwaitingOptIn,
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
            Status::RoutedStandard | Status::Notified | Status::Closed | Status::Withdrawn
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

impl Transition {
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
