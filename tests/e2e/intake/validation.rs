//! Every bad input is refused, naming the field, and nothing is written.

use pathway_common::auth::Role;
use pathway_tests::Backend;
use pathway_tests::intake::TestApp;
use pathway_tests::referrals::{remove, set, valid_referral};
use serde_json::{Value, json};

use super::referral_rows;

/// `(what is wrong, how to break a valid body, expected status, field named)`.
type BadInput = (&'static str, fn(&mut Value), u16, &'static str);

fn bad_inputs() -> Vec<BadInput> {
    vec![
        (
            "wrong CHI check digit",
            |b| {
                // A last digit that neither modulus 11 nor modulus 10 accepts.
                let chi = b["patient"]["chi"].as_str().unwrap_or_default().to_owned();
                let wrong = (0..10)
                    .map(|d| format!("{}{d}", &chi[..9]))
                    .find(|c| pathway_intake::domain::ChiNumber::parse(c).is_err())
                    .expect("some check digit is wrong");
                set(b, "patient.chi", json!(wrong));
            },
            422,
            "patient.chi",
        ),
        (
            "CHI too short",
            |b| set(b, "patient.chi", json!("12345")),
            422,
            "patient.chi",
        ),
        (
            "CHI with letters",
            |b| set(b, "patient.chi", json!("01010112AB")),
            422,
            "patient.chi",
        ),
        (
            "CHI not matching the birth date",
            |b| {
                let dob = b["patient"]["date_of_birth"].as_str().unwrap_or_default();
                let dob = chrono::NaiveDate::parse_from_str(dob, "%Y-%m-%d").expect("a date");
                let next_day = dob + chrono::Days::new(1);
                set(b, "patient.date_of_birth", json!(next_day.to_string()));
            },
            422,
            "patient.chi",
        ),
        (
            "CHI not matching the sex",
            |b| set(b, "patient.sex", json!("male")),
            422,
            "patient.chi",
        ),
        (
            "unknown board",
            |b| set(b, "board", json!("atlantis")),
            422,
            "board",
        ),
        ("missing board", |b| remove(b, "board"), 422, "board"),
        (
            "date of birth in the future",
            |b| set(b, "patient.date_of_birth", json!("2999-01-01")),
            422,
            "patient.date_of_birth",
        ),
        (
            "date of birth not a date",
            |b| set(b, "patient.date_of_birth", json!("31/02/1967")),
            422,
            "patient.date_of_birth",
        ),
        (
            "intensity 11",
            |b| set(b, "clinical.pain_intensity", json!(11)),
            422,
            "clinical.pain_intensity",
        ),
        (
            "intensity -1",
            |b| set(b, "clinical.pain_intensity", json!(-1)),
            422,
            "clinical.pain_intensity",
        ),
        (
            "intensity as text",
            |b| set(b, "clinical.pain_intensity", json!("seven")),
            422,
            "clinical.pain_intensity",
        ),
        (
            "missing consent",
            |b| remove(b, "consent_to_remote_pathway"),
            422,
            "consent_to_remote_pathway",
        ),
        (
            "consent refused",
            |b| set(b, "consent_to_remote_pathway", json!(false)),
            422,
            "consent_to_remote_pathway",
        ),
        (
            "unknown sex",
            |b| set(b, "patient.sex", json!("x")),
            422,
            "patient.sex",
        ),
        (
            "bad postcode",
            |b| set(b, "patient.postcode", json!("NOT A CODE")),
            422,
            "patient.postcode",
        ),
        (
            "blank family name",
            |b| set(b, "patient.family_name", json!("  ")),
            422,
            "patient.family_name",
        ),
        ("missing patient", |b| remove(b, "patient"), 422, "patient"),
        (
            "sms without a mobile",
            |b| remove(b, "patient.contact.mobile"),
            422,
            "patient.contact.mobile",
        ),
        (
            "bad mobile",
            |b| set(b, "patient.contact.mobile", json!("0131 555 0000")),
            422,
            "patient.contact.mobile",
        ),
        (
            "bad e-mail",
            |b| set(b, "patient.contact.email", json!("not-an-email")),
            422,
            "patient.contact.email",
        ),
        (
            "unknown contact channel",
            |b| set(b, "patient.contact.preferred", json!("pigeon")),
            422,
            "patient.contact.preferred",
        ),
        (
            "bad practice code",
            |b| set(b, "referrer.practice_code", json!("ABC")),
            422,
            "referrer.practice_code",
        ),
        (
            "http webhook",
            |b| {
                set(b, "referrer.reply_channel", json!("webhook"));
                set(
                    b,
                    "referrer.reply_address",
                    json!("http://gp.example.org/hook"),
                );
            },
            422,
            "referrer.reply_address",
        ),
        (
            "unknown red flag",
            |b| set(b, "clinical.red_flags", json!(["headache"])),
            422,
            "clinical.red_flags[0]",
        ),
        (
            "red flags not answered",
            |b| remove(b, "clinical.red_flags"),
            422,
            "clinical.red_flags",
        ),
        (
            "no pain site",
            |b| set(b, "clinical.pain_sites", json!([])),
            422,
            "clinical.pain_sites",
        ),
        (
            "unknown pain site",
            |b| set(b, "clinical.pain_sites", json!(["elbow"])),
            422,
            "clinical.pain_sites[0]",
        ),
        (
            "unknown impact level",
            |b| set(b, "clinical.impact.sleep", json!("terrible")),
            422,
            "clinical.impact.sleep",
        ),
        (
            "missing question",
            |b| remove(b, "clinical.question"),
            422,
            "clinical.question",
        ),
        (
            "duration of 200 years",
            |b| set(b, "clinical.pain_duration_months", json!(2400)),
            422,
            "clinical.pain_duration_months",
        ),
        (
            "interpreter without a language",
            |b| set(b, "patient.accessibility_needs", json!(["interpreter"])),
            422,
            "patient.interpreter_language",
        ),
        (
            "a preferred language that is no ISO 639 code",
            |b| set(b, "patient.preferred_language", json!("Scottish Gaelic")),
            422,
            "patient.preferred_language",
        ),
        (
            "unknown field",
            |b| set(b, "patient.nhs_number", json!("943 476 5919")),
            422,
            "patient",
        ),
        ("body is an array", |b| *b = json!([1, 2, 3]), 422, "body"),
    ]
}

#[tokio::test]
async fn every_bad_input_is_refused_with_the_field_and_nothing_is_written() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    app.enable_board("highland").await;
    let token = app.token(Role::Referrer, &["highland"]);
    let cases = bad_inputs();
    assert!(cases.len() >= 25);
    for (what, breaks, status, field) in cases {
        let mut body = valid_referral("highland");
        breaks(&mut body);
        let response = app.post_referral(&token, &body).await;
        assert_eq!(response.status().as_u16(), status, "{what}");
        let error: Value = response.json().await.expect("a JSON error body");
        let fields: Vec<&str> = error["fields"]
            .as_array()
            .map(|f| f.iter().filter_map(|f| f["field"].as_str()).collect())
            .unwrap_or_default();
        assert!(
            fields.iter().any(|f| f.starts_with(field)),
            "{what}: expected {field} among {fields:?}"
        );
        assert!(
            error["fields"][0]["reason"]
                .as_str()
                .is_some_and(|r| !r.is_empty()),
            "{what}: a reason"
        );
    }
    // Several faults at once are all named.
    let mut body = valid_referral("highland");
    set(&mut body, "clinical.pain_intensity", json!(11));
    set(&mut body, "patient.postcode", json!("nowhere"));
    remove(&mut body, "consent_to_remote_pathway");
    let error: Value = app
        .post_referral(&token, &body)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(error["fields"].as_array().map(Vec::len), Some(3));
    assert_eq!(error["rejection_reason"]["code"], "03");

    // Not JSON, not declared JSON, too large.
    let url = format!("{}/v1/referrals", app.base);
    let response = app
        .http
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.expect("JSON");
    assert_eq!(error["fields"][0]["field"], "body");
    let response = app
        .http
        .post(&url)
        .bearer_auth(&token)
        .body("board=highland")
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 415);
    let huge = json!({"board": "highland", "padding": "x".repeat(300 * 1024)});
    let response = app.post_referral(&token, &huge).await;
    assert_eq!(response.status(), 413);

    assert_eq!(referral_rows(&app).await, 0, "no bad input leaves a row");
    let stream_referrals = app
        .stream_events()
        .await
        .into_iter()
        .filter(|e| e.subject.contains(".referral."))
        .count();
    assert_eq!(stream_referrals, 0, "no bad input leaves an event");
}
