//! Rendering a board's notification templates within limits: a fuel limit
//! (minijinja's count of the steps a rendering takes) so that a nested loop
//! cannot hold a consumer's transaction, and a cap on the output. The board
//! settings document renders each of a board's templates with example fields
//! before it is accepted; the notification service renders every message the
//! same way.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{TEMPLATE_FIELDS, TEMPLATE_GLOBALS};

mod shape;

/// The steps (minijinja instructions, its "fuel") one rendering of a template
/// may take: Pathway's own use a few hundred, a loop over a clinician's longest
/// text some tens of thousands; a nested loop runs out long before it could
/// hold a consumer's transaction.
pub const TEMPLATE_FUEL: u64 = 100_000;

/// The longest rendered message, in bytes: room for a clinician's longest
/// advice and reason with the template around them, not for a loop's output.
pub const TEMPLATE_MAX_OUTPUT_BYTES: usize = 64 * 1024;

/// Why a template did not render within its limits.
#[derive(Debug)]
pub enum RenderError {
    /// It took more than [`TEMPLATE_FUEL`] steps.
    OutOfFuel,
    /// Its output passed [`TEMPLATE_MAX_OUTPUT_BYTES`].
    TooLong,
    /// It failed otherwise (an unknown field or filter, a type error).
    Failed(minijinja::Error),
}

impl std::fmt::Display for RenderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::OutOfFuel => write!(
                f,
                "runs over the fuel limit of {TEMPLATE_FUEL} steps (a loop too many or too long)"
            ),
            Self::TooLong => write!(
                f,
                "runs over the output limit of {TEMPLATE_MAX_OUTPUT_BYTES} bytes"
            ),
            Self::Failed(error) => write!(f, "does not render: {error:#}"),
        }
    }
}

impl std::error::Error for RenderError {}

/// An environment for board templates: the fuel limit set, and unknown
/// fields an error rather than empty text.
pub fn template_environment<'source>() -> minijinja::Environment<'source> {
    let mut env = minijinja::Environment::new();
    env.set_fuel(Some(TEMPLATE_FUEL));
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env
}

/// Render `template` (from [`template_environment`]) with `context`, within
/// the fuel and output limits: the output is refused as it passes its limit,
/// never built whole first.
pub fn render_template<S: Serialize>(
    template: &minijinja::Template<'_, '_>,
    context: S,
) -> Result<String, RenderError> {
    let mut out = CappedOutput::default();
    match template.render_captured_to(context, &mut out) {
        Ok(_) => Ok(String::from_utf8_lossy(&out.bytes).into_owned()),
        Err(_) if out.over => Err(RenderError::TooLong),
        Err(error) if error.kind() == minijinja::ErrorKind::OutOfFuel => {
            Err(RenderError::OutOfFuel)
        }
        Err(error) => Err(RenderError::Failed(error)),
    }
}

/// A buffer that refuses to grow past [`TEMPLATE_MAX_OUTPUT_BYTES`].
#[derive(Default)]
struct CappedOutput {
    bytes: Vec<u8>,
    over: bool,
}

impl std::io::Write for CappedOutput {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > TEMPLATE_MAX_OUTPUT_BYTES {
            self.over = true;
            return Err(std::io::Error::other("over the output limit"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Why a template source cannot be used: it does not parse, it takes a shape
/// that could build values without bound (see [`shape`]), it names a field
/// no template is given, or rendered with example fields it fails or runs
/// over the fuel or output limit.
pub(super) fn template_problem(source: &str) -> Option<String> {
    let env = template_environment();
    let template = match env.template_from_str(source) {
        Ok(template) => template,
        Err(error) => {
            let line = error
                .line()
                .map(|l| format!(" (line {l})"))
                .unwrap_or_default();
            return Some(format!(
                "does not parse{line}: {}",
                error.detail().unwrap_or("syntax error")
            ));
        }
    };
    if let Some(problem) = shape::shape_problem(source) {
        return Some(problem);
    }
    let mut unknown: Vec<String> = template
        .undeclared_variables(false)
        .into_iter()
        .filter(|v| {
            !TEMPLATE_FIELDS.contains(&v.as_str()) && !TEMPLATE_GLOBALS.contains(&v.as_str())
        })
        .collect();
    unknown.sort();
    if !unknown.is_empty() {
        return Some(format!(
            "names unknown fields {}: a template may use {}",
            unknown.join(", "),
            TEMPLATE_FIELDS.join(", ")
        ));
    }
    [example_fields(true), example_fields(false)]
        .into_iter()
        .find_map(|fields| render_template(&template, fields).err())
        .map(|error| error.to_string())
}

/// Every template field with an example value, the optional ones empty
/// (`none`) unless `full`.
fn example_fields(full: bool) -> BTreeMap<&'static str, minijinja::Value> {
    use minijinja::Value;
    let text = |s: &str| Value::from(s);
    let optional = |s: &str| {
        if full {
            Value::from(s)
        } else {
            Value::from(())
        }
    };
    BTreeMap::from([
        ("referral_id", text("0190f7a0-0000-7000-8000-000000000000")),
        ("board", text("highland")),
        ("board_name", text("Highland")),
        ("patient_name", text("Morag")),
        ("patient_family_name", text("MacLeod")),
        ("referrer_name", text("Dr Ann Smith")),
        ("practice_code", text("55005")),
        ("outcome", text("accept")),
        ("outcome_label", text("accepted for the pain clinic")),
        ("priority", optional("routine")),
        ("mode", optional("face_to_face")),
        ("partner", optional("pain-association-scotland")),
        ("partner_name", optional("Pain Association Scotland")),
        ("reason", optional("Needs spinal surgical review first.")),
        ("advice", optional("Consider a trial of duloxetine.")),
        ("target_date", optional("2026-03-20")),
        ("opt_in_deadline", optional("2026-02-10")),
        (
            "question",
            optional("Has she had imaging of the lumbar spine?"),
        ),
        ("correction", Value::from(full)),
    ])
}
