//! Unit tests of `ending.rs`.

use super::*;
use crate::domain::{DecisionFacts, Status};

fn decided(outcome: &str) -> Cause {
    Cause::Decision(DecisionFacts {
        outcome: outcome.into(),
        ..DecisionFacts::default()
    })
}

#[test]
fn withdrawal_lapse_decline_and_redirect_end_a_referral_and_nothing_else_does() {
    let reasons: Vec<Option<&str>> = [
        Cause::Withdrawn {
            reason: "sent in error".into(),
        },
        Cause::OptInClosed,
        decided("decline"),
        decided("redirect"),
        decided("accept"),
        decided("patient_opt_in"),
        decided("self_management"),
        Cause::InformationRequest {
            request_id: "r".into(),
            question: "q".into(),
            reminder: false,
        },
        Cause::OptInReminder {
            decision_id: "d".into(),
            opt_in_deadline: "20 March 2026".into(),
        },
    ]
    .iter()
    .map(|cause| Ending::of_cause(cause).map(Ending::reason))
    .collect();
    assert_eq!(
        reasons,
        [
            Some("withdrawn"),
            Some("opt_in_window_passed"),
            Some("declined"),
            Some("redirected"),
            None,
            None,
            None,
            None,
            None,
        ]
    );
}

#[test]
fn everyone_is_told_once_no_delivery_is_still_to_go() {
    assert!(everyone_told([]));
    assert!(everyone_told([Status::Sent, Status::Failed]));
    assert!(!everyone_told([Status::Sent, Status::Planned]));
    assert!(!everyone_told([Status::Failed, Status::Sending]));
}
