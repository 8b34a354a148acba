//! A referral `Bundle` read into the native [`ReferralRequest`], with the
//! FHIRPath each native field came from, so that the native rules' errors
//! can be answered naming the element the GP system sent.
//!
//! The Bundle is of type `collection` and holds one each of `ServiceRequest`
//! (the service asked for, and the board as `performer`), `Patient` (CHI,
//! name, birth date, gender, address, telecom), `Practitioner` (the
//! referring clinician's name; an `email` or `url` telecom for the reply),
//! `Organization` (the practice code) and `QuestionnaireResponse` (the
//! clinical content, against [`QUESTIONNAIRE_URL`]). A `PractitionerRole`
//! may come too and is not read. Resources are found by type, not by
//! reference. Only the elements named are read (serde structs of those
//! alone); nothing else is stored.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::questionnaire::{self, Answer};
use super::{
    BOARD_SYSTEM, CHI_SYSTEM, Issue, PAIN_SERVICE, PAIN_SERVICE_SNOMED, PRACTICE_SYSTEM,
    QUESTIONNAIRE_URL, RED_FLAG_SNOMED, SERVICE_SYSTEM, SNOMED_SYSTEM,
};
use crate::domain::referral::{
    AddressRequest, ClinicalRequest, ContactRequest, ImpactRequest, PatientRequest,
    ReferralRequest, ReferrerRequest,
};

/// A Bundle read: the native request, where each field came from, and the
/// Bundle's identifier as an idempotency key.
#[derive(Debug, Clone)]
pub struct ParsedReferral {
    pub request: ReferralRequest,
    pub paths: FieldPaths,
    /// `Bundle.identifier` as `system|value`, when there is one.
    pub bundle_key: Option<String>,
}

/// Native field (`patient.chi`) to the FHIRPath it was read from.
#[derive(Debug, Clone, Default)]
pub struct FieldPaths(BTreeMap<String, String>);

impl FieldPaths {
    fn set(&mut self, field: impl Into<String>, path: impl Into<String>) {
        self.0.insert(field.into(), path.into());
    }

    /// The FHIRPath of a native field: its own, else its list's, else its
    /// parent's, else `Bundle`.
    pub fn path_of(&self, field: &str) -> String {
        let mut field = field;
        loop {
            if let Some(path) = self.0.get(field) {
                return path.clone();
            }
            let parent = match field.rfind(['.', '[']) {
                Some(at) => &field[..at],
                None => return "Bundle".to_owned(),
            };
            field = parent;
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct Identifier {
    system: Option<String>,
    value: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Coding {
    system: Option<String>,
    code: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct CodeableConcept {
    #[serde(default)]
    coding: Vec<Coding>,
}

#[derive(Debug, Default, Deserialize)]
struct Reference {
    identifier: Option<Identifier>,
}

#[derive(Debug, Default, Deserialize)]
struct HumanName {
    text: Option<String>,
    family: Option<String>,
    #[serde(default)]
    given: Vec<String>,
    #[serde(default)]
    prefix: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Address {
    #[serde(rename = "use")]
    usage: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    line: Vec<String>,
    postal_code: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ContactPoint {
    system: Option<String>,
    value: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Patient {
    #[serde(default)]
    identifier: Vec<Identifier>,
    #[serde(default)]
    name: Vec<HumanName>,
    gender: Option<String>,
    birth_date: Option<String>,
    #[serde(default)]
    address: Vec<Address>,
    #[serde(default)]
    telecom: Vec<ContactPoint>,
    #[serde(default)]
    communication: Vec<PatientCommunication>,
}

/// A language the patient speaks (`Patient.communication`).
#[derive(Debug, Default, Deserialize)]
struct PatientCommunication {
    language: Option<CodeableConcept>,
    preferred: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
struct Practitioner {
    #[serde(default)]
    name: Vec<HumanName>,
    #[serde(default)]
    telecom: Vec<ContactPoint>,
}

#[derive(Debug, Default, Deserialize)]
struct Organization {
    #[serde(default)]
    identifier: Vec<Identifier>,
}

#[derive(Debug, Default, Deserialize)]
struct ServiceRequest {
    status: Option<String>,
    intent: Option<String>,
    code: Option<CodeableConcept>,
    #[serde(default)]
    performer: Vec<Reference>,
}

#[derive(Debug, Default, Deserialize)]
struct QuestionnaireResponse {
    questionnaire: Option<String>,
    status: Option<String>,
    #[serde(default)]
    item: Vec<ResponseItem>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResponseItem {
    link_id: Option<String>,
    #[serde(default)]
    answer: Vec<ItemAnswer>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemAnswer {
    value_integer: Option<i64>,
    value_boolean: Option<bool>,
    value_string: Option<String>,
    value_coding: Option<Coding>,
}

#[derive(Debug, Deserialize)]
struct Bundle {
    #[serde(rename = "type")]
    kind: Option<String>,
    identifier: Option<Identifier>,
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    resource: Option<Map<String, Value>>,
}

/// Whether the problems found mean the body is not a Bundle at all (400)
/// rather than a Bundle with elements not valid (422).
pub fn not_a_bundle(issues: &[Issue]) -> bool {
    issues
        .iter()
        .any(|i| i.expression == "Bundle" || i.expression == "Bundle.resourceType")
}

/// Read `body` as a referral Bundle: the native request, or every problem
/// in the Bundle's own shape (the native rules are applied later).
pub fn parse(body: &[u8]) -> Result<ParsedReferral, Vec<Issue>> {
    let value = match serde_json::from_slice::<Value>(body) {
        Ok(value @ Value::Object(_)) => value,
        Ok(_) => {
            return Err(vec![Issue::new(
                "structure",
                "Bundle",
                "the body must be a JSON object: a FHIR Bundle resource",
            )]);
        }
        Err(e) => {
            return Err(vec![Issue::new(
                "structure",
                "Bundle",
                format!("the body is not JSON: {e}"),
            )]);
        }
    };
    match value.get("resourceType").and_then(Value::as_str) {
        Some("Bundle") => {}
        Some(other) => {
            return Err(vec![Issue::new(
                "structure",
                "Bundle.resourceType",
                format!("expected a Bundle, not {other:?}"),
            )]);
        }
        None => {
            return Err(vec![Issue::new(
                "required",
                "Bundle.resourceType",
                "required: \"Bundle\"",
            )]);
        }
    }
    let bundle: Bundle = serde_json::from_value(value).map_err(|e| {
        vec![Issue::new(
            "structure",
            "Bundle",
            format!("not a FHIR Bundle: {e}"),
        )]
    })?;
    let mut reader = Reader::default();
    match bundle.kind.as_deref() {
        Some("collection") => {}
        Some(other) => reader.issue(
            "code-invalid",
            "Bundle.type",
            format!("{other:?} is not taken: send the referral as a \"collection\""),
        ),
        None => reader.issue("required", "Bundle.type", "required: \"collection\""),
    }
    let bundle_key = match &bundle.identifier {
        Some(Identifier {
            value: Some(value), ..
        }) => {
            let system = bundle
                .identifier
                .as_ref()
                .and_then(|i| i.system.as_deref())
                .unwrap_or_default();
            let key = format!("{system}|{}", value.trim());
            if value.trim().is_empty()
                || key.len() > 255
                || !key.chars().all(|c| c.is_ascii_graphic())
            {
                reader.issue(
                    "value",
                    "Bundle.identifier.value",
                    "system|value must be 1 to 255 visible ASCII characters",
                );
                None
            } else {
                Some(key)
            }
        }
        _ => None,
    };

    let mut found: BTreeMap<&'static str, (String, Map<String, Value>)> = BTreeMap::new();
    for (i, entry) in bundle.entry.into_iter().enumerate() {
        let path = format!("Bundle.entry[{i}].resource");
        let Some(resource) = entry.resource else {
            reader.issue("required", path, "required: each entry holds a resource");
            continue;
        };
        let kind = resource
            .get("resourceType")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let kind = match kind {
            "ServiceRequest" => "ServiceRequest",
            "Patient" => "Patient",
            "Practitioner" => "Practitioner",
            "Organization" => "Organization",
            "QuestionnaireResponse" => "QuestionnaireResponse",
            "PractitionerRole" => continue,
            other => {
                reader.issue(
                    "not-supported",
                    format!("{path}.resourceType"),
                    format!(
                        "{other:?} is not read: a referral Bundle holds a ServiceRequest, Patient, Practitioner, PractitionerRole, Organization and QuestionnaireResponse"
                    ),
                );
                continue;
            }
        };
        if found.contains_key(kind) {
            reader.issue(
                "structure",
                path,
                format!("a second {kind}: a referral Bundle holds one"),
            );
            continue;
        }
        found.insert(kind, (path, resource));
    }
    for kind in [
        "ServiceRequest",
        "Patient",
        "Practitioner",
        "Organization",
        "QuestionnaireResponse",
    ] {
        if !found.contains_key(kind) {
            reader.issue(
                "required",
                "Bundle.entry",
                format!("required: an entry with the {kind}"),
            );
        }
    }
    let mut take = |kind: &str| found.remove(kind).unwrap_or_default();
    let (service_path, service) = take("ServiceRequest");
    let (patient_path, patient) = take("Patient");
    let (practitioner_path, practitioner) = take("Practitioner");
    let (organization_path, organization) = take("Organization");
    let (response_path, response) = take("QuestionnaireResponse");
    if !reader.issues.is_empty() {
        return Err(reader.issues);
    }

    let service: ServiceRequest = reader.resource(&service_path, service);
    let patient: Patient = reader.resource(&patient_path, patient);
    let practitioner: Practitioner = reader.resource(&practitioner_path, practitioner);
    let organization: Organization = reader.resource(&organization_path, organization);
    let response: QuestionnaireResponse = reader.resource(&response_path, response);
    if !reader.issues.is_empty() {
        return Err(reader.issues);
    }

    let board = reader.service_request(&service_path, &service);
    let answers = reader.answers(&response_path, &response);
    let patient = reader.patient(&patient_path, &patient, &answers);
    let referrer = reader.referrer(
        &practitioner_path,
        &practitioner,
        &organization_path,
        &organization,
    );
    let clinical = reader.clinical(&answers);
    let consent_to_remote_pathway = answers.boolean(
        &mut reader,
        questionnaire::CONSENT,
        "consent_to_remote_pathway",
    );
    let re_referral = answers
        .boolean(&mut reader, questionnaire::RE_REFERRAL, "re_referral")
        .unwrap_or(false);
    if !reader.issues.is_empty() {
        return Err(reader.issues);
    }
    reader.paths.set("patient", patient_path);
    reader.paths.set("referrer", practitioner_path);
    reader.paths.set("clinical", response_path);
    Ok(ParsedReferral {
        request: ReferralRequest {
            board,
            patient: Some(patient),
            referrer: Some(referrer),
            clinical: Some(clinical),
            consent_to_remote_pathway,
            re_referral,
        },
        paths: reader.paths,
        bundle_key,
    })
}

#[derive(Default)]
struct Reader {
    issues: Vec<Issue>,
    paths: FieldPaths,
}

/// The QuestionnaireResponse's items by `linkId`, with their paths.
struct Answers<'a> {
    base: String,
    items: BTreeMap<&'a str, (String, &'a ResponseItem)>,
}

impl Reader {
    fn issue(
        &mut self,
        code: &'static str,
        expression: impl Into<String>,
        diagnostics: impl Into<String>,
    ) {
        self.issues.push(Issue::new(code, expression, diagnostics));
    }

    fn resource<T: DeserializeOwned + Default>(
        &mut self,
        path: &str,
        resource: Map<String, Value>,
    ) -> T {
        serde_json::from_value(Value::Object(resource))
            .map_err(|e| self.issue("structure", path, format!("not read: {e}")))
            .unwrap_or_default()
    }

    /// The service asked for, and the board (the `performer`).
    fn service_request(&mut self, path: &str, service: &ServiceRequest) -> Option<String> {
        if service.status.as_deref() != Some("active") {
            self.issue(
                "code-invalid",
                format!("{path}.status"),
                "must be \"active\": a referral being sent",
            );
        }
        if service.intent.as_deref() != Some("order") {
            self.issue(
                "code-invalid",
                format!("{path}.intent"),
                "must be \"order\"",
            );
        }
        let asked = service.code.as_ref().is_some_and(|c| {
            c.coding.iter().any(
                |coding| match (coding.system.as_deref(), coding.code.as_deref()) {
                    (Some(SERVICE_SYSTEM), Some(code)) => code == PAIN_SERVICE,
                    (Some(SNOMED_SYSTEM), Some(code)) => code == PAIN_SERVICE_SNOMED.0,
                    _ => false,
                },
            )
        });
        if !asked {
            self.issue(
                "code-invalid",
                format!("{path}.code"),
                format!(
                    "required: a coding {SERVICE_SYSTEM} {PAIN_SERVICE}, the chronic pain service (or {SNOMED_SYSTEM} {})",
                    PAIN_SERVICE_SNOMED.0
                ),
            );
        }
        let board = service.performer.iter().enumerate().find_map(|(i, p)| {
            p.identifier
                .as_ref()
                .filter(|id| id.system.as_deref() == Some(BOARD_SYSTEM))
                .map(|id| (i, id.value.clone()))
        });
        match board {
            Some((i, value)) => {
                self.paths
                    .set("board", format!("{path}.performer[{i}].identifier.value"));
                value
            }
            None => {
                self.paths.set("board", format!("{path}.performer"));
                None
            }
        }
    }

    fn answers<'a>(&mut self, path: &str, response: &'a QuestionnaireResponse) -> Answers<'a> {
        if response.questionnaire.as_deref() != Some(QUESTIONNAIRE_URL) {
            self.issue(
                "value",
                format!("{path}.questionnaire"),
                format!("must be {QUESTIONNAIRE_URL}"),
            );
        }
        if !matches!(response.status.as_deref(), Some("completed" | "amended")) {
            self.issue(
                "code-invalid",
                format!("{path}.status"),
                "must be \"completed\"",
            );
        }
        let mut items = BTreeMap::new();
        for (k, item) in response.item.iter().enumerate() {
            let item_path = format!("{path}.item[{k}]");
            let Some(link_id) = item.link_id.as_deref() else {
                self.issue("required", format!("{item_path}.linkId"), "required");
                continue;
            };
            let Some(known) = questionnaire::find(link_id) else {
                self.issue(
                    "value",
                    format!("{item_path}.linkId"),
                    format!("{link_id:?} is not an item of {QUESTIONNAIRE_URL}"),
                );
                continue;
            };
            if items.contains_key(link_id) {
                self.issue(
                    "structure",
                    item_path,
                    format!("{link_id:?} answered twice"),
                );
                continue;
            }
            if !known.repeats && item.answer.len() > 1 {
                self.issue(
                    "structure",
                    format!("{item_path}.answer"),
                    "takes one answer",
                );
            }
            items.insert(link_id, (item_path, item));
        }
        Answers {
            base: path.to_owned(),
            items,
        }
    }
}

mod answers;
mod people;
