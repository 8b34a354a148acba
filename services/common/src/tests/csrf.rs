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

#[test]
fn instances_sharing_a_key_file_accept_each_others_forms_and_no_one_else_does() {
    let dir = tempfile::tempdir().expect("a directory");
    let shared = dir.path().join("csrf.key");
    // Two instances start together: the first creates the file, both read it.
    let one = key_from_file(&shared).expect("the key");
    let other = key_from_file(&shared).expect("the same key");
    let elsewhere = key_from_file(&dir.path().join("another.key")).expect("another key");
    let expires = Utc::now() + LIFETIME;
    let shown = token_under(&one, "pathway_session", "jane", expires);
    assert_eq!(
        check_token_under(&other, "pathway_session", "jane", Some(&shown)),
        Ok(())
    );
    assert_eq!(
        check_token_under(&elsewhere, "pathway_session", "jane", Some(&shown)),
        Err(Reason::TokenWrong)
    );
    // The file's own key is never the form key.
    let file_key = crate::keys::load_or_create_key(&shared).expect("the file's key");
    assert_ne!(one, file_key);
    assert_ne!(one, hex::encode(&file_key).into_bytes());
    // An empty file is no key: the service stops rather than sign with it.
    let empty = dir.path().join("empty.key");
    std::fs::write(&empty, "").expect("write");
    assert!(key_from_file(&empty).is_err());
}
