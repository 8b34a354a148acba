//! The clinicians' questions a referrer answers: their text is vetting's
//! (it never travels on the stream; `vetting.info_requested` carries only
//! its id, which is the information request's), so a referral's view asks
//! vetting for it as it is read (`pathway.rpc.vetting.clinical_text.get`,
//! audited there). A question kept here from before stays as it is.
//!
//! Vetting not answering leaves the questions out of the view rather than
//! refusing it: the referral's status and actions are intake's own and
//! still right, and the next read has the question again.

use std::collections::HashMap;

use crate::application::Intake;

impl Intake {
    /// The text of each question in `asked` (information request id, and the
    /// text kept here if any) that intake does not keep, by request id.
    pub(super) async fn questions_from_vetting<'a>(
        &self,
        asked: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
        purpose: &str,
    ) -> HashMap<String, String> {
        let missing: Vec<String> = asked
            .into_iter()
            .filter(|(_, kept)| kept.is_none())
            .map(|(id, _)| id.to_owned())
            .collect();
        if missing.is_empty() {
            return HashMap::new();
        }
        match self.texts.texts(missing, purpose).await {
            Ok(found) => found
                .into_iter()
                .map(|(id, text)| (id, text.text))
                .collect(),
            Err(error) => {
                tracing::warn!(%error, "the clinicians' questions cannot be read from vetting");
                HashMap::new()
            }
        }
    }
}
