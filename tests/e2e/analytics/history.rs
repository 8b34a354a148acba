//! The generated history: the referrals of one board (and a few of
//! another), what happens to each, the events that record it, the board's
//! go-live and settings, and publishing it all onto the stream — a third of
//! it twice, as a relay that crashed before recording its publish would.

use chrono::{DateTime, Duration, Utc};
use pathway_proto::board::BoardSettings;
use pathway_proto::v1::{self as proto, Event, Payload};
use pathway_tests::analytics::TestApp;
use uuid::Uuid;

use super::{BOARD, LOCAL_HOLIDAY, TARGET, at, day};

/// One generated referral and what happens to it.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    pub(crate) id: String,
    pub(crate) board: &'static str,
    pub(crate) remote: bool,
    pub(crate) received: DateTime<Utc>,
    pub(crate) sex: proto::Sex,
    /// (asked, answered) for one request for information.
    pub(crate) pause: Option<(DateTime<Utc>, Option<DateTime<Utc>>)>,
    pub(crate) vetted: Option<DateTime<Utc>>,
    pub(crate) outcome: Option<&'static str>,
    /// A correction recorded a day after vetting, with this outcome.
    pub(crate) corrected_to: Option<&'static str>,
    pub(crate) withdrawn: Option<DateTime<Utc>>,
    /// The SMS to the patient about the decision failed.
    pub(crate) notification_failed: bool,
}

const OUTCOMES: [&str; 7] = [
    "accept",
    "advice_to_referrer",
    "self_management",
    "physiotherapy",
    "accept",
    "pain_psychology",
    "decline",
];

/// The history: standard-route referrals in January (7) and February (3),
/// before the board switches on (1 March); 40 remote referrals received 1
/// April to 27 May around Good Friday, the early May and spring bank
/// holidays and the board's own holiday; three on another board.
pub(crate) fn history() -> Vec<Case> {
    let mut cases = Vec::new();
    let standard = |m: u32, d: u32, i: usize| Case {
        id: Uuid::now_v7().to_string(),
        board: BOARD,
        remote: false,
        received: at(day(m, d), 10),
        sex: if i.is_multiple_of(2) {
            proto::Sex::Female
        } else {
            proto::Sex::Male
        },
        pause: None,
        vetted: None,
        outcome: None,
        corrected_to: None,
        withdrawn: None,
        notification_failed: false,
    };
    for i in 0..7 {
        cases.push(standard(1, 5 + i as u32, i));
    }
    for i in 0..3 {
        cases.push(standard(2, 9 + i as u32, i));
    }
    for i in 0..40usize {
        let received_on = day(4, 1) + Duration::days((i * 3 % 57) as i64);
        let received = at(received_on, 9);
        let lag = (i * 7 % 15) as i64;
        let vetted_on = received_on + Duration::days(lag);
        let withdrawn = (i % 10 == 9).then(|| at(received_on + Duration::days(2), 12));
        let vetted = withdrawn.is_none().then(|| at(vetted_on, 15));
        let pause = match (vetted, i % 4) {
            (Some(v), 1 | 3) if lag >= 2 => {
                let asked = at(received_on + Duration::days(1), 10);
                let answered = at(received_on + Duration::days(1 + (i % 5) as i64), 11);
                // Never answered when the answer would come after vetting.
                Some((asked, (answered < v).then_some(answered)))
            }
            _ => None,
        };
        cases.push(Case {
            id: Uuid::now_v7().to_string(),
            board: BOARD,
            remote: true,
            received,
            sex: if i % 3 == 0 {
                proto::Sex::Male
            } else {
                proto::Sex::Female
            },
            pause,
            vetted,
            outcome: vetted.map(|_| OUTCOMES[i % OUTCOMES.len()]),
            corrected_to: (vetted.is_some() && i % 11 == 3).then_some("self_management"),
            withdrawn,
            notification_failed: vetted.is_some() && i % 3 == 1,
        });
    }
    for i in 0..3 {
        cases.push(Case {
            board: "lothian",
            vetted: Some(at(day(4, 10), 15)),
            outcome: Some("accept"),
            ..cases[10 + i].clone()
        });
        cases.last_mut().expect("just pushed").id = Uuid::now_v7().to_string();
    }
    cases
}

fn event(case: &Case, when: DateTime<Utc>, payload: Payload) -> Event {
    Event::new(
        case.board,
        Some(Uuid::parse_str(&case.id).expect("a UUID")),
        "test",
        when,
        payload,
    )
}

fn outcome(code: &str) -> proto::Outcome {
    let kind = pathway_proto::board::outcome_kind(code).expect("an outcome code");
    proto::Outcome {
        kind: kind as i32,
        priority: if code == "accept" {
            proto::Priority::Routine as i32
        } else {
            0
        },
        ..proto::Outcome::default()
    }
}

/// The events of `case`, in the order they happen.
pub(crate) fn events_of(case: &Case) -> Vec<Event> {
    let patient = Some(proto::PatientAttributes {
        age_band: "40-49".into(),
        sex: case.sex as i32,
        urban_rural_class: 6,
        simd_quintile: 2,
        patient_pseudonym: format!("pseudonym-{}", case.id),
    });
    let mut out = vec![event(
        case,
        case.received,
        if case.remote {
            Payload::ReferralReceived(proto::ReferralReceived {
                patient,
                practice_code: "55501".into(),
                received_at: Some(proto::timestamp(case.received)),
                ..Default::default()
            })
        } else {
            Payload::ReferralRoutedStandard(proto::ReferralRoutedStandard {
                patient,
                practice_code: "55501".into(),
                reason: "board_not_on_pathway".into(),
                received_at: Some(proto::timestamp(case.received)),
            })
        },
    )];
    if case.remote {
        out.push(event(
            case,
            case.received + Duration::hours(1),
            Payload::VettingClaimed(proto::VettingClaimed {
                clinician: "dr-vetting".into(),
                lease_expires_at: None,
            }),
        ));
    }
    if let Some((asked, answered)) = case.pause {
        out.push(event(
            case,
            asked,
            Payload::VettingInfoRequested(proto::VettingInfoRequested {
                information_request_id: format!("q-{}", case.id),
                clinician: "dr-vetting".into(),
                question_text_id: uuid::Uuid::now_v7().to_string(),
            }),
        ));
        if let Some(answered) = answered {
            out.push(event(
                case,
                answered,
                Payload::ReferralInfoProvided(proto::ReferralInfoProvided {
                    information_request_id: format!("q-{}", case.id),
                }),
            ));
        }
    }
    if let (Some(vetted), Some(code)) = (case.vetted, case.outcome) {
        let mut record = |when: DateTime<Utc>, code: &str, correction: bool| {
            out.push(event(
                case,
                when,
                Payload::VettingCompleted(proto::VettingCompleted {
                    clinician: "dr-vetting".into(),
                    outcome: Some(outcome(code)),
                    rationale_text_id: uuid::Uuid::now_v7().to_string(),
                    correction,
                    ..Default::default()
                }),
            ));
            out.push(event(
                case,
                when,
                Payload::DecisionRecorded(proto::DecisionRecorded {
                    decision_id: Uuid::now_v7().to_string(),
                    outcome: Some(outcome(code)),
                    clinician: "dr-vetting".into(),
                    decided_at: Some(proto::timestamp(when)),
                    ..Default::default()
                }),
            ));
        };
        record(vetted, code, false);
        if let Some(corrected) = case.corrected_to {
            record(vetted + Duration::days(1), corrected, true);
        }
    }
    if let (true, Some(vetted)) = (case.notification_failed, case.vetted) {
        out.push(event(
            case,
            vetted + Duration::hours(1),
            Payload::NotificationFailed(proto::NotificationFailed {
                delivery_id: Uuid::now_v7().to_string(),
                recipient: proto::Recipient::Patient as i32,
                channel: proto::Channel::Sms as i32,
                cause_event_id: String::new(),
                reason: "the number is not in service".into(),
                attempts: 5,
            }),
        ));
    }
    if let Some(withdrawn) = case.withdrawn {
        out.push(event(
            case,
            withdrawn,
            Payload::ReferralWithdrawn(proto::ReferralWithdrawn {
                previous_status: "awaiting_vetting".into(),
                reason_code: "patient_request".into(),
            }),
        ));
    }
    out
}

pub(crate) fn board_events() -> Vec<Event> {
    let settings = BoardSettings {
        vetting_target_working_days: TARGET,
        extra_holidays: vec![day(LOCAL_HOLIDAY.0, LOCAL_HOLIDAY.1)],
        ..BoardSettings::default()
    };
    vec![
        Event::new(
            BOARD,
            None,
            "admin",
            at(day(2, 20), 12),
            Payload::BoardPathwayChanged(proto::BoardPathwayChanged {
                enabled: true,
                effective_date: "2026-03-01".into(),
                changed_by: "admin".into(),
                reason: "go live".into(),
            }),
        ),
        Event::new(
            BOARD,
            None,
            "admin",
            at(day(2, 21), 12),
            Payload::BoardSettingsChanged(proto::BoardSettingsChanged {
                vetting_target_working_days: TARGET,
                changed_by: "admin".into(),
                settings_json: serde_json::to_string(&settings).expect("settings serialise"),
                // In force over every history the tests publish (from 2024).
                effective_date: "2000-01-01".into(),
            }),
        ),
    ]
}

pub(crate) async fn publish_history(app: &TestApp, cases: &[Case]) -> u64 {
    let mut events = board_events();
    for case in cases {
        events.extend(events_of(case));
    }
    for event in &events {
        app.send(event).await;
    }
    // The same events again under other message ids, as a relay that
    // crashed before recording its publish would send them: the broker
    // cannot tell, so the inbox must.
    for event in events.iter().step_by(3) {
        app.publish(event, &format!("again-{}", event.event_id))
            .await;
    }
    events.len() as u64
}
