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
    BOARD_SYSTEM, CHI_SYSTEM, Issue, PAIN_SERVICE, PRACTICE_SYSTEM, QUESTIONNAIRE_URL,
    SERVICE_SYSTEM,
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
            c.coding.iter().any(|coding| {
                coding.system.as_deref() == Some(SERVICE_SYSTEM)
                    && coding.code.as_deref() == Some(PAIN_SERVICE)
            })
        });
        if !asked {
            self.issue(
                "code-invalid",
                format!("{path}.code"),
                format!(
                    "required: a coding {SERVICE_SYSTEM} {PAIN_SERVICE}, the chronic pain service"
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

    fn patient(&mut self, path: &str, patient: &Patient, answers: &Answers<'_>) -> PatientRequest {
        let chi = match patient
            .identifier
            .iter()
            .position(|id| id.system.as_deref() == Some(CHI_SYSTEM))
        {
            Some(j) => {
                self.paths
                    .set("patient.chi", format!("{path}.identifier[{j}].value"));
                patient.identifier[j].value.clone()
            }
            None => {
                self.paths.set("patient.chi", format!("{path}.identifier"));
                None
            }
        };
        let name = patient.name.first();
        self.paths
            .set("patient.given_name", format!("{path}.name[0].given"));
        self.paths
            .set("patient.family_name", format!("{path}.name[0].family"));
        self.paths
            .set("patient.date_of_birth", format!("{path}.birthDate"));
        self.paths.set("patient.sex", format!("{path}.gender"));
        self.paths.set("patient.contact", format!("{path}.telecom"));
        let sex = patient.gender.as_deref().map(|g| match g {
            "unknown" => "not_known".to_owned(),
            other => other.to_owned(),
        });
        // Where the patient lives: the first home address that is not
        // postal only, else the first not postal, else the first.
        let postal = |a: &Address| a.kind.as_deref() == Some("postal");
        let home = patient
            .address
            .iter()
            .position(|a| !postal(a) && a.usage.as_deref() == Some("home"))
            .or_else(|| patient.address.iter().position(|a| !postal(a)))
            .unwrap_or(0);
        self.paths.set(
            "patient.postcode",
            format!("{path}.address[{home}].postalCode"),
        );
        let address = patient.address.get(home);
        // Where letters go: the postal address, else the home one.
        let letters = patient
            .address
            .iter()
            .position(postal)
            .or_else(|| address.filter(|a| !a.line.is_empty()).map(|_| home));
        let contact_address = letters.and_then(|j| patient.address.get(j)).map(|a| {
            let j = letters.unwrap_or(home);
            self.paths.set(
                "patient.contact.address.lines",
                format!("{path}.address[{j}].line"),
            );
            self.paths.set(
                "patient.contact.address.postcode",
                format!("{path}.address[{j}].postalCode"),
            );
            AddressRequest {
                lines: a.line.clone(),
                postcode: a.postal_code.clone(),
            }
        });
        if contact_address.is_none() {
            self.paths
                .set("patient.contact.address", format!("{path}.address"));
        }
        let mut telecom = |system: &str, field: &str| {
            let found = patient.telecom.iter().enumerate().find(|(_, t)| {
                t.system.as_deref() == Some(system)
                    && (system != "phone" || t.usage.as_deref().is_none_or(|u| u == "mobile"))
            });
            match found {
                Some((j, t)) => {
                    self.paths.set(field, format!("{path}.telecom[{j}].value"));
                    t.value.clone()
                }
                None => {
                    self.paths.set(field, format!("{path}.telecom"));
                    None
                }
            }
        };
        let mobile = telecom("phone", "patient.contact.mobile");
        let email = telecom("email", "patient.contact.email");
        let preferred = answers.coding(
            self,
            questionnaire::PREFERRED_CONTACT,
            "patient.contact.preferred",
        );
        let accessibility_needs = answers
            .codings(
                self,
                questionnaire::ACCESSIBILITY_NEEDS,
                "patient.accessibility_needs",
            )
            .unwrap_or_default();
        let interpreter_language = answers.text(
            self,
            questionnaire::INTERPRETER_LANGUAGE,
            "patient.interpreter_language",
        );
        PatientRequest {
            chi,
            given_name: name.and_then(|n| (!n.given.is_empty()).then(|| n.given.join(" "))),
            family_name: name.and_then(|n| n.family.clone()),
            date_of_birth: patient.birth_date.clone(),
            sex,
            postcode: address.and_then(|a| a.postal_code.clone()),
            contact: Some(ContactRequest {
                preferred,
                mobile,
                email,
                address: contact_address,
            }),
            accessibility_needs,
            interpreter_language,
        }
    }

    fn referrer(
        &mut self,
        path: &str,
        practitioner: &Practitioner,
        organization_path: &str,
        organization: &Organization,
    ) -> ReferrerRequest {
        let practice_code = match organization
            .identifier
            .iter()
            .position(|id| id.system.as_deref() == Some(PRACTICE_SYSTEM))
        {
            Some(j) => {
                self.paths.set(
                    "referrer.practice_code",
                    format!("{organization_path}.identifier[{j}].value"),
                );
                organization.identifier[j].value.clone()
            }
            None => {
                self.paths.set(
                    "referrer.practice_code",
                    format!("{organization_path}.identifier"),
                );
                None
            }
        };
        self.paths
            .set("referrer.clinician_name", format!("{path}.name[0]"));
        let clinician_name = practitioner.name.first().and_then(|n| {
            n.text.clone().or_else(|| {
                let parts: Vec<&str> = n
                    .prefix
                    .iter()
                    .chain(n.given.iter())
                    .map(String::as_str)
                    .chain(n.family.as_deref())
                    .collect();
                (!parts.is_empty()).then(|| parts.join(" "))
            })
        });
        let reply = practitioner
            .telecom
            .iter()
            .enumerate()
            .find(|(_, t)| matches!(t.system.as_deref(), Some("email" | "url")));
        let (reply_channel, reply_address) = match reply {
            Some((j, t)) => {
                self.paths.set(
                    "referrer.reply_channel",
                    format!("{path}.telecom[{j}].system"),
                );
                self.paths.set(
                    "referrer.reply_address",
                    format!("{path}.telecom[{j}].value"),
                );
                let channel = match t.system.as_deref() {
                    Some("url") => "webhook",
                    _ => "email",
                };
                (Some(channel.to_owned()), t.value.clone())
            }
            None => {
                self.paths
                    .set("referrer.reply_channel", format!("{path}.telecom"));
                self.paths
                    .set("referrer.reply_address", format!("{path}.telecom"));
                (None, None)
            }
        };
        ReferrerRequest {
            practice_code,
            clinician_name,
            reply_channel,
            reply_address,
        }
    }

    fn clinical(&mut self, answers: &Answers<'_>) -> ClinicalRequest {
        use questionnaire as q;
        let red_flags = answers.codings(self, q::RED_FLAGS, "clinical.red_flags");
        let red_flags = red_flags.map(|codes| {
            if codes.len() == 1 && codes[0] == q::NO_RED_FLAGS {
                Vec::new()
            } else {
                if let Some(i) = codes.iter().position(|c| c == q::NO_RED_FLAGS) {
                    let path = answers.answer_path(q::RED_FLAGS, i, "valueCoding.code");
                    self.issue(
                        "value",
                        path,
                        "\"none\" says no red flag was ticked: it cannot come with others",
                    );
                }
                codes
            }
        });
        ClinicalRequest {
            pain_duration_months: answers.integer(
                self,
                q::PAIN_DURATION,
                "clinical.pain_duration_months",
            ),
            pain_sites: answers.codings(self, q::PAIN_SITES, "clinical.pain_sites"),
            pain_intensity: answers.integer(self, q::PAIN_INTENSITY, "clinical.pain_intensity"),
            impact: Some(ImpactRequest {
                function: answers.coding(self, q::IMPACT_FUNCTION, "clinical.impact.function"),
                sleep: answers.coding(self, q::IMPACT_SLEEP, "clinical.impact.sleep"),
                mood: answers.coding(self, q::IMPACT_MOOD, "clinical.impact.mood"),
            }),
            red_flags,
            current_treatments: answers
                .texts(self, q::CURRENT_TREATMENTS, "clinical.current_treatments")
                .unwrap_or_default(),
            previous_treatments: answers
                .texts(self, q::PREVIOUS_TREATMENTS, "clinical.previous_treatments")
                .unwrap_or_default(),
            question: answers.text(self, q::QUESTION, "clinical.question"),
        }
    }
}

impl Answers<'_> {
    /// The path of answer `i`'s `element` of item `link_id`.
    fn answer_path(&self, link_id: &str, i: usize, element: &str) -> String {
        match self.items.get(link_id) {
            Some((path, _)) => format!("{path}.answer[{i}].{element}"),
            None => self.missing(link_id),
        }
    }

    fn missing(&self, link_id: &str) -> String {
        format!("{}.item.where(linkId='{link_id}')", self.base)
    }

    /// Every answer of `link_id` read by `value`, recording each path under
    /// `field[i]` (or `field` when the item does not repeat); `None` when
    /// the item is not answered.
    fn read<T>(
        &self,
        reader: &mut Reader,
        link_id: &str,
        field: &str,
        element: &str,
        value: impl Fn(&ItemAnswer) -> Option<T>,
    ) -> Option<Vec<T>> {
        let Some((path, item)) = self.items.get(link_id) else {
            reader.paths.set(field, self.missing(link_id));
            return None;
        };
        reader.paths.set(field, path.clone());
        let repeats = questionnaire::find(link_id).is_some_and(|i| i.repeats);
        let mut out = Vec::new();
        for (i, answer) in item.answer.iter().enumerate() {
            let answer_path = format!("{path}.answer[{i}].{element}");
            match value(answer) {
                Some(v) => {
                    if repeats {
                        reader.paths.set(format!("{field}[{i}]"), answer_path);
                    } else {
                        reader.paths.set(field, answer_path);
                    }
                    out.push(v);
                }
                None => reader.issue(
                    "structure",
                    answer_path,
                    format!("required: item {link_id:?} is answered with {element}"),
                ),
            }
        }
        Some(out)
    }

    fn integer(&self, reader: &mut Reader, link_id: &str, field: &str) -> Option<i64> {
        self.read(reader, link_id, field, "valueInteger", |a| a.value_integer)?
            .into_iter()
            .next()
    }

    fn boolean(&self, reader: &mut Reader, link_id: &str, field: &str) -> Option<bool> {
        self.read(reader, link_id, field, "valueBoolean", |a| a.value_boolean)?
            .into_iter()
            .next()
    }

    fn text(&self, reader: &mut Reader, link_id: &str, field: &str) -> Option<String> {
        self.texts(reader, link_id, field)?.into_iter().next()
    }

    fn texts(&self, reader: &mut Reader, link_id: &str, field: &str) -> Option<Vec<String>> {
        self.read(reader, link_id, field, "valueString", |a| {
            a.value_string.clone()
        })
    }

    fn coding(&self, reader: &mut Reader, link_id: &str, field: &str) -> Option<String> {
        self.codings(reader, link_id, field)?.into_iter().next()
    }

    /// The codes answered, each of the item's own code system.
    fn codings(&self, reader: &mut Reader, link_id: &str, field: &str) -> Option<Vec<String>> {
        let system = match questionnaire::find(link_id).map(|i| i.answer) {
            Some(Answer::Coding(name)) => questionnaire::code_system(name),
            _ => String::new(),
        };
        self.read(reader, link_id, field, "valueCoding", |a| {
            a.value_coding
                .as_ref()
                .filter(|c| c.system.as_deref() == Some(system.as_str()))
                .and_then(|c| c.code.clone())
        })
    }
}
