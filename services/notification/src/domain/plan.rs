//! Who is told, on which channel, with which template, and where to: the
//! deliveries a decision, a question to the referrer (or a reminder of one
//! unanswered), a reminder to opt in
//! or the close of an opt-in window needs.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use pathway_common::pii::Pii;
use pathway_proto::days;
use pathway_proto::v1 as proto;
use serde::Serialize;

use super::board::{BoardChannels, ReferrerChannel};
use super::{ChannelKind, Recipient, outcome_code};

/// The contact details of one referral, as intake holds them. Only what a
/// delivery needs is copied into that delivery's row.
#[derive(Debug, Clone)]
pub struct Contacts {
    pub patient_given_name: Pii<String>,
    pub patient_family_name: Pii<String>,
    /// `None` when intake holds no usable preference.
    pub preferred: Option<ChannelKind>,
    pub mobile: Option<Pii<String>>,
    pub email: Option<Pii<String>>,
    pub address_lines: Pii<Vec<String>>,
    pub postcode: Option<Pii<String>>,
    pub referrer_name: String,
    pub practice_code: String,
    /// The referrer's own reply channel (`email` or `webhook`) and address.
    pub reply: Option<(ChannelKind, String)>,
    /// The patient's opt-in link of the referral's latest `patient_opt_in`
    /// decision, once intake has issued it.
    pub opt_in: Option<OptInInvite>,
    /// The clinicians' texts the event's messages quote, read from vetting
    /// with the contact details, before the transaction.
    pub texts: super::texts::CauseTexts,
    /// How the patient reads and speaks: the version of their messages, and
    /// what the receiving service must book.
    pub needs: super::Needs,
}

/// How the patient opts in: intake's link, and its short code for a letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptInInvite {
    pub decision_id: String,
    /// A credential: whoever holds it may opt the patient in.
    pub url: Pii<String>,
    pub short_code: Pii<String>,
}

impl OptInInvite {
    /// The page that takes the short code: the link's page without its token.
    pub fn code_page(&self) -> String {
        let url = self.url.expose();
        url.rsplit_once('/')
            .map_or_else(|| url.clone(), |(page, _)| page.to_owned())
    }
}

/// Why something is being said.
#[derive(Debug, Clone)]
pub enum Cause {
    Decision(DecisionFacts),
    /// A question to the referrer; again, as a reminder, once it is
    /// unanswered past the board's working days (`vetting.info_request_overdue`).
    InformationRequest {
        request_id: String,
        question: String,
        reminder: bool,
    },
    /// The patient has not opted in and the window of `decision_id` closes
    /// soon: remind the patient, with the same link and code.
    OptInReminder {
        decision_id: String,
        /// The last Scottish day to opt in, as people write it.
        opt_in_deadline: String,
    },
    /// The window passed without an opt-in and the referral is closed: tell
    /// the referrer and the patient.
    OptInClosed,
    /// The referrer withdrew the referral: confirm it to them and, where the
    /// board's settings say so, tell the patient.
    Withdrawn {
        /// The referrer's coded reason, in words (`at the patient's request`).
        reason: String,
    },
}

impl Cause {
    /// The name a delivery keeps of its cause.
    pub fn name(&self) -> &'static str {
        match self {
            Cause::Decision(_) => "decision",
            Cause::InformationRequest {
                reminder: false, ..
            } => "information_request",
            Cause::InformationRequest { reminder: true, .. } => "information_request_reminder",
            Cause::OptInReminder { .. } => "opt_in_reminder",
            Cause::OptInClosed => "opt_in_closed",
            Cause::Withdrawn { .. } => "withdrawn",
        }
    }

    /// A withdrawal: its cause, with the referrer's reason in words.
    pub fn withdrawn(withdrawn: &proto::ReferralWithdrawn) -> Self {
        let reason = match withdrawn.reason_code.as_str() {
            "patient_request" => "at the patient's request",
            "condition_resolved" => "the condition has resolved",
            "referred_elsewhere" => "referred elsewhere",
            "sent_in_error" => "sent in error",
            _ => "for another reason",
        };
        Cause::Withdrawn {
            reason: reason.to_owned(),
        }
    }

    /// A reminder due at the close of a window: its cause, with the
    /// window's last day; an error names the field that is not usable.
    pub fn reminder(due: &proto::DecisionOptInReminderDue) -> Result<Self, String> {
        let decision_id = some_text(&due.decision_id).ok_or("decision_id: missing")?;
        let closes_at = due.closes_at.as_ref().ok_or("closes_at: missing")?;
        let closes_at = proto::from_timestamp(closes_at).ok_or("closes_at: not a time")?;
        Ok(Cause::OptInReminder {
            decision_id,
            opt_in_deadline: plain_date(last_day_before(closes_at)),
        })
    }
}

/// What a decision says, as far as its messages need.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DecisionFacts {
    pub decision_id: String,
    pub outcome: String,
    pub priority: Option<String>,
    pub mode: Option<String>,
    pub partner: Option<String>,
    pub reason: Option<String>,
    pub advice: Option<String>,
    /// The Scottish day the patient should be seen by, as people write it
    /// (`20 March 2026`); the decision sets the day.
    pub target_date: Option<String>,
    /// The last Scottish day on which the patient may opt in, as people
    /// write it: see [`last_day_before`].
    pub opt_in_deadline: Option<String>,
    /// True when this decision corrects an earlier one.
    pub correction: bool,
}

impl DecisionFacts {
    /// What a `decision.recorded` says, as far as messages need; an error
    /// names the field that is not usable.
    pub fn from_event(recorded: &proto::DecisionRecorded) -> Result<Self, String> {
        let outcome = recorded
            .outcome
            .as_ref()
            .ok_or_else(|| "outcome: missing".to_owned())?;
        let code = proto::OutcomeKind::try_from(outcome.kind)
            .ok()
            .and_then(outcome_code)
            .ok_or_else(|| format!("outcome.kind: {} is not an outcome", outcome.kind))?;
        let target_date = match some_text(&recorded.target_date) {
            Some(text) => Some(plain_date(
                NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                    .map_err(|_| format!("target_date: {text:?} is not a date (YYYY-MM-DD)"))?,
            )),
            None => None,
        };
        Ok(DecisionFacts {
            decision_id: recorded.decision_id.clone(),
            outcome: code.to_owned(),
            priority: priority_code(outcome.priority),
            mode: mode_code(outcome.mode),
            partner: some_text(&outcome.partner),
            // The texts are vetting's: the application reads them by id.
            reason: None,
            advice: None,
            target_date,
            opt_in_deadline: recorded
                .opt_in_deadline
                .as_ref()
                .and_then(proto::from_timestamp)
                .map(|at| plain_date(last_day_before(at))),
            correction: !recorded.supersedes_decision_id.trim().is_empty(),
        })
    }
}

/// Text with its blanks trimmed; `None` when nothing is left.
pub fn some_text(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// The last Scottish day (Europe/London) on which something that closes at
/// `deadline` is still open: the day of the instant just before it. A window
/// closing at 14:00 on 20 March is open on 20 March; one closing at midnight
/// as 21 March begins in Scotland was last open on 20 March.
pub fn last_day_before(deadline: DateTime<Utc>) -> NaiveDate {
    days::day_of(deadline - TimeDelta::nanoseconds(1))
}

/// A date as people write it: `20 March 2026`.
fn plain_date(date: NaiveDate) -> String {
    date.format("%-d %B %Y").to_string()
}

fn priority_code(value: i32) -> Option<String> {
    match proto::Priority::try_from(value).ok()? {
        proto::Priority::Urgent => Some("urgent".into()),
        proto::Priority::Soon => Some("soon".into()),
        proto::Priority::Routine => Some("routine".into()),
        proto::Priority::Unspecified => None,
    }
}

fn mode_code(value: i32) -> Option<String> {
    match proto::AppointmentMode::try_from(value).ok()? {
        proto::AppointmentMode::FaceToFace => Some("face_to_face".into()),
        proto::AppointmentMode::Video => Some("video".into()),
        proto::AppointmentMode::Telephone => Some("telephone".into()),
        proto::AppointmentMode::Unspecified => None,
    }
}

/// Where one delivery goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    Mobile(Pii<String>),
    Email(Pii<String>),
    Letter {
        lines: Pii<Vec<String>>,
        postcode: Pii<String>,
    },
    Webhook(String),
}

impl Address {
    /// The address as stored in the delivery row.
    pub fn to_stored(&self) -> String {
        match self {
            Address::Mobile(m) => m.expose().clone(),
            Address::Email(e) => e.expose().clone(),
            Address::Webhook(url) => url.clone(),
            Address::Letter { lines, postcode } => {
                let mut all = lines.expose().clone();
                all.push(postcode.expose().clone());
                serde_json::Value::from(all).to_string()
            }
        }
    }

    /// Read back what [`Address::to_stored`] wrote.
    pub fn from_stored(channel: ChannelKind, stored: &str) -> Option<Self> {
        if stored.trim().is_empty() {
            return None;
        }
        Some(match channel {
            ChannelKind::Sms => Address::Mobile(Pii::new(stored.to_owned())),
            ChannelKind::Email => Address::Email(Pii::new(stored.to_owned())),
            ChannelKind::Webhook => Address::Webhook(stored.to_owned()),
            ChannelKind::Letter => {
                let mut lines: Vec<String> = serde_json::from_str(stored).ok()?;
                let postcode = lines.pop()?;
                Address::Letter {
                    lines: Pii::new(lines),
                    postcode: Pii::new(postcode),
                }
            }
        })
    }
}

/// One delivery to plan: to whom, how, with which template, and where to (or
/// why it cannot go anywhere).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub recipient: Recipient,
    pub channel: ChannelKind,
    /// Template name, e.g. `patient/accept`.
    pub template: String,
    /// For the receiving service: its code (a partner, or the programme).
    pub receiving_service: Option<String>,
    pub address: Result<Address, String>,
}

/// The deliveries a cause needs, one per recipient and channel.
pub fn plan(cause: &Cause, contacts: &Contacts, board: &BoardChannels) -> Vec<Planned> {
    let decision = match cause {
        Cause::Decision(decision) => decision,
        Cause::InformationRequest { .. } => return vec![to_referrer(cause, contacts, board)],
        Cause::OptInReminder { .. } => {
            return vec![to_patient("patient/opt_in_reminder", contacts)];
        }
        Cause::OptInClosed => {
            return vec![
                to_referrer(cause, contacts, board),
                to_patient("patient/opt_in_closed", contacts),
            ];
        }
        Cause::Withdrawn { .. } => {
            let mut out = vec![to_referrer(cause, contacts, board)];
            if board.tells_patient_of_withdrawal() {
                out.push(to_patient("patient/withdrawn", contacts));
            }
            return out;
        }
    };
    // A redirect's referrer hears once, from the hand-off: the decision and
    // where the referral went (`super::handoff`).
    let mut out = Vec::new();
    if decision.outcome != "redirect" {
        out.push(to_referrer(cause, contacts, board));
    }
    if board.tells_patient_of(&decision.outcome) {
        out.push(to_patient(
            &format!("patient/{}", decision.outcome),
            contacts,
        ));
    }
    if let Some(service) = receiving_service(decision) {
        out.push(Planned {
            recipient: Recipient::ReceivingService,
            channel: ChannelKind::Webhook,
            template: "receiving_service/referral".into(),
            address: board
                .receiving_services
                .get(&service)
                .map(|url| Address::Webhook(url.clone()))
                .ok_or_else(|| {
                    format!("no webhook is configured for the receiving service {service:?}")
                }),
            receiving_service: Some(service),
        });
    }
    out
}

/// The service that receives an onward referral: the third-sector partner of
/// a direct self-management referral, or the programme.
pub fn receiving_service(decision: &DecisionFacts) -> Option<String> {
    match decision.outcome.as_str() {
        "self_management" => decision.partner.clone().filter(|p| !p.trim().is_empty()),
        "pain_management_programme" | "residential_programme" => Some(decision.outcome.clone()),
        _ => None,
    }
}

fn to_referrer(cause: &Cause, contacts: &Contacts, board: &BoardChannels) -> Planned {
    let template = match cause {
        Cause::Decision(_) => "referrer/decision",
        Cause::InformationRequest {
            reminder: false, ..
        } => "referrer/info_requested",
        Cause::InformationRequest { reminder: true, .. } => "referrer/info_request_reminder",
        Cause::OptInClosed | Cause::OptInReminder { .. } => "referrer/opt_in_closed",
        Cause::Withdrawn { .. } => "referrer/withdrawn",
    };
    let (channel, address) = match board.referrer_channel {
        ReferrerChannel::Webhook => {
            let url = board.gp_webhook_url.clone().or_else(|| match &contacts.reply {
                Some((ChannelKind::Webhook, url)) => Some(url.clone()),
                _ => None,
            });
            (
                ChannelKind::Webhook,
                url.map(Address::Webhook).ok_or_else(|| {
                    "the board's GP channel is a webhook, but neither the board nor the referral gives its URL".to_owned()
                }),
            )
        }
        ReferrerChannel::Email => (
            ChannelKind::Email,
            match &contacts.reply {
                Some((ChannelKind::Email, address)) => Ok(Address::Email(Pii::new(address.clone()))),
                _ => Err("the board's GP channel is e-mail, but the referral gives no e-mail reply address".to_owned()),
            },
        ),
    };
    Planned {
        recipient: Recipient::Referrer,
        channel,
        template: template.into(),
        receiving_service: None,
        address,
    }
}

fn to_patient(template: &str, contacts: &Contacts) -> Planned {
    let preferred = contacts.preferred.unwrap_or(ChannelKind::Letter);
    let address = match preferred {
        ChannelKind::Sms => contacts
            .mobile
            .clone()
            .map(Address::Mobile)
            .ok_or_else(|| "the patient prefers SMS but gave no mobile number".to_owned()),
        ChannelKind::Email => contacts
            .email
            .clone()
            .map(Address::Email)
            .ok_or_else(|| "the patient prefers e-mail but gave no address".to_owned()),
        ChannelKind::Letter | ChannelKind::Webhook => letter_address(contacts).map_err(|_| {
            "the patient prefers a letter but the referral has no postal address".to_owned()
        }),
    };
    Planned {
        recipient: Recipient::Patient,
        channel: if preferred == ChannelKind::Webhook {
            ChannelKind::Letter
        } else {
            preferred
        },
        template: template.to_owned(),
        receiving_service: None,
        address,
    }
}

/// Where a delivery to `recipient` on `channel` goes now, from the
/// referral's contact details as intake holds them today: a retried delivery
/// whose address was emptied (sent, or never known) is addressed again.
pub fn address_for(
    recipient: Recipient,
    channel: ChannelKind,
    receiving_service: Option<&str>,
    contacts: &Contacts,
    board: &BoardChannels,
) -> Result<Address, String> {
    match (recipient, channel) {
        (Recipient::Patient, ChannelKind::Sms) => contacts
            .mobile
            .clone()
            .map(Address::Mobile)
            .ok_or_else(|| "the referral has no mobile number for the patient".to_owned()),
        (Recipient::Patient, ChannelKind::Email) => contacts
            .email
            .clone()
            .map(Address::Email)
            .ok_or_else(|| "the referral has no e-mail address for the patient".to_owned()),
        (Recipient::Patient, ChannelKind::Letter) => letter_address(contacts),
        (Recipient::ReceivingService, ChannelKind::Webhook) => {
            let service = receiving_service.unwrap_or_default();
            board
                .receiving_services
                .get(service)
                .map(|url| Address::Webhook(url.clone()))
                .ok_or_else(|| {
                    format!("no webhook is configured for the receiving service {service:?}")
                })
        }
        (Recipient::Referrer, ChannelKind::Webhook) => board
            .gp_webhook_url
            .clone()
            .or_else(|| match &contacts.reply {
                Some((ChannelKind::Webhook, url)) => Some(url.clone()),
                _ => None,
            })
            .map(Address::Webhook)
            .ok_or_else(|| {
                "neither the board nor the referral gives the GP's webhook URL".to_owned()
            }),
        (Recipient::Referrer, ChannelKind::Email) => match &contacts.reply {
            Some((ChannelKind::Email, address)) => Ok(Address::Email(Pii::new(address.clone()))),
            _ => Err("the referral gives no e-mail reply address".to_owned()),
        },
        (Recipient::ServiceManager, ChannelKind::Email) => board
            .daily_summary
            .as_ref()
            .map(|summary| Address::Email(Pii::new(summary.email.clone())))
            .ok_or_else(|| "the board sends no daily summary".to_owned()),
        (recipient, channel) => Err(format!("a {recipient} is not sent {channel} messages")),
    }
}

/// A letter's address: the patient's name first, then the lines, then the postcode.
pub fn letter_address(contacts: &Contacts) -> Result<Address, String> {
    match (
        &contacts.postcode,
        contacts.address_lines.expose().is_empty(),
    ) {
        (Some(postcode), false) => {
            let mut lines = vec![format!(
                "{} {}",
                contacts.patient_given_name.expose(),
                contacts.patient_family_name.expose()
            )];
            lines.extend(contacts.address_lines.expose().iter().cloned());
            Ok(Address::Letter {
                lines: Pii::new(lines),
                postcode: postcode.clone(),
            })
        }
        _ => Err("the referral has no postal address for the patient".to_owned()),
    }
}

#[cfg(test)]
#[path = "tests/plan.rs"]
mod tests;
