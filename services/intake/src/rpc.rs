//! The authenticated request/reply endpoint through which other services
//! read a referral's identifiable data. Every read leaves an audit row.
//!
//! Subject: [`REFERRAL_GET`]; request: `{"referral_id": "...", "purpose": "..."}`
//! with an `Authorization: Bearer <service token>` header; reply: the
//! referral, or `{"error": {...}}`.

use futures::StreamExt;
use pathway_common::auth::{Caller, bearer};
use pathway_common::http::ApiError;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::application::Intake;

pub const REFERRAL_GET: &str = "pathway.rpc.intake.referral.get";

#[derive(Deserialize)]
struct Request {
    referral_id: String,
    purpose: String,
}

pub async fn serve(intake: Intake, shutdown: CancellationToken) -> anyhow::Result<()> {
    let client = intake.platform.nats.clone();
    let mut requests = client
        .queue_subscribe(REFERRAL_GET, "intake".into())
        .await?;
    loop {
        let message = tokio::select! {
            message = requests.next() => message,
            () = shutdown.cancelled() => break,
        };
        let Some(message) = message else { break };
        let Some(reply) = message.reply.clone() else {
            continue;
        };
        let answer = match answer(&intake, &message).await {
            Ok(body) => body,
            Err(error) => error_body(error),
        };
        if let Err(error) = client.publish(reply, answer.to_string().into()).await {
            tracing::warn!(%error, "cannot reply to a referral request");
        }
    }
    Ok(())
}

async fn answer(
    intake: &Intake,
    message: &async_nats::Message,
) -> Result<serde_json::Value, ApiError> {
    let header = message
        .headers
        .as_ref()
        .and_then(|h| h.get("Authorization"))
        .map(|v| v.as_str());
    let token = bearer(header)?;
    let claims = intake.platform.auth.verify(token).await?;
    let caller = Caller {
        subject: claims.sub,
        name: claims.name,
        role: claims.role,
        boards: claims.boards.into_iter().collect(),
        source: "nats".into(),
    };
    let request: Request = pathway_common::http::parse_json(&message.payload)?;
    if request.purpose.trim().is_empty() {
        return Err(ApiError::bad_request(
            "say why the referral is read: `purpose` must not be blank",
        ));
    }
    let referral = intake
        .identifiable_referral(&caller, &request.referral_id, request.purpose.trim())
        .await?;
    Ok(referral.body)
}

fn error_body(error: ApiError) -> serde_json::Value {
    let status = error.status().as_u16();
    let message = match &error {
        ApiError::Client { body, .. } => body.message.clone(),
        ApiError::Internal(cause) => {
            tracing::error!(error = format!("{cause:#}"), "referral request failed");
            "internal error".to_owned()
        }
    };
    serde_json::json!({"error": {"status": status, "message": message}})
}
