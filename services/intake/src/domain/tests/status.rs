//! Unit tests of `status.rs`.

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
fn closed_after_a_withdrawal_leaves_it_withdrawn() {
    // Notification closes a withdrawn referral once everyone has been
    // told: the history keeps the event, the status stays `withdrawn`.
    assert!(Status::Withdrawn.apply(Transition::Closed).is_err());
    assert_eq!(
        replay(
            Status::AwaitingVetting,
            [Transition::Withdrawn, Transition::Closed]
        ),
        Status::Withdrawn
    );
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
        Just(Transition::Attended),
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
                if matches!(status, Status::Seen | Status::Closed | Status::Withdrawn) {
                    ended = true;
                }
            }
        }
    }
}

#[test]
fn a_replayed_history_skips_what_cannot_happen_and_keeps_the_order_of_events() {
    use Transition as T;
    let journey = [
        T::Claimed,
        T::InfoRequested,
        T::Notified, // the question's message: no decision yet, no move
        T::InfoProvided,
        T::Claimed,
        T::Vetted,
        T::Decided { opt_in: false },
        T::Notified,
        T::Notified, // the patient's message after the referrer's
    ];
    assert_eq!(replay(Status::AwaitingVetting, journey), Status::Notified);
    // A late copy of a claim after vetting changes nothing.
    assert_eq!(
        replay(Status::AwaitingVetting, [T::Claimed, T::Vetted, T::Claimed]),
        Status::Vetted
    );
    assert_eq!(
        replay(Status::RoutedStandard, [T::Claimed, T::Withdrawn]),
        Status::RoutedStandard
    );
    // Every kind intake records maps to its transition; others to none.
    for kind in [
        "appointment.attended",
        "notification.failed",
        "referral.received",
    ] {
        assert_eq!(Transition::of_kind(kind, false), None, "{kind}");
    }
    assert_eq!(
        Transition::of_kind("decision.recorded", true),
        Some(T::Decided { opt_in: true })
    );
    // At one instant, the pathway's own order.
    assert!(T::Claimed.rank() < T::Vetted.rank());
    assert!(T::Vetted.rank() < (T::Decided { opt_in: false }).rank());
    assert!((T::Decided { opt_in: false }).rank() < T::Notified.rank());
}

#[test]
fn an_attended_first_appointment_closes_a_decided_referral() {
    use Transition as T;
    for from in [Status::Decided, Status::Notified] {
        assert_eq!(from.apply(T::Attended), Ok(Status::Seen), "{from}");
    }
    assert!(!Status::Seen.is_open(), "the patient may be referred again");
    // Not before a decision, not while the patient has to opt in, never
    // for a referral not vetted on the pathway.
    for from in [
        Status::AwaitingVetting,
        Status::InVetting,
        Status::InfoRequested,
        Status::Vetted,
        Status::AwaitingOptIn,
        Status::RoutedStandard,
        Status::Withdrawn,
        Status::Closed,
    ] {
        assert!(from.apply(T::Attended).is_err(), "{from}");
    }
    // Seen is the end: a late notice or a correction leaves it alone.
    for step in [
        T::Notified,
        T::Decided { opt_in: false },
        T::Closed,
        T::Withdrawn,
        T::Attended,
    ] {
        assert!(Status::Seen.apply(step).is_err(), "{step:?}");
    }
}

#[test]
fn the_appointment_falls_after_the_decision_however_the_events_arrive() {
    use Transition as T;
    // A notice that happened before the appointment but arrived after it.
    let decided = [T::Claimed, T::Vetted, T::Decided { opt_in: false }];
    let seen = replay(
        Status::AwaitingVetting,
        decided.into_iter().chain([T::Notified, T::Attended]),
    );
    assert_eq!(seen, Status::Seen);
    // At one instant the decision and its notice come first.
    assert!(T::Notified.rank() < T::Attended.rank());
    assert!((T::Decided { opt_in: true }).rank() < T::Attended.rank());
}

#[test]
fn only_a_first_attended_appointment_in_the_history_moves_the_referral() {
    let first = r#"{"appointment_id":"A1","status":"fulfilled","first_appointment":true}"#;
    let follow_up = r#"{"appointment_id":"A2","status":"fulfilled","first_appointment":false}"#;
    assert_eq!(
        Transition::of_history("appointment.attended", Some(first)),
        Some(Transition::Attended)
    );
    for detail in [Some(follow_up), None, Some("not json")] {
        assert_eq!(
            Transition::of_history("appointment.attended", detail),
            None,
            "{detail:?}"
        );
    }
    for kind in [
        "appointment.booked",
        "appointment.cancelled",
        "appointment.did_not_attend",
    ] {
        assert_eq!(Transition::of_history(kind, Some(first)), None, "{kind}");
    }
    assert_eq!(
        Transition::of_history("decision.recorded", Some(r#"{"outcome":"patient_opt_in"}"#)),
        Some(Transition::Decided { opt_in: true })
    );
    assert_eq!(
        Transition::of_history("decision.recorded", Some(r#"{"outcome":"accept"}"#)),
        Some(Transition::Decided { opt_in: false })
    );
}
