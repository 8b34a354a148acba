//! What the notification service decides, with no I/O: who is told, on
//! which channel, with which template, for a decision or a question to the
//! referrer ([`plan`](mod@plan)); which version of a template suits the
//! patient ([`variants`]); a board's channels ([`board`]); and the life of
//! one delivery ([`status`]); how a referral ends, and when everyone has
//! been told of it ([`ending`]); what the referrer is told of the patient,
//! once known ([`told`]); a referral handed on ([`handoff`]), and the FHIR
//! Bundle a FHIR route is sent ([`handoff_fhir`]).

pub mod board;
pub mod ending;
pub mod handoff;
pub mod handoff_fhir;
pub mod plan;
pub mod status;
pub mod texts;
pub mod told;
pub mod variants;

use std::fmt;

use pathway_proto::v1 as proto;
use serde::{Deserialize, Serialize};

pub use board::{BoardChannels, DEFAULT_ACCOUNT};
pub use ending::Ending;
pub use plan::{
    Address, Cause, Contacts, DecisionFacts, OptInInvite, Planned, address_for, letter_address,
    plan, receiving_service,
};
pub use status::{IllegalTransition, Status, Transition};
pub use variants::Needs;

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == text)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum!(
    /// Who a delivery is for.
    Recipient {
        Referrer = "referrer",
        Patient = "patient",
        ReceivingService = "receiving_service",
        ServiceManager = "service_manager",
    }
);

wire_enum!(
    /// How a delivery travels.
    ChannelKind { Sms = "sms", Email = "email", Letter = "letter", Webhook = "webhook" }
);

impl Recipient {
    pub fn to_proto(self) -> proto::Recipient {
        match self {
            Recipient::Referrer => proto::Recipient::Referrer,
            Recipient::Patient => proto::Recipient::Patient,
            Recipient::ReceivingService => proto::Recipient::ReceivingService,
            Recipient::ServiceManager => proto::Recipient::ServiceManager,
        }
    }
}

impl ChannelKind {
    pub fn to_proto(self) -> proto::Channel {
        match self {
            ChannelKind::Sms => proto::Channel::Sms,
            ChannelKind::Email => proto::Channel::Email,
            ChannelKind::Letter => proto::Channel::Letter,
            ChannelKind::Webhook => proto::Channel::Webhook,
        }
    }
}

/// The outcome codes, as the decision service names them.
pub const OUTCOMES: &[&str] = &[
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

/// The code of a wire outcome kind; `None` for an unspecified one.
pub fn outcome_code(kind: proto::OutcomeKind) -> Option<&'static str> {
    use proto::OutcomeKind as K;
    let code = match kind {
        K::Unspecified => return None,
        K::Accept => "accept",
        K::PainManagementProgramme => "pain_management_programme",
        K::PainPsychology => "pain_psychology",
        K::Physiotherapy => "physiotherapy",
        K::AdviceToReferrer => "advice_to_referrer",
        K::SelfManagement => "self_management",
        K::ResidentialProgramme => "residential_programme",
        K::Redirect => "redirect",
        K::Decline => "decline",
        K::PatientOptIn => "patient_opt_in",
    };
    Some(code)
}
