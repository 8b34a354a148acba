//! The generated history of the PHS waits test: referrals received around
//! midnight in summer and winter and on the nights the clocks change, and
//! the events the services would publish for each.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use pathway_proto::v1::{self as proto, Event, Payload};
use uuid::Uuid;

use super::super::{BOARD, scottish_day};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fate {
    Attended,
    Missed,
    Cancelled,
    Pending,
}

/// One generated referral and its first appointments.
#[derive(Debug, Clone)]
pub(super) struct Referral {
    pub(super) id: String,
    pub(super) received: DateTime<Utc>,
    /// (asked, answered) for one question to the referrer.
    pub(super) pause: Option<(DateTime<Utc>, Option<DateTime<Utc>>)>,
    pub(super) vetted: Option<(DateTime<Utc>, &'static str)>,
    pub(super) clinic: proto::ClinicType,
    /// First appointments in the order they were booked, each with what
    /// became of it.
    pub(super) appointments: Vec<(DateTime<Utc>, Fate)>,
    pub(super) withdrawn: Option<DateTime<Utc>>,
}

pub(super) const AROUND_MIDNIGHT: [i64; 5] = [-50, -20, 10, 40, 600];

/// 00:30 on Scotland's clock either side of the 2025 and 2026 clock changes.
pub(super) const CLOCK_CHANGE_NIGHTS: [&str; 8] = [
    "2025-03-30T00:30:00Z",
    "2025-03-30T23:30:00Z",
    "2025-10-25T23:30:00Z",
    "2025-10-27T00:30:00Z",
    "2026-03-29T00:30:00Z",
    "2026-03-29T23:30:00Z",
    "2026-10-24T23:30:00Z",
    "2026-10-26T00:30:00Z",
];

pub(super) fn midnight(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
}

pub(super) fn history() -> Vec<Referral> {
    let start = NaiveDate::from_ymd_opt(2025, 1, 1).expect("a date");
    (0..900usize)
        .map(|i| {
            let received = match CLOCK_CHANGE_NIGHTS.get(i) {
                Some(t) => t.parse().expect("an instant"),
                None => {
                    midnight(start + Duration::days((i * 37 % 600) as i64))
                        + Duration::minutes(AROUND_MIDNIGHT[i % AROUND_MIDNIGHT.len()])
                }
            };
            let kind = i % 10;
            let vetted_at = received + Duration::days((i % 9) as i64) + Duration::minutes(7);
            // A first appointment some 3 to 70 weeks on; a third of them at
            // 23:30 UTC, which is the next day in summer in Scotland.
            let wait = 20 + (i * 53 % 470) as i64;
            let hour = if i.is_multiple_of(3) { 23 } else { 9 };
            let first = midnight(scottish_day(received) + Duration::days(wait))
                + Duration::hours(hour)
                + Duration::minutes(30);
            let mut r = Referral {
                id: Uuid::now_v7().to_string(),
                received,
                pause: None,
                vetted: Some((vetted_at, "accept")),
                clinic: proto::ClinicType::PainClinic,
                appointments: vec![(first, Fate::Attended)],
                withdrawn: None,
            };
            match kind {
                0..=2 => {}
                3 => {
                    // Cancelled; booked again, not yet seen.
                    r.appointments = vec![
                        (first, Fate::Cancelled),
                        (first + Duration::days(40), Fate::Pending),
                    ];
                }
                4 => {
                    r.appointments = vec![
                        (first, Fate::Missed),
                        (first + Duration::days(30), Fate::Attended),
                    ];
                }
                5 => {
                    r.vetted = Some((vetted_at, "pain_psychology"));
                    r.clinic = proto::ClinicType::PainPsychology;
                }
                6 => {
                    let asked = received + Duration::hours(20);
                    let vetted = asked + Duration::days(10 + (i % 7) as i64);
                    r.pause = Some((asked, Some(asked + Duration::days(3 + (i % 5) as i64))));
                    r.vetted = Some((vetted, "physiotherapy"));
                    r.clinic = proto::ClinicType::Physiotherapy;
                    r.appointments = vec![(first.max(vetted + Duration::days(1)), Fate::Attended)];
                }
                7 => {
                    // Not vetted (yet): some with a question open, some
                    // answered, some never asked.
                    r.vetted = None;
                    r.appointments.clear();
                    let asked = received + Duration::days(2) + Duration::minutes(3);
                    r.pause = match i % 3 {
                        0 => Some((asked, None)),
                        1 => Some((asked, Some(asked + Duration::days(25)))),
                        _ => None,
                    };
                }
                8 => {
                    r.vetted = Some((vetted_at, "advice_to_referrer"));
                    r.appointments.clear();
                }
                _ => {
                    if i % 20 == 9 {
                        r.vetted = None;
                        r.appointments.clear();
                        r.withdrawn = Some(received + Duration::days((i % 40) as i64));
                    } else {
                        r.vetted = Some((vetted_at, "pain_management_programme"));
                        r.clinic = proto::ClinicType::PainManagementProgramme;
                    }
                }
            }
            r
        })
        .collect()
}

pub(super) fn outcome(code: &str) -> proto::Outcome {
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

pub(super) fn events_of(r: &Referral) -> Vec<Event> {
    let event = |when: DateTime<Utc>, payload: Payload| {
        Event::new(
            BOARD,
            Some(Uuid::parse_str(&r.id).expect("a UUID")),
            "test",
            when,
            payload,
        )
    };
    let mut out = vec![event(
        r.received,
        Payload::ReferralReceived(proto::ReferralReceived {
            received_at: Some(proto::timestamp(r.received)),
            ..Default::default()
        }),
    )];
    if let Some((asked, answered)) = r.pause {
        out.push(event(
            asked,
            Payload::VettingInfoRequested(proto::VettingInfoRequested {
                information_request_id: format!("q-{}", r.id),
                clinician: "dr-vetting".into(),
                question_text_id: uuid::Uuid::now_v7().to_string(),
            }),
        ));
        if let Some(answered) = answered {
            out.push(event(
                answered,
                Payload::ReferralInfoProvided(proto::ReferralInfoProvided {
                    information_request_id: format!("q-{}", r.id),
                }),
            ));
        }
    }
    if let Some((vetted, code)) = r.vetted {
        out.push(event(
            vetted,
            Payload::VettingCompleted(proto::VettingCompleted {
                clinician: "dr-vetting".into(),
                outcome: Some(outcome(code)),
                rationale_text_id: uuid::Uuid::now_v7().to_string(),
                ..Default::default()
            }),
        ));
        out.push(event(
            vetted,
            Payload::DecisionRecorded(proto::DecisionRecorded {
                decision_id: Uuid::now_v7().to_string(),
                outcome: Some(outcome(code)),
                clinician: "dr-vetting".into(),
                decided_at: Some(proto::timestamp(vetted)),
                ..Default::default()
            }),
        ));
    }
    for (n, (starts, fate)) in r.appointments.iter().enumerate() {
        let appointment = Some(proto::Appointment {
            appointment_id: format!("PAS-{}-{n}", r.id),
            starts_at: Some(proto::timestamp(*starts)),
            day: scottish_day(*starts).to_string(),
            clinic_type: r.clinic as i32,
            first_appointment: true,
        });
        let booked_at = r.vetted.map_or(r.received, |(v, _)| v) + Duration::hours(2);
        out.push(event(
            booked_at,
            Payload::AppointmentBooked(proto::AppointmentBooked {
                appointment: appointment.clone(),
            }),
        ));
        let after = *starts + Duration::hours(1);
        match fate {
            Fate::Attended => out.push(event(
                after,
                Payload::AppointmentAttended(proto::AppointmentAttended { appointment }),
            )),
            Fate::Missed => out.push(event(
                after,
                Payload::AppointmentDidNotAttend(proto::AppointmentDidNotAttend { appointment }),
            )),
            Fate::Cancelled => out.push(event(
                booked_at + Duration::days(1),
                Payload::AppointmentCancelled(proto::AppointmentCancelled { appointment }),
            )),
            Fate::Pending => {}
        }
    }
    if let Some(withdrawn) = r.withdrawn {
        out.push(event(
            withdrawn,
            Payload::ReferralWithdrawn(proto::ReferralWithdrawn {
                previous_status: "awaiting_vetting".into(),
                reason_code: "patient_request".into(),
            }),
        ));
    }
    out
}
