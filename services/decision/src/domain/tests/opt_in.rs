//! Unit tests of `opt_in.rs`.

use super::*;
use chrono::TimeZone;
use proptest::prelude::*;

fn time(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, day, 12, 0, 0)
        .single()
        .expect("a time")
}

#[test]
fn an_open_window_ends_one_of_three_ways() {
    assert_eq!(
        WindowState::Open.apply(WindowEvent::OptedIn),
        Ok(WindowState::OptedIn)
    );
    assert_eq!(
        WindowState::Open.apply(WindowEvent::Lapsed),
        Ok(WindowState::Lapsed)
    );
    assert_eq!(
        WindowState::Open.apply(WindowEvent::Superseded),
        Ok(WindowState::Superseded)
    );
}

#[test]
fn an_ended_window_refuses_every_event() {
    for from in [
        WindowState::OptedIn,
        WindowState::Lapsed,
        WindowState::Superseded,
    ] {
        for event in [
            WindowEvent::OptedIn,
            WindowEvent::Lapsed,
            WindowEvent::Superseded,
        ] {
            assert_eq!(from.apply(event), Err(IllegalTransition { from, event }));
        }
    }
}

#[test]
fn every_state_parses_from_its_stored_name() {
    for state in WindowState::ALL {
        assert_eq!(WindowState::parse(state.as_str()), Some(state));
    }
    assert_eq!(WindowState::Lapsed.as_str(), "opt_in_window_passed");
    assert_eq!(WindowState::parse("lapsed"), None);
}

#[test]
fn the_api_spells_states_as_they_are_stored() {
    for state in WindowState::ALL {
        assert_eq!(
            serde_json::to_value(state).expect("JSON"),
            serde_json::Value::from(state.as_str())
        );
    }
}

#[test]
fn an_opt_in_in_time_is_accepted_and_a_redelivery_changes_nothing() {
    assert_eq!(
        opt_in(WindowState::Open, time(10), time(14)),
        Ok(OptIn::Accepted)
    );
    assert_eq!(
        opt_in(WindowState::Open, time(14), time(14)),
        Ok(OptIn::Accepted),
        "the deadline itself is still in time"
    );
    assert_eq!(
        opt_in(WindowState::OptedIn, time(20), time(14)),
        Ok(OptIn::AlreadyOptedIn)
    );
}

#[test]
fn a_late_opt_in_or_one_on_an_ended_window_is_refused() {
    assert_eq!(
        opt_in(WindowState::Open, time(15), time(14)),
        Err(OptInRefused::TooLate {
            at: time(15),
            deadline: time(14)
        })
    );
    for ended in [WindowState::Lapsed, WindowState::Superseded] {
        assert_eq!(
            opt_in(ended, time(10), time(14)),
            Err(OptInRefused::Ended(ended))
        );
    }
}

fn event() -> impl Strategy<Value = WindowEvent> {
    prop_oneof![
        Just(WindowEvent::OptedIn),
        Just(WindowEvent::Lapsed),
        Just(WindowEvent::Superseded),
    ]
}

proptest! {
    #[test]
    fn terminal_states_stay_terminal(steps in proptest::collection::vec(event(), 0..20)) {
        let mut state = WindowState::Open;
        for step in steps {
            match state.apply(step) {
                Ok(next) => {
                    prop_assert!(!state.is_terminal(), "{state} left a terminal state by {step}");
                    prop_assert!(next.is_terminal());
                    state = next;
                }
                Err(illegal) => {
                    prop_assert!(state.is_terminal(), "{state} refused {step}");
                    prop_assert_eq!(illegal, IllegalTransition { from: state, event: step });
                }
            }
        }
    }

    #[test]
    fn an_opt_in_is_accepted_only_on_an_open_window_in_time(
        state in proptest::sample::select(WindowState::ALL.to_vec()),
        at in 0i64..40,
        deadline in 0i64..40,
    ) {
        let at = time(1) + chrono::Duration::days(at);
        let deadline = time(1) + chrono::Duration::days(deadline);
        let accepted = opt_in(state, at, deadline) == Ok(OptIn::Accepted);
        prop_assert_eq!(accepted, state == WindowState::Open && at <= deadline);
        if accepted {
            prop_assert_eq!(state.apply(WindowEvent::OptedIn), Ok(WindowState::OptedIn));
        }
    }
}

#[test]
fn the_reminder_is_due_the_board_s_days_before_the_close() {
    // A 14-day window with a 7-day reminder: a week before the close.
    assert_eq!(reminder_at(time(1), time(15), 7), Some(time(8)));
    // No reminder when the board sends none.
    assert_eq!(reminder_at(time(1), time(15), 0), None);
    // A window that closes as it opens has no time for one.
    assert_eq!(reminder_at(time(1), time(1), 7), None);
}

#[test]
fn a_short_window_is_reminded_no_earlier_than_halfway() {
    // Three days with a 7-day reminder: at the halfway point.
    assert_eq!(
        reminder_at(time(1), time(4), 7),
        Some(time(2) + chrono::Duration::hours(12))
    );
    // Eight days, 7-day reminder: halfway (day 5) is later than day 2.
    assert_eq!(reminder_at(time(1), time(9), 7), Some(time(5)));
}

proptest! {
    #[test]
    fn the_reminder_falls_in_the_second_half_of_the_window(
        days in 1i64..90,
        reminder in 0u32..=90,
    ) {
        let opened = time(1);
        let deadline = opened + chrono::Duration::days(days);
        match reminder_at(opened, deadline, reminder) {
            None => prop_assert_eq!(reminder, 0),
            Some(at) => {
                prop_assert!(at < deadline);
                prop_assert!(at >= opened + (deadline - opened) / 2);
                prop_assert!(at >= deadline - chrono::Duration::days(i64::from(reminder)));
            }
        }
    }
}
