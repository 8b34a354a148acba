//! The token and the origin check, alone; end to end in `tests/e2e/csrf.rs`.

use axum::http::{HeaderMap, HeaderValue};

use super::*;

fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        headers.insert(*name, HeaderValue::from_static(value));
    }
    headers
}

#[test]
fn the_own_origin_passes_and_any_other_is_refused() {
    let host = ("host", "pathway.example:8443");
    for ok in [
        headers(&[host, ("origin", "https://pathway.example:8443")]),
        headers(&[host, ("origin", "http://PATHWAY.example:8443")]),
        headers(&[
            host,
            ("referer", "https://pathway.example:8443/referrals/1"),
        ]),
        headers(&[
            ("host", "vetting:8080"),
            ("x-forwarded-host", "pathway.example"),
            ("origin", "https://pathway.example"),
        ]),
        headers(&[
            ("host", "pathway.example:443"),
            ("origin", "https://pathway.example"),
        ]),
    ] {
        assert!(check_origin(&ok).is_ok(), "{ok:?}");
    }
    for (refused, reason) in [
        (headers(&[host]), "csrf_no_origin"),
        (headers(&[host, ("origin", "null")]), "csrf_cross_origin"),
        (
            headers(&[host, ("origin", "null"), ("sec-fetch-site", "cross-site")]),
            "csrf_cross_origin",
        ),
        (
            headers(&[host, ("sec-fetch-site", "same-site")]),
            "csrf_cross_origin",
        ),
        (
            headers(&[host, ("sec-fetch-site", "none")]),
            "csrf_cross_origin",
        ),
        (
            headers(&[
                host,
                ("origin", "https://evil.example"),
                ("sec-fetch-site", "same-origin"),
            ]),
            "csrf_cross_origin",
        ),
        (
            headers(&[host, ("origin", "https://evil.example")]),
            "csrf_cross_origin",
        ),
        (
            headers(&[host, ("origin", "https://pathway.example")]),
            "csrf_cross_origin",
        ),
        (
            headers(&[
                host,
                ("referer", "https://pathway.example:8443.evil.example/"),
            ]),
            "csrf_cross_origin",
        ),
        (
            headers(&[
                host,
                (
                    "referer",
                    "https://evil.example/?https://pathway.example:8443",
                ),
            ]),
            "csrf_cross_origin",
        ),
    ] {
        let error = check_origin(&refused).expect_err("refused");
        assert_eq!(error.reason.code(), reason, "{refused:?}");
    }
}

#[test]
fn a_token_is_good_only_for_its_purpose_subject_and_time() {
    let none = HeaderMap::new();
    let good = token("pathway_session", "jane");
    assert!(check_token("pathway_session", "jane", Some(&good), &none).is_ok());
    let code = |purpose: &str, subject: &str, token: Option<&str>| {
        check_token(purpose, subject, token, &none)
            .expect_err("refused")
            .reason
            .code()
    };
    assert_eq!(
        code("pathway_session", "john", Some(&good)),
        "csrf_token_wrong"
    );
    assert_eq!(
        code("other_session", "jane", Some(&good)),
        "csrf_token_wrong"
    );
    assert_eq!(code("pathway_session", "jane", None), "csrf_token_missing");
    assert_eq!(
        code("pathway_session", "jane", Some(" ")),
        "csrf_token_missing"
    );
    assert_eq!(
        code("pathway_session", "jane", Some("garbage")),
        "csrf_token_wrong"
    );
    let (_, signature) = good.split_once('.').expect("two parts");
    let later = format!("{}.{signature}", Utc::now().timestamp() + 999_999);
    assert_eq!(
        code("pathway_session", "jane", Some(&later)),
        "csrf_token_wrong"
    );
    let old = token_expiring(
        "pathway_session",
        "jane",
        Utc::now() - TimeDelta::seconds(1),
    );
    assert_eq!(
        code("pathway_session", "jane", Some(&old)),
        "csrf_token_expired"
    );
}
