//! The authenticated [`Caller`] of a request, from its bearer token.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use super::error::ApiError;
use super::forwarded::TrustedProxies;
use crate::auth::{AuthError, Authenticator, Caller, bearer};

impl<S> FromRequestParts<S> for Caller
where
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // Put there by `http::finish`, which every service's router ends with.
        let authenticator = parts
            .extensions
            .get::<Arc<Authenticator>>()
            .cloned()
            .ok_or_else(|| {
                ApiError::Internal(anyhow::anyhow!(
                    "the router has no authenticator: end it with http::finish"
                ))
            })?;
        let header = parts
            .headers
            .get(http::header::AUTHORIZATION)
            .map(|v| v.to_str().map_err(|_| AuthError::Malformed))
            .transpose()
            .map_err(ApiError::from)?;
        let token = bearer(header)?;
        let claims = authenticator.verify(token).await?;
        let proxies = parts
            .extensions
            .get::<TrustedProxies>()
            .cloned()
            .unwrap_or_default();
        let source = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| proxies.client(addr.ip(), &parts.headers).to_string())
            .unwrap_or_else(|| "unknown".into());
        Ok(Caller {
            subject: claims.sub,
            name: claims.name,
            role: claims.role,
            boards: claims.boards.into_iter().collect(),
            source,
        })
    }
}
