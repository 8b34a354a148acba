//! Headers every answer carries, pages and API alike, so that what shows a
//! patient's details is neither kept by a browser or proxy nor framed,
//! sniffed or sent on as a referrer to another site (`same-origin`: the
//! pages' own forms still say where they came from, which the CSRF check
//! reads).
//!
//! The content security policy allows the service's own style sheet, images
//! and form targets and inline `style` attributes (the pages have no
//! script); nothing else loads, and no other site may frame a page.

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

/// The content security policy of every answer.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// `router` with the headers every answer carries. `Cache-Control` is
/// `no-store` unless a route said otherwise.
pub fn secure(router: Router) -> Router {
    let always = [
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ),
    ];
    let router = always.into_iter().fold(
        router,
        |router, (name, value): (HeaderName, HeaderValue)| {
            router.layer(SetResponseHeaderLayer::overriding(name, value))
        },
    );
    router.layer(SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    ))
}
