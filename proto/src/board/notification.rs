//! A board's notification settings: the gateways its messages, e-mail and
//! webhooks go out on, how the referrer hears, its receiving services and
//! routes, its own wording of each template, and what it tells the patient;
//! with the names of the templates and the fields they may use.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{
    DailySummary, HandoffRoute, PaediatricRoute, handoff, host_pattern_problem, template_problem,
    webhook_url_problem,
};

/// The notification templates a board may replace, by name.
pub const NOTIFICATION_TEMPLATES: [&str; 22] = [
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
    "referrer/handoff_failed",
    "receiving_service/handoff",
    "referrer/withdrawn",
    "patient/withdrawn",
];

/// The fields a notification template may use (`{{ patient_name }}`); the
/// notification service renders every template with each of them.
pub const TEMPLATE_FIELDS: [&str; 25] = [
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
    "interpreter_language",
    "british_sign_language",
    "patient_told",
];

/// The formats a patient's template may have a version in, as the suffix of
/// its name: `patient/accept.easy_read`, `patient/accept.large_print`.
pub const TEMPLATE_FORMATS: [&str; 2] = ["easy_read", "large_print"];

/// The template of [`NOTIFICATION_TEMPLATES`] that `name` is, or is a version
/// of: a patient's template in another language (an ISO 639 code other than
/// English as a folder, `gd/patient/accept`), in one of
/// [`TEMPLATE_FORMATS`] (`patient/accept.easy_read`), or both. `None` for
/// any other name.
pub fn template_base(name: &str) -> Option<&'static str> {
    let (language, rest) = match name.split_once('/') {
        Some((first, rest))
            if (2..=3).contains(&first.len())
                && first.chars().all(|c| c.is_ascii_lowercase())
                && first != "en" =>
        {
            (true, rest)
        }
        _ => (false, name),
    };
    let (base, format) = match rest.rsplit_once('.') {
        Some((base, suffix)) if TEMPLATE_FORMATS.contains(&suffix) => (base, true),
        Some(_) => return None,
        None => (rest, false),
    };
    let known = NOTIFICATION_TEMPLATES
        .iter()
        .find(|known| **known == base)?;
    (!(language || format) || known.starts_with("patient/")).then_some(*known)
}

/// Functions every template may call besides the fields.
pub(super) const TEMPLATE_GLOBALS: [&str; 4] = ["range", "dict", "namespace", "debug"];

/// The longest template source a board may set, in characters.
pub const TEMPLATE_MAX_CHARS: usize = 4000;

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
    /// The daily summary (counts only) to the board's service manager
    /// ([`super::daily_summary`]); unset, none is sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daily_summary: Option<DailySummary>,
    /// Whether the patient is told of a `decline` decision (the referrer
    /// always is); unset, they are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tell_patient_of_decline: Option<bool>,
    /// Whether the patient is told of a `redirect` decision (the referrer
    /// always is, and the referral is handed on either way); unset, they are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tell_patient_of_redirect: Option<bool>,
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
            if template_base(name).is_none() {
                out.push((
                    field,
                    format!(
                        "unknown template: expected one of {}, or a patient's one \
                         in a language (gd/patient/accept) or a format ({})",
                        NOTIFICATION_TEMPLATES.join(", "),
                        TEMPLATE_FORMATS.join(", ")
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
        if let Some(summary) = &self.daily_summary {
            out.extend(summary.problems());
        }
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
        if let Some(summary) = &self.daily_summary {
            out.extend(summary.production_problems());
        }
        out
    }
}
