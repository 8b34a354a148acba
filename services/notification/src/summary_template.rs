//! The service manager's daily summary (`service_manager/daily_summary` in
//! `services/notification/templates/`): one board's counts for one Scottish
//! day, the day in words. Pathway's own wording: a board's templates speak
//! to referrers and patients with a referral's fields, and this one has
//! none of them, so it is not among the templates a board replaces.
//!
//! Rendered within the same fuel and output limits as every template, in
//! strict mode; a first line that is the subject, like the others.

use chrono::NaiveDate;
use pathway_proto::BoardCode;
use pathway_proto::board::{RenderError, render_template, template_environment};
use pathway_proto::v1 as proto;
use serde::Serialize;

use crate::templates::Rendered;

/// The template's name, as a delivery row keeps it.
pub const NAME: &str = "service_manager/daily_summary";

const SOURCE: &str = include_str!("../templates/service_manager/daily_summary.txt");

/// One outcome's count, with its label for a manager.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OutcomeLine {
    pub label: String,
    pub count: u32,
}

/// The fields the summary's template uses.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryFields {
    pub board_name: String,
    /// The Scottish day, in words: `Tuesday 14 July 2026`.
    pub day: String,
    pub received: u32,
    pub routed_standard: u32,
    pub vetted: u32,
    pub decided_total: u32,
    pub decided: Vec<OutcomeLine>,
    pub withdrawn: u32,
    pub failed_deliveries: u64,
    pub awaiting_vetting: u32,
    pub over_vetting_target: u32,
    pub awaiting_information: u32,
    pub awaiting_opt_in: u32,
}

impl SummaryFields {
    /// The fields of `summary` for `board`'s `day`, with the deliveries
    /// that failed that day as notification counts them.
    pub fn new(
        board: BoardCode,
        day: NaiveDate,
        summary: &proto::AnalyticsDailySummary,
        failed_deliveries: u64,
    ) -> Self {
        let decided: Vec<OutcomeLine> = summary
            .decided
            .iter()
            .map(|line| OutcomeLine {
                label: outcome_label(&line.outcome).to_owned(),
                count: line.count,
            })
            .collect();
        Self {
            board_name: board.name().to_owned(),
            day: day_in_words(day),
            received: summary.received,
            routed_standard: summary.routed_standard,
            vetted: summary.vetted,
            decided_total: decided.iter().map(|line| line.count).sum(),
            decided,
            withdrawn: summary.withdrawn,
            failed_deliveries,
            awaiting_vetting: summary.awaiting_vetting,
            over_vetting_target: summary.over_vetting_target,
            awaiting_information: summary.awaiting_information,
            awaiting_opt_in: summary.awaiting_opt_in,
        }
    }
}

/// The summary rendered: the first line the subject, the rest the body.
pub fn render(fields: &SummaryFields) -> Result<Rendered, RenderError> {
    let mut env = template_environment();
    env.add_template(NAME, SOURCE)
        .map_err(RenderError::Failed)?;
    let template = env.get_template(NAME).map_err(RenderError::Failed)?;
    let text = render_template(&template, fields)?;
    let text = text.trim();
    let (subject, body) = text.split_once('\n').unwrap_or((text, ""));
    Ok(Rendered {
        subject: subject.trim().to_owned(),
        body: body.trim().to_owned(),
    })
}

/// `Tuesday 14 July 2026`.
pub fn day_in_words(day: NaiveDate) -> String {
    day.format("%A %-d %B %Y").to_string()
}

/// An outcome as a service manager reads it.
fn outcome_label(code: &str) -> &str {
    match code {
        "accept" => "accepted for the pain clinic",
        "pain_management_programme" => "pain management programme",
        "pain_psychology" => "pain psychology",
        "physiotherapy" => "physiotherapy",
        "advice_to_referrer" => "returned to the referrer with advice",
        "self_management" => "self-management support",
        "residential_programme" => "residential pain management programme",
        "redirect" => "redirected to another service",
        "decline" => "not accepted",
        "patient_opt_in" => "patient asked to opt in",
        other => other,
    }
}

#[cfg(test)]
#[path = "tests/summary_template.rs"]
mod tests;
