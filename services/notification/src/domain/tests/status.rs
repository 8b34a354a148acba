//! Unit tests of `status.rs`.

use super::*;
use proptest::prelude::*;

#[test]
fn the_life_of_a_delivery() {
    let s = Status::new_delivery(true);
    assert_eq!(s, Status::Planned);
    let s = s.apply(Transition::Taken).expect("take");
    assert_eq!(s, Status::Sending);
    // Its worker died: taken again, in doubt.
    let s = s.apply(Transition::Taken).expect("take again");
    let s = s.apply(Transition::Sent).expect("sent");
    assert_eq!(s, Status::Sent);
    let s = s.apply(Transition::Undelivered).expect("never arrived");
    assert_eq!(s, Status::Failed);
    assert_eq!(s.apply(Transition::Retried), Ok(Status::Planned));
}

#[test]
fn a_delivery_with_nowhere_to_go_is_failed_from_the_start() {
    assert_eq!(Status::new_delivery(false), Status::Failed);
}

#[test]
fn every_status_parses_from_its_name() {
    for status in Status::ALL {
        assert_eq!(Status::parse(status.as_str()), Some(status));
    }
    assert_eq!(Status::parse("lost"), None);
}

#[test]
fn only_a_failed_delivery_is_retried() {
    for status in [Status::Planned, Status::Sending, Status::Sent] {
        assert_eq!(
            status.apply(Transition::Retried),
            Err(IllegalTransition {
                from: status,
                transition: Transition::Retried
            })
        );
    }
    assert_eq!(
        Status::Sent
            .apply(Transition::Retried)
            .map_err(|e| e.to_string()),
        Err("a delivery that is sent cannot be retried".to_owned())
    );
}

#[test]
fn only_notifys_final_failures_undo_a_sent_delivery() {
    assert!(gateway_says_undelivered("permanent-failure"));
    assert!(gateway_says_undelivered("temporary-failure"));
    assert!(gateway_says_undelivered("technical-failure"));
    assert!(!gateway_says_undelivered("delivered"));
    assert!(!gateway_says_undelivered("sending"));
    assert!(Status::Sending.apply(Transition::Undelivered).is_err());
}

fn transition() -> impl Strategy<Value = Transition> {
    prop_oneof![
        Just(Transition::Taken),
        Just(Transition::Sent),
        Just(Transition::Failed),
        Just(Transition::Undelivered),
        Just(Transition::Retried),
    ]
}

proptest! {
    /// `sent` and `failed` are final for the sender: only the gateway's
    /// callback or an admin's retry leaves them.
    #[test]
    fn final_states_stay_final_for_the_sender(
        steps in proptest::collection::vec(transition(), 0..40),
    ) {
        let mut status = Status::Planned;
        for step in steps {
            if let Ok(next) = status.apply(step) {
                if status.is_final() {
                    prop_assert!(
                        matches!(step, Transition::Undelivered | Transition::Retried),
                        "{status} left a final state by {step}"
                    );
                }
                status = next;
            }
        }
    }

    /// A message is sent at most once between two admin retries.
    #[test]
    fn sent_at_most_once_per_retry(steps in proptest::collection::vec(transition(), 0..40)) {
        let mut status = Status::Planned;
        let mut sent = 0;
        for step in steps {
            if let Ok(next) = status.apply(step) {
                match step {
                    Transition::Sent => sent += 1,
                    Transition::Retried => sent = 0,
                    _ => {}
                }
                prop_assert!(sent <= 1, "sent twice without a retry");
                status = next;
            }
        }
    }

    /// An illegal transition is a value naming where it was refused, and
    /// leaves nothing changed.
    #[test]
    fn an_illegal_transition_is_a_value(
        from in proptest::sample::select(Status::ALL.to_vec()),
        step in transition(),
    ) {
        match from.apply(step) {
            Ok(next) => prop_assert!(Status::ALL.contains(&next)),
            Err(error) => {
                prop_assert_eq!(error.from, from);
                prop_assert_eq!(error.transition, step);
            }
        }
    }
}
