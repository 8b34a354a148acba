//! The referral's first appointment, as the board's hospital system reports
//! it through intake (`appointment.*` events): the one currently booked, the
//! first one attended, its kind of clinic, and how many were missed. Only
//! appointments marked as the first for the referral count; follow-ups
//! change nothing here.
//!
//! The wait to first appointment ends at the start of the first attended
//! one (Public Health Scotland counts a patient as seen on the day of the
//! appointment, not the day the hospital's system reported it).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use pathway_proto::days;
use pathway_proto::v1 as proto;

/// What a first appointment's event says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Happened {
    Booked,
    Attended,
    DidNotAttend,
    Cancelled,
}

/// The referral's first appointment so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FirstAppointment {
    /// The PAS's id of the first appointment booked or attended last.
    pub appointment_id: Option<String>,
    /// When the first appointment now booked is for; cleared when it is
    /// cancelled or missed.
    pub booked_for: Option<DateTime<Utc>>,
    /// When the earliest attended first appointment was.
    pub attended_at: Option<DateTime<Utc>>,
    /// Its kind of clinic: `pain_clinic`, `pain_psychology`,
    /// `physiotherapy` or `pain_management_programme`.
    pub clinic_type: Option<String>,
    /// First appointments the patient did not attend.
    pub did_not_attend: u32,
}

/// A clinic type's code, as analytics stores it.
pub fn clinic_code(clinic: proto::ClinicType) -> Option<&'static str> {
    match clinic {
        proto::ClinicType::PainClinic => Some("pain_clinic"),
        proto::ClinicType::PainPsychology => Some("pain_psychology"),
        proto::ClinicType::Physiotherapy => Some("physiotherapy"),
        proto::ClinicType::PainManagementProgramme => Some("pain_management_programme"),
        proto::ClinicType::Unspecified => None,
    }
}

/// When `appointment` is for: its instant, else noon of its Scottish day
/// (which keeps it on that day), else nothing.
fn time_of(appointment: &proto::Appointment) -> Option<DateTime<Utc>> {
    appointment
        .starts_at
        .as_ref()
        .and_then(proto::from_timestamp)
        .or_else(|| {
            NaiveDate::parse_from_str(&appointment.day, "%Y-%m-%d")
                .ok()
                .map(|day| days::start_of(day) + Duration::hours(12))
        })
}

impl FirstAppointment {
    /// Record what happened to `appointment`. Redelivered events do not
    /// reach here twice (the inbox sees to it); late ones never move an
    /// attendance already recorded to a later time.
    pub fn apply(&mut self, appointment: &proto::Appointment, happened: Happened) {
        if !appointment.first_appointment {
            return;
        }
        let id = appointment.appointment_id.as_str();
        let clinic = proto::ClinicType::try_from(appointment.clinic_type)
            .ok()
            .and_then(clinic_code)
            .map(str::to_owned);
        let at = time_of(appointment);
        let current = self.appointment_id.as_deref() == Some(id);
        match happened {
            Happened::Booked => {
                if self.attended_at.is_none() && at.is_some() {
                    self.appointment_id = Some(id.to_owned());
                    self.booked_for = at;
                    self.clinic_type = clinic;
                }
            }
            Happened::Attended => {
                let Some(at) = at else { return };
                if self.attended_at.is_none_or(|seen| at < seen) {
                    self.appointment_id = Some(id.to_owned());
                    self.attended_at = Some(at);
                    self.booked_for = Some(at);
                    self.clinic_type = clinic;
                }
            }
            Happened::DidNotAttend => {
                self.did_not_attend = self.did_not_attend.saturating_add(1);
                if current && self.attended_at.is_none() {
                    self.booked_for = None;
                }
            }
            Happened::Cancelled => {
                if current && self.attended_at.is_none() {
                    self.booked_for = None;
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "tests/first_appointment.rs"]
mod tests;
