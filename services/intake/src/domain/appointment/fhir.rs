//! A FHIR R4 `Appointment` as the board's hospital system sends it, read
//! once into an [`AppointmentReport`]; every problem comes back at once,
//! each named by the FHIRPath of its element (`Appointment.basedOn[0]`).
//!
//! Only the elements Pathway uses are read (serde structs of those alone,
//! rather than a whole FHIR model): `identifier` (or `id`), `status`,
//! `start`, `basedOn`, `serviceType`, `appointmentType`. Everything else,
//! participants included, is ignored and never stored.
//!
//! - `basedOn`: the referral, as `ServiceRequest/<referral id>` or as an
//!   identifier of the system [`REFERRAL_SYSTEM`] with the referral id.
//! - `identifier[0].value` (else `id`): the PAS's own id of the appointment.
//! - `serviceType`: a coding of [`CLINIC_TYPE_SYSTEM`].
//! - `appointmentType`: a coding of [`APPOINTMENT_TYPE_SYSTEM`] (`first`,
//!   `follow-up`), or HL7 v2 table 0276's `FOLLOWUP`.
//! - `start`: a FHIR `instant` (with its offset); needed unless cancelled.

use chrono::DateTime;
use pathway_common::validation::FieldError;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{AppointmentId, AppointmentReport, AppointmentStatus, ClinicType, When};

/// Identifier system of a Pathway referral id, shared with notification's
/// hand-offs to FHIR servers.
pub use pathway_proto::fhir::REFERRAL_SYSTEM;
/// Code system of Pathway's clinic types.
pub const CLINIC_TYPE_SYSTEM: &str = "https://pathway.scot.nhs.uk/fhir/CodeSystem/clinic-type";
/// Code system of first or follow-up appointments.
pub const APPOINTMENT_TYPE_SYSTEM: &str =
    "https://pathway.scot.nhs.uk/fhir/CodeSystem/appointment-type";
/// HL7 v2 table 0276, whose `FOLLOWUP` some hospital systems send.
pub const V2_APPOINTMENT_REASON_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v2-0276";

/// One problem, as a FHIR `OperationOutcome.issue` will carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// FHIR issue type: `structure`, `required`, `value`, `code-invalid`.
    pub code: &'static str,
    /// FHIRPath of the element.
    pub expression: String,
    pub diagnostics: String,
}

impl Issue {
    pub fn new(
        code: &'static str,
        expression: impl Into<String>,
        diagnostics: impl Into<String>,
    ) -> Self {
        Self {
            code,
            expression: expression.into(),
            diagnostics: diagnostics.into(),
        }
    }
}

impl From<Issue> for FieldError {
    fn from(issue: Issue) -> Self {
        FieldError::new(issue.expression, issue.diagnostics)
    }
}

/// An `Appointment` read, with where its referral was named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAppointment {
    pub report: AppointmentReport,
    /// FHIRPath of the `basedOn` entry that named the referral.
    pub referral_path: String,
}

#[derive(Debug, Deserialize)]
struct Identifier {
    system: Option<String>,
    value: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Reference {
    reference: Option<String>,
    identifier: Option<Identifier>,
}

#[derive(Debug, Deserialize)]
struct Coding {
    system: Option<String>,
    code: Option<String>,
}

#[derive(Debug, Deserialize)]
struct CodeableConcept {
    #[serde(default)]
    coding: Vec<Coding>,
}

/// Read `element` of `resource` as a `T`, or say what it should have been.
fn element<T: DeserializeOwned>(
    resource: &Map<String, Value>,
    element: &str,
    shape: &str,
    issues: &mut Vec<Issue>,
) -> Option<T> {
    let value = resource.get(element).filter(|v| !v.is_null())?;
    serde_json::from_value(value.clone())
        .map_err(|_| {
            issues.push(Issue::new(
                "structure",
                format!("Appointment.{element}"),
                format!("must be {shape}"),
            ));
        })
        .ok()
}

/// Read `body` as a FHIR `Appointment`: the report, or every problem.
pub fn parse(body: &[u8]) -> Result<ParsedAppointment, Vec<Issue>> {
    let resource: Map<String, Value> = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => map,
        Ok(_) => {
            return Err(vec![Issue::new(
                "structure",
                "Appointment",
                "the body must be a JSON object: a FHIR Appointment resource",
            )]);
        }
        Err(e) => {
            return Err(vec![Issue::new(
                "structure",
                "Appointment",
                format!("the body is not JSON: {e}"),
            )]);
        }
    };
    let mut issues = Vec::new();
    match resource.get("resourceType").and_then(Value::as_str) {
        Some("Appointment") => {}
        Some(other) => {
            return Err(vec![Issue::new(
                "structure",
                "Appointment.resourceType",
                format!("expected an Appointment, not {other:?}"),
            )]);
        }
        None => {
            return Err(vec![Issue::new(
                "required",
                "Appointment.resourceType",
                "required: \"Appointment\"",
            )]);
        }
    }

    let appointment_id = appointment_id(&resource, &mut issues);
    let status = match element::<String>(&resource, "status", "a code", &mut issues) {
        None if resource.get("status").is_none_or(Value::is_null) => {
            issues.push(Issue::new(
                "required",
                "Appointment.status",
                format!("required: one of {}", AppointmentStatus::CODES),
            ));
            None
        }
        None => None,
        Some(code) => AppointmentStatus::parse(&code).or_else(|| {
            issues.push(Issue::new(
                "code-invalid",
                "Appointment.status",
                format!(
                    "{code:?} is not taken: expected one of {}",
                    AppointmentStatus::CODES
                ),
            ));
            None
        }),
    };
    let start = element::<String>(&resource, "start", "a FHIR instant", &mut issues).and_then(
        |text| {
            DateTime::parse_from_rfc3339(&text)
                .map(|at| at.to_utc())
                .map_err(|_| {
                    issues.push(Issue::new(
                        "value",
                        "Appointment.start",
                        format!(
                            "{text:?} is not a FHIR instant, e.g. 2026-09-10T09:30:00+01:00 (with its offset)"
                        ),
                    ));
                })
                .ok()
        },
    );
    if start.is_none()
        && resource.get("start").is_none_or(Value::is_null)
        && status.is_some_and(|s| s != AppointmentStatus::Cancelled)
    {
        issues.push(Issue::new(
            "required",
            "Appointment.start",
            "required unless the appointment is cancelled",
        ));
    }
    let referral = referral(&resource, &mut issues);
    let clinic_type = clinic_type(&resource, &mut issues);
    let first = first_appointment(&resource, &mut issues);

    match (appointment_id, status, referral, clinic_type, first) {
        (
            Some(appointment_id),
            Some(status),
            Some((referral_id, referral_path)),
            Some(clinic_type),
            Some(first),
        ) if issues.is_empty() => Ok(ParsedAppointment {
            report: AppointmentReport {
                appointment_id,
                referral_id,
                status,
                when: start.map_or(When::Unknown, When::At),
                clinic_type,
                first,
            },
            referral_path,
        }),
        _ => Err(issues),
    }
}

/// `identifier[0].value`, else `id`.
fn appointment_id(resource: &Map<String, Value>, issues: &mut Vec<Issue>) -> Option<AppointmentId> {
    let identifiers: Vec<Identifier> =
        element(resource, "identifier", "a list of identifiers", issues).unwrap_or_default();
    let (path, text) = match identifiers.first() {
        Some(identifier) => match identifier.value.as_deref() {
            Some(value) => ("Appointment.identifier[0].value", value.to_owned()),
            None => {
                issues.push(Issue::new(
                    "required",
                    "Appointment.identifier[0].value",
                    "required: the hospital system's id of the appointment",
                ));
                return None;
            }
        },
        None => match element::<String>(resource, "id", "an id", issues) {
            Some(id) => ("Appointment.id", id),
            None => {
                issues.push(Issue::new(
                    "required",
                    "Appointment.identifier",
                    "required: the hospital system's id of the appointment (identifier[0].value, or id)",
                ));
                return None;
            }
        },
    };
    AppointmentId::parse(&text)
        .map_err(|reason| issues.push(Issue::new("value", path, reason)))
        .ok()
}

/// The referral named in `basedOn`: its id and the path that named it.
fn referral(resource: &Map<String, Value>, issues: &mut Vec<Issue>) -> Option<(Uuid, String)> {
    let Some(based_on) =
        element::<Vec<Reference>>(resource, "basedOn", "a list of references", issues)
    else {
        if resource.get("basedOn").is_none_or(Value::is_null) {
            issues.push(Issue::new(
                "required",
                "Appointment.basedOn",
                "required: the referral, as ServiceRequest/<referral id>",
            ));
        }
        return None;
    };
    let mut found = None;
    for (i, reference) in based_on.iter().enumerate() {
        let path = format!("Appointment.basedOn[{i}]");
        let named = if let Some(text) = reference.reference.as_deref() {
            let Some(id) = text.strip_prefix("ServiceRequest/") else {
                continue;
            };
            Some((id.to_owned(), format!("{path}.reference")))
        } else {
            reference
                .identifier
                .as_ref()
                .filter(|id| id.system.as_deref() == Some(REFERRAL_SYSTEM))
                .map(|id| {
                    (
                        id.value.clone().unwrap_or_default(),
                        format!("{path}.identifier.value"),
                    )
                })
        };
        let Some((id, id_path)) = named else { continue };
        match Uuid::parse_str(&id) {
            Ok(uuid) if found.is_none() => found = Some((uuid, path)),
            Ok(_) => {
                issues.push(Issue::new(
                    "value",
                    path,
                    "only one referral may be named: an appointment is for one referral",
                ));
                return None;
            }
            Err(_) => {
                issues.push(Issue::new(
                    "value",
                    id_path,
                    format!("{id:?} is not a Pathway referral id (a UUID)"),
                ));
                return None;
            }
        }
    }
    if found.is_none()
        && issues
            .iter()
            .all(|i| !i.expression.starts_with("Appointment.basedOn"))
    {
        issues.push(Issue::new(
            "required",
            "Appointment.basedOn",
            format!(
                "no entry names a Pathway referral: use ServiceRequest/<referral id>, or an identifier of the system {REFERRAL_SYSTEM}"
            ),
        ));
    }
    found
}

fn clinic_type(resource: &Map<String, Value>, issues: &mut Vec<Issue>) -> Option<ClinicType> {
    let concepts: Vec<CodeableConcept> = element(
        resource,
        "serviceType",
        "a list of CodeableConcepts",
        issues,
    )
    .unwrap_or_default();
    for (i, concept) in concepts.iter().enumerate() {
        for (j, coding) in concept.coding.iter().enumerate() {
            if coding.system.as_deref() != Some(CLINIC_TYPE_SYSTEM) {
                continue;
            }
            let code = coding.code.as_deref().unwrap_or_default();
            return ClinicType::parse(code).or_else(|| {
                issues.push(Issue::new(
                    "code-invalid",
                    format!("Appointment.serviceType[{i}].coding[{j}].code"),
                    format!(
                        "{code:?} is not a clinic type: expected one of {}",
                        ClinicType::CODES
                    ),
                ));
                None
            });
        }
    }
    if !issues
        .iter()
        .any(|i| i.expression.starts_with("Appointment.serviceType"))
    {
        issues.push(Issue::new(
            "required",
            "Appointment.serviceType",
            format!(
                "required: a coding of {CLINIC_TYPE_SYSTEM}, one of {}",
                ClinicType::CODES
            ),
        ));
    }
    None
}

fn first_appointment(resource: &Map<String, Value>, issues: &mut Vec<Issue>) -> Option<bool> {
    let concept: Option<CodeableConcept> =
        element(resource, "appointmentType", "a CodeableConcept", issues);
    for (j, coding) in concept.iter().flat_map(|c| c.coding.iter()).enumerate() {
        let code = coding.code.as_deref().unwrap_or_default();
        match coding.system.as_deref() {
            Some(APPOINTMENT_TYPE_SYSTEM) => {
                return match code {
                    "first" => Some(true),
                    "follow-up" => Some(false),
                    _ => {
                        issues.push(Issue::new(
                            "code-invalid",
                            format!("Appointment.appointmentType.coding[{j}].code"),
                            format!("{code:?}: expected first or follow-up"),
                        ));
                        None
                    }
                };
            }
            Some(V2_APPOINTMENT_REASON_SYSTEM) if code == "FOLLOWUP" => return Some(false),
            _ => {}
        }
    }
    if !issues
        .iter()
        .any(|i| i.expression.starts_with("Appointment.appointmentType"))
    {
        issues.push(Issue::new(
            "required",
            "Appointment.appointmentType",
            format!("required: a coding of {APPOINTMENT_TYPE_SYSTEM}, first or follow-up"),
        ));
    }
    None
}
