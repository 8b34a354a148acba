use serde_json::json;

use super::*;

const ID: &str = "0190d5a8-2f7e-7c1e-9a4b-1f2e3d4c5b6a";

fn communication() -> serde_json::Value {
    json!({
        "resourceType": "Communication",
        "status": "completed",
        "basedOn": [{"reference": format!("ServiceRequest/{ID}")}],
        "about": [{"identifier": {"system": INFORMATION_REQUEST_SYSTEM, "value": "q-1"}}],
        "payload": [{"contentString": "Amitriptyline 10 mg, stopped for drowsiness"}],
    })
}

#[test]
fn an_answer_reads_into_the_native_arguments() {
    let answer = parse(communication().to_string().as_bytes()).expect("valid");
    assert_eq!(answer.referral_id, ID);
    assert_eq!(answer.information_request_id.as_deref(), Some("q-1"));
    assert_eq!(answer.text, "Amitriptyline 10 mg, stopped for drowsiness");
}

#[test]
fn every_bad_element_is_named() {
    let mut body = communication();
    body["status"] = json!("in-progress");
    body["basedOn"] = json!([{"reference": "Patient/1"}]);
    body["about"] = json!([{"identifier": {"system": "http://other", "value": "q-1"}}]);
    body["payload"] = json!([{"contentAttachment": {}}]);
    let issues = parse(body.to_string().as_bytes()).expect_err("invalid");
    let paths: Vec<_> = issues.iter().map(|i| i.expression.as_str()).collect();
    assert_eq!(
        paths,
        [
            "Communication.status",
            REFERRAL_PATH,
            REQUEST_PATH,
            ANSWER_PATH
        ]
    );
    let not_one = parse(br#"{"resourceType":"Task"}"#).expect_err("not a Communication");
    assert!(not_a_communication(&not_one));
}
