//! One synthetic referral journey on a board's pathway, as the services'
//! own events would tell it: received by intake, claimed and vetted (after
//! a question to the referrer now and then), the decision recorded, the
//! referrer told, and, for a referral to a clinic, its first appointment
//! booked and attended or missed. Every event carries its historical time
//! and is marked as demo data; none names a patient.
//!
//! Waits shorten as the board grows used to the pathway: the first months
//! vet in about a week, a year on in about two days, and fewer referrals
//! wait months for a consultant-led clinic, since more go straight to
//! physiotherapy, psychology or a programme.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use pathway_proto::days;
use pathway_proto::v1::{self as proto, Event, Payload};
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use uuid::Uuid;

/// Who the history's events say acted.
pub const ACTOR_SYSTEM: &str = "system";
pub const CLINICIAN: &str = "demo-clinician";

const AGE_BANDS: &[&str] = &[
    "16-24", "25-34", "35-44", "45-54", "45-54", "55-64", "55-64", "65-74", "75-84", "85+",
];

/// The events of one referral received at `received`, as far as they had
/// happened before `cutoff`; `progress` is how far the board is into its
/// first year on the pathway (0 at switch-on, 1 from a year on).
pub fn events(
    rng: &mut StdRng,
    board: &str,
    received: DateTime<Utc>,
    progress: f64,
    cutoff: DateTime<Utc>,
) -> Vec<Event> {
    let mut journey = Journey {
        board,
        referral: id(rng, received),
        events: Vec::new(),
    };
    let red_flag = rng.random_bool(0.1);
    let payload = received_payload(rng, received, red_flag);
    journey.push(rng, received, payload);

    // Vetting: about a week's wait at switch-on, about two days a year on.
    let mean_days = 6.0 - 4.0 * progress;
    let wait = rng.random_range(0.0..=2.0 * mean_days);
    let claimed = working_time(rng, received + Duration::hours((wait * 24.0) as i64));
    journey.push(
        rng,
        claimed,
        Payload::VettingClaimed(proto::VettingClaimed {
            clinician: CLINICIAN.into(),
            lease_expires_at: Some(proto::timestamp(claimed + Duration::minutes(30))),
        }),
    );
    let mut vetted = claimed + Duration::minutes(rng.random_range(5..40));
    if !red_flag && rng.random_bool(0.08) {
        let request = id(rng, vetted).to_string();
        journey.push(
            rng,
            vetted,
            Payload::VettingInfoRequested(proto::VettingInfoRequested {
                information_request_id: request.clone(),
                clinician: CLINICIAN.into(),
                // Clinical free text never travels on the stream, a demo's
                // neither: the event names a text by id, and only analytics
                // (which reads no text) takes demo events in.
                question_text_id: request.clone(),
            }),
        );
        let days = rng.random_range(1..6);
        let answered = working_time(rng, vetted + Duration::days(days));
        journey.push(
            rng,
            answered,
            Payload::ReferralInfoProvided(proto::ReferralInfoProvided {
                information_request_id: request,
            }),
        );
        vetted = working_time(rng, answered + Duration::days(1));
    }
    let outcome = outcome(rng, red_flag, progress);
    let rationale_text_id = id(rng, vetted).to_string();
    journey.push(
        rng,
        vetted,
        Payload::VettingCompleted(proto::VettingCompleted {
            clinician: CLINICIAN.into(),
            outcome: Some(outcome.clone()),
            rationale_text_id: rationale_text_id.clone(),
            ..Default::default()
        }),
    );
    let decided = vetted + Duration::seconds(2);
    let clinic = clinic(&outcome);
    let weeks = clinic.map(|clinic| weeks_to_first(rng, clinic, outcome.priority, progress));
    let target_date = match (clinic, weeks) {
        (Some(proto::ClinicType::PainClinic), Some(_)) => {
            let target = match outcome.priority() {
                proto::Priority::Urgent => 28,
                proto::Priority::Soon => 56,
                _ => 126,
            };
            (days::day_of(decided) + Duration::days(target)).to_string()
        }
        _ => String::new(),
    };
    let decision_id = id(rng, decided).to_string();
    let decision = journey.push(
        rng,
        decided,
        Payload::DecisionRecorded(proto::DecisionRecorded {
            decision_id,
            outcome: Some(outcome),
            clinician: CLINICIAN.into(),
            decided_at: Some(proto::timestamp(decided)),
            target_date,
            rationale_text_id,
            ..Default::default()
        }),
    );
    let told = decided + Duration::minutes(rng.random_range(1..10));
    let delivery_id = id(rng, told).to_string();
    journey.push(
        rng,
        told,
        Payload::NotificationSent(proto::NotificationSent {
            delivery_id,
            recipient: proto::Recipient::Referrer as i32,
            channel: proto::Channel::Email as i32,
            cause_event_id: decision,
        }),
    );
    if let (Some(clinic), Some(weeks)) = (clinic, weeks) {
        first_appointment(&mut journey, rng, decided, clinic, weeks);
    }
    journey
        .events
        .into_iter()
        .filter(|event| event.occurred_at().is_some_and(|at| at < cutoff))
        .collect()
}

/// A referral's events so far.
struct Journey<'b> {
    board: &'b str,
    referral: Uuid,
    events: Vec<Event>,
}

impl Journey<'_> {
    /// Add an event at `at`; answers its id.
    fn push(&mut self, rng: &mut StdRng, at: DateTime<Utc>, payload: Payload) -> String {
        let actor = match payload.kind().0 {
            "vetting" | "decision" => CLINICIAN,
            _ => ACTOR_SYSTEM,
        };
        let event_id = id(rng, at).to_string();
        self.events.push(Event {
            event_id: event_id.clone(),
            referral_id: self.referral.to_string(),
            board: self.board.to_owned(),
            occurred_at: Some(proto::timestamp(at)),
            actor: actor.to_owned(),
            demo: true,
            payload: Some(payload),
        });
        event_id
    }
}

/// A UUIDv7 for `at` from the seeded generator, so a seed gives the same ids.
fn id(rng: &mut StdRng, at: DateTime<Utc>) -> Uuid {
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    let random: [u8; 10] = rng.random();
    uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
}

/// The id of a demo's clinical text: a random UUID, with no text behind it.
fn text_id(rng: &mut StdRng) -> String {
    let random: [u8; 16] = rng.random();
    uuid::Builder::from_random_bytes(random)
        .into_uuid()
        .to_string()
}

/// A time in working hours (09:00 to 17:00 in Scotland) on the first
/// weekday on or after `at`'s Scottish day, and not before `at`.
fn working_time(rng: &mut StdRng, at: DateTime<Utc>) -> DateTime<Utc> {
    let mut day = days::day_of(at);
    while matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
        day = day.succ_opt().unwrap_or(day);
    }
    let minutes = rng.random_range(9 * 60..17 * 60);
    let time =
        NaiveTime::from_num_seconds_from_midnight_opt(minutes * 60, 0).unwrap_or(NaiveTime::MIN);
    let local = days::start_of(day) + (time - NaiveTime::MIN);
    local.max(at)
}

/// When a referral received on `day` arrived: in working hours.
pub fn receipt_time(rng: &mut StdRng, day: NaiveDate) -> DateTime<Utc> {
    working_time(rng, days::start_of(day))
}

fn received_payload(rng: &mut StdRng, at: DateTime<Utc>, red_flag: bool) -> Payload {
    let sex = if rng.random_bool(0.58) {
        proto::Sex::Female
    } else {
        proto::Sex::Male
    };
    let pseudonym: [u8; 32] = rng.random();
    let red_flags = if red_flag {
        vec![
            *[
                proto::RedFlag::UnexplainedWeightLoss,
                proto::RedFlag::NonMechanicalNightPain,
                proto::RedFlag::HistoryOfCancer,
            ]
            .choose(rng)
            .unwrap_or(&proto::RedFlag::HistoryOfCancer) as i32,
        ]
    } else {
        Vec::new()
    };
    Payload::ReferralReceived(proto::ReferralReceived {
        patient: Some(proto::PatientAttributes {
            age_band: (*AGE_BANDS.choose(rng).unwrap_or(&"45-54")).to_owned(),
            sex: sex as i32,
            urban_rural_class: rng.random_range(1..=6),
            simd_quintile: rng.random_range(1..=5),
            patient_pseudonym: pseudonym.iter().map(|b| format!("{b:02x}")).collect(),
        }),
        practice_code: format!("{}", rng.random_range(10_000..10_060)),
        red_flags,
        pain_intensity: rng.random_range(3..=9),
        pain_duration_months: rng.random_range(3..=60),
        re_referral: rng.random_bool(0.05),
        received_at: Some(proto::timestamp(at)),
    })
}

/// The vetting outcome: a red flag is seen urgently; the others spread over
/// the alternatives, more of them away from the consultant's clinic as the
/// board settles in.
fn outcome(rng: &mut StdRng, red_flag: bool, progress: f64) -> proto::Outcome {
    use proto::OutcomeKind as K;
    if red_flag {
        return proto::Outcome {
            kind: K::Accept as i32,
            priority: proto::Priority::Urgent as i32,
            mode: proto::AppointmentMode::FaceToFace as i32,
            ..Default::default()
        };
    }
    let accept = 0.45 - 0.10 * progress;
    let roll: f64 = rng.random();
    let kind = if roll < accept {
        K::Accept
    } else {
        let rest = [
            (K::Physiotherapy, 0.30),
            (K::PainPsychology, 0.20),
            (K::PainManagementProgramme, 0.12),
            (K::AdviceToReferrer, 0.17),
            (K::SelfManagement, 0.12),
            (K::Redirect, 0.05),
            (K::Decline, 0.04),
        ];
        let mut left = (roll - accept) / (1.0 - accept);
        rest.iter()
            .find(|(_, share)| {
                left -= share;
                left < 0.0
            })
            .map_or(K::Decline, |(kind, _)| *kind)
    };
    let mut outcome = proto::Outcome {
        kind: kind as i32,
        ..Default::default()
    };
    match kind {
        K::Accept => {
            let priority = if rng.random_bool(0.3) {
                proto::Priority::Soon
            } else {
                proto::Priority::Routine
            };
            outcome.priority = priority as i32;
            outcome.mode = proto::AppointmentMode::FaceToFace as i32;
        }
        // Texts by id only, as vetting publishes them.
        K::AdviceToReferrer => outcome.advice_text_id = text_id(rng),
        K::SelfManagement => outcome.partner = "pain-association-scotland".into(),
        K::Redirect => outcome.reason_text_id = text_id(rng),
        K::Decline => {
            outcome.rejection_reason = "02".into();
            outcome.reason_text_id = text_id(rng);
        }
        _ => {}
    }
    outcome
}

/// The clinic an outcome sends the patient to, if any.
fn clinic(outcome: &proto::Outcome) -> Option<proto::ClinicType> {
    use proto::OutcomeKind as K;
    match outcome.kind() {
        K::Accept => Some(proto::ClinicType::PainClinic),
        K::Physiotherapy => Some(proto::ClinicType::Physiotherapy),
        K::PainPsychology => Some(proto::ClinicType::PainPsychology),
        K::PainManagementProgramme => Some(proto::ClinicType::PainManagementProgramme),
        _ => None,
    }
}

/// Weeks from the decision to the first appointment.
fn weeks_to_first(
    rng: &mut StdRng,
    clinic: proto::ClinicType,
    priority: i32,
    progress: f64,
) -> i64 {
    let (low, high) = match clinic {
        proto::ClinicType::PainClinic => match proto::Priority::try_from(priority) {
            Ok(proto::Priority::Urgent) => (2.0, 4.0),
            Ok(proto::Priority::Soon) => (5.0, 9.0),
            _ => (18.0 - 6.0 * progress, 30.0 - 10.0 * progress),
        },
        proto::ClinicType::Physiotherapy => (3.0, 8.0),
        proto::ClinicType::PainPsychology => (8.0, 16.0),
        _ => (8.0, 20.0),
    };
    rng.random_range(low..high) as i64
}

/// The first appointment `weeks` after the decision: booked a few days
/// after it, then attended, or missed now and then.
fn first_appointment(
    journey: &mut Journey<'_>,
    rng: &mut StdRng,
    decided: DateTime<Utc>,
    clinic: proto::ClinicType,
    weeks: i64,
) {
    let days = rng.random_range(1..6);
    let booked = working_time(rng, decided + Duration::days(days));
    let starts = working_time(rng, decided + Duration::weeks(weeks));
    let appointment = proto::Appointment {
        appointment_id: format!("DEMO-{}", id(rng, starts).simple()),
        starts_at: Some(proto::timestamp(starts)),
        day: days::day_of(starts).to_string(),
        clinic_type: clinic as i32,
        first_appointment: true,
    };
    journey.push(
        rng,
        booked,
        Payload::AppointmentBooked(proto::AppointmentBooked {
            appointment: Some(appointment.clone()),
        }),
    );
    let after = starts + Duration::minutes(45);
    let payload = if rng.random_bool(0.07) {
        Payload::AppointmentDidNotAttend(proto::AppointmentDidNotAttend {
            appointment: Some(appointment),
        })
    } else {
        Payload::AppointmentAttended(proto::AppointmentAttended {
            appointment: Some(appointment),
        })
    };
    journey.push(rng, after, payload);
}
