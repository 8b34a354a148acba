//! The `Questionnaire` a referral's `QuestionnaireResponse` answers: one
//! item per clinical field of the native request, with the same codes.
//! [`ITEMS`] is read both to publish the questionnaire and to read answers.

use serde_json::{Value, json};

use super::{CODE_SYSTEM_BASE, QUESTIONNAIRE_URL, RED_FLAG_SNOMED, SNOMED_SYSTEM, uk_core};
use crate::domain::referral::{AccessibilityNeed, ImpactLevel, PainSite, RedFlag};

/// What an item's answers are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Integer,
    Boolean,
    Text,
    /// Codes of the Pathway code system of this name.
    Coding(&'static str),
}

/// One item: its `linkId`, text, answer type, and whether it repeats.
#[derive(Debug, Clone, Copy)]
pub struct Item {
    pub link_id: &'static str,
    pub text: &'static str,
    pub answer: Answer,
    pub repeats: bool,
    pub required: bool,
}

const fn item(
    link_id: &'static str,
    text: &'static str,
    answer: Answer,
    repeats: bool,
    required: bool,
) -> Item {
    Item {
        link_id,
        text,
        answer,
        repeats,
        required,
    }
}

pub const PAIN_DURATION: &str = "pain-duration-months";
pub const PAIN_SITES: &str = "pain-sites";
pub const PAIN_INTENSITY: &str = "pain-intensity";
pub const IMPACT_FUNCTION: &str = "impact-function";
pub const IMPACT_SLEEP: &str = "impact-sleep";
pub const IMPACT_MOOD: &str = "impact-mood";
pub const RED_FLAGS: &str = "red-flags";
pub const CURRENT_TREATMENTS: &str = "current-treatments";
pub const PREVIOUS_TREATMENTS: &str = "previous-treatments";
pub const QUESTION: &str = "question";
pub const PREFERRED_CONTACT: &str = "preferred-contact";
pub const ACCESSIBILITY_NEEDS: &str = "accessibility-needs";
pub const INTERPRETER_LANGUAGE: &str = "interpreter-language";
pub const CONSENT: &str = "consent-to-remote-pathway";
pub const RE_REFERRAL: &str = "re-referral";

/// The red-flag code that says the checklist was done and nothing ticked.
pub const NO_RED_FLAGS: &str = "none";

/// Every item, in the order a form shows them.
pub const ITEMS: &[Item] = &[
    item(
        PAIN_DURATION,
        "How long has the patient had this pain (months)?",
        Answer::Integer,
        false,
        true,
    ),
    item(
        PAIN_SITES,
        "Where is the pain?",
        Answer::Coding("pain-site"),
        true,
        true,
    ),
    item(
        PAIN_INTENSITY,
        "Usual pain intensity, 0 (none) to 10 (worst imaginable)",
        Answer::Integer,
        false,
        true,
    ),
    item(
        IMPACT_FUNCTION,
        "Impact on daily function",
        Answer::Coding("impact-level"),
        false,
        true,
    ),
    item(
        IMPACT_SLEEP,
        "Impact on sleep",
        Answer::Coding("impact-level"),
        false,
        true,
    ),
    item(
        IMPACT_MOOD,
        "Impact on mood",
        Answer::Coding("impact-level"),
        false,
        true,
    ),
    item(
        RED_FLAGS,
        "Red flags ticked on the checklist (\"none\" if none)",
        Answer::Coding("red-flag"),
        true,
        true,
    ),
    item(
        CURRENT_TREATMENTS,
        "Current treatments",
        Answer::Text,
        true,
        false,
    ),
    item(
        PREVIOUS_TREATMENTS,
        "Treatments tried before",
        Answer::Text,
        true,
        false,
    ),
    item(
        QUESTION,
        "What do you ask of the pain service?",
        Answer::Text,
        false,
        true,
    ),
    item(
        PREFERRED_CONTACT,
        "How does the patient want to hear from the service?",
        Answer::Coding("contact-channel"),
        false,
        true,
    ),
    item(
        ACCESSIBILITY_NEEDS,
        "Accessibility needs",
        Answer::Coding("accessibility-need"),
        true,
        false,
    ),
    item(
        INTERPRETER_LANGUAGE,
        "Interpreter language (with the interpreter need)",
        Answer::Text,
        false,
        false,
    ),
    item(
        CONSENT,
        "The patient agrees to their referral being vetted remotely",
        Answer::Boolean,
        false,
        true,
    ),
    item(
        RE_REFERRAL,
        "A deliberate second referral while one is still open",
        Answer::Boolean,
        false,
        false,
    ),
];

/// The item of `link_id`.
pub fn find(link_id: &str) -> Option<&'static Item> {
    ITEMS.iter().find(|i| i.link_id == link_id)
}

/// The codes of Pathway's code system `name`, each with its display text.
pub fn codes(name: &str) -> Vec<&'static str> {
    match name {
        "pain-site" => PainSite::ALL.iter().map(|c| c.code()).collect(),
        "impact-level" => ImpactLevel::ALL.iter().map(|c| c.code()).collect(),
        "red-flag" => std::iter::once(NO_RED_FLAGS)
            .chain(RedFlag::ALL.iter().map(|c| c.code()))
            .collect(),
        "contact-channel" => vec!["sms", "email", "letter"],
        "accessibility-need" => AccessibilityNeed::ALL.iter().map(|c| c.code()).collect(),
        _ => Vec::new(),
    }
}

/// The URL of Pathway's code system `name`.
pub fn code_system(name: &str) -> String {
    format!("{CODE_SYSTEM_BASE}{name}")
}

/// The `Questionnaire` resource Pathway publishes.
pub fn resource() -> Value {
    let items: Vec<Value> = ITEMS
        .iter()
        .map(|i| {
            let mut item = json!({
                "linkId": i.link_id,
                "text": i.text,
                "type": match i.answer {
                    Answer::Integer => "integer",
                    Answer::Boolean => "boolean",
                    Answer::Text => "string",
                    Answer::Coding(_) => "choice",
                },
                "required": i.required,
                "repeats": i.repeats,
            });
            if let Answer::Coding(name) = i.answer {
                let system = code_system(name);
                let mut options: Vec<Value> = codes(name)
                    .into_iter()
                    .map(|code| json!({"valueCoding": {"system": system, "code": code}}))
                    .collect();
                if i.link_id == RED_FLAGS {
                    // The same flags by SNOMED CT, where a concept has the
                    // same meaning.
                    options.extend(RED_FLAG_SNOMED.iter().map(|(_, code, display)| {
                        json!({"valueCoding": {"system": SNOMED_SYSTEM, "code": code, "display": display}})
                    }));
                }
                item["answerOption"] = Value::Array(options);
            }
            item
        })
        .collect();
    json!({
        "resourceType": "Questionnaire",
        "id": "pain-referral",
        "meta": {"profile": uk_core::profile(uk_core::QUESTIONNAIRE)},
        "url": QUESTIONNAIRE_URL,
        "version": "1",
        "name": "PainReferral",
        "title": "Referral to the chronic pain service",
        "status": "active",
        "subjectType": ["Patient"],
        "publisher": "Pathway",
        "item": items,
    })
}
