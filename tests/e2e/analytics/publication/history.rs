//! The publication tests' generated history: boards of very different
//! sizes, referrals received around midnight in winter and summer, vetted
//! for every kind of outcome, seen at every kind of clinic, some withdrawn;
//! and the services' events that tell it.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use pathway_proto::v1::{self as proto, Event, Payload};
use uuid::Uuid;

use super::super::scottish_day;

/// Boards and how many referrals each receives: one large, one middling,
/// two small enough that most of their cells are small counts.
const BOARDS: [(&str, usize); 4] = [
    ("lothian", 400),
    ("highland", 120),
    ("fife", 24),
    ("orkney", 9),
];

pub(super) const OUTCOMES: [&str; 10] = [
    "accept",
    "pain_management_programme",
    "pain_psychology",
    "physiotherapy",
    "advice_to_referrer",
    "self_management",
    "residential_programme",
    "redirect",
    "decline",
    "patient_opt_in",
];

/// One generated referral.
#[derive(Debug, Clone)]
pub(crate) struct Referral {
    pub(super) id: Uuid,
    pub(super) board: &'static str,
    pub(super) received: DateTime<Utc>,
    pub(super) standard: bool,
    pub(super) vetted: Option<(DateTime<Utc>, &'static str)>,
    /// The first appointment attended, and its clinic.
    pub(super) seen: Option<(DateTime<Utc>, proto::ClinicType)>,
    pub(super) withdrawn: Option<DateTime<Utc>>,
}

impl Referral {
    pub(crate) fn board(&self) -> &'static str {
        self.board
    }
}

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
}

/// Minutes from UTC midnight: either side of it in winter and in summer.
const AROUND_MIDNIGHT: [i64; 6] = [-45, -10, 20, 50, 9 * 60, 23 * 60 + 15];

pub(crate) fn history() -> Vec<Referral> {
    let start = NaiveDate::from_ymd_opt(2025, 6, 1).expect("a date");
    let mut out = Vec::new();
    for (b, (board, n)) in BOARDS.iter().enumerate() {
        for i in 0..*n {
            let k = i * 7 + b;
            // Received from June 2025 to the end of September 2026.
            let day = start + Duration::days((k * 37 % 487) as i64);
            let received =
                midnight(day) + Duration::minutes(AROUND_MIDNIGHT[k % AROUND_MIDNIGHT.len()]);
            let mut r = Referral {
                id: Uuid::now_v7(),
                board,
                received,
                standard: k % 11 == 3,
                vetted: None,
                seen: None,
                withdrawn: None,
            };
            if !r.standard && k % 13 != 5 {
                // A specialist clinic for a third, the rest every outcome.
                let outcome = if k % 3 == 1 {
                    "accept"
                } else {
                    OUTCOMES[(k * 3 + k / 10) % OUTCOMES.len()]
                };
                let vetted = received + Duration::days((k % 12) as i64) + Duration::minutes(5);
                r.vetted = Some((vetted, outcome));
                let clinic = match outcome {
                    "accept" => Some(proto::ClinicType::PainClinic),
                    "pain_psychology" => Some(proto::ClinicType::PainPsychology),
                    "physiotherapy" => Some(proto::ClinicType::Physiotherapy),
                    "pain_management_programme" | "residential_programme" => {
                        Some(proto::ClinicType::PainManagementProgramme)
                    }
                    _ => None,
                };
                // Some of those for an appointment are not seen yet.
                if let Some(clinic) = clinic.filter(|_| k % 5 != 2) {
                    // Waits in every band, the longest over a year.
                    let wait = match (k / 3) % 4 {
                        0 => 7 + k * 13 % 80,
                        1 => 95 + k * 11 % 75,
                        2 => 180 + k * 17 % 180,
                        _ => 366 + k * 7 % 60,
                    } as i64;
                    let hour = if k % 3 == 0 { 23 } else { 10 };
                    r.seen = Some((
                        midnight(scottish_day(received) + Duration::days(wait))
                            + Duration::hours(hour)
                            + Duration::minutes(30),
                        clinic,
                    ));
                }
            } else if !r.standard && k % 2 == 0 {
                r.withdrawn = Some(received + Duration::days((k % 50) as i64));
            }
            out.push(r);
        }
    }
    // Shetland: 40 seen at the pain clinic and 2 by other clinicians, all
    // in the third quarter within 12 weeks. Both tables would show 40 or
    // more there, but their difference is 2, so one of them must go.
    for i in 0..42 {
        let received = midnight(NaiveDate::from_ymd_opt(2026, 6, 1).expect("a date"))
            + Duration::days(i)
            + Duration::hours(10);
        let (outcome, clinic) = if i < 40 {
            ("accept", proto::ClinicType::PainClinic)
        } else {
            ("physiotherapy", proto::ClinicType::Physiotherapy)
        };
        out.push(Referral {
            id: Uuid::now_v7(),
            board: "shetland",
            received,
            standard: false,
            vetted: Some((received + Duration::days(2), outcome)),
            seen: Some((received + Duration::days(44), clinic)),
            withdrawn: None,
        });
    }
    out
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

pub(crate) fn events_of(r: &Referral) -> Vec<Event> {
    let event = |when: DateTime<Utc>, payload: Payload| {
        Event::new(r.board, Some(r.id), "test", when, payload)
    };
    let received_at = Some(proto::timestamp(r.received));
    let mut out = vec![event(
        r.received,
        if r.standard {
            Payload::ReferralRoutedStandard(proto::ReferralRoutedStandard {
                reason: "board_not_on_pathway".into(),
                received_at,
                ..Default::default()
            })
        } else {
            Payload::ReferralReceived(proto::ReferralReceived {
                received_at,
                ..Default::default()
            })
        },
    )];
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
    if let (Some((starts, clinic)), Some((vetted, _))) = (r.seen, r.vetted) {
        let appointment = Some(proto::Appointment {
            appointment_id: format!("PAS-{}", r.id),
            starts_at: Some(proto::timestamp(starts)),
            day: scottish_day(starts).to_string(),
            clinic_type: clinic as i32,
            first_appointment: true,
        });
        out.push(event(
            vetted + Duration::hours(2),
            Payload::AppointmentBooked(proto::AppointmentBooked {
                appointment: appointment.clone(),
            }),
        ));
        out.push(event(
            starts + Duration::hours(1),
            Payload::AppointmentAttended(proto::AppointmentAttended { appointment }),
        ));
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
