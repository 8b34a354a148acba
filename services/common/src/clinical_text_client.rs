//! The request/reply client a service uses to read clinicians' free text
//! (questions, advice, reasons, rationale) from vetting, which keeps it: the
//! stream carries only the ids. Vetting checks the service token and writes
//! an audit row for every text it gives out.
//!
//! The contract is `pathway/v1/clinical_text.proto` on
//! [`pathway_proto::rpc::CLINICAL_TEXT`]. As with [`crate::intake_client`],
//! the answer keeps its class: the texts found (an id vetting does not keep
//! is absent from them), a refusal that asking again will not change
//! ([`TextError::Refused`]), or a fault that may heal
//! ([`TextError::Unavailable`]).

use std::collections::HashMap;
use std::time::Duration;

use async_nats::client::RequestErrorKind;
use pathway_proto::rpc::CLINICAL_TEXT;
use pathway_proto::v1::{
    ClinicalText, ClinicalTextReply, ClinicalTextRequest, LookupRefusal, RefusalCode,
    clinical_text_reply,
};
use prost::Message;

use crate::service_token::ServiceToken;

/// Most ids vetting answers in one request.
pub const MAX_IDS: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum TextError {
    /// Vetting is not there, too slow, failed on its own account, or answered
    /// with something unreadable: worth trying again later.
    #[error("{0}")]
    Unavailable(&'static str),
    /// Vetting refused for a reason of the asker's (its token, its board,
    /// its request): asking again the same way will not help.
    #[error("vetting refused the clinical text ({code}): {message}", code = .code.as_str_name())]
    Refused { code: RefusalCode, message: String },
    /// This service has no token to ask with: its configuration is wrong.
    #[error(transparent)]
    NoToken(anyhow::Error),
}

/// The texts found, by id.
pub type Texts = HashMap<String, ClinicalText>;

#[derive(Clone)]
pub struct ClinicalTextClient {
    nats: async_nats::Client,
    token: ServiceToken,
    timeout: Duration,
}

impl ClinicalTextClient {
    /// Asking as `service` with the token its `auth` settings give
    /// ([`ServiceToken::from_settings`]).
    pub fn from_settings(
        platform: &crate::platform::Platform,
        service: &'static str,
        auth: &crate::settings::AuthSettings,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let token = ServiceToken::from_settings(auth, platform.auth.clone(), service)?;
        Ok(Self::with_token(platform.nats.clone(), token, timeout))
    }

    /// Asking with the token `token` gives.
    pub fn with_token(nats: async_nats::Client, token: ServiceToken, timeout: Duration) -> Self {
        Self {
            nats,
            token,
            timeout,
        }
    }

    /// The texts of `ids` (blank ids and repeats skipped; none asked when
    /// none is left), for `purpose` (why, in words: vetting's audit row
    /// keeps it).
    pub async fn texts(&self, ids: Vec<String>, purpose: &str) -> Result<Texts, TextError> {
        let mut wanted: Vec<String> = ids
            .iter()
            .map(|id| id.trim())
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .collect();
        wanted.sort();
        wanted.dedup();
        let mut found = Texts::new();
        for chunk in wanted.chunks(MAX_IDS) {
            for text in self.ask(chunk.to_vec(), purpose).await? {
                found.insert(text.id.clone(), text);
            }
        }
        Ok(found)
    }

    async fn ask(
        &self,
        text_ids: Vec<String>,
        purpose: &str,
    ) -> Result<Vec<ClinicalText>, TextError> {
        let token = self.token.get().await.map_err(TextError::NoToken)?;
        let body = ClinicalTextRequest {
            text_ids,
            purpose: purpose.to_owned(),
        };
        let message = crate::rpc::ask(
            &self.nats,
            CLINICAL_TEXT,
            &token,
            body.encode_to_vec(),
            self.timeout,
        )
        .await
        .map_err(|error| {
            tracing::warn!(%error, "a request to vetting for clinical text failed");
            TextError::Unavailable(match error.kind() {
                RequestErrorKind::NoResponders => "vetting is not answering",
                RequestErrorKind::TimedOut => "vetting did not answer in time",
                _ => "the request to vetting failed",
            })
        })?;
        classify(&message.payload)
    }
}

/// What vetting's answer means for the asker.
fn classify(payload: &[u8]) -> Result<Vec<ClinicalText>, TextError> {
    let reply = ClinicalTextReply::decode(payload).map_err(|error| {
        tracing::warn!(%error, "vetting's clinical text answer is not readable");
        TextError::Unavailable("vetting's answer is not readable")
    })?;
    match reply.result {
        Some(clinical_text_reply::Result::Texts(texts)) => Ok(texts.texts),
        Some(clinical_text_reply::Result::Refusal(refusal)) => refused(refusal),
        None => Err(TextError::Unavailable("vetting's answer is not readable")),
    }
}

fn refused(refusal: LookupRefusal) -> Result<Vec<ClinicalText>, TextError> {
    let code = RefusalCode::try_from(refusal.code).unwrap_or(RefusalCode::Unspecified);
    match code {
        // A text erased with its patient's data reads as none.
        RefusalCode::NotFound | RefusalCode::Erased => Ok(Vec::new()),
        RefusalCode::Unavailable | RefusalCode::Internal => {
            tracing::warn!(
                code = code.as_str_name(),
                message = refusal.message,
                "vetting could not answer for clinical text"
            );
            Err(TextError::Unavailable(if code == RefusalCode::Internal {
                "vetting failed to give the clinical text"
            } else {
                "vetting cannot answer now"
            }))
        }
        RefusalCode::Unspecified
        | RefusalCode::Forbidden
        | RefusalCode::Unauthenticated
        | RefusalCode::Invalid
        | RefusalCode::Conflict
        | RefusalCode::Restricted => Err(TextError::Refused {
            code,
            message: refusal.message,
        }),
    }
}
