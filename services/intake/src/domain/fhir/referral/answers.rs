//! The `QuestionnaireResponse` read into the native clinical content: each
//! answer by its `linkId`, typed as the Questionnaire says, its path kept.

use super::*;

impl Reader {
    pub(super) fn clinical(&mut self, answers: &Answers<'_>) -> ClinicalRequest {
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
    pub(super) fn answer_path(&self, link_id: &str, i: usize, element: &str) -> String {
        match self.items.get(link_id) {
            Some((path, _)) => format!("{path}.answer[{i}].{element}"),
            None => self.missing(link_id),
        }
    }

    pub(super) fn missing(&self, link_id: &str) -> String {
        format!("{}.item.where(linkId='{link_id}')", self.base)
    }

    /// Every answer of `link_id` read by `value`, recording each path under
    /// `field[i]` (or `field` when the item does not repeat); `None` when
    /// the item is not answered.
    pub(super) fn read<T>(
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

    pub(super) fn integer(&self, reader: &mut Reader, link_id: &str, field: &str) -> Option<i64> {
        self.read(reader, link_id, field, "valueInteger", |a| a.value_integer)?
            .into_iter()
            .next()
    }

    pub(super) fn boolean(&self, reader: &mut Reader, link_id: &str, field: &str) -> Option<bool> {
        self.read(reader, link_id, field, "valueBoolean", |a| a.value_boolean)?
            .into_iter()
            .next()
    }

    pub(super) fn text(&self, reader: &mut Reader, link_id: &str, field: &str) -> Option<String> {
        self.texts(reader, link_id, field)?.into_iter().next()
    }

    pub(super) fn texts(
        &self,
        reader: &mut Reader,
        link_id: &str,
        field: &str,
    ) -> Option<Vec<String>> {
        self.read(reader, link_id, field, "valueString", |a| {
            a.value_string.clone()
        })
    }

    pub(super) fn coding(&self, reader: &mut Reader, link_id: &str, field: &str) -> Option<String> {
        self.codings(reader, link_id, field)?.into_iter().next()
    }

    /// The codes answered, each of the item's own code system (a red flag
    /// also by its SNOMED CT concept, read as Pathway's code).
    pub(super) fn codings(
        &self,
        reader: &mut Reader,
        link_id: &str,
        field: &str,
    ) -> Option<Vec<String>> {
        let system = match questionnaire::find(link_id).map(|i| i.answer) {
            Some(Answer::Coding(name)) => questionnaire::code_system(name),
            _ => String::new(),
        };
        self.read(reader, link_id, field, "valueCoding", |a| {
            a.value_coding
                .as_ref()
                .and_then(|c| match (c.system.as_deref(), c.code.as_deref()) {
                    (Some(s), Some(code)) if s == system => Some(code.to_owned()),
                    (Some(SNOMED_SYSTEM), Some(code)) if link_id == questionnaire::RED_FLAGS => {
                        RED_FLAG_SNOMED
                            .iter()
                            .find(|(_, snomed, _)| *snomed == code)
                            .map(|(pathway, _, _)| (*pathway).to_owned())
                    }
                    _ => None,
                })
        })
    }
}
