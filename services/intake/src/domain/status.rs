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
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_journey() {
        let s = Status::AwaitingVetting;
        let s = s.apply(Transition::Claimed).expect("claim");
        let s = s.apply(Transition::InfoRequested).expect("ask");
        assert_eq!(s, Status::InfoRequested);
        let s = s.apply(Transition::InfoProvided).expect("answer");
        assert_eq!(s, Status::AwaitingVetting);
        let s = s
            .apply(Transition::Claimed)
            .and_then(|s| s.apply(Transition::Vetted))
            .expect("vet");
        let s = s
            .apply(Transition::Decided { opt_in: false })
            .expect("decide");
        assert_eq!(s.apply(Transition::Notified), Ok(Status::Notified));
    }

    #[test]
    fn every_status_parses_from_its_name() {
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
        assert_eq!(Status::parse("lost"), None);
    }

    #[test]
    fn withdrawn_only_while_open() {
        assert_eq!(
            Status::InVetting.apply(Transition::Withdrawn),
            Ok(Status::Withdrawn)
        );
        assert!(Status::Closed.apply(Transition::Withdrawn).is_err());
        assert!(Status::RoutedStandard.apply(Transition::Withdrawn).is_err());
        assert!(Status::Withdrawn.apply(Transition::Withdrawn).is_err());
    }

    #[test]
    fn opt_in_returns_to_the_worklist() {
        let s = Status::Vetted
            .apply(Transition::Decided { opt_in: true })
            .expect("decide");
        assert_eq!(s, Status::AwaitingOptIn);
        assert_eq!(s.apply(Transition::OptedIn), Ok(Status::AwaitingVetting));
    }

    fn transition() -> impl Strategy<Value = Transition> {
        prop_oneof![
            Just(Transition::Claimed),
            Just(Transition::Released),
            Just(Transition::InfoRequested),
            Just(Transition::InfoProvided),
            Just(Transition::Vetted),
            any::<bool>().prop_map(|opt_in| Transition::Decided { opt_in }),
            Just(Transition::Notified),
            Just(Transition::OptedIn),
            Just(Transition::Closed),
            Just(Transition::Withdrawn),
        ]
    }

    proptest! {
        #[test]
        fn terminal_states_stay_terminal(steps in proptest::collection::vec(transition(), 0..40)) {
            let mut status = Status::AwaitingVetting;
            let mut ended = false;
            for step in steps {
                if let Ok(next) = status.apply(step) {
                    prop_assert!(!ended, "{status} left a terminal state by {step:?}");
                    status = next;
                    if matches!(status, Status::Closed | Status::Withdrawn) {
                        ended = true;
                    }
                }
            }
        }
    }
}
