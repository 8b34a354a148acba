//! Messages the patient can use: a letter in large print, an easy-read text,
//! an e-mail in Scottish Gaelic, each as the referral's needs and language
//! ask; and the receiving service told to book the patient's interpreter.

use pathway_common::auth::Role;
use pathway_notification::startup::Workers;
use pathway_notification::store::delivery::{Model, Status};
use pathway_proto::v1 as proto;
use pathway_tests::backends;
use pathway_tests::notification::decision_recorded;
use pathway_tests::referrals::{set, valid_referral};
use serde_json::{Value, json};

use super::{Setup, accept, patient, setup};

/// A referral with the patient's `preferred` channel, `needs` and language.
fn referral(preferred: &str, needs: &[&str], language: Option<&str>) -> Value {
    let mut body = valid_referral("highland");
    set(&mut body, "patient.contact.preferred", json!(preferred));
    set(&mut body, "patient.accessibility_needs", json!(needs));
    if needs.contains(&"interpreter") {
        set(&mut body, "patient.interpreter_language", json!("Polish"));
    }
    if let Some(language) = language {
        set(&mut body, "patient.preferred_language", json!(language));
    }
    body
}

/// The patient's delivery of an accept, once sent, and what the gateway
/// was given for it: `(kind, subject, body)`.
async fn accepted(s: &Setup, sent: &Value) -> (Model, (String, String, String)) {
    let id = s.intake.refer(sent).await;
    s.app
        .send(&decision_recorded("highland", &id, accept()))
        .await;
    let row = patient(&s.app.wait_until_settled(&id, 2).await).clone();
    assert_eq!(row.status, Status::Sent, "{row:?}");
    let taken = s
        .gateway
        .taken()
        .into_iter()
        .find(|t| t.reference == row.id)
        .expect("the patient's message reached the gateway");
    let text = |key: &str| {
        taken.body["personalisation"][key]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let message = (taken.kind.clone(), text("subject"), text("body"));
    (row, message)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_patient_is_written_to_in_the_format_and_language_they_need() {
    for backend in backends().await {
        let s = setup(&backend, Workers::default()).await;

        // Large print is a letter's layout: one sentence a paragraph.
        let (row, (kind, _, body)) =
            accepted(&s, &referral("letter", &["large_print"], None)).await;
        assert_eq!(
            row.template,
            "patient/accept.large_print",
            "{}",
            backend.name()
        );
        assert_eq!(kind, "letter");
        assert!(
            body.starts_with(
                "Dear Morag,\n\nYour GP asked the NHS Highland pain service to see you.\n\n"
            ),
            "{body}"
        );

        // The same need on a text changes nothing: a phone enlarges its own.
        let (row, (kind, _, body)) = accepted(&s, &referral("sms", &["large_print"], None)).await;
        assert_eq!(
            (row.template.as_str(), kind.as_str()),
            ("patient/accept", "sms")
        );
        assert!(body.starts_with("Dear Morag, your GP asked"), "{body}");

        // Easy read is wording, on every channel.
        let (row, (kind, subject, body)) =
            accepted(&s, &referral("sms", &["easy_read"], None)).await;
        assert_eq!(row.template, "patient/accept.easy_read");
        assert_eq!(kind, "sms");
        assert_eq!(subject, "Your referral: the pain clinic");
        assert!(
            body.contains("A pain doctor at NHS Highland read the letter from your GP.")
                && body.contains("You will see the pain team on a video call."),
            "{body}"
        );

        // Scottish Gaelic, by e-mail.
        let (row, (kind, subject, body)) = accepted(&s, &referral("email", &[], Some("gd"))).await;
        assert_eq!(row.template, "gd/patient/accept");
        assert_eq!(kind, "email");
        assert_eq!(subject, "Ur n-iomradh gu clionaig a' phian");
        assert!(
            body.starts_with("A charaid,") && body.contains("air gairm bhidio"),
            "{body}"
        );

        // Gaelic before the format: no Gaelic easy read is shipped, so the
        // Gaelic one; and English when there is no Gaelic version at all.
        let (row, _) = accepted(&s, &referral("sms", &["easy_read"], Some("gd"))).await;
        assert_eq!(row.template, "gd/patient/accept");
        let id = s.intake.refer(&referral("sms", &[], Some("gd"))).await;
        let referrer = s.intake.token(Role::Referrer, &["highland"]);
        let withdrawn = s
            .intake
            .referral_action(
                &referrer,
                &id,
                "withdraw",
                &json!({"reason_code": "patient_request"}),
            )
            .await;
        assert_eq!(withdrawn.status(), 200);
        let rows = s.app.wait_until_settled(&id, 2).await;
        assert_eq!(patient(&rows).template, "patient/withdrawn", "{rows:?}");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_receiving_service_is_told_to_book_the_interpreter() {
    for backend in backends().await {
        let s = setup(&backend, Workers::default()).await;
        let sent = referral("sms", &["interpreter", "british_sign_language"], None);
        let id = s.intake.refer(&sent).await;
        let programme = proto::Outcome {
            kind: proto::OutcomeKind::PainManagementProgramme as i32,
            ..proto::Outcome::default()
        };
        s.app
            .send(&decision_recorded("highland", &id, programme))
            .await;
        let rows = s.app.wait_until_settled(&id, 3).await;
        assert_eq!(rows.len(), 3, "{}: {rows:?}", backend.name());
        let hook = s
            .receiver
            .hooks()
            .into_iter()
            .find(|h| h.path == "programme")
            .expect("the programme is sent the referral");
        let body = hook.document["message"]["body"]
            .as_str()
            .unwrap_or_default();
        assert!(
            body.contains("The patient needs an interpreter for Polish: please book one"),
            "{body}"
        );
        assert!(
            body.contains("British Sign Language (BSL) interpreter"),
            "{body}"
        );
        assert_eq!(hook.document["needs"]["interpreter_language"], "Polish");
        assert_eq!(hook.document["needs"]["british_sign_language"], true);
        // The patient's own message is unchanged by these needs.
        assert_eq!(patient(&rows).template, "patient/pain_management_programme");
        s.stop().await;
    }
}
