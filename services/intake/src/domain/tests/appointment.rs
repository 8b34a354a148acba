//! Unit tests of `appointment/`: the FHIR `Appointment` read into a report
//! (every bad element named by its FHIRPath), a PAS extract's lines, and
//! what a report does to an appointment already recorded.

use chrono::TimeZone;
use serde_json::{Value, json};

use super::fhir::{self, APPOINTMENT_TYPE_SYSTEM, CLINIC_TYPE_SYSTEM, REFERRAL_SYSTEM};
use super::*;

const REFERRAL: &str = "0190f0e4-7c1a-7b3e-9d2a-5a6b7c8d9e0f";

fn valid() -> Value {
    json!({
        "resourceType": "Appointment",
        "identifier": [{"system": "https://pas.highland.scot.nhs.uk/appointment", "value": "PAS-0001"}],
        "status": "booked",
        "start": "2026-09-10T09:30:00+01:00",
        "basedOn": [{"reference": format!("ServiceRequest/{REFERRAL}")}],
        "serviceType": [{"coding": [{"system": CLINIC_TYPE_SYSTEM, "code": "pain-clinic"}]}],
        "appointmentType": {"coding": [{"system": APPOINTMENT_TYPE_SYSTEM, "code": "first"}]},
        "participant": [{"actor": {"display": "Not stored"}, "status": "accepted"}]
    })
}

fn parse(value: &Value) -> Result<fhir::ParsedAppointment, Vec<fhir::Issue>> {
    fhir::parse(&serde_json::to_vec(value).expect("JSON"))
}

fn expressions(value: &Value) -> Vec<String> {
    parse(value)
        .expect_err("not valid")
        .into_iter()
        .map(|i| i.expression)
        .collect()
}

#[test]
fn a_valid_appointment_reads_every_element_used() {
    let parsed = parse(&valid()).expect("valid");
    let report = parsed.report;
    assert_eq!(report.appointment_id.as_str(), "PAS-0001");
    assert_eq!(report.referral_id.to_string(), REFERRAL);
    assert_eq!(report.status, AppointmentStatus::Booked);
    assert_eq!(
        report.when,
        When::At(
            Utc.with_ymd_and_hms(2026, 9, 10, 8, 30, 0)
                .single()
                .expect("valid")
        )
    );
    assert_eq!(report.clinic_type, ClinicType::PainClinic);
    assert!(report.first);
    assert_eq!(parsed.referral_path, "Appointment.basedOn[0]");
}

#[test]
fn the_referral_may_be_named_by_identifier_and_the_appointment_by_id() {
    let mut body = valid();
    body["basedOn"] = json!([
        {"reference": "CarePlan/1"},
        {"identifier": {"system": REFERRAL_SYSTEM, "value": REFERRAL}}
    ]);
    body.as_object_mut().expect("object").remove("identifier");
    body["id"] = json!("appt-7");
    body["appointmentType"] =
        json!({"coding": [{"system": fhir::V2_APPOINTMENT_REASON_SYSTEM, "code": "FOLLOWUP"}]});
    let parsed = parse(&body).expect("valid");
    assert_eq!(parsed.referral_path, "Appointment.basedOn[1]");
    assert_eq!(parsed.report.appointment_id.as_str(), "appt-7");
    assert!(!parsed.report.first);
}

#[test]
fn each_status_says_what_happened() {
    for (code, happened) in [
        ("booked", Happened::Booked),
        ("arrived", Happened::Attended),
        ("fulfilled", Happened::Attended),
        ("noshow", Happened::DidNotAttend),
        ("cancelled", Happened::Cancelled),
    ] {
        let mut body = valid();
        body["status"] = json!(code);
        assert_eq!(
            parse(&body).expect(code).report.status.happened(),
            happened,
            "{code}"
        );
    }
}

#[test]
fn a_cancellation_needs_no_start_but_anything_else_does() {
    let mut body = valid();
    body.as_object_mut().expect("object").remove("start");
    assert_eq!(expressions(&body), ["Appointment.start"]);
    body["status"] = json!("cancelled");
    assert_eq!(parse(&body).expect("valid").report.when, When::Unknown);
}

#[test]
fn every_bad_element_is_named_by_its_fhirpath_at_once() {
    let cases: Vec<(&str, Value, &str)> = vec![
        ("status", json!("proposed"), "Appointment.status"),
        ("status", json!(5), "Appointment.status"),
        ("start", json!("2026-09-10 09:30"), "Appointment.start"),
        ("start", json!("tomorrow"), "Appointment.start"),
        (
            "basedOn",
            json!([{"reference": "ServiceRequest/not-a-uuid"}]),
            "Appointment.basedOn[0].reference",
        ),
        (
            "basedOn",
            json!([{"reference": "CarePlan/1"}]),
            "Appointment.basedOn",
        ),
        (
            "basedOn",
            json!({"reference": "ServiceRequest/x"}),
            "Appointment.basedOn",
        ),
        (
            "basedOn",
            json!([{"identifier": {"system": REFERRAL_SYSTEM, "value": "nope"}}]),
            "Appointment.basedOn[0].identifier.value",
        ),
        (
            "serviceType",
            json!([{"coding": [{"system": CLINIC_TYPE_SYSTEM, "code": "dermatology"}]}]),
            "Appointment.serviceType[0].coding[0].code",
        ),
        (
            "serviceType",
            json!([{"coding": [{"system": "http://snomed.info/sct", "code": "1"}]}]),
            "Appointment.serviceType",
        ),
        (
            "appointmentType",
            json!({"coding": [{"system": APPOINTMENT_TYPE_SYSTEM, "code": "second"}]}),
            "Appointment.appointmentType.coding[0].code",
        ),
        (
            "identifier",
            json!([{"system": "x"}]),
            "Appointment.identifier[0].value",
        ),
        (
            "identifier",
            json!([{"value": "has space"}]),
            "Appointment.identifier[0].value",
        ),
    ];
    for (element, value, expected) in cases {
        let mut body = valid();
        body[element] = value.clone();
        assert_eq!(expressions(&body), [expected], "{element} = {value}");
    }
    let mut body = valid();
    for element in [
        "status",
        "basedOn",
        "serviceType",
        "appointmentType",
        "identifier",
    ] {
        body.as_object_mut().expect("object").remove(element);
    }
    let mut found = expressions(&body);
    found.sort();
    assert_eq!(
        found,
        [
            "Appointment.appointmentType",
            "Appointment.basedOn",
            "Appointment.identifier",
            "Appointment.serviceType",
            "Appointment.status",
        ]
    );
}

#[test]
fn a_body_that_is_not_an_appointment_is_refused_as_a_whole() {
    assert_eq!(
        fhir::parse(b"not json").expect_err("refused")[0].expression,
        "Appointment"
    );
    assert_eq!(
        fhir::parse(b"[1]").expect_err("refused")[0].expression,
        "Appointment"
    );
    let mut body = valid();
    body["resourceType"] = json!("ServiceRequest");
    assert_eq!(expressions(&body), ["Appointment.resourceType"]);
}

#[test]
fn the_documented_example_reads() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/appointment.fhir.json");
    let text = std::fs::read(&path).expect("the example is there");
    let parsed = fhir::parse(&text).expect("the example is valid");
    assert_eq!(parsed.report.status, AppointmentStatus::Fulfilled);
}

fn report(status: AppointmentStatus, hour: u32) -> AppointmentReport {
    AppointmentReport {
        appointment_id: AppointmentId::parse("A1").expect("valid"),
        referral_id: uuid::Uuid::parse_str(REFERRAL).expect("valid"),
        status,
        when: When::At(
            Utc.with_ymd_and_hms(2026, 9, 10, hour, 0, 0)
                .single()
                .expect("valid"),
        ),
        clinic_type: ClinicType::Physiotherapy,
        first: true,
    }
}

#[test]
fn a_report_publishes_only_what_is_new() {
    use AppointmentStatus::*;
    let booked = report(Booked, 9);
    assert_eq!(change(None, &booked), Ok(Change::Publish(Happened::Booked)));
    assert_eq!(change(Some(&booked), &booked), Ok(Change::Repeat));
    assert_eq!(
        change(Some(&booked), &report(Booked, 11)),
        Ok(Change::Publish(Happened::Booked)),
        "a booking moved is booked again"
    );
    assert_eq!(
        change(Some(&booked), &report(Fulfilled, 9)),
        Ok(Change::Publish(Happened::Attended))
    );
    assert_eq!(
        change(Some(&report(Arrived, 9)), &report(Fulfilled, 9)),
        Ok(Change::Restate),
        "arrived then fulfilled is one attendance"
    );
}

#[test]
fn a_settled_appointment_stays_settled() {
    use AppointmentStatus::*;
    for settled in [Arrived, Fulfilled, NoShow, Cancelled] {
        for next in [Booked, NoShow, Cancelled, Fulfilled] {
            if settled.happened() == next.happened() {
                continue;
            }
            assert!(
                matches!(
                    change(Some(&report(settled, 9)), &report(next, 9)),
                    Err(Refused::Settled { .. })
                ),
                "{settled:?} then {next:?}"
            );
        }
    }
    assert_eq!(
        change(Some(&report(Fulfilled, 9)), &report(Fulfilled, 10)),
        Err(Refused::Altered(Happened::Attended))
    );
    let mut other = report(Booked, 9);
    other.referral_id = uuid::Uuid::nil();
    assert_eq!(
        change(Some(&report(Booked, 9)), &other),
        Err(Refused::OtherReferral)
    );
}

#[test]
fn an_extract_reads_every_row_or_names_every_problem() {
    let good = format!(
        "appointment_id,referral_id,status,start,clinic_type,first_appointment\n\
         A1,{REFERRAL},booked,2026-07-01 09:30,pain-clinic,yes\n\
         A2,{REFERRAL},cancelled,,physiotherapy,no\n\
         A3,{REFERRAL},fulfilled,2026-12-01,pain-psychology,true\n"
    );
    let lines = extract::parse(good.as_bytes()).expect("valid");
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0].line, 2);
    // 09:30 in Scottish summer time is 08:30 UTC.
    assert_eq!(
        lines[0].report.when.instant(),
        Utc.with_ymd_and_hms(2026, 7, 1, 8, 30, 0).single()
    );
    assert_eq!(lines[1].report.when, When::Unknown);
    assert_eq!(
        lines[2].report.when,
        When::On(NaiveDate::from_ymd_opt(2026, 12, 1).expect("valid"))
    );

    let bad = format!(
        "appointment_id,referral_id,status,start,clinic_type,first_appointment\n\
         A1,{REFERRAL},booked,2026-07-01 09:30,pain-clinic,yes\n\
         A1,nope,waiting,2026-10-25 01:30,dermatology,maybe\n\
         =cmd,{REFERRAL},booked,,pain-clinic,yes\n"
    );
    let problems = extract::parse(bad.as_bytes()).expect_err("not valid");
    let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "line 3.appointment_id",
            "line 3.referral_id",
            "line 3.status",
            "line 3.start",
            "line 3.clinic_type",
            "line 3.first_appointment",
            "line 4.appointment_id",
            "line 4.start",
        ]
    );
    assert!(problems[3].reason.contains("twice"), "{:?}", problems[3]);

    let problems = extract::parse(b"appointment_id,status,extra\n").expect_err("not valid");
    let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
    assert!(fields.contains(&"line 1.extra"), "{fields:?}");
    assert!(fields.contains(&"line 1.referral_id"), "{fields:?}");
}
