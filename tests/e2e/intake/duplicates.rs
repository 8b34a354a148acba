//! Retries and duplicates: one referral for one idempotency key, for one
//! open referral per patient, and under concurrent submissions; the open
//! referral named only to the referrer who sent it.

use std::collections::BTreeSet;

use pathway_common::auth::Role;
use pathway_tests::intake::TestApp;
use pathway_tests::referrals::valid_referral;
use pathway_tests::{Backend, backends};
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use super::{audit_rows, referral_rows};

#[tokio::test]
async fn a_retry_with_the_same_idempotency_key_returns_the_first_answer() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        app.enable_board("highland").await;
        let token = app.token(Role::Referrer, &["highland"]);
        let body = valid_referral("highland");
        let send = |body: Value| {
            let request = app
                .http
                .post(format!("{}/v1/referrals", app.base))
                .bearer_auth(&token)
                .header("Idempotency-Key", "gp-system-42")
                .json(&body);
            async move { request.send().await.expect("answer") }
        };
        let first = send(body.clone()).await;
        assert_eq!(first.status(), 201);
        let first: Value = first.json().await.expect("JSON");
        let again = send(body.clone()).await;
        assert_eq!(again.status(), 201);
        let again: Value = again.json().await.expect("JSON");
        assert_eq!(first["id"], again["id"]);
        assert_eq!(referral_rows(&app).await, 1);

        let other = send(valid_referral("highland")).await;
        assert_eq!(other.status(), 422);
        let error: Value = other.json().await.expect("JSON");
        assert_eq!(error["error"], "idempotency_key_reused");
        assert_eq!(referral_rows(&app).await, 1);
    }
}

#[tokio::test]
async fn a_second_open_referral_for_the_patient_is_a_duplicate_unless_deliberate() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        app.enable_board("highland").await;
        let token = app.token(Role::Referrer, &["highland"]);
        let body = valid_referral("highland");
        let first = app.refer(&body).await;

        let response = app.post_referral(&token, &body).await;
        assert_eq!(response.status(), 409);
        let error: Value = response.json().await.expect("JSON");
        assert_eq!(error["error"], "duplicate_referral");
        assert_eq!(error["open_referral_id"], first.as_str());
        assert_eq!(error["rejection_reason"]["code"], "01");

        let mut deliberate = body.clone();
        deliberate["re_referral"] = json!(true);
        assert_eq!(app.post_referral(&token, &deliberate).await.status(), 201);

        // Once the first is withdrawn, a new referral is no duplicate.
        let response = app
            .http
            .post(format!("{}/v1/referrals/{first}/withdraw", app.base))
            .bearer_auth(&token)
            .json(&json!({"reason_code": "sent_in_error"}))
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status(), 200);
        assert_eq!(app.post_referral(&token, &body).await.status(), 201);
    }
}

#[tokio::test]
async fn concurrent_duplicates_make_exactly_one_referral() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    app.enable_board("highland").await;
    let token = app.token(Role::Referrer, &["highland"]);
    let body = valid_referral("highland");
    let attempts =
        futures::future::join_all((0..8).map(|_| app.post_referral(&token, &body))).await;
    let statuses: Vec<u16> = attempts.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        7,
        "{statuses:?}"
    );
}

/// The top-level fields of an error answer.
fn fields_of(body: &Value) -> BTreeSet<&str> {
    body.as_object()
        .expect("an error body is an object")
        .keys()
        .map(String::as_str)
        .collect()
}

#[tokio::test]
async fn the_open_referral_is_named_only_to_the_referrer_who_sent_it() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        app.enable_board("highland").await;
        app.enable_board("fife").await;
        let sender = app.token_for("gp-1", Role::Referrer, &["highland"]);
        let colleague = app.token_for("gp-2", Role::Referrer, &["highland"]);
        let elsewhere = app.token_for("gp-3", Role::Referrer, &["fife"]);
        let body = valid_referral("highland");
        let first = app.post_referral_with_key(&sender, &body, "key-1").await;
        assert_eq!(first.status(), 201);
        let first: Value = first.json().await.expect("JSON");
        let open = first["id"].as_str().expect("an id").to_owned();
        let received_at = first["received_at"]
            .as_str()
            .expect("an instant")
            .to_owned();

        // Its own referrer: the open referral's id, to follow that one.
        let response = app.post_referral(&sender, &body).await;
        assert_eq!(response.status(), 409);
        let error: Value = response.json().await.expect("JSON");
        assert_eq!(
            fields_of(&error),
            BTreeSet::from(["error", "message", "open_referral_id", "rejection_reason"]),
            "{error}"
        );
        assert_eq!(error["error"], "duplicate_referral");
        assert_eq!(error["open_referral_id"], open.as_str());
        assert_eq!(
            error["rejection_reason"],
            json!({"code": "01", "description": "duplicate"})
        );

        // Another referrer of the board, with the same Idempotency-Key too:
        // that an open one exists and whom to ask, nothing about it.
        for response in [
            app.post_referral(&colleague, &body).await,
            app.post_referral_with_key(&colleague, &body, "key-1").await,
        ] {
            assert_eq!(response.status(), 409);
            assert!(response.headers().get("location").is_none());
            assert!(response.headers().get("etag").is_none());
            let text = response.text().await.expect("a body");
            let error: Value = serde_json::from_str(&text).expect("JSON");
            assert_eq!(
                fields_of(&error),
                BTreeSet::from(["error", "message", "rejection_reason"]),
                "{error}"
            );
            assert_eq!(error["error"], "duplicate_referral");
            assert_eq!(
                error["message"],
                "a referral for this patient is already open on the pain pathway with this board: contact the board's pain service"
            );
            assert_eq!(
                error["rejection_reason"],
                json!({"code": "01", "description": "duplicate"})
            );
            for secret in [
                open.as_str(),
                &received_at[..10],
                "awaiting_vetting",
                "gp-1",
            ] {
                assert!(!text.contains(secret), "{secret} told in {text}");
            }
        }

        // A referrer of another board is refused before any duplicate check.
        let response = app.post_referral(&elsewhere, &body).await;
        assert_eq!(response.status(), 403);
        let text = response.text().await.expect("a body");
        let error: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(fields_of(&error), BTreeSet::from(["error", "message"]));
        assert_eq!(error["error"], "forbidden");
        assert!(
            !text.contains(open.as_str()) && !text.contains("duplicate"),
            "{text}"
        );

        // Whom the board's information governance can see was told.
        assert_eq!(
            audit_rows(
                &app,
                pathway_intake::application::referrals::DUPLICATE_REFUSED,
                &open
            )
            .await,
            3
        );
        let told: Vec<(String, Option<String>)> = pathway_common::audit::entity::Entity::find()
            .all(&app.db)
            .await
            .expect("read audit")
            .into_iter()
            .filter(|row| row.action == "referral.duplicate_refused")
            .map(|row| (row.actor, row.purpose))
            .collect();
        assert_eq!(told.iter().filter(|(actor, _)| actor == "gp-1").count(), 1);
        assert_eq!(told.iter().filter(|(actor, _)| actor == "gp-2").count(), 2);
        assert_eq!(referral_rows(&app).await, 1);
    }
}

#[tokio::test]
async fn another_referrer_of_the_board_cannot_tell_the_open_referral_from_none() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        app.enable_board("highland").await;
        let sender = app.token_for("gp-1", Role::Referrer, &["highland"]);
        let colleague = app.token_for("gp-2", Role::Referrer, &["highland"]);
        let response = app
            .post_referral(&sender, &valid_referral("highland"))
            .await;
        assert_eq!(response.status(), 201);
        let open = response.json::<Value>().await.expect("JSON")["id"]
            .as_str()
            .expect("an id")
            .to_owned();
        let none = uuid::Uuid::now_v7().to_string();

        // Reading, withdrawing and answering it: the very answer a referral
        // that does not exist gets, and nothing changed.
        let withdraw = json!({"reason_code": "sent_in_error"});
        let answer = json!({"answer": "no weight loss"});
        for (label, id) in [("open", open.as_str()), ("none", none.as_str())] {
            let answers = [
                app.get_referral(&colleague, id).await,
                app.referral_action(&colleague, id, "withdraw", &withdraw)
                    .await,
                app.referral_action(&colleague, id, "information", &answer)
                    .await,
            ];
            for response in answers {
                assert_eq!(response.status(), 404, "{label}");
                assert!(response.headers().get("etag").is_none());
                let error: Value = response.json().await.expect("JSON");
                assert_eq!(fields_of(&error), BTreeSet::from(["error", "message"]));
                assert_eq!(error["error"], "not_found");
                assert_eq!(
                    error["message"],
                    format!("no referral {id} that this token may see")
                );
            }
        }
        let mine = app.get_referral(&sender, &open).await;
        assert_eq!(mine.status(), 200);
        let mine: Value = mine.json().await.expect("JSON");
        assert_eq!(mine["status"], "awaiting_vetting");
        assert_eq!(mine["version"], 1);
        // Only its own referrer's read was audited.
        assert_eq!(audit_rows(&app, "referral.read", &open).await, 1);
    }
}
