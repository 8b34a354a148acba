//! The `Patient`, the referring `Practitioner` and the practice
//! `Organization` read into the native request, each field's path kept.

use super::*;

impl Reader {
    pub(super) fn patient(
        &mut self,
        path: &str,
        patient: &Patient,
        answers: &Answers<'_>,
    ) -> PatientRequest {
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
        // The language marked preferred, else the only one given.
        let preferred_language = patient
            .communication
            .iter()
            .position(|c| c.preferred == Some(true))
            .or_else(|| (patient.communication.len() == 1).then_some(0))
            .and_then(|j| {
                self.paths.set(
                    "patient.preferred_language",
                    format!("{path}.communication[{j}].language.coding[0].code"),
                );
                // A language without a code is a blank one, for the
                // validation to name.
                let language = patient.communication.get(j)?.language.as_ref()?;
                Some(
                    language
                        .coding
                        .first()
                        .and_then(|c| c.code.clone())
                        .unwrap_or_default(),
                )
            });
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
            preferred_language,
        }
    }

    pub(super) fn referrer(
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
}
