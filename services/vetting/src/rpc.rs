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

use pathway_common::rpc::{self, Refusal};
use pathway_proto::rpc::CLINICAL_TEXT;
use pathway_proto::v1::{
    ClinicalText, ClinicalTextKind, ClinicalTextReply, ClinicalTextRequest, ClinicalTexts,
    RefusalCode, clinical_text_reply,
};
use prost::Message;
use tokio_util::sync::CancellationToken;

use crate::application::{Error, Vetting};
use crate::store::clinical_text::{self, Kind};

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

/// Answer requests until `shutdown`; an error when the subscription ends
/// before it (the worker's supervisor subscribes again).
pub async fn serve(vetting: Vetting, shutdown: CancellationToken) -> anyhow::Result<()> {
    let client = vetting.platform.nats.clone();
    rpc::serve(client, CLINICAL_TEXT, "vetting", shutdown, |message| {
        let vetting = &vetting;
        async move { reply(vetting, &message).await }
    })
    .await
}

/// The encoded answer to one request: the texts, or a refusal.
async fn reply(vetting: &Vetting, message: &async_nats::Message) -> Vec<u8> {
    let result = match answer(vetting, message).await {
        Ok(texts) => clinical_text_reply::Result::Texts(ClinicalTexts {
            texts: texts.into_iter().map(to_proto).collect(),
        }),
        Err(refusal) => clinical_text_reply::Result::Refusal(refusal.into_proto()),
    };
    ClinicalTextReply {
        result: Some(result),
    }
    .encode_to_vec()
}

async fn answer(
    vetting: &Vetting,
    message: &async_nats::Message,
) -> Result<Vec<clinical_text::Model>, Refusal> {
    let caller = rpc::caller(&vetting.platform.auth, message).await?;
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
