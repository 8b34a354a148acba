//! The rules a referral must meet: every field checked against `today`, and
//! every failure reported at once with the field and the reason.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};
use pathway_common::pii::Pii;
use pathway_common::validation::FieldError;
use pathway_proto::board::NotificationSettings;

use super::{
    AccessibilityNeed, Address, Clinical, ClinicalRequest, Contact, ContactChannel, ContactRequest,
    Impact, ImpactLevel, Language, NewReferral, PainSite, Patient, PatientRequest, RedFlag,
    ReferralRequest, Referrer, ReferrerRequest, ReplyTo,
};
use crate::domain::{BoardCode, ChiNumber, Postcode, Sex};

const MAX_TEXT: usize = 4000;
const MAX_SHORT_TEXT: usize = 200;
const MAX_LIST: usize = 50;

/// Collects field errors while validating.
struct Check {
    errors: Vec<FieldError>,
}

impl Check {
    fn fail(&mut self, field: &str, reason: impl Into<String>) {
        self.errors.push(FieldError::new(field, reason));
    }

    fn required<'a, T>(&mut self, field: &str, value: &'a Option<T>) -> Option<&'a T> {
        if value.is_none() {
            self.fail(field, "is required");
        }
        value.as_ref()
    }

    fn text(&mut self, field: &str, value: &Option<String>, max: usize) -> Option<String> {
        let value = self.required(field, value)?;
        let trimmed = value.trim();
        if trimmed.is_empty() {
            self.fail(field, "must not be blank");
            None
        } else if trimmed.chars().count() > max {
            self.fail(field, format!("must be at most {max} characters"));
            None
        } else {
            Some(trimmed.to_owned())
        }
    }

    fn text_list(&mut self, field: &str, values: &[String]) -> Vec<String> {
        if values.len() > MAX_LIST {
            self.fail(field, format!("must have at most {MAX_LIST} entries"));
            return Vec::new();
        }
        let mut out = Vec::new();
        for (i, value) in values.iter().enumerate() {
            let value = value.trim();
            if value.is_empty() {
                self.fail(&format!("{field}[{i}]"), "must not be blank");
            } else if value.chars().count() > MAX_SHORT_TEXT * 2 {
                self.fail(
                    &format!("{field}[{i}]"),
                    format!("must be at most {} characters", MAX_SHORT_TEXT * 2),
                );
            } else {
                out.push(value.to_owned());
            }
        }
        out
    }

    fn codes<T: Ord + Copy>(
        &mut self,
        field: &str,
        values: &[String],
        parse: impl Fn(&str) -> Option<T>,
        expected: &str,
    ) -> BTreeSet<T> {
        let mut out = BTreeSet::new();
        for (i, value) in values.iter().enumerate() {
            match parse(value) {
                Some(code) => {
                    out.insert(code);
                }
                None => self.fail(
                    &format!("{field}[{i}]"),
                    format!("unknown code {value:?}: expected one of {expected}"),
                ),
            }
        }
        out
    }

    fn impact(&mut self, field: &str, value: &Option<String>) -> Option<ImpactLevel> {
        let value = self.required(field, value)?;
        let level = ImpactLevel::parse(value);
        if level.is_none() {
            self.fail(
                field,
                format!(
                    "unknown level {value:?}: expected one of {}",
                    ImpactLevel::codes()
                ),
            );
        }
        level
    }
}

fn mobile(text: &str) -> Option<String> {
    let digits: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect();
    let national = if let Some(rest) = digits.strip_prefix("+44") {
        format!("0{rest}")
    } else {
        digits
    };
    let ok = national.len() == 11
        && national.starts_with("07")
        && national.chars().all(|c| c.is_ascii_digit());
    ok.then_some(national)
}

fn email(text: &str) -> Option<String> {
    let text = text.trim();
    email_address::EmailAddress::parse_with_options(
        text,
        email_address::Options::default().with_required_tld(),
    )
    .ok()
    .map(|_| text.to_owned())
}

impl ReferralRequest {
    /// Validate every field against `today`; all failures at once.
    pub fn validate(&self, today: NaiveDate) -> Result<NewReferral, Vec<FieldError>> {
        let mut c = Check { errors: Vec::new() };

        let board =
            c.required("board", &self.board)
                .and_then(|code| match BoardCode::parse(code) {
                    Ok(board) => Some(board),
                    Err(reason) => {
                        c.fail("board", reason);
                        None
                    }
                });
        match self.consent_to_remote_pathway {
            None => c.fail("consent_to_remote_pathway", "is required: record whether the patient agrees to remote vetting"),
            Some(false) => c.fail(
                "consent_to_remote_pathway",
                "the patient has not agreed to remote vetting: refer through the standard route instead",
            ),
            Some(true) => {}
        }
        let patient = c
            .required("patient", &self.patient)
            .and_then(|p| validate_patient(&mut c, p, today));
        let referrer = c
            .required("referrer", &self.referrer)
            .and_then(|r| validate_referrer(&mut c, r));
        let clinical = c
            .required("clinical", &self.clinical)
            .and_then(|k| validate_clinical(&mut c, k));

        match (board, patient, referrer, clinical) {
            (Some(board), Some(patient), Some(referrer), Some(clinical)) if c.errors.is_empty() => {
                Ok(NewReferral {
                    board,
                    patient,
                    referrer,
                    clinical,
                    re_referral: self.re_referral,
                })
            }
            _ => Err(c.errors),
        }
    }
}

fn validate_patient(c: &mut Check, p: &PatientRequest, today: NaiveDate) -> Option<Patient> {
    let chi = c
        .required("patient.chi", &p.chi)
        .and_then(|text| match ChiNumber::parse(text) {
            Ok(chi) => Some(chi),
            Err(reason) => {
                c.fail("patient.chi", reason.to_string());
                None
            }
        });
    let given_name = c.text("patient.given_name", &p.given_name, MAX_SHORT_TEXT);
    let family_name = c.text("patient.family_name", &p.family_name, MAX_SHORT_TEXT);
    let date_of_birth = c
        .required("patient.date_of_birth", &p.date_of_birth)
        .and_then(|text| match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Err(_) => {
                c.fail("patient.date_of_birth", "must be a date as YYYY-MM-DD");
                None
            }
            Ok(date) if date > today => {
                c.fail("patient.date_of_birth", "is in the future");
                None
            }
            Ok(date) if date.year() < today.year() - 130 => {
                c.fail("patient.date_of_birth", "is more than 130 years ago");
                None
            }
            Ok(date) => Some(date),
        });
    let sex = c.required("patient.sex", &p.sex).and_then(|text| {
        let sex = Sex::parse(text);
        if sex.is_none() {
            c.fail("patient.sex", "must be male, female or not_known");
        }
        sex
    });
    if let (Some(chi), Some(dob)) = (&chi, date_of_birth)
        && !chi.agrees_with_birth_date(dob)
    {
        c.fail(
            "patient.chi",
            "the first six digits do not match patient.date_of_birth",
        );
    }
    if let (Some(chi), Some(sex)) = (&chi, sex)
        && !chi.agrees_with_sex(sex)
    {
        c.fail(
            "patient.chi",
            "the ninth digit does not match patient.sex (odd for male, even for female)",
        );
    }
    let postcode = c
        .required("patient.postcode", &p.postcode)
        .and_then(|text| {
            let postcode = Postcode::parse(text);
            if postcode.is_none() {
                c.fail("patient.postcode", "is not a UK postcode (e.g. IV2 3UJ)");
            }
            postcode
        });
    let contact = c
        .required("patient.contact", &p.contact)
        .and_then(|contact| validate_contact(c, contact));
    let accessibility_needs = c.codes(
        "patient.accessibility_needs",
        &p.accessibility_needs,
        AccessibilityNeed::parse,
        &AccessibilityNeed::codes(),
    );
    let interpreter_language = p
        .interpreter_language
        .as_ref()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty());
    if accessibility_needs.contains(&AccessibilityNeed::Interpreter)
        && interpreter_language.is_none()
    {
        c.fail(
            "patient.interpreter_language",
            "is required when the patient needs an interpreter",
        );
    }
    let preferred_language = p.preferred_language.as_deref().and_then(|text| {
        if text.trim().is_empty() {
            c.fail("patient.preferred_language", "must not be blank");
            return None;
        }
        Language::parse(text)
            .map_err(|reason| c.fail("patient.preferred_language", reason))
            .ok()
    });
    Some(Patient {
        chi: chi?,
        given_name: Pii::new(given_name?),
        family_name: Pii::new(family_name?),
        date_of_birth: Pii::new(date_of_birth?),
        sex: sex?,
        postcode: postcode?,
        contact: contact?,
        accessibility_needs,
        interpreter_language,
        preferred_language,
    })
}

fn validate_contact(c: &mut Check, contact: &ContactRequest) -> Option<Contact> {
    let preferred = c
        .required("patient.contact.preferred", &contact.preferred)
        .and_then(|text| {
            let channel = match text.as_str() {
                "sms" => Some(ContactChannel::Sms),
                "email" => Some(ContactChannel::Email),
                "letter" => Some(ContactChannel::Letter),
                _ => None,
            };
            if channel.is_none() {
                c.fail("patient.contact.preferred", "must be sms, email or letter");
            }
            channel
        });
    let mobile_number = contact.mobile.as_ref().and_then(|text| {
        let number = mobile(text);
        if number.is_none() {
            c.fail(
                "patient.contact.mobile",
                "is not a UK mobile number (07xxx xxxxxx or +447xxx xxxxxx)",
            );
        }
        number
    });
    let email_address = contact.email.as_ref().and_then(|text| {
        let address = email(text);
        if address.is_none() {
            c.fail("patient.contact.email", "is not an e-mail address");
        }
        address
    });
    let address = contact.address.as_ref().and_then(|a| {
        let lines = c.text_list("patient.contact.address.lines", &a.lines);
        if lines.is_empty() && a.lines.is_empty() {
            c.fail("patient.contact.address.lines", "needs at least one line");
        }
        let postcode = c
            .required("patient.contact.address.postcode", &a.postcode)
            .and_then(|text| {
                let postcode = Postcode::parse(text);
                if postcode.is_none() {
                    c.fail("patient.contact.address.postcode", "is not a UK postcode");
                }
                postcode
            });
        (!lines.is_empty())
            .then_some(())
            .and(postcode)
            .map(|postcode| Address {
                lines: Pii::new(lines),
                postcode,
            })
    });
    match preferred {
        Some(ContactChannel::Sms) if contact.mobile.is_none() => c.fail(
            "patient.contact.mobile",
            "is required when the preferred contact is sms",
        ),
        Some(ContactChannel::Email) if contact.email.is_none() => c.fail(
            "patient.contact.email",
            "is required when the preferred contact is email",
        ),
        Some(ContactChannel::Letter) if contact.address.is_none() => c.fail(
            "patient.contact.address",
            "is required when the preferred contact is letter",
        ),
        _ => {}
    }
    Some(Contact {
        preferred: preferred?,
        mobile: mobile_number.map(Pii::new),
        email: email_address.map(Pii::new),
        address,
    })
}

fn validate_referrer(c: &mut Check, r: &ReferrerRequest) -> Option<Referrer> {
    let practice_code = c
        .required("referrer.practice_code", &r.practice_code)
        .and_then(|code| {
            let ok = code.len() == 5 && code.chars().all(|ch| ch.is_ascii_digit());
            if !ok {
                c.fail(
                    "referrer.practice_code",
                    "must be the five-digit GP practice code",
                );
            }
            ok.then(|| code.clone())
        });
    let clinician_name = c.text("referrer.clinician_name", &r.clinician_name, MAX_SHORT_TEXT);
    let channel = c
        .required("referrer.reply_channel", &r.reply_channel)
        .and_then(|ch| {
            let ok = matches!(ch.as_str(), "email" | "webhook");
            if !ok {
                c.fail("referrer.reply_channel", "must be email or webhook");
            }
            ok.then(|| ch.clone())
        });
    let address = c.required("referrer.reply_address", &r.reply_address);
    let reply = match (channel.as_deref(), address) {
        (Some("email"), Some(address)) => match email(address) {
            Some(address) => Some(ReplyTo::Email(address)),
            None => {
                c.fail("referrer.reply_address", "is not an e-mail address");
                None
            }
        },
        (Some("webhook"), Some(address)) => match url::Url::parse(address) {
            Ok(url) if url.scheme() == "https" || (url.scheme() == "http" && is_loopback(&url)) => {
                Some(ReplyTo::Webhook(url.to_string()))
            }
            _ => {
                c.fail(
                    "referrer.reply_address",
                    "must be an https URL for a webhook",
                );
                None
            }
        },
        _ => None,
    };
    Some(Referrer {
        practice_code: practice_code?,
        clinician_name: clinician_name?,
        reply: reply?,
    })
}

impl NewReferral {
    /// Whether the referrer asked for the reply by webhook.
    pub fn replies_by_webhook(&self) -> bool {
        matches!(self.referrer.reply, ReplyTo::Webhook(_))
    }

    /// A webhook reply address must be one the referral's board may send
    /// to: on its `notification.allowed_hosts`, over https, to a public
    /// address unless the board allows private ones. A board without a
    /// `notification` section lists no host, so it takes no webhook reply
    /// address (fail closed: the referrer can ask for e-mail instead).
    pub fn check_reply_address(
        &self,
        notification: Option<&NotificationSettings>,
    ) -> Result<(), FieldError> {
        let ReplyTo::Webhook(url) = &self.referrer.reply else {
            return Ok(());
        };
        let problem = match notification {
            Some(section) => section.webhook_url_problem(url),
            None => Some(format!(
                "board {} lists no host its webhooks may go to (notification.allowed_hosts): reply by e-mail, or ask the board to allow your system's host",
                self.board.code()
            )),
        };
        match problem {
            None => Ok(()),
            Some(reason) => Err(FieldError::new("referrer.reply_address", reason)),
        }
    }
}

fn is_loopback(url: &url::Url) -> bool {
    matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
}

fn validate_clinical(c: &mut Check, k: &ClinicalRequest) -> Option<Clinical> {
    let duration = c
        .required("clinical.pain_duration_months", &k.pain_duration_months)
        .and_then(|&m| {
            if (0..=1200).contains(&m) {
                u32::try_from(m).ok()
            } else {
                c.fail(
                    "clinical.pain_duration_months",
                    "must be from 0 to 1200 months",
                );
                None
            }
        });
    let sites = c
        .required("clinical.pain_sites", &k.pain_sites)
        .and_then(|sites| {
            if sites.is_empty() {
                c.fail("clinical.pain_sites", "needs at least one site");
                return None;
            }
            let parsed = c.codes(
                "clinical.pain_sites",
                sites,
                PainSite::parse,
                &PainSite::codes(),
            );
            (parsed.len() == sites.iter().collect::<BTreeSet<_>>().len()).then_some(parsed)
        });
    let intensity = c
        .required("clinical.pain_intensity", &k.pain_intensity)
        .and_then(|&i| {
            if (0..=10).contains(&i) {
                u8::try_from(i).ok()
            } else {
                c.fail("clinical.pain_intensity", "must be from 0 to 10");
                None
            }
        });
    let impact = c.required("clinical.impact", &k.impact).and_then(|impact| {
        let function = c.impact("clinical.impact.function", &impact.function);
        let sleep = c.impact("clinical.impact.sleep", &impact.sleep);
        let mood = c.impact("clinical.impact.mood", &impact.mood);
        Some(Impact {
            function: function?,
            sleep: sleep?,
            mood: mood?,
        })
    });
    let red_flags = match &k.red_flags {
        None => {
            c.fail(
                "clinical.red_flags",
                "is required: send the codes ticked on the checklist, or [] for none",
            );
            None
        }
        Some(flags) => {
            let before = c.errors.len();
            let parsed = c.codes(
                "clinical.red_flags",
                flags,
                RedFlag::parse,
                &RedFlag::codes(),
            );
            (c.errors.len() == before).then_some(parsed)
        }
    };
    let current_treatments = c.text_list("clinical.current_treatments", &k.current_treatments);
    let previous_treatments = c.text_list("clinical.previous_treatments", &k.previous_treatments);
    let question = c.text("clinical.question", &k.question, MAX_TEXT);
    Some(Clinical {
        pain_duration_months: duration?,
        pain_sites: sites?,
        pain_intensity: intensity?,
        impact: impact?,
        red_flags: red_flags?,
        current_treatments,
        previous_treatments,
        question: question?,
    })
}
