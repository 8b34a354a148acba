//! The authenticated request/reply endpoint through which other services
//! read clinicians' free text ([`crate::application::clinical_text`]): the
//! stream carries only the texts' ids. Every text given out leaves an audit
//! row.
//!
//! The contract is `pathway/v1/clinical_text.proto` on
//! [`pathway_proto::rpc::CLINICAL_TEXT`]: a [`ClinicalTextRequest`] with an
//! `Authorization: Bearer <service token>` header, answered with a
//! [`ClinicalTextReply`] holding the texts or a [`LookupRefusal`], as
//! intake's look-up answers (`services/intake/src/rpc.rs`). A request that
//! does not decode is refused as invalid; nothing the asker sends can make
//! this loop stop.

use futures::StreamExt;
use pathway_common::auth::{AuthError, Caller, bearer};
use pathway_proto::rpc::CLINICAL_TEXT;
use pathway_proto::v1::{
    ClinicalText, ClinicalTextKind, ClinicalTextReply, ClinicalTextRequest, ClinicalTexts,
    LookupRefusal, RefusalCode, clinical_text_reply,
};
use prost::Message;
use tokio_util::sync::CancellationToken;

use crate::application::{Error, Vetting};
use crate::store::clinical_text::{self, Kind};

/// Why a request got no text: the code and message of its refusal.
#[derive(Debug)]
struct Refusal {
    code: RefusalCode,
    message: String,
}

impl Refusal {
    fn new(code: RefusalCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl From<AuthError> for Refusal {
    fn from(error: AuthError) -> Self {
        let code = match error {
            AuthError::Forbidden(_) => RefusalCode::Forbidden,
            AuthError::KeysUnavailable(_) => RefusalCode::Unavailable,
            _ => RefusalCode::Unauthenticated,
        };
        Self::new(code, error.to_string())
    }
}

/// The one place the application's errors become refusals.
impl From<Error> for Refusal {
    fn from(error: Error) -> Self {
        match error {
            Error::Validation(fields) => {
                let reasons: Vec<String> = fields
                    .iter()
                    .map(|f| format!("{}: {}", f.field, f.reason))
                    .collect();
                Self::new(RefusalCode::Invalid, reasons.join("; "))
            }
            Error::Forbidden(error) => error.into(),
            Error::NotFound | Error::NothingErasedYet(_) => {
                Self::new(RefusalCode::NotFound, "no such text")
            }
            Error::Refused(refusal) => Self::new(RefusalCode::Conflict, refusal.to_string()),
            Error::Erased => Self::new(RefusalCode::Erased, error.to_string()),
            Error::Restricted => Self::new(RefusalCode::Restricted, error.to_string()),
            Error::Unavailable { what, cause } => {
                tracing::warn!(error = format!("{cause:#}"), "{what} did not answer");
                Self::new(
                    RefusalCode::Unavailable,
                    format!("{what} did not answer: try again"),
                )
            }
            Error::Unexpected(cause) => {
                tracing::error!(error = format!("{cause:#}"), "clinical text read failed");
                Self::new(RefusalCode::Internal, "internal error")
            }
        }
    }
}

/// Requests answered at once: notification asks for a batch of events'
/// texts side by side.
const ANSWERED_AT_ONCE: usize = 16;

/// Answer requests until `shutdown`; an error when the subscription ends
/// before it (the worker's supervisor subscribes again).
pub async fn serve(vetting: Vetting, shutdown: CancellationToken) -> anyhow::Result<()> {
    let client = vetting.platform.nats.clone();
    let requests = client
        .queue_subscribe(CLINICAL_TEXT, "vetting".into())
        .await?;
    requests
        .take_until(shutdown.cancelled())
        .for_each_concurrent(ANSWERED_AT_ONCE, |message| {
            reply(&vetting, &client, message)
        })
        .await;
    if !shutdown.is_cancelled() {
        anyhow::bail!("the subscription to {CLINICAL_TEXT} ended");
    }
    Ok(())
}

/// Answer one request, if it says where to.
async fn reply(vetting: &Vetting, client: &async_nats::Client, message: async_nats::Message) {
    let Some(reply) = message.reply.clone() else {
        return;
    };
    let result = match answer(vetting, &message).await {
        Ok(texts) => clinical_text_reply::Result::Texts(ClinicalTexts {
            texts: texts.into_iter().map(to_proto).collect(),
        }),
        Err(refusal) => clinical_text_reply::Result::Refusal(LookupRefusal {
            code: refusal.code as i32,
            message: refusal.message,
        }),
    };
    let answer = ClinicalTextReply {
        result: Some(result),
    };
    if let Err(error) = client.publish(reply, answer.encode_to_vec().into()).await {
        tracing::warn!(%error, "cannot reply to a clinical text request");
    }
}

async fn answer(
    vetting: &Vetting,
    message: &async_nats::Message,
) -> Result<Vec<clinical_text::Model>, Refusal> {
    let header = message
        .headers
        .as_ref()
        .and_then(|h| h.get("Authorization"))
        .map(|v| v.as_str());
    let token = bearer(header)?;
    let claims = vetting.platform.auth.verify(token).await?;
    let caller = Caller {
        subject: claims.sub,
        name: claims.name,
        role: claims.role,
        boards: claims.boards.into_iter().collect(),
        source: "nats".into(),
    };
    let request = decode(&message.payload)?;
    Ok(vetting
        .clinical_texts(&caller, &request.text_ids, &request.purpose)
        .await?)
}

/// The request, or an invalid-request refusal.
fn decode(payload: &[u8]) -> Result<ClinicalTextRequest, Refusal> {
    ClinicalTextRequest::decode(payload).map_err(|e| {
        Refusal::new(
            RefusalCode::Invalid,
            format!("the request is not a ClinicalTextRequest: {e}"),
        )
    })
}

fn kind(stored: &str) -> ClinicalTextKind {
    match Kind::parse(stored) {
        Some(Kind::Question) => ClinicalTextKind::Question,
        Some(Kind::Advice) => ClinicalTextKind::Advice,
        Some(Kind::Reason) => ClinicalTextKind::Reason,
        Some(Kind::Rationale) => ClinicalTextKind::Rationale,
        Some(Kind::RedFlagOverrideReason) => ClinicalTextKind::RedFlagOverrideReason,
        None => ClinicalTextKind::Unspecified,
    }
}

fn to_proto(text: clinical_text::Model) -> ClinicalText {
    ClinicalText {
        kind: kind(&text.kind) as i32,
        id: text.id,
        referral_id: text.referral_id,
        board: text.board,
        text: text.text,
    }
}

#[cfg(test)]
#[path = "tests/rpc.rs"]
mod tests;
