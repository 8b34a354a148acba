//! The contract test that keeps clinicians' free text off the stream: every
//! string field an event can carry (the envelope, each payload, and every
//! message they hold) must be on the allow-list below of fields known to hold
//! an id, a code, a date or a word from a closed list. A new string field
//! fails here until someone decides what it holds; free text goes to the
//! service that owns it and travels by request/reply
//! (`pathway/v1/clinical_text.proto`), with an id on the event.
//!
//! It walks the compiled descriptors `build.rs` writes, not the `.proto`
//! text, so what it checks is what the generated types carry.

use std::collections::{BTreeSet, HashMap};

use prost::Message;
use prost_types::field_descriptor_proto::Type;
use prost_types::{DescriptorProto, FileDescriptorSet};

/// `Message.field` of every string field allowed on the stream, and why.
const ALLOWED: &[&str] = &[
    // The envelope: ids, the board's code, the actor's subject.
    "Event.event_id",
    "Event.referral_id",
    "Event.board",
    "Event.actor",
    // De-identified attributes: a band, and a keyed pseudonym.
    "PatientAttributes.age_band",
    "PatientAttributes.patient_pseudonym",
    // Codes.
    "ReferralReceived.practice_code",
    "ReferralRoutedStandard.practice_code",
    "ReferralRoutedStandard.reason",
    "ReferralWithdrawn.previous_status",
    "ReferralWithdrawn.reason_code",
    "ReferralInfoProvided.information_request_id",
    "ReferralOptedIn.decision_id",
    "ReferralClosed.reason",
    "ReferralErased.erasure_id",
    "ReferralRestrictionChanged.request_id",
    // A board admin's change: a date, the admin's subject, and the reason
    // for switching the pathway on or off (about the board, not a patient).
    "BoardPathwayChanged.effective_date",
    "BoardPathwayChanged.changed_by",
    "BoardPathwayChanged.reason",
    // The board's settings document (codes, labels, templates: no patient).
    "BoardSettingsChanged.changed_by",
    "BoardSettingsChanged.settings_json",
    "BoardSettingsChanged.effective_date",
    // Clinicians' subjects, closed-list reasons and ids of texts.
    "VettingClaimed.clinician",
    "VettingReleased.clinician",
    "VettingReleased.reason",
    "VettingInfoRequested.information_request_id",
    "VettingInfoRequested.clinician",
    "VettingInfoRequested.question_text_id",
    "VettingInfoRequestOverdue.information_request_id",
    "VettingInfoRequestOverdue.question_text_id",
    "Outcome.partner",
    "Outcome.rejection_reason",
    "Outcome.reason_text_id",
    "Outcome.advice_text_id",
    "VettingCompleted.clinician",
    "VettingCompleted.red_flag_override_reason_text_id",
    "VettingCompleted.rationale_text_id",
    "DecisionRecorded.decision_id",
    "DecisionRecorded.clinician",
    "DecisionRecorded.target_date",
    "DecisionRecorded.supersedes_decision_id",
    "DecisionRecorded.rationale_text_id",
    "DecisionRecorded.red_flag_override_reason_text_id",
    "DecisionOptInReminderDue.decision_id",
    "DecisionOptInLapsed.decision_id",
    // Deliveries: ids, and a failure's reason as the channel reports it
    // (about the channel, never the message's body).
    "NotificationSent.delivery_id",
    "NotificationSent.cause_event_id",
    "NotificationFailed.delivery_id",
    "NotificationFailed.cause_event_id",
    "NotificationFailed.reason",
    // A board's daily counts: a Scottish day and outcome codes.
    "AnalyticsDailySummary.day",
    "OutcomeCount.outcome",
    // Appointments: the hospital system's id and a Scottish day.
    "Appointment.appointment_id",
    "Appointment.day",
];

fn descriptors() -> FileDescriptorSet {
    let bytes = include_bytes!(concat!(env!("OUT_DIR"), "/pathway_v1_descriptors.bin"));
    FileDescriptorSet::decode(bytes.as_slice()).expect("build.rs writes a FileDescriptorSet")
}

/// Every message of `pathway.v1`, by its full name (`.pathway.v1.Event`).
fn messages(set: &FileDescriptorSet) -> HashMap<String, DescriptorProto> {
    fn add(prefix: &str, message: &DescriptorProto, out: &mut HashMap<String, DescriptorProto>) {
        let name = format!("{prefix}.{}", message.name());
        for nested in &message.nested_type {
            add(&name, nested, out);
        }
        out.insert(name, message.clone());
    }
    let mut out = HashMap::new();
    for file in set.file.iter().filter(|f| f.package() == "pathway.v1") {
        for message in &file.message_type {
            add(".pathway.v1", message, &mut out);
        }
    }
    out
}

/// `Message.field` of every string field reachable from `Event`.
fn string_fields_on_the_stream() -> BTreeSet<String> {
    let all = messages(&descriptors());
    let mut seen = BTreeSet::new();
    let mut found = BTreeSet::new();
    let mut queue = vec![".pathway.v1.Event".to_owned()];
    while let Some(name) = queue.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let message = all
            .get(&name)
            .unwrap_or_else(|| panic!("{name} is not a pathway.v1 message"));
        for field in &message.field {
            match field.r#type() {
                Type::String => {
                    found.insert(format!("{}.{}", message.name(), field.name()));
                }
                Type::Bytes => {
                    found.insert(format!("{}.{} (bytes)", message.name(), field.name()));
                }
                Type::Message if field.type_name().starts_with(".pathway.v1.") => {
                    queue.push(field.type_name().to_owned());
                }
                _ => {}
            }
        }
    }
    found
}

#[test]
fn no_event_carries_a_string_field_that_is_not_known_to_be_free_of_free_text() {
    let allowed: BTreeSet<String> = ALLOWED.iter().map(|f| (*f).to_owned()).collect();
    let unknown: Vec<String> = string_fields_on_the_stream()
        .into_iter()
        .filter(|f| !allowed.contains(f))
        .collect();
    assert!(
        unknown.is_empty(),
        "string fields on the stream not known to be ids, codes or dates: {unknown:?}. \
         Clinical free text must stay with the service that owns it (clinical_text.proto); \
         add a field here only if it can never hold free text"
    );
}

#[test]
fn the_allow_list_names_only_fields_that_exist() {
    let present = string_fields_on_the_stream();
    let stale: Vec<&&str> = ALLOWED.iter().filter(|f| !present.contains(**f)).collect();
    assert!(stale.is_empty(), "allowed but not on the stream: {stale:?}");
}

#[test]
fn the_walk_sees_the_payloads_and_what_they_hold() {
    let present = string_fields_on_the_stream();
    // A payload, a message inside one (Outcome), and one two levels down
    // (Appointment inside AppointmentBooked): the walk reaches them all.
    for field in [
        "VettingCompleted.clinician",
        "Outcome.advice_text_id",
        "Appointment.day",
    ] {
        assert!(present.contains(field), "{field} not reached");
    }
}

#[test]
fn the_old_free_text_fields_are_reserved_not_reused() {
    let all = messages(&descriptors());
    for (message, names) in [
        ("VettingInfoRequested", &["question"][..]),
        ("Outcome", &["reason", "advice"][..]),
        (
            "VettingCompleted",
            &["rationale", "red_flag_override_reason"][..],
        ),
        (
            "DecisionRecorded",
            &["rationale", "red_flag_override_reason"][..],
        ),
    ] {
        let descriptor = &all[&format!(".pathway.v1.{message}")];
        for name in names {
            assert!(
                descriptor.reserved_name.iter().any(|r| r == name),
                "{message}.{name} is not reserved"
            );
            assert!(
                descriptor.field.iter().all(|f| f.name() != *name),
                "{message}.{name} is still a field"
            );
        }
    }
}
