//! The wire format of `pathway.v1`, pinned: events are decoded here by a
//! protobuf reader written from the encoding specification (varints and
//! length-delimited fields), independent of prost, and every field is checked
//! at its agreed number. Renumbering a field fails this test.

use pathway_proto::v1::{self as proto, Event, Payload};
use prost::Message as _;

#[derive(Debug, Clone, PartialEq)]
enum Value {
    Varint(u64),
    Bytes(Vec<u8>),
}

fn varint(bytes: &[u8], at: &mut usize) -> u64 {
    let mut value = 0u64;
    let mut shift = 0;
    loop {
        let byte = bytes[*at];
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return value;
        }
        shift += 7;
    }
}

/// `(field number, value)` in wire order.
fn fields(bytes: &[u8]) -> Vec<(u64, Value)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let key = varint(bytes, &mut at);
        let (number, wire_type) = (key >> 3, key & 7);
        let value = match wire_type {
            0 => Value::Varint(varint(bytes, &mut at)),
            2 => {
                let len = usize::try_from(varint(bytes, &mut at)).expect("length fits");
                let value = bytes[at..at + len].to_vec();
                at += len;
                Value::Bytes(value)
            }
            other => panic!("wire type {other} is not used by pathway.v1"),
        };
        out.push((number, value));
    }
    out
}

fn field(bytes: &[u8], number: u64) -> Value {
    fields(bytes)
        .into_iter()
        .find(|(n, _)| *n == number)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("field {number} is missing"))
}

fn text(bytes: &[u8], number: u64) -> String {
    match field(bytes, number) {
        Value::Bytes(b) => String::from_utf8(b).expect("UTF-8"),
        other => panic!("field {number} is {other:?}, not a string"),
    }
}

fn message(bytes: &[u8], number: u64) -> Vec<u8> {
    match field(bytes, number) {
        Value::Bytes(b) => b,
        other => panic!("field {number} is {other:?}, not a message"),
    }
}

fn number(bytes: &[u8], n: u64) -> u64 {
    match field(bytes, n) {
        Value::Varint(v) => v,
        other => panic!("field {n} is {other:?}, not a varint"),
    }
}

fn envelope(payload: Payload) -> (Event, Vec<u8>) {
    let at = chrono::DateTime::from_timestamp(1_780_000_000, 0).expect("time");
    let event = Event::new("highland", Some(uuid::Uuid::nil()), "dr-a", at, payload);
    let bytes = event.encode_to_vec();
    (event, bytes)
}

#[test]
fn the_envelope_carries_id_referral_board_time_and_actor_at_fixed_numbers() {
    let (event, bytes) = envelope(Payload::ReferralClosed(proto::ReferralClosed {
        reason: "opt_in_window_passed".into(),
    }));
    assert_eq!(text(&bytes, 1), event.event_id);
    assert_eq!(text(&bytes, 2), "00000000-0000-0000-0000-000000000000");
    assert_eq!(text(&bytes, 3), "highland");
    assert_eq!(
        number(&message(&bytes, 4), 1),
        1_780_000_000,
        "occurred_at.seconds"
    );
    assert_eq!(text(&bytes, 5), "dr-a");
    assert_eq!(text(&message(&bytes, 15), 1), "opt_in_window_passed");
}

#[test]
fn every_payload_sits_at_its_agreed_field_number() {
    let cases: Vec<(Payload, u64, &str)> = vec![
        (
            Payload::ReferralReceived(proto::ReferralReceived::default()),
            10,
            "pathway.v1.highland.referral.received",
        ),
        (
            Payload::ReferralRoutedStandard(proto::ReferralRoutedStandard::default()),
            11,
            "pathway.v1.highland.referral.routed_standard",
        ),
        (
            Payload::ReferralWithdrawn(proto::ReferralWithdrawn::default()),
            12,
            "pathway.v1.highland.referral.withdrawn",
        ),
        (
            Payload::ReferralInfoProvided(proto::ReferralInfoProvided::default()),
            13,
            "pathway.v1.highland.referral.info_provided",
        ),
        (
            Payload::ReferralOptedIn(proto::ReferralOptedIn::default()),
            14,
            "pathway.v1.highland.referral.opted_in",
        ),
        (
            Payload::ReferralClosed(proto::ReferralClosed::default()),
            15,
            "pathway.v1.highland.referral.closed",
        ),
        (
            Payload::BoardPathwayChanged(proto::BoardPathwayChanged::default()),
            20,
            "pathway.v1.highland.board.pathway_changed",
        ),
        (
            Payload::BoardSettingsChanged(proto::BoardSettingsChanged::default()),
            21,
            "pathway.v1.highland.board.settings_changed",
        ),
        (
            Payload::VettingClaimed(proto::VettingClaimed::default()),
            30,
            "pathway.v1.highland.vetting.claimed",
        ),
        (
            Payload::VettingReleased(proto::VettingReleased::default()),
            31,
            "pathway.v1.highland.vetting.released",
        ),
        (
            Payload::VettingInfoRequested(proto::VettingInfoRequested::default()),
            32,
            "pathway.v1.highland.vetting.info_requested",
        ),
        (
            Payload::VettingCompleted(proto::VettingCompleted::default()),
            33,
            "pathway.v1.highland.vetting.completed",
        ),
        (
            Payload::VettingInfoRequestOverdue(proto::VettingInfoRequestOverdue::default()),
            34,
            "pathway.v1.highland.vetting.info_request_overdue",
        ),
        (
            Payload::DecisionRecorded(proto::DecisionRecorded::default()),
            40,
            "pathway.v1.highland.decision.recorded",
        ),
        (
            Payload::DecisionOptInReminderDue(proto::DecisionOptInReminderDue::default()),
            41,
            "pathway.v1.highland.decision.opt_in_reminder_due",
        ),
        (
            Payload::NotificationSent(proto::NotificationSent::default()),
            50,
            "pathway.v1.highland.notification.sent",
        ),
        (
            Payload::NotificationFailed(proto::NotificationFailed::default()),
            51,
            "pathway.v1.highland.notification.failed",
        ),
        (
            Payload::AppointmentBooked(proto::AppointmentBooked::default()),
            60,
            "pathway.v1.highland.appointment.booked",
        ),
        (
            Payload::AppointmentAttended(proto::AppointmentAttended::default()),
            61,
            "pathway.v1.highland.appointment.attended",
        ),
        (
            Payload::AppointmentDidNotAttend(proto::AppointmentDidNotAttend::default()),
            62,
            "pathway.v1.highland.appointment.did_not_attend",
        ),
        (
            Payload::AppointmentCancelled(proto::AppointmentCancelled::default()),
            63,
            "pathway.v1.highland.appointment.cancelled",
        ),
        (
            Payload::AnalyticsDailySummary(proto::AnalyticsDailySummary::default()),
            70,
            "pathway.v1.highland.analytics.daily_summary",
        ),
    ];
    for (payload, expected, subject) in cases {
        let (event, bytes) = envelope(payload);
        assert_eq!(event.subject().as_deref(), Some(subject));
        let numbers: Vec<u64> = fields(&bytes).into_iter().map(|(n, _)| n).collect();
        assert!(
            numbers.contains(&expected),
            "{subject}: payload at {expected}, found {numbers:?}"
        );
    }
}

#[test]
fn referral_received_fields_are_pinned() {
    let (_, bytes) = envelope(Payload::ReferralReceived(proto::ReferralReceived {
        patient: Some(proto::PatientAttributes {
            age_band: "45-54".into(),
            sex: proto::Sex::Female as i32,
            urban_rural_class: 6,
            simd_quintile: 2,
            patient_pseudonym: "ab12".into(),
        }),
        practice_code: "55005".into(),
        red_flags: vec![proto::RedFlag::HistoryOfCancer as i32],
        pain_intensity: 7,
        pain_duration_months: 18,
        re_referral: true,
        received_at: Some(prost_types_timestamp(1_780_000_000)),
    }));
    let received = message(&bytes, 10);
    let patient = message(&received, 1);
    assert_eq!(text(&patient, 1), "45-54");
    assert_eq!(number(&patient, 2), 2, "SEX_FEMALE = 2");
    assert_eq!(number(&patient, 3), 6);
    assert_eq!(number(&patient, 4), 2);
    assert_eq!(text(&patient, 5), "ab12");
    assert_eq!(text(&received, 2), "55005");
    // Packed repeated enum: one length-delimited field holding varint 2.
    assert_eq!(
        field(&received, 3),
        Value::Bytes(vec![2]),
        "RED_FLAG_HISTORY_OF_CANCER = 2, packed"
    );
    assert_eq!(number(&received, 4), 7);
    assert_eq!(number(&received, 5), 18);
    assert_eq!(number(&received, 6), 1);
    assert_eq!(number(&message(&received, 7), 1), 1_780_000_000);
}

#[test]
fn decisions_and_outcomes_are_pinned() {
    let (_, bytes) = envelope(Payload::DecisionRecorded(proto::DecisionRecorded {
        decision_id: "d-1".into(),
        outcome: Some(proto::Outcome {
            kind: proto::OutcomeKind::Accept as i32,
            priority: proto::Priority::Urgent as i32,
            mode: proto::AppointmentMode::Video as i32,
            partner: "pain-association-scotland".into(),
            rejection_reason: "01".into(),
            reason_text_id: "text-why".into(),
            advice_text_id: "text-advice".into(),
        }),
        clinician: "dr-a".into(),
        decided_at: Some(prost_types_timestamp(5)),
        target_date: "2027-01-31".into(),
        supersedes_decision_id: "d-0".into(),
        opt_in_deadline: Some(prost_types_timestamp(6)),
        rationale_text_id: "text-because".into(),
        red_flag_override_reason_text_id: "text-seen".into(),
    }));
    let decision = message(&bytes, 40);
    assert_eq!(text(&decision, 1), "d-1");
    let outcome = message(&decision, 2);
    assert_eq!(number(&outcome, 1), 1, "OUTCOME_KIND_ACCEPT = 1");
    assert_eq!(number(&outcome, 2), 1, "PRIORITY_URGENT = 1");
    assert_eq!(number(&outcome, 3), 2, "APPOINTMENT_MODE_VIDEO = 2");
    assert_eq!(text(&outcome, 4), "pain-association-scotland");
    assert_eq!(text(&outcome, 5), "01");
    // Free text left the stream: 6 and 7 (reason, advice) are reserved.
    assert_eq!(text(&outcome, 8), "text-why");
    assert_eq!(text(&decision, 3), "dr-a");
    assert_eq!(number(&message(&decision, 4), 1), 5);
    assert_eq!(text(&decision, 5), "2027-01-31");
    assert_eq!(text(&decision, 6), "d-0");
    assert_eq!(number(&message(&decision, 7), 1), 6);
    // 8 and 9 (rationale, red-flag override reason) are reserved.
    assert_eq!(text(&decision, 10), "text-because");
    assert_eq!(text(&decision, 11), "text-seen");
    assert_eq!(text(&outcome, 9), "text-advice");
    assert_eq!(proto::OutcomeKind::PatientOptIn as i32, 10);
}

#[test]
fn appointments_are_pinned_and_carry_no_identifier() {
    let appointment = || proto::Appointment {
        appointment_id: "RAIG-1".into(),
        starts_at: Some(prost_types_timestamp(1_789_029_000)),
        day: "2026-09-10".into(),
        clinic_type: proto::ClinicType::PainPsychology as i32,
        first_appointment: true,
    };
    let cases: Vec<(Payload, u64)> = vec![
        (
            Payload::AppointmentBooked(proto::AppointmentBooked {
                appointment: Some(appointment()),
            }),
            60,
        ),
        (
            Payload::AppointmentAttended(proto::AppointmentAttended {
                appointment: Some(appointment()),
            }),
            61,
        ),
        (
            Payload::AppointmentDidNotAttend(proto::AppointmentDidNotAttend {
                appointment: Some(appointment()),
            }),
            62,
        ),
        (
            Payload::AppointmentCancelled(proto::AppointmentCancelled {
                appointment: Some(appointment()),
            }),
            63,
        ),
    ];
    for (payload, at) in cases {
        let (_, bytes) = envelope(payload);
        let inner = message(&message(&bytes, at), 1);
        assert_eq!(text(&inner, 1), "RAIG-1");
        assert_eq!(number(&message(&inner, 2), 1), 1_789_029_000);
        assert_eq!(text(&inner, 3), "2026-09-10");
        assert_eq!(number(&inner, 4), 2, "CLINIC_TYPE_PAIN_PSYCHOLOGY = 2");
        assert_eq!(number(&inner, 5), 1);
        let numbers: Vec<u64> = fields(&inner).into_iter().map(|(n, _)| n).collect();
        assert_eq!(numbers, [1, 2, 3, 4, 5], "nothing else on an appointment");
    }
    for (clinic, value) in [
        (proto::ClinicType::Unspecified, 0),
        (proto::ClinicType::PainClinic, 1),
        (proto::ClinicType::PainPsychology, 2),
        (proto::ClinicType::Physiotherapy, 3),
        (proto::ClinicType::PainManagementProgramme, 4),
    ] {
        assert_eq!(clinic as i32, value, "{clinic:?}");
    }
    // Every declaration of the appointments contract says what it is.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../proto/pathway/v1/appointments.proto");
    let source = std::fs::read_to_string(&path).expect("appointments.proto is there");
    let lines: Vec<&str> = source.lines().map(str::trim).collect();
    let undocumented: Vec<&str> = lines
        .iter()
        .enumerate()
        .filter(|(_, line)| {
            line.starts_with("message ")
                || line.starts_with("enum ")
                || (line.ends_with(';') && line.contains(" = ") && !line.starts_with("//"))
        })
        .filter(|(i, _)| *i == 0 || !lines[i - 1].starts_with("//"))
        .map(|(_, line)| *line)
        .collect();
    assert!(undocumented.is_empty(), "undocumented: {undocumented:?}");
}

#[test]
fn bytes_written_by_hand_decode_as_a_board_switch() {
    // Event { event_id: "e", board: "fife", board_pathway_changed(20): { enabled: true, effective_date: "2027-01-04" } }
    let mut bytes = vec![0x0a, 0x01, b'e', 0x1a, 0x04, b'f', b'i', b'f', b'e'];
    let inner = [vec![0x08, 0x01, 0x12, 0x0a], b"2027-01-04".to_vec()].concat();
    // Field 20, wire type 2: key = (20 << 3) | 2 = 162 = varint [0xa2, 0x01].
    bytes.extend_from_slice(&[0xa2, 0x01, u8::try_from(inner.len()).expect("short")]);
    bytes.extend_from_slice(&inner);
    let event = Event::decode(bytes.as_slice()).expect("decodes");
    assert_eq!(event.event_id, "e");
    assert_eq!(event.board, "fife");
    match event.payload {
        Some(Payload::BoardPathwayChanged(change)) => {
            assert!(change.enabled);
            assert_eq!(change.effective_date, "2027-01-04");
        }
        other => panic!("decoded as {other:?}"),
    }
}

fn prost_types_timestamp(seconds: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds, nanos: 0 }
}

#[test]
fn the_identifiable_look_up_sits_at_its_agreed_subject_and_numbers() {
    assert_eq!(
        pathway_proto::rpc::REFERRAL_LOOKUP,
        "pathway.rpc.intake.referral.get"
    );
    let request = proto::ReferralLookupRequest {
        referral_id: "r".into(),
        purpose: "clinical vetting".into(),
        lookup_purpose: proto::LookupPurpose::ContactDetails as i32,
    }
    .encode_to_vec();
    assert_eq!(text(&request, 1), "r");
    assert_eq!(text(&request, 2), "clinical vetting");
    assert_eq!(number(&request, 3), 2, "CONTACT_DETAILS");
    for (purpose, value) in [
        (proto::LookupPurpose::Unspecified, 0),
        (proto::LookupPurpose::VettingView, 1),
        (proto::LookupPurpose::ContactDetails, 2),
        (proto::LookupPurpose::ReferrerCheck, 3),
        (proto::LookupPurpose::Handoff, 4),
    ] {
        assert_eq!(purpose as i32, value, "{purpose:?}");
    }

    let refused = proto::ReferralLookupReply {
        result: Some(proto::referral_lookup_reply::Result::Refusal(
            proto::LookupRefusal {
                code: proto::RefusalCode::Forbidden as i32,
                message: "not your board".into(),
            },
        )),
    }
    .encode_to_vec();
    let refusal = message(&refused, 2);
    assert_eq!(number(&refusal, 1), 2, "FORBIDDEN");
    assert_eq!(text(&refusal, 2), "not your board");
    for (code, value) in [
        (proto::RefusalCode::NotFound, 1),
        (proto::RefusalCode::Forbidden, 2),
        (proto::RefusalCode::Unauthenticated, 3),
        (proto::RefusalCode::Invalid, 4),
        (proto::RefusalCode::Conflict, 5),
        (proto::RefusalCode::Unavailable, 6),
        (proto::RefusalCode::Internal, 7),
    ] {
        assert_eq!(code as i32, value, "{code:?}");
    }

    let found = proto::ReferralLookupReply {
        result: Some(proto::referral_lookup_reply::Result::Referral(
            proto::IdentifiableReferral {
                id: "r".into(),
                referrer_subject: "gp".into(),
                patient: Some(proto::IdentifiablePatient {
                    chi: "1204670021".into(),
                    family_name: "MacLeod".into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
        )),
    }
    .encode_to_vec();
    let referral = message(&found, 1);
    assert_eq!(text(&referral, 1), "r");
    assert_eq!(text(&referral, 7), "gp");
    let patient = message(&referral, 8);
    assert_eq!(text(&patient, 1), "1204670021");
    assert_eq!(text(&patient, 3), "MacLeod");
}

/// Every message, enum, oneof, field and enum value of the look-up contract
/// says what it is: it carries identifiable data, so nothing on it may be
/// left to guesswork.
#[test]
fn every_part_of_the_look_up_contract_is_documented() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../proto/pathway/v1/lookup.proto");
    let source = std::fs::read_to_string(&path).expect("lookup.proto is there");
    let lines: Vec<&str> = source.lines().map(str::trim).collect();
    let mut undocumented = Vec::new();
    let mut declarations = 0;
    for (i, line) in lines.iter().enumerate() {
        let declares = line.starts_with("message ")
            || line.starts_with("enum ")
            || line.starts_with("oneof ")
            || (line.ends_with(';') && line.contains(" = ") && !line.starts_with("//"));
        if !declares || line.starts_with("syntax") {
            continue;
        }
        declarations += 1;
        let documented = i > 0 && lines[i - 1].starts_with("//");
        if !documented {
            undocumented.push(format!("line {}: {line}", i + 1));
        }
    }
    assert!(declarations > 40, "only {declarations} declarations read");
    assert!(
        undocumented.is_empty(),
        "undocumented in lookup.proto:\n{}",
        undocumented.join("\n")
    );
}
