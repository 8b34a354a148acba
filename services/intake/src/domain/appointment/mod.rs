//! First appointments as the board's hospital system (PAS) reports them:
//! what one is ([`AppointmentReport`]), parsed once at the edge from a FHIR
//! R4 `Appointment` ([`fhir`]) or a line of a PAS extract ([`extract`]), and the
//! rule for a report about an appointment already recorded ([`change`]).
//!
//! An appointment is known by the PAS's own id within its board; each
//! report states where it is now (FHIR's status), so a repeated report
//! changes nothing, and a report that contradicts a settled appointment is
//! refused rather than silently rewriting what happened.

use chrono::{DateTime, NaiveDate, Utc};
use pathway_proto::days;
use pathway_proto::v1 as proto;
use uuid::Uuid;

pub mod extract;
pub mod fhir;

/// FHIR `Appointment.status` values Pathway takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppointmentStatus {
    Booked,
    Arrived,
    Fulfilled,
    NoShow,
    Cancelled,
}

impl AppointmentStatus {
    pub const CODES: &'static str = "booked, arrived, fulfilled, noshow, cancelled";

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "booked" => Some(Self::Booked),
            "arrived" => Some(Self::Arrived),
            "fulfilled" => Some(Self::Fulfilled),
            "noshow" => Some(Self::NoShow),
            "cancelled" => Some(Self::Cancelled),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Booked => "booked",
            Self::Arrived => "arrived",
            Self::Fulfilled => "fulfilled",
            Self::NoShow => "noshow",
            Self::Cancelled => "cancelled",
        }
    }

    /// What the status says happened: arrived and fulfilled both mean the
    /// patient came.
    pub fn happened(self) -> Happened {
        match self {
            Self::Booked => Happened::Booked,
            Self::Arrived | Self::Fulfilled => Happened::Attended,
            Self::NoShow => Happened::DidNotAttend,
            Self::Cancelled => Happened::Cancelled,
        }
    }
}

/// What happened to an appointment: one event each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Happened {
    Booked,
    Attended,
    DidNotAttend,
    Cancelled,
}

impl Happened {
    /// Whether the appointment is over: it was attended, missed or cancelled.
    pub fn is_settled(self) -> bool {
        !matches!(self, Self::Booked)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Booked => "booked",
            Self::Attended => "attended",
            Self::DidNotAttend => "did_not_attend",
            Self::Cancelled => "cancelled",
        }
    }
}

/// The kind of clinic: the consultant-led pain clinic, or another "most
/// appropriate clinician" of the alternative pathways.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClinicType {
    PainClinic,
    PainPsychology,
    Physiotherapy,
    PainManagementProgramme,
}

impl ClinicType {
    pub const CODES: &'static str =
        "pain-clinic, pain-psychology, physiotherapy, pain-management-programme";

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "pain-clinic" => Some(Self::PainClinic),
            "pain-psychology" => Some(Self::PainPsychology),
            "physiotherapy" => Some(Self::Physiotherapy),
            "pain-management-programme" => Some(Self::PainManagementProgramme),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::PainClinic => "pain-clinic",
            Self::PainPsychology => "pain-psychology",
            Self::Physiotherapy => "physiotherapy",
            Self::PainManagementProgramme => "pain-management-programme",
        }
    }

    pub fn to_proto(self) -> proto::ClinicType {
        match self {
            Self::PainClinic => proto::ClinicType::PainClinic,
            Self::PainPsychology => proto::ClinicType::PainPsychology,
            Self::Physiotherapy => proto::ClinicType::Physiotherapy,
            Self::PainManagementProgramme => proto::ClinicType::PainManagementProgramme,
        }
    }
}

/// The PAS's own id of an appointment: 1 to 64 letters, digits, `-`, `.`
/// or `_` (a FHIR `id`, or an identifier value of that shape).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AppointmentId(String);

impl AppointmentId {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() || text.len() > 64 {
            return Err("1 to 64 characters".into());
        }
        if !text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        {
            return Err("only letters, digits, '-', '.' and '_'".into());
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// When an appointment is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// The instant.
    At(DateTime<Utc>),
    /// Only the Scottish day (a PAS extract without times).
    On(NaiveDate),
    /// Not said (a cancellation may not say).
    Unknown,
}

impl When {
    pub fn instant(self) -> Option<DateTime<Utc>> {
        match self {
            Self::At(at) => Some(at),
            _ => None,
        }
    }

    /// The Scottish day it is for.
    pub fn day(self) -> Option<NaiveDate> {
        match self {
            Self::At(at) => Some(days::day_of(at)),
            Self::On(day) => Some(day),
            Self::Unknown => None,
        }
    }
}

/// One appointment as the PAS reports it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppointmentReport {
    pub appointment_id: AppointmentId,
    pub referral_id: Uuid,
    pub status: AppointmentStatus,
    pub when: When,
    pub clinic_type: ClinicType,
    /// The patient's first appointment for this referral (not a follow-up).
    pub first: bool,
}

impl AppointmentReport {
    /// The event's view of it.
    pub fn to_proto(&self) -> proto::Appointment {
        proto::Appointment {
            appointment_id: self.appointment_id.as_str().to_owned(),
            starts_at: self.when.instant().map(proto::timestamp),
            day: self.when.day().map(|d| d.to_string()).unwrap_or_default(),
            clinic_type: self.clinic_type.to_proto() as i32,
            first_appointment: self.first,
        }
    }

    /// Whether `other` says the same of the appointment, apart from the
    /// status code (arrived and fulfilled say the same thing).
    fn same_facts(&self, other: &Self) -> bool {
        self.referral_id == other.referral_id
            && self.when == other.when
            && self.clinic_type == other.clinic_type
            && self.first == other.first
            && self.status.happened() == other.status.happened()
    }
}

/// What a report does to an appointment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Recorded, and `Happened` is published.
    Publish(Happened),
    /// Nothing new: stored as it is (arrived → fulfilled), no event.
    Restate,
    /// Exactly what is recorded already.
    Repeat,
}

/// Why a report cannot apply to the appointment recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the appointment is recorded for another referral")]
    OtherReferral,
    #[error("the appointment was {} already: it cannot now be {}", .from.as_str(), .to.as_str())]
    Settled { from: Happened, to: Happened },
    #[error("the appointment was {} already, with other details: they cannot change now", .0.as_str())]
    Altered(Happened),
}

/// What `report` does to the appointment `recorded` (none: the first report).
///
/// A booking may move (a new time or clinic is a new `booked`) and be
/// settled (attended, missed, cancelled); a settled appointment stays as it
/// was settled: a PAS that books again books a new appointment.
pub fn change(
    recorded: Option<&AppointmentReport>,
    report: &AppointmentReport,
) -> Result<Change, Refused> {
    let Some(recorded) = recorded else {
        return Ok(Change::Publish(report.status.happened()));
    };
    if recorded.referral_id != report.referral_id {
        return Err(Refused::OtherReferral);
    }
    if recorded == report {
        return Ok(Change::Repeat);
    }
    if recorded.same_facts(report) {
        return Ok(Change::Restate);
    }
    let (from, to) = (recorded.status.happened(), report.status.happened());
    if from.is_settled() {
        return Err(if from == to {
            Refused::Altered(from)
        } else {
            Refused::Settled { from, to }
        });
    }
    Ok(Change::Publish(to))
}

#[cfg(test)]
#[path = "../tests/appointment.rs"]
mod tests;
