//! The clinicians' free text of a referral's decisions, read from vetting
//! when the decision look-up shows it: a decision keeps only the ids that
//! `vetting.completed` carried (`docs/decisions/0024`). A decision recorded
//! before the text left the stream still shows the text it kept. Vetting not
//! answering shows the decisions without the texts, rather than none.

use std::collections::HashMap;

use pathway_common::clinical_text_client::TextError;

use super::{Decisions, Error};
use crate::store::decision;

/// The texts found, by id.
pub(super) type Texts = HashMap<String, String>;

impl From<TextError> for Error {
    fn from(error: TextError) -> Self {
        match error {
            TextError::Unavailable(why) => Self::Unavailable {
                what: "vetting",
                cause: anyhow::anyhow!("the decision's rationale and advice cannot be read: {why}"),
            },
            // Vetting refusing decision's own token is a fault of ours (its
            // configuration), not the caller's.
            refused @ TextError::Refused { .. } => Self::Unexpected(
                anyhow::Error::new(refused).context("reading the decision's clinical text"),
            ),
            TextError::NoToken(error) => Self::Unexpected(error),
        }
    }
}

impl Decisions {
    /// Every text the rows name, from vetting (audited there).
    pub(super) async fn texts_of(&self, rows: &[decision::Model]) -> Result<Texts, Error> {
        let mut ids = Vec::new();
        for row in rows {
            for id in [
                &row.reason_text_id,
                &row.advice_text_id,
                &row.rationale_text_id,
                &row.red_flag_override_reason_text_id,
            ]
            .into_iter()
            .flatten()
            {
                ids.push(id.clone());
            }
        }
        let found = match self.texts.texts(ids, "the decision look-up").await {
            Ok(found) => found,
            // The decision itself is this service's and still right: shown
            // without the clinician's words until vetting answers again.
            Err(TextError::Unavailable(why)) => {
                tracing::warn!(
                    why,
                    "the decisions' clinical text cannot be read from vetting"
                );
                Default::default()
            }
            Err(error) => return Err(error.into()),
        };
        Ok(found
            .into_iter()
            .map(|(id, text)| (id, text.text))
            .collect())
    }
}

/// The text of `id` if the row names one, else the text the row kept.
pub(super) fn text_of(texts: &Texts, id: &Option<String>, kept: &Option<String>) -> Option<String> {
    match id {
        Some(id) => texts.get(id).cloned(),
        None => kept.clone(),
    }
}
