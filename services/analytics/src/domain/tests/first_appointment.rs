//! Unit tests of `first_appointment.rs`.

use super::*;
use chrono::TimeZone;

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 9, day, hour, 0, 0)
        .single()
        .expect("test data is valid")
}

fn appointment(id: &str, when: DateTime<Utc>, first: bool) -> proto::Appointment {
    proto::Appointment {
        appointment_id: id.into(),
        starts_at: Some(proto::timestamp(when)),
        day: days::day_of(when).to_string(),
        clinic_type: proto::ClinicType::PainPsychology as i32,
        first_appointment: first,
    }
}

#[test]
fn a_booking_then_an_attendance_records_the_start_and_the_clinic() {
    let mut first = FirstAppointment::default();
    first.apply(&appointment("A1", at(10, 9), true), Happened::Booked);
    assert_eq!(first.booked_for, Some(at(10, 9)));
    assert_eq!(first.attended_at, None);
    first.apply(&appointment("A1", at(10, 9), true), Happened::Attended);
    assert_eq!(first.attended_at, Some(at(10, 9)));
    assert_eq!(first.clinic_type.as_deref(), Some("pain_psychology"));
    assert_eq!(first.appointment_id.as_deref(), Some("A1"));
}

#[test]
fn a_cancelled_or_missed_booking_is_no_longer_booked_and_a_miss_is_counted() {
    let mut first = FirstAppointment::default();
    first.apply(&appointment("A1", at(10, 9), true), Happened::Booked);
    first.apply(&appointment("A1", at(10, 9), true), Happened::Cancelled);
    assert_eq!(first.booked_for, None);
    first.apply(&appointment("A2", at(12, 9), true), Happened::Booked);
    first.apply(&appointment("A2", at(12, 9), true), Happened::DidNotAttend);
    assert_eq!(first.booked_for, None);
    assert_eq!(first.did_not_attend, 1);
    assert_eq!(first.attended_at, None);
}

#[test]
fn a_follow_up_changes_nothing_and_a_later_attendance_does_not_move_the_first() {
    let mut first = FirstAppointment::default();
    first.apply(&appointment("F1", at(3, 9), false), Happened::Attended);
    assert_eq!(first, FirstAppointment::default());
    first.apply(&appointment("A1", at(10, 9), true), Happened::Attended);
    first.apply(&appointment("A2", at(20, 9), true), Happened::Attended);
    first.apply(&appointment("A3", at(25, 9), true), Happened::Booked);
    assert_eq!(first.attended_at, Some(at(10, 9)));
    assert_eq!(first.appointment_id.as_deref(), Some("A1"));
    // Cancelling another appointment leaves the attended one alone.
    first.apply(&appointment("A2", at(20, 9), true), Happened::Cancelled);
    assert_eq!(first.booked_for, Some(at(10, 9)));
}

#[test]
fn an_appointment_known_only_by_its_day_counts_on_that_scottish_day() {
    let mut first = FirstAppointment::default();
    let mut by_day = appointment("A1", at(10, 9), true);
    by_day.starts_at = None;
    by_day.day = "2026-09-10".into();
    first.apply(&by_day, Happened::Attended);
    let attended = first.attended_at.expect("attended");
    assert_eq!(days::day_of(attended).to_string(), "2026-09-10");
}
