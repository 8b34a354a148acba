//! Requests per token: each bearer token (or, without one, each client
//! address) may send `http.rate_limit_per_second` requests a second on
//! average, in bursts of up to `http.rate_limit_burst`; past that it is
//! answered 429 `rate_limited` with `Retry-After`, before any work is done.
//! A runaway client or a stolen token cannot starve the others. The
//! operational routes (`/healthz`, `/readyz`, `/metrics`) are not limited.
//!
//! Tokens are kept only as a keyed hash, never in the clear.

use std::hash::BuildHasher;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::error::ApiError;
use crate::settings::HttpSettings;

/// Past this many keys, those idle long enough to be full again are dropped.
const KEYS_BEFORE_CLEANUP: usize = 10_000;

/// The limiter of one service, shared by its requests.
#[derive(Clone)]
pub struct RateLimit {
    limiter: Option<Arc<DefaultKeyedRateLimiter<u64>>>,
    per_second: u32,
    hasher: std::hash::RandomState,
}

impl RateLimit {
    /// As `http` says; a rate of 0 turns it off.
    pub fn new(http: &HttpSettings) -> Self {
        let limiter = NonZeroU32::new(http.rate_limit_per_second).map(|rate| {
            let burst = NonZeroU32::new(http.rate_limit_burst).unwrap_or(rate);
            Arc::new(RateLimiter::keyed(
                Quota::per_second(rate).allow_burst(burst),
            ))
        });
        Self {
            limiter,
            per_second: http.rate_limit_per_second,
            hasher: std::hash::RandomState::new(),
        }
    }
}

/// The middleware: count the request against its token's allowance.
pub async fn limit(State(limit): State<RateLimit>, request: Request, next: Next) -> Response {
    let Some(limiter) = &limit.limiter else {
        return next.run(request).await;
    };
    if matches!(request.uri().path(), "/healthz" | "/readyz" | "/metrics") {
        return next.run(request).await;
    }
    let key = match request.headers().get(header::AUTHORIZATION) {
        Some(token) => limit.hasher.hash_one(token.as_bytes()),
        None => {
            let peer = request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(address)| address.ip());
            limit.hasher.hash_one(("address", peer))
        }
    };
    if limiter.len() > KEYS_BEFORE_CLEANUP {
        limiter.retain_recent();
    }
    match limiter.check_key(&key) {
        Ok(()) => next.run(request).await,
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let mut response = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "more than {} requests a second with this token: wait {} s and send again",
                    limit.per_second,
                    seconds.max(1)
                ),
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
            response
        }
    }
}
