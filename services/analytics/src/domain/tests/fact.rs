//! Unit tests of `fact.rs`.

use super::*;
use chrono::TimeZone;

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, day, hour, 0, 0)
        .single()
        .expect("test data is valid")
}

fn highland() -> BoardCode {
    BoardCode::parse("highland").expect("a board code")
}

fn event(payload: Payload, when: DateTime<Utc>) -> Event {
    Event::new("highland", Some(uuid::Uuid::nil()), "test", when, payload)
}

#[test]
fn a_correction_replaces_the_outcome_but_not_the_time_vetted() {
    let mut fact = Fact::new("r", highland());
    let outcome = |kind: proto::OutcomeKind| proto::Outcome {
        kind: kind as i32,
        ..Default::default()
    };
    let completed = |kind| {
        Payload::VettingCompleted(proto::VettingCompleted {
            outcome: Some(outcome(kind)),
            ..Default::default()
        })
    };
    fact.apply(&event(completed(proto::OutcomeKind::Accept), at(8, 10)))
        .expect("test data is valid");
    fact.apply(&event(
        completed(proto::OutcomeKind::Physiotherapy),
        at(9, 10),
    ))
    .expect("test data is valid");
    assert_eq!(fact.vetted_at, Some(at(8, 10)));
    assert_eq!(fact.outcome.as_deref(), Some("physiotherapy"));
}

#[test]
fn an_answer_closes_its_own_pause_once() {
    let mut fact = Fact::new("r", highland());
    let asked = Payload::VettingInfoRequested(proto::VettingInfoRequested {
        information_request_id: "q1".into(),
        ..Default::default()
    });
    let answered = Payload::ReferralInfoProvided(proto::ReferralInfoProvided {
        information_request_id: "q1".into(),
    });
    fact.apply(&event(asked.clone(), at(2, 9)))
        .expect("test data is valid");
    fact.apply(&event(asked, at(2, 9)))
        .expect("test data is valid");
    fact.apply(&event(answered.clone(), at(7, 9)))
        .expect("test data is valid");
    fact.apply(&event(answered, at(9, 9)))
        .expect("test data is valid");
    assert_eq!(
        fact.pauses,
        vec![Pause {
            information_request_id: "q1".into(),
            requested_at: at(2, 9),
            answered_at: Some(at(7, 9)),
        }]
    );
}

#[test]
fn a_fact_touched_by_demo_data_stays_marked_as_demo() {
    let mut fact = Fact::new("r", highland());
    let claimed = || {
        Payload::VettingClaimed(proto::VettingClaimed {
            clinician: "demo-clinician".into(),
            ..Default::default()
        })
    };
    fact.apply(&event(claimed(), at(8, 10)))
        .expect("test data is valid");
    assert!(!fact.demo);
    let demo = Event {
        demo: true,
        ..event(claimed(), at(8, 11))
    };
    fact.apply(&demo).expect("test data is valid");
    fact.apply(&event(claimed(), at(8, 12)))
        .expect("test data is valid");
    assert!(fact.demo, "one demo event marks the fact for good");
}

#[test]
fn a_childs_referral_handed_to_the_paediatric_service_is_not_a_pathway_referral() {
    for reason in ["paediatric_patient", "board_not_on_pathway"] {
        let mut fact = Fact::new("r", highland());
        let routed = Payload::ReferralRoutedStandard(proto::ReferralRoutedStandard {
            reason: reason.into(),
            received_at: Some(proto::timestamp(at(3, 9))),
            ..Default::default()
        });
        fact.apply(&event(routed, at(3, 9)))
            .expect("test data is valid");
        assert_eq!(fact.route, Some(Route::Standard), "{reason}");
        assert_eq!(fact.received_at, Some(at(3, 9)));
    }
}
