//! A Subscription read at the edge: each bad element named by FHIRPath.

use serde_json::json;

use super::*;

fn subscription(criteria: &str, endpoint: &str) -> serde_json::Value {
    json!({
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "Referral status",
        "criteria": criteria,
        "channel": {
            "type": "rest-hook",
            "endpoint": endpoint,
            "payload": "application/fhir+json",
            "header": ["Authorization: Bearer abc"],
        },
    })
}

fn paths(body: serde_json::Value) -> Vec<String> {
    parse(body.to_string().as_bytes())
        .expect_err("refused")
        .into_iter()
        .map(|i| i.expression)
        .collect()
}

#[test]
fn a_practice_subscription_is_read() {
    let body = subscription(
        "Task?requester=https://pathway.scot.nhs.uk/fhir/Id/gp-practice-code|12345&owner=highland",
        "https://gp.example/fhir",
    );
    let parsed = parse(body.to_string().as_bytes()).expect("valid");
    assert_eq!(parsed.practice_code, "12345");
    assert_eq!(parsed.board.as_deref(), Some("highland"));
    assert_eq!(parsed.payload, Payload::FhirJson);
    assert_eq!(parsed.headers, ["Authorization: Bearer abc"]);
    assert!(!format!("{parsed:?}").contains("abc"), "headers masked");
}

#[test]
fn bad_elements_are_named() {
    let cases = [
        (
            subscription("Patient?name=x", "https://gp.example"),
            vec![CRITERIA_PATH],
        ),
        (
            subscription("Task?status=ready", "https://gp.example"),
            vec![CRITERIA_PATH],
        ),
        (
            subscription("Task?owner=highland", "https://gp.example"),
            vec![CRITERIA_PATH],
        ),
        (
            subscription("Task?requester=1", "not a url"),
            vec![ENDPOINT_PATH],
        ),
        (
            subscription("Task", "nope"),
            vec![CRITERIA_PATH, ENDPOINT_PATH],
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(paths(body.clone()), expected, "{body}");
    }
    let mut body = subscription("Task?requester=1", "https://gp.example");
    body["channel"]["header"] = json!(["Host: evil.example", "no colon"]);
    body["channel"]["type"] = json!("websocket");
    assert_eq!(
        paths(body),
        [
            "Subscription.channel.type",
            "Subscription.channel.header[0]",
            "Subscription.channel.header[1]"
        ]
    );
    let not = parse(b"{\"resourceType\":\"Task\"}").expect_err("not a Subscription");
    assert!(not_a_subscription(&not));
}

#[test]
fn the_resource_masks_header_values() {
    let view = SubscriptionView {
        id: "s1".into(),
        criteria: "Task?requester=1".into(),
        reason: "r".into(),
        endpoint: "https://gp.example".into(),
        payload: Payload::Empty,
        headers: vec!["Authorization: Bearer abc".into()],
        status: "active".into(),
        error: None,
        updated_at: chrono::Utc::now(),
    };
    let resource = resource(&view);
    assert_eq!(resource["channel"]["header"], json!(["Authorization: ***"]));
    assert!(resource["channel"].get("payload").is_none());
}
