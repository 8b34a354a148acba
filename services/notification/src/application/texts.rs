//! Reading the clinicians' free text an event's messages quote from vetting,
//! which keeps it (`pathway.rpc.vetting.clinical_text.get`, audited there):
//! the stream carries only the ids. Like the contact details, the texts are
//! read before the consumer's transaction. Vetting not answering, or
//! answering with something unreadable, is a fault that may heal: the event
//! is retried, never dead-lettered for it.

use pathway_common::clinical_text_client::TextError;
use pathway_proto::v1::{Event, Payload};

use super::{Error, Notifications};
use crate::domain::texts::CauseTexts;

impl Notifications {
    /// The texts `event` names by id: a question's for `vetting.info_requested`
    /// and `vetting.info_request_overdue`,
    /// a decision's advice and reason for `decision.recorded`; none for
    /// anything else.
    pub async fn texts_for(&self, event: &Event) -> Result<CauseTexts, Error> {
        let (question, advice, reason) = match &event.payload {
            Some(Payload::VettingInfoRequested(requested)) => (
                requested.question_text_id.clone(),
                String::new(),
                String::new(),
            ),
            Some(Payload::VettingInfoRequestOverdue(overdue)) => (
                overdue.question_text_id.clone(),
                String::new(),
                String::new(),
            ),
            Some(Payload::DecisionRecorded(recorded)) => {
                let outcome = recorded.outcome.clone().unwrap_or_default();
                (
                    String::new(),
                    outcome.advice_text_id,
                    outcome.reason_text_id,
                )
            }
            _ => return Ok(CauseTexts::default()),
        };
        let ids: Vec<String> = [&question, &advice, &reason]
            .into_iter()
            .filter(|id| !id.trim().is_empty())
            .cloned()
            .collect();
        if ids.is_empty() {
            return Ok(CauseTexts::default());
        }
        let found = self
            .texts
            .texts(ids, "the message to the referrer or the patient")
            .await
            .map_err(|error| match error {
                TextError::Refused { .. } | TextError::NoToken(_) => {
                    // Our token refused is our configuration's fault, which a
                    // corrected configuration heals: retried, not dead-lettered.
                    Error::unavailable("vetting", error)
                }
                TextError::Unavailable(_) => Error::unavailable("vetting", error),
            })?;
        let text = |id: &str| found.get(id.trim()).map(|t| t.text.clone());
        Ok(CauseTexts {
            question: text(&question),
            advice: text(&advice),
            reason: text(&reason),
        })
    }
}
