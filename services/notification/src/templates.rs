//! The messages, rendered with minijinja from the templates in
//! `services/notification/templates/`: one per outcome for the patient, one
//! for the referrer's decision and one for a question, one for the receiving
//! service. A rendered template's first line is the subject; the rest is the
//! body. A patient's message may have versions in another language or format
//! (`gd/patient/accept`, `patient/accept.easy_read`), chosen by
//! [`Templates::variant`]; a board may override any of them, or add one.
//!
//! Every template is rendered at start-up twice, once with every field set and
//! once with every optional field empty, in strict mode: a template that names
//! a field Pathway does not give, or that fails to render, stops the start.
//!
//! Every rendering runs within the limits of the board settings document
//! ([`pathway_proto::board::render_template`]): a fuel limit on the steps it
//! takes and a cap on its output, so a board's template with a nested loop
//! fails its one message instead of holding the consumer.

use std::collections::BTreeMap;

use anyhow::Context;
use minijinja::Environment;
use pathway_proto::BoardCode;
use pathway_proto::board::{RenderError, render_template, template_environment};
use serde::Serialize;

use crate::domain::variants::{self, Format};
use crate::domain::{ChannelKind, Needs, OUTCOMES, Recipient};

/// A template's name and its text, from `templates/<name>.txt`.
macro_rules! template {
    ($name:literal) => {
        ($name, include_str!(concat!("../templates/", $name, ".txt")))
    };
}

/// Every template, by name: Pathway's English ones, then the versions of
/// the patient's (`domain::variants` names them).
pub const TEMPLATES: &[(&str, &str)] = &[
    template!("patient/accept"),
    template!("patient/pain_management_programme"),
    template!("patient/pain_psychology"),
    template!("patient/physiotherapy"),
    template!("patient/advice_to_referrer"),
    template!("patient/self_management"),
    template!("patient/residential_programme"),
    template!("patient/redirect"),
    template!("patient/decline"),
    template!("patient/patient_opt_in"),
    template!("patient/opt_in_reminder"),
    template!("patient/opt_in_closed"),
    template!("referrer/decision"),
    template!("referrer/opt_in_closed"),
    template!("referrer/info_requested"),
    template!("referrer/info_request_reminder"),
    template!("receiving_service/referral"),
    template!("referrer/handoff"),
    template!("referrer/handoff_failed"),
    template!("receiving_service/handoff"),
    template!("referrer/withdrawn"),
    template!("patient/withdrawn"),
    template!("patient/accept.easy_read"),
    template!("patient/pain_management_programme.easy_read"),
    template!("patient/pain_psychology.easy_read"),
    template!("patient/physiotherapy.easy_read"),
    template!("patient/advice_to_referrer.easy_read"),
    template!("patient/self_management.easy_read"),
    template!("patient/residential_programme.easy_read"),
    template!("patient/redirect.easy_read"),
    template!("patient/decline.easy_read"),
    template!("patient/patient_opt_in.easy_read"),
    template!("patient/opt_in_reminder.easy_read"),
    template!("patient/opt_in_closed.easy_read"),
    template!("patient/withdrawn.easy_read"),
    template!("patient/accept.large_print"),
    template!("patient/pain_management_programme.large_print"),
    template!("patient/pain_psychology.large_print"),
    template!("patient/physiotherapy.large_print"),
    template!("patient/advice_to_referrer.large_print"),
    template!("patient/self_management.large_print"),
    template!("patient/residential_programme.large_print"),
    template!("patient/redirect.large_print"),
    template!("patient/decline.large_print"),
    template!("patient/patient_opt_in.large_print"),
    template!("patient/opt_in_reminder.large_print"),
    template!("patient/opt_in_closed.large_print"),
    template!("patient/withdrawn.large_print"),
    template!("gd/patient/accept"),
    template!("gd/patient/pain_management_programme"),
    template!("gd/patient/pain_psychology"),
    template!("gd/patient/physiotherapy"),
    template!("gd/patient/advice_to_referrer"),
    template!("gd/patient/self_management"),
    template!("gd/patient/residential_programme"),
    template!("gd/patient/redirect"),
    template!("gd/patient/decline"),
    template!("gd/patient/patient_opt_in"),
];

/// The longest patient SMS body, in characters: three SMS fragments.
pub const SMS_LIMIT: usize = 459;

/// The fields a template may use. Optional ones are `none` when unknown.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Fields {
    pub referral_id: String,
    pub board: String,
    pub board_name: String,
    pub patient_name: String,
    pub patient_family_name: String,
    pub referrer_name: String,
    pub practice_code: String,
    pub outcome: Option<String>,
    pub outcome_label: Option<String>,
    pub priority: Option<String>,
    pub mode: Option<String>,
    pub partner: Option<String>,
    pub partner_name: Option<String>,
    pub reason: Option<String>,
    pub advice: Option<String>,
    pub target_date: Option<String>,
    pub opt_in_deadline: Option<String>,
    /// The patient's opt-in link, its short code for a letter, and the page
    /// that takes the code.
    pub opt_in_url: Option<String>,
    pub opt_in_code: Option<String>,
    pub opt_in_code_page: Option<String>,
    pub question: Option<String>,
    pub correction: bool,
    /// For the receiving service, what it must book: the language an
    /// interpreter is needed for, and a British Sign Language interpreter.
    pub interpreter_language: Option<String>,
    pub british_sign_language: bool,
    /// What the referrer's decision message says of the patient: how and
    /// when they were told, or that they could not be reached; unset when
    /// the board does not tell the patient.
    pub patient_told: Option<String>,
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// Load and check every template.
    pub fn load() -> anyhow::Result<Self> {
        Self::with_overrides(&BTreeMap::new())
    }

    /// Every template, with a board's own in place of Pathway's where it set
    /// them, each checked as at start-up: a board's template that names an
    /// unknown field, fails to render or is too long for an SMS is an error.
    pub fn with_overrides(overrides: &BTreeMap<String, String>) -> anyhow::Result<Self> {
        let mut env = template_environment();
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .with_context(|| format!("the template {name} does not parse"))?;
        }
        for (name, source) in overrides {
            // A board may word a version Pathway does not ship, e.g.
            // `gd/patient/physiotherapy`, of any template Pathway has.
            anyhow::ensure!(
                variants::base_of(name).is_some(),
                "there is no template {name}"
            );
            env.add_template_owned(name.clone(), source.clone())
                .with_context(|| format!("the template {name} does not parse"))?;
        }
        let templates = Self { env };
        templates.check()?;
        Ok(templates)
    }

    fn check(&self) -> anyhow::Result<()> {
        for outcome in OUTCOMES {
            anyhow::ensure!(
                TEMPLATES
                    .iter()
                    .any(|(name, _)| *name == format!("patient/{outcome}")),
                "no patient template for the outcome {outcome}"
            );
        }
        // Pathway's and the board's own; the names are copied first, since
        // the environment's list is locked while it is walked.
        let names: Vec<String> = self
            .env
            .templates()
            .map(|(name, _)| name.to_owned())
            .collect();
        for name in &names {
            let name = name.as_str();
            for fields in [sample(true), sample(false)] {
                let rendered = self
                    .render(name, &fields)
                    .with_context(|| format!("the template {name}"))?;
                anyhow::ensure!(
                    !rendered.subject.is_empty() && !rendered.body.is_empty(),
                    "the template {name} renders no subject or no body"
                );
                // A large-print version goes only by letter.
                if variants::base_of(name).is_some_and(|base| base.starts_with("patient/"))
                    && !name.ends_with(Format::LargePrint.suffix())
                {
                    anyhow::ensure!(
                        rendered.body.chars().count() <= SMS_LIMIT,
                        "the template {name} is too long for an SMS ({} characters, at most {SMS_LIMIT})",
                        rendered.body.chars().count()
                    );
                }
            }
        }
        Ok(())
    }

    /// The version of `base` that suits `needs` on `channel`, among the
    /// board's and Pathway's templates: see [`variants::choose`].
    pub fn variant(
        &self,
        base: &str,
        recipient: Recipient,
        channel: ChannelKind,
        needs: &Needs,
    ) -> String {
        variants::choose(base, recipient, channel, needs, |name| {
            self.env.get_template(name).is_ok()
        })
    }

    /// `name` rendered with `fields`, within the fuel and output limits.
    pub fn render(&self, name: &str, fields: &Fields) -> Result<Rendered, RenderError> {
        let template = self.env.get_template(name).map_err(RenderError::Failed)?;
        let text = render_template(&template, fields)?;
        let text = text.trim();
        let (subject, body) = text.split_once('\n').unwrap_or((text, ""));
        Ok(Rendered {
            subject: subject.trim().to_owned(),
            body: body.trim().to_owned(),
        })
    }
}

/// The label of an outcome in messages.
pub fn outcome_label(code: &str) -> &'static str {
    match code {
        "accept" => "accepted for the pain clinic",
        "pain_management_programme" => "referred to the pain management programme",
        "pain_psychology" => "referred to pain psychology",
        "physiotherapy" => "referred to physiotherapy",
        "advice_to_referrer" => "returned to you with advice",
        "self_management" => "self-management support",
        "residential_programme" => "referred to the residential pain management programme",
        "redirect" => "redirected to another service",
        "decline" => "not accepted",
        "patient_opt_in" => "the patient is asked to opt in",
        _ => "recorded",
    }
}

/// A board's name as people say it: `Highland`, `Greater Glasgow and Clyde`.
pub fn board_name(board: BoardCode) -> String {
    let name = board.name();
    name.strip_prefix("NHS ").unwrap_or(name).to_owned()
}

/// A partner's name from its code, e.g. `pain-association-scotland`.
pub fn service_name(code: &str) -> String {
    match code {
        "pain_management_programme" => "the pain management programme".to_owned(),
        "residential_programme" => "the residential pain management programme".to_owned(),
        other => other
            .split(['-', '_'])
            .map(|word| {
                let mut chars = word.chars();
                chars
                    .next()
                    .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(" "),
    }
}

fn sample(full: bool) -> Fields {
    let some = |text: &str| full.then(|| text.to_owned());
    Fields {
        referral_id: "0190f7a0-0000-7000-8000-000000000000".into(),
        board: "highland".into(),
        board_name: "Highland".into(),
        patient_name: "Morag".into(),
        patient_family_name: "MacLeod".into(),
        referrer_name: "Dr Ann Smith".into(),
        practice_code: "55005".into(),
        outcome: Some("accept".into()),
        outcome_label: Some("accepted for the pain clinic".into()),
        priority: some("routine"),
        mode: some("face_to_face"),
        partner: some("pain-association-scotland"),
        partner_name: some("Pain Association Scotland"),
        reason: some("Needs spinal surgical review first."),
        advice: some("Consider a trial of duloxetine."),
        target_date: some("2026-03-20"),
        opt_in_deadline: some("2026-02-10"),
        opt_in_url: some(
            "https://pathway.nhs.scot/opt-in/AZXkq1S4dACBAAAAAGnk6ZdVb7xZ1B2bKmN6pQ0vW8c3eR5tY7uI9oP2aS4dF6gH8jK0lZ",
        ),
        opt_in_code: some("7KQ2M-XH4TB"),
        opt_in_code_page: some("https://pathway.nhs.scot/opt-in"),
        question: some("Has she had imaging of the lumbar spine?"),
        correction: full,
        interpreter_language: some("Polish"),
        british_sign_language: full,
        patient_told: some("The patient has been told by SMS on 20 March 2026."),
    }
}

#[cfg(test)]
#[path = "tests/templates.rs"]
mod tests;
