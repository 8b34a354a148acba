//! The generated history: a deterministic mix of referrals over 14 boards
//! and three years, each published as the services would publish it.

use super::*;

/// A small deterministic generator (SplitMix64): the same history each run.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub(crate) fn pick<T: Copy>(&mut self, weighted: &[(T, u64)]) -> T {
        let total: u64 = weighted.iter().map(|(_, w)| w).sum();
        let mut at = self.below(total);
        for (value, weight) in weighted {
            if at < *weight {
                return *value;
            }
            at -= weight;
        }
        weighted[weighted.len() - 1].0
    }
}

/// Boards weighted by population (thousands, NRS mid-year estimates, rounded).
pub(crate) const BOARD_WEIGHTS: [u64; 14] = [
    370, 116, 148, 374, 306, 586, 1185, 323, 661, 916, 22, 23, 417, 26,
];

/// Board `i` switches the pathway on four weeks after board `i - 1`, from
/// April 2024: referrals before then take the standard route.
pub(crate) fn adoption(i: usize) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 4, 1).expect("a date") + chrono::Days::new(28 * i as u64)
}

pub(crate) fn board_settings_json(i: usize) -> String {
    let settings = BoardSettings {
        vetting_target_working_days: [5, 10, 15][i % 3],
        extra_holidays: vec![
            NaiveDate::from_ymd_opt(2025, 4, 21 + (i % 3) as u32).expect("a date"),
        ],
        ..BoardSettings::default()
    };
    serde_json::to_string(&settings).expect("settings serialise")
}

/// Each board's switch-on and settings, before the first referral.
pub(crate) fn board_events() -> Vec<Event> {
    let mut out = Vec::new();
    for (i, board) in BOARD_CODES.iter().enumerate() {
        let at = Utc.from_utc_datetime(
            &(history_start() - chrono::Days::new(30 - i as u64))
                .and_hms_opt(12, 0, 0)
                .expect("noon"),
        );
        out.push(Event::new(
            board,
            None,
            "admin",
            at,
            Payload::BoardPathwayChanged(proto::BoardPathwayChanged {
                enabled: true,
                effective_date: adoption(i).to_string(),
                changed_by: "admin".into(),
                reason: "go live".into(),
            }),
        ));
        out.push(Event::new(
            board,
            None,
            "admin",
            at + chrono::Duration::minutes(5),
            Payload::BoardSettingsChanged(proto::BoardSettingsChanged {
                vetting_target_working_days: [5, 10, 15][i % 3],
                changed_by: "admin".into(),
                settings_json: board_settings_json(i),
                effective_date: String::new(),
            }),
        ));
    }
    out
}

pub(crate) const OUTCOME_WEIGHTS: [(&str, u64); 10] = [
    ("accept", 35),
    ("pain_management_programme", 8),
    ("pain_psychology", 8),
    ("physiotherapy", 12),
    ("advice_to_referrer", 12),
    ("self_management", 12),
    ("residential_programme", 2),
    ("redirect", 5),
    ("decline", 4),
    ("patient_opt_in", 2),
];

pub(crate) const AGE_BANDS: [(&str, u64); 10] = [
    ("16-24", 4),
    ("25-34", 10),
    ("35-44", 16),
    ("45-54", 22),
    ("55-64", 22),
    ("65-74", 14),
    ("75-84", 8),
    ("85+", 2),
    ("0-15", 0),
    ("unknown", 2),
];

pub(crate) struct Referral {
    pub(crate) id: String,
    pub(crate) board: &'static str,
    pub(crate) events: Vec<Event>,
}

/// One referral's life on the pathway, as the services would publish it.
pub(crate) fn referral(rng: &mut Rng, patients: u64) -> Referral {
    let board_index = rng.pick(
        &BOARD_WEIGHTS
            .iter()
            .enumerate()
            .map(|(i, w)| (i, *w))
            .collect::<Vec<_>>(),
    );
    let board = BOARD_CODES[board_index];
    let mut received_on = history_start() + chrono::Days::new(rng.below(HISTORY_DAYS));
    // GPs refer on weekdays.
    while matches!(received_on.weekday(), Weekday::Sat | Weekday::Sun) {
        received_on = received_on.succ_opt().expect("a next day");
    }
    let received = Utc.from_utc_datetime(
        &received_on
            .and_hms_opt(
                8 + rng.below(10) as u32,
                rng.below(60) as u32,
                rng.below(60) as u32,
            )
            .expect("a time"),
    );
    let id = uuid::Builder::from_random_bytes(
        [rng.next().to_le_bytes(), rng.next().to_le_bytes()]
            .concat()
            .try_into()
            .expect("16 bytes"),
    )
    .into_uuid();
    let patient = rng.below(patients);
    let pseudonym = format!(
        "{:016x}{:016x}{:016x}{:016x}",
        Rng(patient).next(),
        Rng(patient + 1).next(),
        Rng(patient + 2).next(),
        Rng(patient + 3).next()
    );
    let attributes = proto::PatientAttributes {
        age_band: rng.pick(&AGE_BANDS).into(),
        sex: rng.pick(&[
            (proto::Sex::Female, 58),
            (proto::Sex::Male, 41),
            (proto::Sex::NotKnown, 1),
        ]) as i32,
        urban_rural_class: rng.pick(&[(0, 2), (1, 35), (2, 30), (3, 10), (4, 8), (5, 7), (6, 8)]),
        simd_quintile: rng.pick(&[(0, 2), (1, 24), (2, 22), (3, 19), (4, 17), (5, 16)]),
        patient_pseudonym: pseudonym,
    };
    let mut events = Vec::new();
    let mut push = |at: DateTime<Utc>, payload: Payload| {
        events.push(Event::new(board, Some(id), "bench", at, payload));
    };
    let hours = chrono::Duration::hours;
    let days = chrono::Duration::days;

    if received_on < adoption(board_index) {
        push(
            received,
            Payload::ReferralRoutedStandard(proto::ReferralRoutedStandard {
                patient: Some(attributes),
                practice_code: format!("{:05}", 10_000 + rng.below(90_000)),
                reason: "board_not_on_pathway".into(),
                received_at: Some(proto::timestamp(received)),
            }),
        );
        return finish(id, board, events);
    }
    let red_flags = if rng.chance(8) {
        vec![proto::RedFlag::NonMechanicalNightPain as i32]
    } else {
        Vec::new()
    };
    push(
        received,
        Payload::ReferralReceived(proto::ReferralReceived {
            patient: Some(attributes),
            practice_code: format!("{:05}", 10_000 + rng.below(90_000)),
            red_flags,
            pain_intensity: 4 + rng.below(7) as u32,
            pain_duration_months: 3 + rng.below(60) as u32,
            re_referral: rng.chance(6),
            received_at: Some(proto::timestamp(received)),
        }),
    );
    if rng.chance(4) {
        push(
            received + days(1 + rng.below(10) as i64),
            Payload::ReferralWithdrawn(proto::ReferralWithdrawn {
                previous_status: "awaiting_vetting".into(),
                reason_code: "patient_request".into(),
            }),
        );
        return finish(id, board, events);
    }
    let claimed = received + hours(2 + rng.below(60) as i64);
    push(
        claimed,
        Payload::VettingClaimed(proto::VettingClaimed {
            clinician: format!("clinician-{}", rng.below(40)),
            lease_expires_at: None,
        }),
    );
    // Most are vetted within a few days; a long tail waits weeks.
    let mut vetted = claimed
        + days(if rng.chance(25) {
            3 + rng.below(25)
        } else {
            rng.below(4)
        } as i64)
        + hours(rng.below(6) as i64);
    if rng.chance(12) {
        let question = format!("q-{}", rng.next());
        let asked = claimed + hours(1);
        push(
            asked,
            Payload::VettingInfoRequested(proto::VettingInfoRequested {
                information_request_id: question.clone(),
                clinician: "clinician".into(),
                question_text_id: uuid::Uuid::now_v7().to_string(),
            }),
        );
        if rng.chance(85) {
            let answered = asked + days(1 + rng.below(10) as i64);
            push(
                answered,
                Payload::ReferralInfoProvided(proto::ReferralInfoProvided {
                    information_request_id: question,
                }),
            );
            vetted = vetted.max(answered + days(1 + rng.below(3) as i64));
        } else {
            vetted = vetted.max(asked + days(10 + rng.below(10) as i64));
        }
    }
    let code = rng.pick(&OUTCOME_WEIGHTS);
    let priority = if code == "accept" {
        rng.pick(&[
            (proto::Priority::Urgent, 10),
            (proto::Priority::Soon, 30),
            (proto::Priority::Routine, 60),
        ])
    } else {
        proto::Priority::Unspecified
    };
    let mut record = |at: DateTime<Utc>, code: &str, correction: bool| {
        let outcome = proto::Outcome {
            kind: outcome_kind(code).expect("an outcome code") as i32,
            priority: priority as i32,
            ..proto::Outcome::default()
        };
        push(
            at,
            Payload::VettingCompleted(proto::VettingCompleted {
                clinician: "clinician".into(),
                outcome: Some(outcome.clone()),
                rationale_text_id: uuid::Uuid::now_v7().to_string(),
                correction,
                ..Default::default()
            }),
        );
        push(
            at + chrono::Duration::seconds(1),
            Payload::DecisionRecorded(proto::DecisionRecorded {
                decision_id: Uuid::now_v7().to_string(),
                outcome: Some(outcome),
                clinician: "clinician".into(),
                decided_at: Some(proto::timestamp(at)),
                ..Default::default()
            }),
        );
    };
    record(vetted, code, false);
    let final_code = if rng.chance(2) {
        let corrected = if code == "self_management" {
            "physiotherapy"
        } else {
            "self_management"
        };
        record(vetted + days(1), corrected, true);
        corrected
    } else {
        code
    };
    let notified = vetted + chrono::Duration::minutes(5);
    for (recipient, channel) in [
        (proto::Recipient::Referrer, proto::Channel::Webhook),
        (proto::Recipient::Patient, proto::Channel::Sms),
    ] {
        if recipient == proto::Recipient::Patient && rng.chance(3) {
            push(
                notified,
                Payload::NotificationFailed(proto::NotificationFailed {
                    delivery_id: Uuid::now_v7().to_string(),
                    recipient: recipient as i32,
                    channel: channel as i32,
                    cause_event_id: String::new(),
                    reason: "the number is not in service".into(),
                    attempts: 5,
                }),
            );
        } else {
            push(
                notified,
                Payload::NotificationSent(proto::NotificationSent {
                    delivery_id: Uuid::now_v7().to_string(),
                    recipient: recipient as i32,
                    channel: channel as i32,
                    cause_event_id: String::new(),
                }),
            );
        }
    }
    if final_code == "patient_opt_in" {
        if rng.chance(60) {
            push(
                vetted + days(1 + rng.below(10) as i64),
                Payload::ReferralOptedIn(proto::ReferralOptedIn::default()),
            );
        } else {
            push(
                vetted + days(14),
                Payload::ReferralClosed(proto::ReferralClosed {
                    reason: "opt_in_window_passed".into(),
                }),
            );
        }
    }
    finish(id, board, events)
}

pub(crate) fn finish(id: Uuid, board: &'static str, events: Vec<Event>) -> Referral {
    Referral {
        id: id.to_string(),
        board,
        events,
    }
}
