//! A board's templates within their fuel and output limits, the sink's files
//! for the service's user only, and the deliveries listed a page at a time.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use pathway_common::auth::Role;
use pathway_notification::startup::Workers;
use pathway_notification::store::delivery::Status;
use pathway_proto::v1 as proto;
use pathway_tests::backends;
use pathway_tests::intake::TestApp as IntakeApp;
use pathway_tests::notification::decision_recorded;
use pathway_tests::referrals::valid_referral;
use serde_json::{Value, json};

use super::{accept, patient, setup};

fn decline(reason: &str) -> proto::Outcome {
    proto::Outcome {
        kind: proto::OutcomeKind::Decline as i32,
        reason_text_id: pathway_tests::notification::text(reason),
        ..proto::Outcome::default()
    }
}

/// The board's settings with `template` as its patient's decline message;
/// every channel the sink.
fn settings_with_decline(template: &str) -> Value {
    let mut document = IntakeApp::example_board_settings();
    document["notification"]["templates"] = json!({ "patient/decline": template });
    document
}

/// The `fields` of an error answer, each as `(field, reason)`.
fn fields(error: &Value) -> Vec<(String, String)> {
    error["fields"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|f| {
                    (
                        f["field"].as_str().unwrap_or_default().to_owned(),
                        f["reason"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_over_its_limits_is_refused_at_save_and_fails_only_its_delivery_at_send() {
    for backend in backends().await {
        let s = setup(&backend, Workers::default()).await;
        let admin = s.intake.token(Role::BoardAdmin, &["highland"]);

        // Loops nested four deep over the example reason: refused when the
        // settings are saved, naming the template and the limit.
        let nested = "Your referral\n{% for a in reason or '' %}{% for b in reason %}{% for c in reason %}{% for d in reason %}.{% endfor %}{% endfor %}{% endfor %}{% endfor %}";
        let response = s
            .intake
            .put_board_settings(
                &admin,
                "highland",
                &settings_with_decline(nested).to_string(),
            )
            .await;
        assert_eq!(response.status(), 422, "{}", backend.name());
        let error: Value = response.json().await.expect("JSON");
        let refused = fields(&error);
        assert_eq!(refused.len(), 1, "{error}");
        assert_eq!(refused[0].0, "notification.templates.patient/decline");
        assert!(refused[0].1.contains("fuel limit"), "{error}");

        // Quadratic in the reason: fine for the example, over the fuel limit
        // for a long reason.
        let quadratic = "Your referral\nDear {{ patient_name }}, the pain clinic cannot see you.{% for a in reason or '' %}{% for b in reason %}{% endfor %}{% endfor %}";
        let response = s
            .intake
            .put_board_settings(
                &admin,
                "highland",
                &settings_with_decline(quadratic).to_string(),
            )
            .await;
        assert_eq!(
            response.status(),
            200,
            "{}",
            response.text().await.unwrap_or_default()
        );
        pathway_tests::eventually(Duration::from_secs(15), || async {
            s.app
                .board_notification("highland")
                .await
                .filter(|row| row.notification_json.is_some())
        })
        .await
        .expect("notification keeps the board's new settings");

        let referral = s.intake.refer(&valid_referral("highland")).await;
        s.app
            .send(&decision_recorded(
                "highland",
                &referral,
                decline(&"Needs a spinal surgical review first. ".repeat(80)),
            ))
            .await;
        let rows = s.app.wait_until_settled(&referral, 2).await;
        let sms = patient(&rows);
        assert_eq!(sms.status, Status::Failed, "{sms:?}");
        let reason = sms.last_error.as_deref().unwrap_or_default();
        assert!(
            reason.contains("patient/decline") && reason.contains("fuel limit"),
            "{reason}"
        );
        let gp = rows
            .iter()
            .find(|r| r.recipient == "referrer")
            .expect("to the GP");
        assert_eq!(gp.status, Status::Sent, "the other delivery goes out");

        // The sink's file is the service's user's only.
        let file = std::path::PathBuf::from(gp.gateway_id.as_deref().expect("a file"));
        let mode =
            |p: &std::path::Path| std::fs::metadata(p).expect("there").permissions().mode() & 0o777;
        assert_eq!(mode(&file), 0o600, "{}", file.display());
        assert_eq!(mode(file.parent().expect("a folder")), 0o700);

        // Nothing to send again until the template changes.
        let app_admin = s.app.token(Role::BoardAdmin, &["highland"]);
        let retried = s
            .app
            .post(&app_admin, &format!("/v1/deliveries/{}/retry", sms.id))
            .await;
        assert_eq!(retried.status(), 409);
        let error: Value = retried.json().await.expect("JSON");
        assert!(
            error["message"]
                .as_str()
                .unwrap_or_default()
                .contains("fuel limit"),
            "{error}"
        );

        // The consumer goes on: the next decision is sent.
        let next = s.intake.refer(&valid_referral("highland")).await;
        s.app
            .send(&decision_recorded("highland", &next, accept()))
            .await;
        let rows = s.app.wait_until_settled(&next, 2).await;
        assert!(rows.iter().all(|r| r.status == Status::Sent), "{rows:?}");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_are_listed_newest_first_a_page_at_a_time() {
    for backend in backends().await {
        let s = setup(&backend, Workers::default()).await;
        let mut all = Vec::new();
        for _ in 0..3 {
            let referral = s.intake.refer(&valid_referral("highland")).await;
            s.app
                .send(&decision_recorded("highland", &referral, accept()))
                .await;
            all.extend(s.app.wait_until_settled(&referral, 2).await);
        }
        let mut ids: Vec<String> = all.iter().map(|r| r.id.clone()).collect();
        ids.sort_unstable_by(|a, b| b.cmp(a));
        let admin = s.app.token(Role::BoardAdmin, &["highland"]);
        let page = |query: String| {
            let (app, admin) = (&s.app, &admin);
            async move {
                let response = app.get(admin, &format!("/v1/deliveries{query}")).await;
                let status = response.status();
                (status, response.json::<Value>().await.expect("JSON"))
            }
        };
        let listed = |page: &Value| -> Vec<String> {
            page["deliveries"]
                .as_array()
                .expect("a list")
                .iter()
                .filter_map(|d| d["id"].as_str().map(str::to_owned))
                .collect()
        };

        let (status, first) = page("?limit=4".into()).await;
        assert_eq!(status, 200, "{}: {first}", backend.name());
        assert_eq!(listed(&first), ids[..4]);
        let next = first["next_before"].as_str().expect("a next page");
        assert_eq!(next, ids[3]);
        let (_, second) = page(format!("?limit=4&before={next}")).await;
        assert_eq!(listed(&second), ids[4..]);
        assert!(second["next_before"].is_null(), "{second}");
        // Left out, the limit is 50: everything in one page.
        let (_, whole) = page(String::new()).await;
        assert_eq!(listed(&whole), ids);
        assert!(whole["next_before"].is_null());

        for (query, named) in [
            ("?limit=0", vec!["limit"]),
            ("?limit=501", vec!["limit"]),
            ("?limit=ten", vec!["limit"]),
            ("?before=yesterday", vec!["before"]),
            ("?limit=-1&before=1", vec!["limit", "before"]),
        ] {
            let (status, error) = page(query.into()).await;
            assert_eq!(status, 400, "{query}: {error}");
            let names: Vec<String> = fields(&error).into_iter().map(|(f, _)| f).collect();
            assert_eq!(names, named, "{query}: {error}");
        }
        s.stop().await;
    }
}
