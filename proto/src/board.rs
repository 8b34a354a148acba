//! A board's settings: the document `board.settings_changed` carries in
//! `settings_json`, which intake validates and every service keeps a copy of.
//!
//! Every field has a default, so a board that never changed anything runs on
//! the defaults below, and a document written before a field existed still
//! reads.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::v1::OutcomeKind;

/// The 14 territorial boards, by code.
pub const BOARD_CODES: [&str; 14] = [
    "ayrshire-arran",
    "borders",
    "dumfries-galloway",
    "fife",
    "forth-valley",
    "grampian",
    "greater-glasgow-clyde",
    "highland",
    "lanarkshire",
    "lothian",
    "orkney",
    "shetland",
    "tayside",
    "western-isles",
];

/// The codes of the outcomes a vetting clinician can record, as the APIs
/// spell them.
pub const OUTCOME_CODES: [&str; 10] = [
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

/// `accept` → [`OutcomeKind::Accept`], and so on.
pub fn outcome_kind(code: &str) -> Option<OutcomeKind> {
    OUTCOME_CODES
        .iter()
        .position(|c| *c == code)
        .and_then(|i| OutcomeKind::try_from(i32::try_from(i + 1).ok()?).ok())
}

/// [`OutcomeKind::Accept`] → `accept`; `None` for the unspecified kind.
pub fn outcome_code(kind: OutcomeKind) -> Option<&'static str> {
    let index = usize::try_from(kind as i32).ok()?.checked_sub(1)?;
    OUTCOME_CODES.get(index).copied()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BoardSettings {
    /// Working days within which a referral should be vetted.
    pub vetting_target_working_days: u32,
    /// How long a clinician's claim on a referral lasts before it lapses.
    pub claim_lease_minutes: u32,
    /// Working days an information request may stay unanswered before the
    /// referrer is reminded, once, and the request shows as overdue.
    pub information_request_reminder_working_days: u32,
    /// Count Scotland's bank holidays as non-working days.
    pub scottish_bank_holidays: bool,
    /// The board's own non-working days (local holidays, closures).
    pub extra_holidays: Vec<NaiveDate>,
    /// Outcome codes this board does not offer.
    pub disabled_outcomes: Vec<String>,
    /// The board's own labels for outcome codes.
    pub outcome_labels: BTreeMap<String, String>,
    /// Third-sector partners that take direct self-management referrals.
    pub partners: Vec<Partner>,
    /// Calendar days from an `accept` decision to the target date, per priority.
    pub priority_target_days: PriorityTargets,
    /// Days a patient has to opt in after a `patient_opt_in` decision.
    pub opt_in_window_days: u32,
    /// Days before the window closes that the patient is reminded, once;
    /// never before its halfway point; 0 sends no reminder.
    pub opt_in_reminder_days: u32,
    /// How the board's messages go out and what they say; unset, the
    /// notification service's own configuration for the board applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification: Option<NotificationSettings>,
    /// The board's help and self-management information that the patient's
    /// opt-in page shows: plain text, paragraphs apart by a blank line, at
    /// most 4000 characters; unset, Pathway's own text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient_information: Option<String>,
    /// How long each kind of personal data is kept.
    pub retention: Retention,
}

impl Default for BoardSettings {
    fn default() -> Self {
        Self {
            vetting_target_working_days: 10,
            claim_lease_minutes: 30,
            information_request_reminder_working_days: 5,
            scottish_bank_holidays: true,
            extra_holidays: Vec::new(),
            disabled_outcomes: Vec::new(),
            outcome_labels: BTreeMap::new(),
            partners: vec![Partner {
                code: "pain-association-scotland".into(),
                name: "Pain Association Scotland".into(),
            }],
            priority_target_days: PriorityTargets::default(),
            opt_in_window_days: 14,
            opt_in_reminder_days: 7,
            notification: None,
            patient_information: None,
            retention: Retention::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Partner {
    /// Stable code, e.g. `pain-association-scotland`.
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PriorityTargets {
    pub urgent: u32,
    pub soon: u32,
    pub routine: u32,
}

impl Default for PriorityTargets {
    /// Urgent in four weeks, soon in eight, routine within the 12-week
    /// outpatient standard.
    fn default() -> Self {
        Self {
            urgent: 28,
            soon: 56,
            routine: 84,
        }
    }
}

impl BoardSettings {
    /// Whether the board offers `code`.
    pub fn offers(&self, code: &str) -> bool {
        OUTCOME_CODES.contains(&code) && !self.disabled_outcomes.iter().any(|d| d == code)
    }

    /// The board's label for an outcome code, or the code in words.
    pub fn label(&self, code: &str) -> String {
        self.outcome_labels
            .get(code)
            .cloned()
            .unwrap_or_else(|| default_label(code).to_owned())
    }

    pub fn partner(&self, code: &str) -> Option<&Partner> {
        self.partners.iter().find(|p| p.code == code)
    }

    /// Every problem with the document, as `(field, reason)`.
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(text) = &self.patient_information
            && (text.trim().is_empty() || text.chars().count() > 4000)
        {
            out.push((
                "patient_information".into(),
                "must be 1 to 4000 characters, or left out for Pathway's own text".into(),
            ));
        }
        if !(1..=100).contains(&self.vetting_target_working_days) {
            out.push((
                "vetting_target_working_days".into(),
                "must be 1 to 100 working days".into(),
            ));
        }
        if !(5..=480).contains(&self.claim_lease_minutes) {
            out.push((
                "claim_lease_minutes".into(),
                "must be 5 to 480 minutes".into(),
            ));
        }
        if !(1..=30).contains(&self.information_request_reminder_working_days) {
            out.push((
                "information_request_reminder_working_days".into(),
                "must be 1 to 30 working days".into(),
            ));
        }
        for (i, code) in self.disabled_outcomes.iter().enumerate() {
            if !OUTCOME_CODES.contains(&code.as_str()) {
                out.push((
                    format!("disabled_outcomes[{i}]"),
                    format!(
                        "unknown outcome {code:?}: expected one of {}",
                        OUTCOME_CODES.join(", ")
                    ),
                ));
            }
        }
        if OUTCOME_CODES.iter().all(|c| !self.offers(c)) {
            out.push((
                "disabled_outcomes".into(),
                "at least one outcome must stay enabled".into(),
            ));
        }
        for (code, label) in &self.outcome_labels {
            if !OUTCOME_CODES.contains(&code.as_str()) {
                out.push((
                    format!("outcome_labels.{code}"),
                    "not an outcome code".into(),
                ));
            } else if label.trim().is_empty() || label.len() > 80 {
                out.push((
                    format!("outcome_labels.{code}"),
                    "must be 1 to 80 characters".into(),
                ));
            }
        }
        for (i, partner) in self.partners.iter().enumerate() {
            let valid_code = !partner.code.is_empty()
                && partner.code.len() <= 64
                && partner
                    .code
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !valid_code {
                out.push((
                    format!("partners[{i}].code"),
                    "must be 1 to 64 lower-case letters, digits or hyphens".into(),
                ));
            }
            if partner.name.trim().is_empty() {
                out.push((format!("partners[{i}].name"), "must not be blank".into()));
            }
            if self.partners[..i].iter().any(|p| p.code == partner.code) {
                out.push((format!("partners[{i}].code"), "appears twice".into()));
            }
        }
        let targets = self.priority_target_days;
        for (name, days) in [
            ("urgent", targets.urgent),
            ("soon", targets.soon),
            ("routine", targets.routine),
        ] {
            if !(1..=365).contains(&days) {
                out.push((
                    format!("priority_target_days.{name}"),
                    "must be 1 to 365 days".into(),
                ));
            }
        }
        if !(targets.urgent <= targets.soon && targets.soon <= targets.routine) {
            out.push((
                "priority_target_days".into(),
                "urgent must not be later than soon, nor soon later than routine".into(),
            ));
        }
        if !(1..=90).contains(&self.opt_in_window_days) {
            out.push(("opt_in_window_days".into(), "must be 1 to 90 days".into()));
        }
        if self.opt_in_reminder_days > 90 {
            out.push(("opt_in_reminder_days".into(), "must be 0 to 90 days".into()));
        }
        if let Some(notification) = &self.notification {
            out.extend(notification.problems());
        }
        out.extend(self.retention.problems());
        out
    }
}

/// The notification templates a board may replace, by name.
pub const NOTIFICATION_TEMPLATES: [&str; 21] = [
    "patient/accept",
    "patient/pain_management_programme",
    "patient/pain_psychology",
    "patient/physiotherapy",
    "patient/advice_to_referrer",
    "patient/self_management",
    "patient/residential_programme",
    "patient/redirect",
    "patient/decline",
    "patient/patient_opt_in",
    "patient/opt_in_reminder",
    "patient/opt_in_closed",
    "referrer/decision",
    "referrer/opt_in_closed",
    "referrer/info_requested",
    "referrer/info_request_reminder",
    "receiving_service/referral",
    "referrer/handoff",
    "receiving_service/handoff",
    "referrer/withdrawn",
    "patient/withdrawn",
];

/// The fields a notification template may use (`{{ patient_name }}`); the
/// notification service renders every template with each of them.
pub const TEMPLATE_FIELDS: [&str; 22] = [
    "referral_id",
    "board",
    "board_name",
    "patient_name",
    "patient_family_name",
    "referrer_name",
    "practice_code",
    "outcome",
    "outcome_label",
    "priority",
    "mode",
    "partner",
    "partner_name",
    "reason",
    "advice",
    "target_date",
    "opt_in_deadline",
    "opt_in_url",
    "opt_in_code",
    "opt_in_code_page",
    "question",
    "correction",
];

/// Functions every template may call besides the fields.
const TEMPLATE_GLOBALS: [&str; 4] = ["range", "dict", "namespace", "debug"];

/// The longest template source a board may set, in characters.
pub const TEMPLATE_MAX_CHARS: usize = 4000;

pub mod handoff;
pub use handoff::{HandoffRoute, PaediatricRoute};
pub mod history;
mod outbound;
mod retention;
pub use outbound::{host_allowed, host_pattern_problem, non_public, url_host, webhook_url_problem};
pub use retention::Retention;
mod templates;
use templates::template_problem;
pub use templates::{
    RenderError, TEMPLATE_FUEL, TEMPLATE_MAX_OUTPUT_BYTES, render_template, template_environment,
};

/// Where a board's SMS and letters go (and e-mail, unless `email` says otherwise).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageGateway {
    /// The local folder of rendered messages.
    #[default]
    Sink,
    /// The deployment's GOV.UK Notify-compatible gateway.
    Notify,
}

/// Where a board's e-mail goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailGateway {
    Sink,
    Notify,
    /// The deployment's SMTP server.
    Smtp,
}

/// Where a board's webhooks go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookGateway {
    #[default]
    Sink,
    /// Signed HTTPS POSTs to the URLs below.
    Http,
}

/// How a board tells the GP.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferrerChannel {
    /// The board's GP system webhook (or the referral's own webhook reply address).
    #[default]
    Webhook,
    /// E-mail to the referral's reply address.
    Email,
}

/// A board's notification channels and its own templates. Secrets (the
/// Notify API key, the SMTP password, the webhook signing key) are not
/// here: they stay in the notification service's own configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotificationSettings {
    pub messages: MessageGateway,
    /// Unset: the way of `messages`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailGateway>,
    pub webhooks: WebhookGateway,
    pub referrer_channel: ReferrerChannel,
    /// The board's GP system endpoint; unset, the referral's own webhook
    /// reply address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gp_webhook_url: Option<String>,
    /// Receiving services by code (a partner's code,
    /// `pain_management_programme`, `residential_programme`) and their webhook.
    pub receiving_services: BTreeMap<String, String>,
    /// The board's own wording, by template name (e.g. `patient/accept`): a
    /// minijinja template whose first line is the subject.
    pub templates: BTreeMap<String, String>,
    /// The GOV.UK Notify account (a name under `notify_accounts` in the
    /// notification service's own configuration) the board's Notify messages
    /// go through; unset, the account named `default` (`[notify]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify_account: Option<String>,
    /// The SMTP server (a name under `smtp_servers`) the board's e-mail over
    /// SMTP goes through; unset, the server named `default` (`[smtp]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_server: Option<String>,
    /// Whether the board's webhooks (its GP system, its receiving services,
    /// a referral's own reply address) may go to loopback, private (RFC 1918,
    /// `fc00::/7`), link-local (`169.254.0.0/16`, `fe80::/10`) or any other
    /// non-public address. Off (the default), every address a URL's host
    /// resolves to is checked before connecting, and a non-public one is
    /// refused: a board's messages go only to the public hosts it named.
    pub allow_private_addresses: bool,
    /// The hosts the board's webhooks may go to: its GP systems and
    /// receiving services, by name (`gp.highland.example`), by wildcard
    /// (`*.nhs.scot`: any name under it) or by address. Every webhook URL of
    /// the board, a referral's own webhook reply address included, must be
    /// on it; empty, no webhook goes anywhere.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_hosts: Vec<String>,
    /// Where referrals the pathway does not take are handed on: a board not
    /// on the pathway, and a `redirect` ([`handoff`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standard_route: Option<HandoffRoute>,
    /// The paediatric service children's referrals go to instead of the
    /// adult pathway, and the age below which they do ([`handoff`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paediatric_route: Option<PaediatricRoute>,
    /// Whether the patient is told when the referrer withdraws a referral
    /// (the referrer always is); unset, they are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tell_patient_of_withdrawal: Option<bool>,
}

/// Whether `name` can name a Notify account or an SMTP server: 1 to 64
/// lower-case letters, digits, hyphens or underscores. Which accounts there
/// are is the notification service's own configuration.
pub fn is_account_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

impl NotificationSettings {
    /// Every problem with the section, as `(field, reason)`, under `notification.`.
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (field, name) in [
            ("notification.notify_account", &self.notify_account),
            ("notification.smtp_server", &self.smtp_server),
        ] {
            if let Some(name) = name
                && !is_account_name(name)
            {
                out.push((
                    field.into(),
                    "must name an account: 1 to 64 lower-case letters, digits, hyphens or underscores"
                        .into(),
                ));
            }
        }
        for (i, pattern) in self.allowed_hosts.iter().enumerate() {
            if let Some(reason) = host_pattern_problem(pattern) {
                out.push((format!("notification.allowed_hosts[{i}]"), reason.into()));
            }
        }
        if let Some(url) = &self.gp_webhook_url
            && let Some(reason) = self.webhook_url_problem(url)
        {
            out.push(("notification.gp_webhook_url".into(), reason));
        }
        for (code, url) in &self.receiving_services {
            let valid_code = !code.is_empty()
                && code.len() <= 64
                && code
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
            if !valid_code {
                out.push((
                    format!("notification.receiving_services.{code}"),
                    "the code must be 1 to 64 lower-case letters, digits, hyphens or underscores"
                        .into(),
                ));
            } else if let Some(reason) = self.webhook_url_problem(url) {
                out.push((format!("notification.receiving_services.{code}"), reason));
            }
        }
        for (name, source) in &self.templates {
            let field = format!("notification.templates.{name}");
            if !NOTIFICATION_TEMPLATES.contains(&name.as_str()) {
                out.push((
                    field,
                    format!(
                        "unknown template: expected one of {}",
                        NOTIFICATION_TEMPLATES.join(", ")
                    ),
                ));
                continue;
            }
            if source.trim().is_empty() || source.chars().count() > TEMPLATE_MAX_CHARS {
                out.push((
                    field,
                    format!("must be 1 to {TEMPLATE_MAX_CHARS} characters"),
                ));
                continue;
            }
            if let Some(reason) = template_problem(source) {
                out.push((field, reason));
            }
        }
        out.extend(handoff::problems(self));
        out
    }
}

impl NotificationSettings {
    /// Why the board may not send a webhook to `url`, if it may not: not
    /// https, a non-public address it does not allow, or a host not on its
    /// `allowed_hosts` ([`webhook_url_problem`]).
    pub fn webhook_url_problem(&self, url: &str) -> Option<String> {
        webhook_url_problem(url, &self.allowed_hosts, self.allow_private_addresses)
    }

    /// What a deployment running with `PATHWAY_PROFILE=production` refuses
    /// of the section besides [`Self::problems`], as `(field, reason)`: the
    /// file sink (it keeps patients' messages on the service's machine and
    /// sends nothing) and any webhook URL in plain http.
    pub fn production_problems(&self) -> Vec<(String, String)> {
        const SINK: &str = "must not be sink in production: the file sink keeps patients' messages on the service's machine and sends nothing";
        let mut out = Vec::new();
        if self.messages == MessageGateway::Sink {
            out.push(("notification.messages".into(), SINK.into()));
        }
        if self.email == Some(EmailGateway::Sink) {
            out.push(("notification.email".into(), SINK.into()));
        }
        if self.webhooks == WebhookGateway::Sink {
            out.push(("notification.webhooks".into(), SINK.into()));
        }
        const CLEAR: &str =
            "must be https in production: patient data never crosses a network in clear";
        if let Some(url) = &self.gp_webhook_url
            && !url.starts_with("https://")
        {
            out.push(("notification.gp_webhook_url".into(), CLEAR.into()));
        }
        for (code, url) in &self.receiving_services {
            if !url.starts_with("https://") {
                out.push((
                    format!("notification.receiving_services.{code}"),
                    CLEAR.into(),
                ));
            }
        }
        out.extend(handoff::production_problems(self, CLEAR));
        out
    }
}

impl BoardSettings {
    /// What production refuses of the document besides [`Self::problems`].
    pub fn production_problems(&self) -> Vec<(String, String)> {
        self.notification
            .as_ref()
            .map(NotificationSettings::production_problems)
            .unwrap_or_default()
    }
}

fn default_label(code: &str) -> &'static str {
    match code {
        "accept" => "Accept to the specialist pain clinic",
        "pain_management_programme" => "Pain management programme",
        "pain_psychology" => "Pain psychology",
        "physiotherapy" => "Physiotherapy",
        "advice_to_referrer" => "Advice to the referrer",
        "self_management" => "Self-management support",
        "residential_programme" => "National residential pain management programme",
        "redirect" => "Redirect to another specialty or route",
        "decline" => "Decline",
        "patient_opt_in" => "Patient opt-in (Active Clinical Referral Triage)",
        _ => "Unknown outcome",
    }
}

#[cfg(test)]
#[path = "tests/board.rs"]
mod tests;
