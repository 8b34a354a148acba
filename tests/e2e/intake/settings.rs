//! Board settings: stored with who and when, announced, refused field by
//! field, and changed only by a board admin of that board.

use pathway_common::auth::Role;
use pathway_proto::v1::{self as proto, Payload};
use pathway_tests::backends;
use pathway_tests::intake::TestApp;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

async fn settings_rows(app: &TestApp) -> u64 {
    pathway_intake::store::board_settings_change::Entity::find()
        .count(&app.db)
        .await
        .expect("count settings changes")
}

async fn board_audit_rows(app: &TestApp, action: &str, board: &str) -> usize {
    pathway_common::audit::entity::Entity::find()
        .all(&app.db)
        .await
        .expect("read audit")
        .into_iter()
        .filter(|row| row.action == action && row.board.as_deref() == Some(board))
        .count()
}

/// `settings_changed` events on the stream, as `(subject, event)`.
async fn settings_events(app: &TestApp) -> Vec<(String, proto::BoardSettingsChanged)> {
    app.stream_events()
        .await
        .into_iter()
        .filter_map(|e| match e.event.payload {
            Some(Payload::BoardSettingsChanged(changed)) => Some((e.subject, changed)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn board_settings_are_stored_with_who_and_when_and_announced() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        let admin = app.token_for("admin-ruth", Role::BoardAdmin, &["highland"]);
        let clinician = app.token(Role::Clinician, &["highland"]);

        // Never set: the defaults, no history.
        let response = app.get_board_settings(&clinician, "highland").await;
        assert_eq!(response.status(), 200, "{}", backend.name());
        let view: Value = response.json().await.expect("JSON");
        assert_eq!(view["defaults"], true);
        assert_eq!(view["settings"]["vetting_target_working_days"], 10);
        assert_eq!(view["changes"], json!([]));

        let document = TestApp::example_board_settings();
        let response = app
            .put_board_settings(&admin, "highland", &document.to_string())
            .await;
        assert_eq!(
            response.status(),
            200,
            "{}: {}",
            backend.name(),
            response.text().await.unwrap_or_default()
        );
        let stored: Value = response.json().await.expect("JSON");
        assert_eq!(
            stored["settings"], document,
            "the whole document comes back"
        );
        assert_eq!(stored["changed_by"], "admin-ruth");

        // A second change: the latest is in force, both are kept.
        let mut stricter = document.clone();
        stricter["vetting_target_working_days"] = json!(5);
        stricter["disabled_outcomes"] = json!(["residential_programme"]);
        let response = app
            .put_board_settings(&admin, "highland", &stricter.to_string())
            .await;
        assert_eq!(response.status(), 200);

        let view: Value = app
            .get_board_settings(&clinician, "highland")
            .await
            .json()
            .await
            .expect("JSON");
        assert_eq!(view["defaults"], false);
        assert_eq!(view["settings"], stricter);
        assert_eq!(view["changed_by"], "admin-ruth");
        assert!(view["changed_at"].is_string());
        let changes = view["changes"].as_array().expect("changes");
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0]["settings"], document);
        assert_eq!(changes[0]["changed_by"], "admin-ruth");
        assert!(changes[0]["changed_at"].as_str() <= changes[1]["changed_at"].as_str());
        assert_eq!(changes[1]["settings"], stricter);

        // Other boards are untouched.
        let fife: Value = app
            .get_board_settings(&app.token(Role::BoardAdmin, &["fife"]), "fife")
            .await
            .json()
            .await
            .expect("JSON");
        assert_eq!(fife["defaults"], true);

        // Each change is on the stream with the same document, and audited.
        app.wait_for_events(2).await;
        let events = settings_events(&app).await;
        assert_eq!(events.len(), 2, "{}", backend.name());
        for ((subject, changed), expected) in events.iter().zip([&document, &stricter]) {
            assert_eq!(subject, "pathway.v1.highland.board.settings_changed");
            assert_eq!(changed.changed_by, "admin-ruth");
            assert_eq!(
                u64::from(changed.vetting_target_working_days),
                expected["vetting_target_working_days"]
                    .as_u64()
                    .expect("a number")
            );
            let carried: Value = serde_json::from_str(&changed.settings_json).expect("JSON");
            assert_eq!(&carried, expected);
        }
        assert_eq!(
            board_audit_rows(&app, "board.settings_changed", "highland").await,
            2
        );
        assert_eq!(settings_rows(&app).await, 2);
    }
}

#[tokio::test]
async fn bad_board_settings_are_refused_with_the_field_and_nothing_is_written() {
    type Case = (&'static str, fn(&mut Value), u16, &'static [&'static str]);
    let cases: Vec<Case> = vec![
        (
            "a vetting target of 0",
            |d| d["vetting_target_working_days"] = json!(0),
            422,
            &["vetting_target_working_days"],
        ),
        (
            "an information request reminder of 0 working days",
            |d| d["information_request_reminder_working_days"] = json!(0),
            422,
            &["information_request_reminder_working_days"],
        ),
        (
            "an outcome that does not exist",
            |d| d["disabled_outcomes"] = json!(["accept", "teleport"]),
            422,
            &["disabled_outcomes[1]"],
        ),
        (
            "an unknown field",
            |d| d["colour"] = json!("blue"),
            422,
            &["colour"],
        ),
        (
            "an unknown field inside a partner",
            |d| d["partners"][0]["phone"] = json!("0300 123 4567"),
            422,
            &["partners[0].phone"],
        ),
        (
            "a number as text",
            |d| d["claim_lease_minutes"] = json!("thirty"),
            422,
            &["claim_lease_minutes"],
        ),
        (
            "a date that does not exist",
            |d| d["extra_holidays"] = json!(["2026-02-30"]),
            422,
            &["extra_holidays[0]"],
        ),
        (
            "a retention period out of range, and free text kept longer than its referral",
            |d| {
                d["retention"] =
                    json!({"delivery_days": 7, "referral_years": 6, "clinical_text_years": 7});
            },
            422,
            &["retention.clinical_text_years", "retention.delivery_days"],
        ),
        (
            "several problems at once",
            |d| {
                d["vetting_target_working_days"] = json!(0);
                d["opt_in_window_days"] = json!(365);
                d["priority_target_days"]["urgent"] = json!(100);
                d["outcome_labels"]["accept"] = json!(" ");
            },
            422,
            &[
                "vetting_target_working_days",
                "outcome_labels.accept",
                "priority_target_days",
                "opt_in_window_days",
            ],
        ),
    ];
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        let admin = app.token(Role::BoardAdmin, &["highland"]);
        for (what, breaks, status, fields) in &cases {
            let mut document = TestApp::example_board_settings();
            breaks(&mut document);
            let response = app
                .put_board_settings(&admin, "highland", &document.to_string())
                .await;
            assert_eq!(response.status(), *status, "{what} ({})", backend.name());
            let error: Value = response.json().await.expect("JSON");
            let named: Vec<&str> = error["fields"]
                .as_array()
                .expect("fields")
                .iter()
                .filter_map(|f| f["field"].as_str())
                .collect();
            assert_eq!(named, *fields, "{what}: {error}");
            assert!(error["message"].is_string());
        }
        // Not JSON at all, and not sent as JSON.
        let response = app
            .put_board_settings(&admin, "highland", "{\"vetting")
            .await;
        assert_eq!(response.status(), 400);
        let error: Value = response.json().await.expect("JSON");
        assert_eq!(error["fields"][0]["field"], "body");
        let response = app
            .http
            .put(format!("{}/v1/boards/highland/settings", app.base))
            .bearer_auth(&admin)
            .header("Content-Type", "text/plain")
            .body(TestApp::example_board_settings().to_string())
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status(), 415);

        // Nothing stored, announced or audited; the defaults still hold.
        assert_eq!(settings_rows(&app).await, 0, "{}", backend.name());
        assert_eq!(app.stream_count().await, 0);
        assert_eq!(
            board_audit_rows(&app, "board.settings_changed", "highland").await,
            0
        );
        let view: Value = app
            .get_board_settings(&admin, "highland")
            .await
            .json()
            .await
            .expect("JSON");
        assert_eq!(view["defaults"], true);
    }
}

#[tokio::test]
async fn only_a_board_admin_of_that_board_changes_its_settings() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        let document = TestApp::example_board_settings().to_string();
        let broken = json!({"vetting_target_working_days": 0, "colour": "blue"}).to_string();
        for (who, token) in [
            ("a clinician", app.token(Role::Clinician, &["highland"])),
            ("a referrer", app.token(Role::Referrer, &["highland"])),
            ("an evaluator", app.token(Role::Evaluator, &["highland"])),
            (
                "another board's admin",
                app.token(Role::BoardAdmin, &["fife"]),
            ),
        ] {
            for body in [&document, &broken] {
                let response = app.put_board_settings(&token, "highland", body).await;
                // Refused before the body is looked at: a bad body is a 403 too.
                assert_eq!(response.status(), 403, "{who} ({})", backend.name());
            }
        }
        let response = app
            .put_board_settings(&app.token(Role::BoardAdmin, &["*"]), "atlantis", &document)
            .await;
        assert_eq!(response.status(), 404);
        let error: Value = response.json().await.expect("JSON");
        assert_eq!(error["fields"][0]["field"], "board");

        // Reading: the board's admins and clinicians only.
        for (who, token, status) in [
            (
                "its clinician",
                app.token(Role::Clinician, &["highland"]),
                200,
            ),
            ("its admin", app.token(Role::BoardAdmin, &["highland"]), 200),
            ("a referrer", app.token(Role::Referrer, &["highland"]), 403),
            (
                "an evaluator",
                app.token(Role::Evaluator, &["highland"]),
                403,
            ),
            (
                "another board's clinician",
                app.token(Role::Clinician, &["fife"]),
                403,
            ),
        ] {
            let response = app.get_board_settings(&token, "highland").await;
            assert_eq!(response.status(), status, "{who} ({})", backend.name());
        }
        let response = app
            .http
            .get(format!("{}/v1/boards/highland/settings", app.base))
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status(), 401);

        assert_eq!(settings_rows(&app).await, 0);
        assert_eq!(app.stream_count().await, 0);
    }
}
