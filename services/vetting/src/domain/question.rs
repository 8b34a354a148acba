//! A question to the referrer, as a clinician may ask it.

use pathway_common::validation::FieldError;

/// Longest question to a referrer.
pub const MAX_QUESTION: usize = 2000;

/// The question, trimmed: present and not too long.
pub fn valid_question(question: Option<&str>) -> Result<&str, Vec<FieldError>> {
    let question = question.map(str::trim).unwrap_or("");
    if question.is_empty() {
        return Err(vec![FieldError::new(
            "question",
            "required: what do you need the referrer to tell you?",
        )]);
    }
    if question.chars().count() > MAX_QUESTION {
        return Err(vec![FieldError::new(
            "question",
            format!("at most {MAX_QUESTION} characters"),
        )]);
    }
    Ok(question)
}
