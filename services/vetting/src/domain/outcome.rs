//! An outcome as a clinician records it, and the rules that make it
//! complete: the fields each outcome needs (and only those), the board's
//! catalogue, and the red-flag safety rule.

use pathway_common::validation::FieldError;
use pathway_proto::board::{BoardSettings, OUTCOME_CODES, outcome_kind};
use pathway_proto::v1 as proto;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Longest free text accepted (rationale, advice, reasons).
pub const MAX_TEXT: usize = 4000;

/// Outcomes that close a referral without a specialist seeing the patient:
/// with red flags they need an explicit override reason.
pub const NEEDS_OVERRIDE_WITH_RED_FLAGS: [&str; 2] = ["advice_to_referrer", "self_management"];

pub const PRIORITIES: [&str; 3] = ["urgent", "soon", "routine"];
pub const MODES: [&str; 3] = ["face_to_face", "video", "telephone"];
/// NHS Data Dictionary referral rejection reasons.
pub const REJECTION_REASONS: [(&str, &str); 3] = [
    ("01", "duplicate"),
    ("02", "inappropriate"),
    ("03", "incomplete"),
];

/// `POST /v1/referrals/{id}/outcome`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeRequest {
    /// One of `accept`, `pain_management_programme`, `pain_psychology`,
    /// `physiotherapy`, `advice_to_referrer`, `self_management`,
    /// `residential_programme`, `redirect`, `decline`, `patient_opt_in`.
    pub outcome: Option<String>,
    /// `accept` only: `urgent`, `soon` or `routine`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// `accept` only: `face_to_face`, `video` or `telephone`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// `advice_to_referrer` only: the written advice for the referrer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advice: Option<String>,
    /// `self_management` only: a partner the board configured, for a direct
    /// referral; left out for signposting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner: Option<String>,
    /// `decline` only: `01` duplicate, `02` inappropriate, `03` incomplete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection_reason: Option<String>,
    /// `decline` and `redirect` only: why, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Why the clinician chose this outcome.
    pub rationale: Option<String>,
    /// Needed, and only allowed, when a referral with red flags is closed
    /// with `advice_to_referrer` or `self_management`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub red_flag_override_reason: Option<String>,
}

/// A complete outcome, ready for `vetting.completed`: `outcome` holds the
/// codes; the free text (advice, reason, rationale, override reason) is
/// kept apart and the event carries its ids.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidOutcome {
    /// The request with blanks removed and text trimmed: what is stored.
    pub request: OutcomeRequest,
    pub outcome: proto::Outcome,
    pub rationale: String,
    pub red_flag_override_reason: Option<String>,
}

fn clean(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

impl OutcomeRequest {
    /// Check the request against the board's catalogue and the referral's
    /// red flags; every problem is named.
    pub fn validate(
        &self,
        settings: &BoardSettings,
        red_flags: &[String],
    ) -> Result<ValidOutcome, Vec<FieldError>> {
        let request = OutcomeRequest {
            outcome: clean(&self.outcome),
            priority: clean(&self.priority),
            mode: clean(&self.mode),
            advice: clean(&self.advice),
            partner: clean(&self.partner),
            rejection_reason: clean(&self.rejection_reason),
            reason: clean(&self.reason),
            rationale: clean(&self.rationale),
            red_flag_override_reason: clean(&self.red_flag_override_reason),
        };
        let mut errors = Vec::new();
        let code = match request.outcome.as_deref() {
            None => {
                errors.push(FieldError::new("outcome", "required: choose an outcome"));
                None
            }
            Some("request_information") => {
                errors.push(FieldError::new(
                    "outcome",
                    "asking the referrer for information is not an outcome: use the information request instead",
                ));
                None
            }
            Some(code) if !OUTCOME_CODES.contains(&code) => {
                errors.push(FieldError::new(
                    "outcome",
                    format!(
                        "unknown outcome {code:?}: expected one of {}",
                        OUTCOME_CODES.join(", ")
                    ),
                ));
                None
            }
            Some(code) if !settings.offers(code) => {
                errors.push(FieldError::new(
                    "outcome",
                    format!("this board does not offer {code:?}"),
                ));
                None
            }
            Some(code) => Some(code),
        };
        let mut outcome = proto::Outcome::default();
        if let Some(code) = code {
            outcome.kind = outcome_kind(code).map_or(0, |k| k as i32);
        }
        let named = |field: &str| match code {
            Some(code) => format!("only for {}, not {code}", field),
            None => format!("only for {field}"),
        };
        // Fields that belong to one outcome only.
        let is = |wanted: &[&str]| code.is_some_and(|c| wanted.contains(&c));

        match (&request.priority, is(&["accept"])) {
            (None, true) => errors.push(FieldError::new(
                "priority",
                "required for accept: urgent, soon or routine",
            )),
            (Some(p), true) => match PRIORITIES.iter().position(|x| x == p) {
                Some(i) => outcome.priority = i32::try_from(i + 1).unwrap_or(0),
                None => errors.push(FieldError::new(
                    "priority",
                    format!("unknown priority {p:?}: expected urgent, soon or routine"),
                )),
            },
            (Some(_), false) if code.is_some() => {
                errors.push(FieldError::new("priority", named("accept")));
            }
            _ => {}
        }
        match (&request.mode, is(&["accept"])) {
            (None, true) => errors.push(FieldError::new(
                "mode",
                "required for accept: face_to_face, video or telephone",
            )),
            (Some(m), true) => match MODES.iter().position(|x| x == m) {
                Some(i) => outcome.mode = i32::try_from(i + 1).unwrap_or(0),
                None => errors.push(FieldError::new(
                    "mode",
                    format!("unknown mode {m:?}: expected face_to_face, video or telephone"),
                )),
            },
            (Some(_), false) if code.is_some() => {
                errors.push(FieldError::new("mode", named("accept")));
            }
            _ => {}
        }
        match (&request.advice, is(&["advice_to_referrer"])) {
            (None, true) => errors.push(FieldError::new(
                "advice",
                "required for advice_to_referrer: the advice the referrer will receive",
            )),
            // The text stays here; the event carries its id.
            (Some(a), true) if a.chars().count() > MAX_TEXT => errors.push(FieldError::new(
                "advice",
                format!("at most {MAX_TEXT} characters"),
            )),
            (Some(_), false) if code.is_some() => {
                errors.push(FieldError::new("advice", named("advice_to_referrer")));
            }
            _ => {}
        }
        match (&request.partner, is(&["self_management"])) {
            (Some(p), true) => match settings.partner(p) {
                Some(partner) => outcome.partner = partner.code.clone(),
                None => {
                    let known: Vec<&str> =
                        settings.partners.iter().map(|p| p.code.as_str()).collect();
                    errors.push(FieldError::new(
                        "partner",
                        if known.is_empty() {
                            format!("{p:?} is not a partner of this board, which has none configured: leave it out to signpost")
                        } else {
                            format!(
                                "{p:?} is not a partner of this board: expected one of {}, or leave it out to signpost",
                                known.join(", ")
                            )
                        },
                    ));
                }
            },
            (Some(_), false) if code.is_some() => {
                errors.push(FieldError::new("partner", named("self_management")));
            }
            _ => {}
        }
        match (&request.rejection_reason, is(&["decline"])) {
            (None, true) => errors.push(FieldError::new(
                "rejection_reason",
                "required for decline: 01 duplicate, 02 inappropriate or 03 incomplete",
            )),
            (Some(r), true) => {
                if REJECTION_REASONS.iter().any(|(c, _)| c == r) {
                    outcome.rejection_reason = r.clone();
                } else {
                    errors.push(FieldError::new(
                        "rejection_reason",
                        format!("unknown reason {r:?}: expected 01 duplicate, 02 inappropriate or 03 incomplete"),
                    ));
                }
            }
            (Some(_), false) if code.is_some() => {
                errors.push(FieldError::new("rejection_reason", named("decline")));
            }
            _ => {}
        }
        match (&request.reason, is(&["decline", "redirect"])) {
            (None, true) => errors.push(FieldError::new(
                "reason",
                "required for decline and redirect: say why",
            )),
            // The text stays here; the event carries its id.
            (Some(r), true) if r.chars().count() > MAX_TEXT => errors.push(FieldError::new(
                "reason",
                format!("at most {MAX_TEXT} characters"),
            )),
            (Some(_), false) if code.is_some() => {
                errors.push(FieldError::new("reason", named("decline or redirect")));
            }
            _ => {}
        }
        match &request.rationale {
            None => errors.push(FieldError::new(
                "rationale",
                "required: say why you chose this outcome",
            )),
            Some(r) if r.chars().count() > MAX_TEXT => errors.push(FieldError::new(
                "rationale",
                format!("at most {MAX_TEXT} characters"),
            )),
            Some(_) => {}
        }
        let override_needed = !red_flags.is_empty() && is(&NEEDS_OVERRIDE_WITH_RED_FLAGS);
        match (&request.red_flag_override_reason, override_needed) {
            (None, true) => errors.push(FieldError::new(
                "red_flag_override_reason",
                format!(
                    "this referral has red flags ({}): closing it with {} needs an explicit override reason",
                    red_flags.join(", "),
                    code.unwrap_or_default()
                ),
            )),
            (Some(r), true) if r.chars().count() > MAX_TEXT => errors.push(FieldError::new(
                "red_flag_override_reason",
                format!("at most {MAX_TEXT} characters"),
            )),
            (Some(_), false) if code.is_some() => errors.push(FieldError::new(
                "red_flag_override_reason",
                "only for a referral with red flags closed with advice_to_referrer or self_management",
            )),
            _ => {}
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ValidOutcome {
            rationale: request.rationale.clone().unwrap_or_default(),
            red_flag_override_reason: request.red_flag_override_reason.clone(),
            outcome,
            request,
        })
    }
}

#[cfg(test)]
#[path = "tests/outcome.rs"]
mod tests;
