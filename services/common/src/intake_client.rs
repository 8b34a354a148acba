//! The request/reply client every service uses to read a referral's
//! identifiable data from intake, the only service that holds it. Intake
//! checks the service token and writes an audit row for every read.
//!
//! The contract is `pathway/v1/lookup.proto` on
//! [`pathway_proto::rpc::REFERRAL_LOOKUP`]. The answer keeps its class, so
//! that each caller can decide what to do with it: a referral, none
//! (`Ok(None)`), a refusal that asking again will not change
//! ([`IntakeError::Refused`]), or a fault that may heal
//! ([`IntakeError::Unavailable`]: intake not answering, too slow, failing on
//! its own account, or answering with something unreadable). The caller
//! converts the wire type into its own types at its adapter.

use std::time::Duration;

use async_nats::client::RequestErrorKind;
use pathway_proto::rpc::REFERRAL_LOOKUP;
use pathway_proto::v1::{
    IdentifiableReferral, LookupPurpose, LookupRefusal, ReferralLookupReply, ReferralLookupRequest,
    RefusalCode, referral_lookup_reply,
};
use prost::Message;

use crate::service_token::ServiceToken;

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// Intake is not there, too slow, failed on its own account, or answered
    /// with something unreadable: worth trying again later.
    #[error("{0}")]
    Unavailable(&'static str),
    /// Intake refused the look-up for a reason of the asker's (its token,
    /// its board, its request): asking again the same way will not help.
    #[error("intake refused the look-up ({code}): {message}", code = .code.as_str_name())]
    Refused { code: RefusalCode, message: String },
    /// This service has no token to ask with: its configuration is wrong.
    #[error(transparent)]
    NoToken(anyhow::Error),
    /// The patient's data was erased at their request: there will never be
    /// anything to give; drop what needed it.
    #[error("the patient's data was erased at their request")]
    Erased,
    /// The patient asked that processing be restricted: nothing is given
    /// until a board admin lifts it, so asking again later may help.
    #[error("processing is restricted at the patient's request")]
    Restricted,
}

#[derive(Clone)]
pub struct IntakeClient {
    nats: async_nats::Client,
    token: ServiceToken,
    timeout: Duration,
}

impl IntakeClient {
    /// Asking as `service` with the token its `auth` settings give
    /// ([`ServiceToken::from_settings`]); client credentials without their
    /// id or secret stop the start.
    pub fn from_settings(
        platform: &crate::platform::Platform,
        service: &'static str,
        auth: &crate::settings::AuthSettings,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        if auth.jwks_url.is_some() && auth.token_url.is_none() && auth.service_token.is_none() {
            tracing::warn!(
                "no auth.token_url (client credentials): {service} cannot read referrals from intake"
            );
        }
        let token = ServiceToken::from_settings(auth, platform.auth.clone(), service)?;
        Ok(Self::with_token(platform.nats.clone(), token, timeout))
    }

    /// Asking with the token `token` gives ([`ServiceToken::from_settings`]).
    pub fn with_token(nats: async_nats::Client, token: ServiceToken, timeout: Duration) -> Self {
        Self {
            nats,
            token,
            timeout,
        }
    }

    async fn token(&self) -> Result<String, IntakeError> {
        self.token.get().await.map_err(IntakeError::NoToken)
    }

    /// The referral with the fields `purpose` needs (intake leaves every
    /// other field empty), or `None` when intake has no such referral.
    /// `purpose` and `reason` (why, in words) go into intake's audit row.
    pub async fn referral(
        &self,
        referral_id: &str,
        purpose: LookupPurpose,
        reason: &str,
    ) -> Result<Option<IdentifiableReferral>, IntakeError> {
        let token = self.token().await?;
        let body = ReferralLookupRequest {
            referral_id: referral_id.to_owned(),
            purpose: reason.to_owned(),
            lookup_purpose: purpose as i32,
        };
        let message = crate::rpc::ask(
            &self.nats,
            REFERRAL_LOOKUP,
            &token,
            body.encode_to_vec(),
            self.timeout,
        )
        .await
        .map_err(|error| {
            tracing::warn!(%error, "a request to intake failed");
            IntakeError::Unavailable(match error.kind() {
                RequestErrorKind::NoResponders => "intake is not answering",
                RequestErrorKind::TimedOut => "intake did not answer in time",
                _ => "the request to intake failed",
            })
        })?;
        classify(&message.payload)
    }
}

/// What intake's answer means for the asker.
fn classify(payload: &[u8]) -> Result<Option<IdentifiableReferral>, IntakeError> {
    let reply = ReferralLookupReply::decode(payload).map_err(|error| {
        tracing::warn!(%error, "intake's answer is not readable");
        IntakeError::Unavailable("intake's answer is not readable")
    })?;
    match reply.result {
        Some(referral_lookup_reply::Result::Referral(referral)) => Ok(Some(referral)),
        Some(referral_lookup_reply::Result::Refusal(refusal)) => refused(refusal),
        None => {
            tracing::warn!("intake's answer has neither a referral nor a refusal");
            Err(IntakeError::Unavailable("intake's answer is not readable"))
        }
    }
}

fn refused(refusal: LookupRefusal) -> Result<Option<IdentifiableReferral>, IntakeError> {
    // A code this build does not know yet is read as the asker's refusal.
    let code = RefusalCode::try_from(refusal.code).unwrap_or(RefusalCode::Unspecified);
    match code {
        RefusalCode::NotFound => Ok(None),
        RefusalCode::Erased => Err(IntakeError::Erased),
        RefusalCode::Restricted => Err(IntakeError::Restricted),
        RefusalCode::Unavailable | RefusalCode::Internal => {
            tracing::warn!(
                code = code.as_str_name(),
                message = refusal.message,
                "intake could not answer the look-up"
            );
            Err(IntakeError::Unavailable(if code == RefusalCode::Internal {
                "intake failed the look-up"
            } else {
                "intake cannot answer now"
            }))
        }
        RefusalCode::Unspecified
        | RefusalCode::Forbidden
        | RefusalCode::Unauthenticated
        | RefusalCode::Invalid
        | RefusalCode::Conflict => Err(IntakeError::Refused {
            code,
            message: refusal.message,
        }),
    }
}

#[cfg(test)]
#[path = "tests/intake_client.rs"]
mod tests;
