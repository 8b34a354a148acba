//! Unit tests of `board/handoff.rs`: the standard and paediatric routes in a
//! board's settings, each problem naming its field.

use crate::board::{BoardSettings, NotificationSettings};

fn settings(notification: serde_json::Value) -> Result<BoardSettings, serde_json::Error> {
    serde_json::from_value(serde_json::json!({ "notification": notification }))
}

fn problems(notification: serde_json::Value) -> Vec<(String, String)> {
    settings(notification).expect("reads").problems()
}

#[test]
fn routes_read_with_their_defaults_and_pass() {
    let read = settings(serde_json::json!({
        "allowed_hosts": ["*.nhs.scot"],
        "standard_route": {"name": "NHS Highland MSK service", "url": "https://msk.nhs.scot/in"},
        "paediatric_route": {"name": "Children's pain service", "url": "https://rhc.nhs.scot/in"},
    }))
    .expect("reads");
    assert!(read.problems().is_empty(), "{:?}", read.problems());
    let section = read.notification.expect("a notification section");
    let paediatric = section.paediatric_route.expect("a paediatric route");
    assert_eq!(paediatric.under_age, 16, "16 unless set");
    assert_eq!(paediatric.kind, super::RouteKind::Webhook);
    assert_eq!(paediatric.route().url, "https://rhc.nhs.scot/in");
    // A document without routes still reads, and writes none back.
    let plain = NotificationSettings::default();
    let written = serde_json::to_value(&plain).expect("writes");
    assert!(written.get("standard_route").is_none(), "{written}");
    assert!(written.get("paediatric_route").is_none(), "{written}");
}

#[test]
fn each_bad_route_field_is_named() {
    let cases = [
        (
            serde_json::json!({"allowed_hosts": ["msk.nhs.scot"],
                "standard_route": {"name": " ", "url": "https://msk.nhs.scot/in"}}),
            "notification.standard_route.name",
        ),
        (
            serde_json::json!({"allowed_hosts": ["msk.nhs.scot"],
                "standard_route": {"name": "MSK", "url": "https://other.example/in"}}),
            "notification.standard_route.url",
        ),
        (
            serde_json::json!({"allowed_hosts": ["msk.nhs.scot"],
                "standard_route": {"name": "MSK", "url": "http://msk.nhs.scot/in"}}),
            "notification.standard_route.url",
        ),
        (
            serde_json::json!({"allowed_hosts": ["rhc.nhs.scot"],
                "paediatric_route": {"name": "RHC", "under_age": 0, "url": "https://rhc.nhs.scot/in"}}),
            "notification.paediatric_route.under_age",
        ),
        (
            serde_json::json!({"allowed_hosts": ["rhc.nhs.scot"],
                "paediatric_route": {"name": "RHC", "under_age": 19, "url": "https://rhc.nhs.scot/in"}}),
            "notification.paediatric_route.under_age",
        ),
        (
            serde_json::json!({"allowed_hosts": [],
                "paediatric_route": {"name": "RHC", "url": "https://rhc.nhs.scot/in"}}),
            "notification.paediatric_route.url",
        ),
        (
            serde_json::json!({"allowed_hosts": ["msk.nhs.scot"],
                "receiving_services": {"standard_route": "https://msk.nhs.scot/in"}}),
            "notification.receiving_services.standard_route",
        ),
    ];
    for (section, field) in cases {
        let found = problems(section.clone());
        assert_eq!(found.len(), 1, "{section}: {found:?}");
        assert_eq!(found[0].0, field, "{section}: {found:?}");
    }
}

#[test]
fn unknown_route_fields_and_kinds_are_refused_when_read() {
    for section in [
        serde_json::json!({"standard_route": {"name": "MSK", "url": "https://a.b/c", "secret": "x"}}),
        serde_json::json!({"standard_route": {"name": "MSK", "kind": "carrier_pigeon", "url": "https://a.b/c"}}),
        serde_json::json!({"paediatric_route": {"name": "RHC", "url": "https://a.b/c", "under": 16}}),
        serde_json::json!({"standard_route": {"name": "MSK"}}),
    ] {
        assert!(settings(section.clone()).is_err(), "{section}");
    }
}

#[test]
fn production_refuses_a_route_in_clear() {
    let read = settings(serde_json::json!({
        "webhooks": "http",
        "messages": "notify",
        "allowed_hosts": ["127.0.0.1"],
        "allow_private_addresses": true,
        "standard_route": {"name": "MSK", "url": "http://127.0.0.1:9/in"},
        "paediatric_route": {"name": "RHC", "url": "https://127.0.0.1:9/in"},
    }))
    .expect("reads");
    assert!(read.problems().is_empty(), "{:?}", read.problems());
    let fields: Vec<String> = read
        .production_problems()
        .into_iter()
        .map(|(field, _)| field)
        .collect();
    assert_eq!(fields, ["notification.standard_route.url"]);
}

#[test]
fn a_fhir_route_reads_and_its_base_url_is_checked_as_a_webhook_url() {
    let read = settings(serde_json::json!({
        "allowed_hosts": ["fhir.nhs.scot"],
        "standard_route": {"name": "MSK", "kind": "fhir", "url": "https://fhir.nhs.scot/R4"},
    }))
    .expect("reads");
    assert!(read.problems().is_empty(), "{:?}", read.problems());
    let route = read
        .notification
        .and_then(|n| n.standard_route)
        .expect("a standard route");
    assert_eq!(route.kind, super::RouteKind::Fhir);
    let off_list = problems(serde_json::json!({
        "allowed_hosts": ["fhir.nhs.scot"],
        "standard_route": {"name": "MSK", "kind": "fhir", "url": "https://other.example/R4"},
    }));
    assert!(
        off_list
            .iter()
            .any(|(field, _)| field == "notification.standard_route.url"),
        "{off_list:?}"
    );
    assert!(
        settings(serde_json::json!({
            "standard_route": {"name": "MSK", "kind": "hl7v2", "url": "https://fhir.nhs.scot/R4"},
        }))
        .is_err(),
        "an unknown kind is refused"
    );
}
