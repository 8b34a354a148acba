//! What a caller sent wrong, in terms of their request: the field and the
//! reason. Domains report every failing field at once with these; the web
//! layer alone decides that a list of them is a 422.

use serde::Serialize;

/// One failing field and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    /// Path of the field in the request body, e.g. `patient.chi`.
    pub field: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Every failing field on one line, `field: reason; field: reason`, for
/// messages and logs.
pub fn describe(fields: &[FieldError]) -> String {
    fields
        .iter()
        .map(|f| format!("{}: {}", f.field, f.reason))
        .collect::<Vec<_>>()
        .join("; ")
}
