//! A board's settings: the document `board.settings_changed` carries in
//! `settings_json`, which intake validates and every service keeps a copy of.
//!
//! Every field has a default, so a board that never changed anything runs on
//! the defaults below, and a document written before a field existed still
//! reads. Its sections have modules of their own: [`notification`] (channels,
//! templates, what the patient is told), [`handoff`] (routes),
//! [`daily_summary`] (the service manager's daily counts), [`Retention`]
//! and [`history`] (settings in force on a day).

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

pub mod daily_summary;
pub use daily_summary::DailySummary;
pub mod handoff;
pub use handoff::{HandoffRoute, PaediatricRoute};
pub mod history;
mod outbound;
mod retention;
pub use outbound::{host_allowed, host_pattern_problem, non_public, url_host, webhook_url_problem};
pub use retention::Retention;
pub mod notification;
use notification::TEMPLATE_GLOBALS;
pub use notification::{
    EmailGateway, MessageGateway, NOTIFICATION_TEMPLATES, NotificationSettings, ReferrerChannel,
    TEMPLATE_FIELDS, TEMPLATE_FORMATS, TEMPLATE_MAX_CHARS, WebhookGateway, is_account_name,
    template_base,
};
mod templates;
use templates::template_problem;
pub use templates::{
    RenderError, TEMPLATE_FUEL, TEMPLATE_MAX_OUTPUT_BYTES, render_template, template_environment,
};

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
