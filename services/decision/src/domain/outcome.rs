//! A vetting outcome as the decision service trusts it: parsed once from the
//! wire against the board's settings, then carried as a type whose shape
//! says which fields each outcome has.

use chrono::{DateTime, Days, LocalResult, NaiveDate, TimeDelta, TimeZone, Utc};
use pathway_proto::board::{BoardSettings, outcome_code};
use pathway_proto::days::{self, SCOTLAND};
use pathway_proto::v1 as proto;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    Urgent,
    Soon,
    Routine,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Urgent => "urgent",
            Priority::Soon => "soon",
            Priority::Routine => "routine",
        }
    }

    fn from_proto(value: i32) -> Option<Self> {
        match proto::Priority::try_from(value).ok()? {
            proto::Priority::Urgent => Some(Priority::Urgent),
            proto::Priority::Soon => Some(Priority::Soon),
            proto::Priority::Routine => Some(Priority::Routine),
            proto::Priority::Unspecified => None,
        }
    }

    fn to_proto(self) -> proto::Priority {
        match self {
            Priority::Urgent => proto::Priority::Urgent,
            Priority::Soon => proto::Priority::Soon,
            Priority::Routine => proto::Priority::Routine,
        }
    }

    /// Calendar days from the decision to the target date, as the board set them.
    pub fn target_days(self, settings: &BoardSettings) -> u32 {
        let targets = settings.priority_target_days;
        match self {
            Priority::Urgent => targets.urgent,
            Priority::Soon => targets.soon,
            Priority::Routine => targets.routine,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    FaceToFace,
    Video,
    Telephone,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::FaceToFace => "face_to_face",
            Mode::Video => "video",
            Mode::Telephone => "telephone",
        }
    }

    fn from_proto(value: i32) -> Option<Self> {
        match proto::AppointmentMode::try_from(value).ok()? {
            proto::AppointmentMode::FaceToFace => Some(Mode::FaceToFace),
            proto::AppointmentMode::Video => Some(Mode::Video),
            proto::AppointmentMode::Telephone => Some(Mode::Telephone),
            proto::AppointmentMode::Unspecified => None,
        }
    }

    fn to_proto(self) -> proto::AppointmentMode {
        match self {
            Mode::FaceToFace => proto::AppointmentMode::FaceToFace,
            Mode::Video => proto::AppointmentMode::Video,
            Mode::Telephone => proto::AppointmentMode::Telephone,
        }
    }
}

/// NHS Data Dictionary referral rejection reasons for a decline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectionReason {
    /// `01`
    Duplicate,
    /// `02`
    Inappropriate,
    /// `03`
    Incomplete,
}

impl RejectionReason {
    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "01" => Some(RejectionReason::Duplicate),
            "02" => Some(RejectionReason::Inappropriate),
            "03" => Some(RejectionReason::Incomplete),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            RejectionReason::Duplicate => "01",
            RejectionReason::Inappropriate => "02",
            RejectionReason::Incomplete => "03",
        }
    }
}

/// A valid outcome of vetting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Accept {
        priority: Priority,
        mode: Mode,
    },
    PainManagementProgramme,
    PainPsychology,
    Physiotherapy,
    /// The advice's text is vetting's: the decision keeps its id.
    AdviceToReferrer {
        advice_text_id: String,
    },
    /// `partner` is `None` for signposting, else a partner the board configured.
    SelfManagement {
        partner: Option<String>,
    },
    ResidentialProgramme,
    /// The reason's text is vetting's: the decision keeps its id.
    Redirect {
        reason_text_id: String,
    },
    Decline {
        reason_text_id: String,
        rejection_reason: RejectionReason,
    },
    PatientOptIn,
}

/// Why an outcome cannot be recorded; the text names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutcomeError {
    #[error("outcome.kind: missing or unknown")]
    UnknownKind,
    #[error("outcome.kind: the board does not offer {0}")]
    NotOffered(&'static str),
    #[error("outcome.{field}: required for {code}")]
    Missing {
        field: &'static str,
        code: &'static str,
    },
    #[error("outcome.{field}: only {only} has it, not {code}")]
    NotAllowed {
        field: &'static str,
        only: &'static str,
        code: &'static str,
    },
    #[error("outcome.partner: {0:?} is not a third-sector partner of the board")]
    UnknownPartner(String),
    #[error("outcome.rejection_reason: {0:?} is not 01, 02 or 03")]
    UnknownRejectionReason(String),
}

impl Outcome {
    /// Parse a wire outcome for a board with `settings`.
    pub fn from_proto(
        wire: &proto::Outcome,
        settings: &BoardSettings,
    ) -> Result<Self, OutcomeError> {
        let kind =
            proto::OutcomeKind::try_from(wire.kind).map_err(|_| OutcomeError::UnknownKind)?;
        let code = outcome_code(kind).ok_or(OutcomeError::UnknownKind)?;
        if !settings.offers(code) {
            return Err(OutcomeError::NotOffered(code));
        }
        let text = |value: &str| Some(value.trim().to_owned()).filter(|v| !v.is_empty());
        let required = |value: &str, field: &'static str| {
            text(value).ok_or(OutcomeError::Missing { field, code })
        };
        let only = |present: bool, field: &'static str, only: &'static str| {
            if present && code != only {
                Err(OutcomeError::NotAllowed { field, only, code })
            } else {
                Ok(())
            }
        };
        // Fields that belong to one outcome only: a priority on a decline is a
        // mistake upstream, not something to drop silently.
        only(wire.priority != 0, "priority", "accept")?;
        only(wire.mode != 0, "mode", "accept")?;
        only(
            !wire.partner.trim().is_empty(),
            "partner",
            "self_management",
        )?;
        only(
            !wire.rejection_reason.trim().is_empty(),
            "rejection_reason",
            "decline",
        )?;
        Ok(match kind {
            proto::OutcomeKind::Accept => Outcome::Accept {
                priority: Priority::from_proto(wire.priority).ok_or(OutcomeError::Missing {
                    field: "priority",
                    code,
                })?,
                mode: Mode::from_proto(wire.mode).ok_or(OutcomeError::Missing {
                    field: "mode",
                    code,
                })?,
            },
            proto::OutcomeKind::PainManagementProgramme => Outcome::PainManagementProgramme,
            proto::OutcomeKind::PainPsychology => Outcome::PainPsychology,
            proto::OutcomeKind::Physiotherapy => Outcome::Physiotherapy,
            proto::OutcomeKind::AdviceToReferrer => Outcome::AdviceToReferrer {
                advice_text_id: required(&wire.advice_text_id, "advice_text_id")?,
            },
            proto::OutcomeKind::SelfManagement => match text(&wire.partner) {
                None => Outcome::SelfManagement { partner: None },
                Some(partner) if settings.partner(&partner).is_some() => Outcome::SelfManagement {
                    partner: Some(partner),
                },
                Some(partner) => return Err(OutcomeError::UnknownPartner(partner)),
            },
            proto::OutcomeKind::ResidentialProgramme => Outcome::ResidentialProgramme,
            proto::OutcomeKind::Redirect => Outcome::Redirect {
                reason_text_id: required(&wire.reason_text_id, "reason_text_id")?,
            },
            proto::OutcomeKind::Decline => {
                let reason_text_id = required(&wire.reason_text_id, "reason_text_id")?;
                let code_text = required(&wire.rejection_reason, "rejection_reason")?;
                let rejection_reason = RejectionReason::parse(&code_text)
                    .ok_or(OutcomeError::UnknownRejectionReason(code_text))?;
                Outcome::Decline {
                    reason_text_id,
                    rejection_reason,
                }
            }
            proto::OutcomeKind::PatientOptIn => Outcome::PatientOptIn,
            proto::OutcomeKind::Unspecified => return Err(OutcomeError::UnknownKind),
        })
    }

    /// The outcome's code, as the APIs spell it.
    pub fn code(&self) -> &'static str {
        match self {
            Outcome::Accept { .. } => "accept",
            Outcome::PainManagementProgramme => "pain_management_programme",
            Outcome::PainPsychology => "pain_psychology",
            Outcome::Physiotherapy => "physiotherapy",
            Outcome::AdviceToReferrer { .. } => "advice_to_referrer",
            Outcome::SelfManagement { .. } => "self_management",
            Outcome::ResidentialProgramme => "residential_programme",
            Outcome::Redirect { .. } => "redirect",
            Outcome::Decline { .. } => "decline",
            Outcome::PatientOptIn => "patient_opt_in",
        }
    }

    pub fn to_proto(&self) -> proto::Outcome {
        let kind = pathway_proto::board::outcome_kind(self.code())
            .unwrap_or(proto::OutcomeKind::Unspecified);
        let mut wire = proto::Outcome {
            kind: kind as i32,
            ..proto::Outcome::default()
        };
        match self {
            Outcome::Accept { priority, mode } => {
                wire.priority = priority.to_proto() as i32;
                wire.mode = mode.to_proto() as i32;
            }
            Outcome::AdviceToReferrer { advice_text_id } => {
                wire.advice_text_id.clone_from(advice_text_id);
            }
            Outcome::SelfManagement { partner } => {
                wire.partner = partner.clone().unwrap_or_default();
            }
            Outcome::Redirect { reason_text_id } => wire.reason_text_id.clone_from(reason_text_id),
            Outcome::Decline {
                reason_text_id,
                rejection_reason,
            } => {
                wire.reason_text_id.clone_from(reason_text_id);
                wire.rejection_reason = rejection_reason.code().to_owned();
            }
            _ => {}
        }
        wire
    }

    /// For an accept: the Scottish day of the decision plus the board's
    /// calendar days for the priority (a Scottish day too).
    pub fn target_date(
        &self,
        decided_at: DateTime<Utc>,
        settings: &BoardSettings,
    ) -> Option<NaiveDate> {
        match self {
            Outcome::Accept { priority, .. } => days::day_of(decided_at)
                .checked_add_days(Days::new(u64::from(priority.target_days(settings)))),
            _ => None,
        }
    }

    /// For a patient opt-in: when the patient's window to opt back in
    /// closes. The board's window is counted in Scottish days: the deadline
    /// is the time of the decision on Scotland's clock, that many days later,
    /// so the day a patient is told is the Scottish day of the decision plus
    /// the window even when the clocks change in between.
    pub fn opt_in_deadline(
        &self,
        decided_at: DateTime<Utc>,
        settings: &BoardSettings,
    ) -> Option<DateTime<Utc>> {
        match self {
            Outcome::PatientOptIn => same_time_days_later(decided_at, settings.opt_in_window_days),
            _ => None,
        }
    }
}

/// `at` on Scotland's clock, `n` Scottish days later. A time the clocks skip
/// that day (01:00 to 02:00 on the last Sunday of March) is read an hour
/// later, the same instant on the clock from before the change; a time they
/// repeat (01:00 to 02:00 on the last Sunday of October) is the later of the
/// two, so the window is never shorter than the days it promises.
fn same_time_days_later(at: DateTime<Utc>, n: u32) -> Option<DateTime<Utc>> {
    let wall = days::local(at)
        .naive_local()
        .checked_add_days(Days::new(u64::from(n)))?;
    let local = match SCOTLAND.from_local_datetime(&wall) {
        LocalResult::Single(t) | LocalResult::Ambiguous(_, t) => Some(t),
        LocalResult::None => SCOTLAND
            .from_local_datetime(&(wall + TimeDelta::hours(1)))
            .earliest(),
    };
    local.map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
#[path = "tests/outcome.rs"]
mod tests;
