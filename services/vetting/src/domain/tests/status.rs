//! Unit tests of `status.rs`.

use super::*;
use proptest::prelude::*;

#[test]
fn the_journey() {
    let s = Status::RECEIVED;
    let s = s.apply(Transition::Claimed).expect("claim");
    assert_eq!(s.apply(Transition::Claimed), Ok(Status::InVetting), "renew");
    let s = s.apply(Transition::InfoRequested).expect("ask");
    assert_eq!(s, Status::InfoRequested);
    let s = s.apply(Transition::InfoProvided).expect("answer");
    assert_eq!(s, Status::AwaitingVetting);
    let s = s
        .apply(Transition::Claimed)
        .and_then(|s| s.apply(Transition::Vetted))
        .expect("vet");
    assert_eq!(s.apply(Transition::Corrected), Ok(Status::Vetted));
    assert_eq!(s.apply(Transition::OptedIn), Ok(Status::AwaitingVetting));
    assert_eq!(s.apply(Transition::Closed), Ok(Status::Closed));
}

#[test]
fn every_status_parses_from_its_name() {
    for status in Status::ALL {
        assert_eq!(Status::parse(status.as_str()), Some(status));
        let json = serde_json::to_value(status).expect("JSON");
        assert_eq!(json, status.as_str());
    }
    assert_eq!(Status::parse("lost"), None);
}

#[test]
fn withdrawn_only_while_waiting_for_vetting() {
    for from in Status::WAITING {
        assert_eq!(from.apply(Transition::Withdrawn), Ok(Status::Withdrawn));
    }
    for from in [Status::Vetted, Status::Withdrawn, Status::Closed] {
        assert_eq!(
            from.apply(Transition::Withdrawn),
            Err(IllegalTransition {
                from,
                transition: Transition::Withdrawn
            })
        );
    }
}

#[test]
fn late_events_do_not_undo_an_outcome() {
    for late in [
        Transition::Withdrawn,
        Transition::InfoProvided,
        Transition::Released,
        Transition::Claimed,
        Transition::Vetted,
    ] {
        assert!(Status::Vetted.apply(late).is_err(), "{late}");
    }
}

#[test]
fn an_illegal_transition_says_what_and_from_where() {
    let error = Status::Closed
        .apply(Transition::Claimed)
        .expect_err("closed is closed");
    assert_eq!(
        error.to_string(),
        "a referral that is closed cannot be claimed"
    );
}

fn transition() -> impl Strategy<Value = Transition> {
    prop_oneof![
        Just(Transition::Claimed),
        Just(Transition::Released),
        Just(Transition::InfoRequested),
        Just(Transition::InfoProvided),
        Just(Transition::Vetted),
        Just(Transition::Corrected),
        Just(Transition::OptedIn),
        Just(Transition::Closed),
        Just(Transition::Withdrawn),
    ]
}

fn status() -> impl Strategy<Value = Status> {
    proptest::sample::select(Status::ALL.to_vec())
}

proptest! {
    #[test]
    fn terminal_states_stay_terminal(
        start in status(),
        steps in proptest::collection::vec(transition(), 0..40),
    ) {
        let mut status = start;
        for step in steps {
            match status.apply(step) {
                Ok(next) => {
                    prop_assert!(!status.is_terminal(), "{status} left a terminal state by {step}");
                    status = next;
                }
                Err(illegal) => prop_assert_eq!(illegal.from, status),
            }
        }
    }

    #[test]
    fn a_vetted_referral_returns_to_the_worklist_only_by_an_opt_in(
        steps in proptest::collection::vec(transition(), 0..40),
    ) {
        let mut status = Status::Vetted;
        for step in steps {
            let Ok(next) = status.apply(step) else { continue };
            if status == Status::Vetted && next != Status::Vetted {
                prop_assert!(
                    matches!((step, next), (Transition::OptedIn, Status::AwaitingVetting) | (Transition::Closed, Status::Closed)),
                    "vetted left by {step} to {next}"
                );
            }
            status = next;
        }
    }
}
