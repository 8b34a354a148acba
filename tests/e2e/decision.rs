//! Decision, black-box: the real service against a real nats-server and real
//! databases (SQLite always, PostgreSQL when one answers). Events are
//! published onto the stream by hand, as vetting and intake would; what the
//! service owes is read back from the stream, its tables and its API.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use pathway_common::auth::Role;
use pathway_proto::board::BoardSettings;
use pathway_proto::v1::{self as proto, Event, Payload};
use pathway_tests::decision::{TestApp, accept, new_referral, outcome, vetting_completed};
use pathway_tests::intake::TestApp as IntakeApp;
use pathway_tests::referrals::valid_referral;
use pathway_tests::{backends, eventually};
use serde_json::Value;

fn at(event: Event, time: DateTime<Utc>) -> Event {
    Event {
        occurred_at: Some(proto::timestamp(time)),
        ..event
    }
}

async fn json(response: reqwest::Response) -> Value {
    response.json().await.expect("a JSON answer")
}

#[tokio::test]
async fn an_urgent_accept_becomes_a_decision_with_its_target_date() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        let referral = new_referral();
        let decided_at = Utc
            .with_ymd_and_hms(2025, 2, 20, 23, 30, 0)
            .single()
            .expect("a time");
        let vetted = at(
            vetting_completed(
                "highland",
                &referral,
                accept(proto::Priority::Urgent),
                false,
            ),
            decided_at,
        );
        app.send(&vetted).await;

        let recorded = app.wait_for_decisions(&referral, 1).await;
        assert_eq!(recorded.len(), 1, "{}", backend.name());
        let (event, decision) = &recorded[0];
        assert_eq!(event.board, "highland");
        assert_eq!(event.actor, "dr-vetting");
        assert_eq!(decision.target_date, "2025-03-20", "decided date + 28 days");
        assert_eq!(decision.decided_at, Some(proto::timestamp(decided_at)));
        assert_eq!(decision.clinician, "dr-vetting");
        assert_eq!(
            decision.rationale_text_id, "",
            "the rationale's id as vetting.completed carried it (none)"
        );
        assert_eq!(decision.supersedes_decision_id, "");
        assert_eq!(decision.opt_in_deadline, None);
        let wire = decision.outcome.as_ref().expect("an outcome");
        assert_eq!(wire.kind, proto::OutcomeKind::Accept as i32);
        assert_eq!(wire.priority, proto::Priority::Urgent as i32);

        let clinician = app.token(Role::Clinician, &["highland"]);
        let response = app.get_decision(Some(&clinician), &referral).await;
        assert_eq!(response.status(), 200);
        let view = json(response).await;
        assert_eq!(view["current"]["id"], decision.decision_id.as_str());
        assert_eq!(view["current"]["outcome"]["code"], "accept");
        assert_eq!(view["current"]["outcome"]["priority"], "urgent");
        assert_eq!(view["current"]["outcome"]["mode"], "video");
        assert_eq!(view["current"]["target_date"], "2025-03-20");
        assert_eq!(view["current"]["rationale"], "");
        assert_eq!(view["superseded"], serde_json::json!([]));

        assert_eq!(app.audit_rows("decision.record", &referral).await, 1);
        assert_eq!(app.audit_rows("decision.read", &referral).await, 1);

        // Decided at 00:30 BST on 25 October (still the 24th in UTC): the
        // target counts from the Scottish day, the 25th.
        let summer_night = new_referral();
        let vetted = vetting_completed(
            "highland",
            &summer_night,
            accept(proto::Priority::Urgent),
            false,
        );
        app.send(&at(vetted, utc(2026, 10, 24, 23, 30))).await;
        let recorded = app.wait_for_decisions(&summer_night, 1).await;
        assert_eq!(
            recorded[0].1.target_date,
            "2026-11-22",
            "{}",
            backend.name()
        );
        let view = json(app.get_decision(Some(&clinician), &summer_night).await).await;
        assert_eq!(view["current"]["target_date"], "2026-11-22");
    }
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("a time")
}

#[tokio::test]
async fn an_outcome_the_board_disabled_is_dead_lettered_and_duplicates_decide_once() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        let settings = BoardSettings {
            disabled_outcomes: vec!["physiotherapy".into()],
            ..BoardSettings::default()
        };
        let changed = Event::new(
            "highland",
            None,
            "highland-admin",
            Utc::now(),
            Payload::BoardSettingsChanged(proto::BoardSettingsChanged {
                vetting_target_working_days: settings.vetting_target_working_days,
                changed_by: "highland-admin".into(),
                settings_json: serde_json::to_string(&settings).expect("JSON"),
                effective_date: String::new(),
            }),
        );
        app.send(&changed).await;

        let physio = new_referral();
        app.send(&vetting_completed(
            "highland",
            &physio,
            outcome(proto::OutcomeKind::Physiotherapy),
            false,
        ))
        .await;
        // The same outcome of another board, which did not disable it, is decided.
        let elsewhere = new_referral();
        app.send(&vetting_completed(
            "fife",
            &elsewhere,
            outcome(proto::OutcomeKind::Physiotherapy),
            false,
        ))
        .await;

        // One vetting outcome delivered twice (a republish under another
        // message id gets past the broker's de-duplication).
        let twice = new_referral();
        let vetted = vetting_completed("highland", &twice, accept(proto::Priority::Soon), false);
        app.publish(&vetted, "first-copy").await;
        app.publish(&vetted, "second-copy").await;
        // Handled in order: once this one is decided, both copies were seen.
        let marker = new_referral();
        app.send(&vetting_completed(
            "highland",
            &marker,
            accept(proto::Priority::Routine),
            false,
        ))
        .await;
        app.wait_for_decisions(&marker, 1).await;

        let dead = app.wait_for_dead_letters(1).await;
        assert_eq!(dead.len(), 1, "{} {dead:?}", backend.name());
        assert!(
            dead[0].reason.contains("does not offer physiotherapy"),
            "{}",
            dead[0].reason
        );
        assert_eq!(dead[0].consumer, "decision");
        assert!(app.decision_rows(&physio).await.is_empty());
        assert!(app.decisions_recorded(&physio).await.is_empty());
        assert_eq!(app.audit_rows("decision.record", &physio).await, 0);

        assert_eq!(app.wait_for_decisions(&elsewhere, 1).await.len(), 1);

        assert_eq!(app.decision_rows(&twice).await.len(), 1);
        assert_eq!(app.decisions_recorded(&twice).await.len(), 1);
        assert_eq!(app.audit_rows("decision.record", &twice).await, 1);
        let target = app.decisions_recorded(&twice).await[0]
            .1
            .target_date
            .clone();
        let expected = (pathway_proto::days::today() + chrono::Days::new(56)).to_string();
        assert_eq!(target, expected, "soon: decided date + 56 days");
    }
}

#[tokio::test]
async fn a_correction_supersedes_and_an_unmarked_second_outcome_is_refused() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        let referral = new_referral();
        app.send(&vetting_completed(
            "highland",
            &referral,
            accept(proto::Priority::Urgent),
            false,
        ))
        .await;
        let first = app.wait_for_decisions(&referral, 1).await[0].1.clone();

        // A second outcome not marked as a correction.
        let decline = proto::Outcome {
            reason_text_id: uuid::Uuid::now_v7().to_string(),
            rejection_reason: "02".into(),
            ..outcome(proto::OutcomeKind::Decline)
        };
        app.send(&vetting_completed("highland", &referral, decline, false))
            .await;
        let dead = app.wait_for_dead_letters(1).await;
        assert!(
            dead[0].reason.contains("already decided") && dead[0].reason.contains("correction"),
            "{}",
            dead[0].reason
        );

        // The correction.
        let redirect = proto::Outcome {
            reason_text_id: uuid::Uuid::now_v7().to_string(),
            ..outcome(proto::OutcomeKind::Redirect)
        };
        app.send(&vetting_completed("highland", &referral, redirect, true))
            .await;
        let recorded = app.wait_for_decisions(&referral, 2).await;
        assert_eq!(recorded.len(), 2, "{}", backend.name());
        let second = &recorded[1].1;
        assert_eq!(second.supersedes_decision_id, first.decision_id);
        assert_eq!(second.target_date, "", "only an accept has a target date");

        // Both kept; the new one is current.
        let rows = app.decision_rows(&referral).await;
        assert_eq!(rows.len(), 2);
        let view = json(
            app.get_decision(Some(&app.token(Role::Clinician, &["highland"])), &referral)
                .await,
        )
        .await;
        assert_eq!(view["current"]["id"], second.decision_id.as_str());
        assert_eq!(view["current"]["outcome"]["code"], "redirect");
        // The reason's words are vetting's (not running here): the decision
        // is shown without them.
        assert_eq!(view["current"]["outcome"]["reason"], Value::Null);
        assert_eq!(
            view["current"]["supersedes_decision_id"],
            first.decision_id.as_str()
        );
        let superseded = view["superseded"].as_array().expect("a list");
        assert_eq!(superseded.len(), 1);
        assert_eq!(superseded[0]["id"], first.decision_id.as_str());
        assert_eq!(superseded[0]["outcome"]["code"], "accept");
        assert_eq!(
            superseded[0]["superseded_by_decision_id"],
            second.decision_id.as_str()
        );
        assert_eq!(app.dead_letters().await.len(), 1);
    }
}

#[tokio::test]
async fn a_lapsed_opt_in_window_lapses_once_for_notification_to_close_and_an_opt_in_keeps_it_open()
{
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        // 00:30 BST on 21 October; the clocks go back within the window.
        let decided_at = utc(2026, 10, 20, 23, 30);
        let lapses = new_referral();
        let opts_in = new_referral();
        for referral in [&lapses, &opts_in] {
            app.send(&at(
                vetting_completed(
                    "highland",
                    referral,
                    outcome(proto::OutcomeKind::PatientOptIn),
                    false,
                ),
                decided_at,
            ))
            .await;
        }
        let lapsing = app.wait_for_decisions(&lapses, 1).await[0].1.clone();
        let opting = app.wait_for_decisions(&opts_in, 1).await[0].1.clone();
        // 00:30 on Scotland's clock 14 days later: 00:30 GMT on 4 November,
        // an hour after 14 days of 24 hours.
        let deadline = utc(2026, 11, 4, 0, 30);
        assert_eq!(
            lapsing.opt_in_deadline,
            Some(proto::timestamp(deadline)),
            "decided + the default 14 Scottish days"
        );

        // The patient opts in the day before the deadline.
        let opted = Event::new(
            "highland",
            Some(uuid::Uuid::parse_str(&opts_in).expect("uuid")),
            "patient",
            deadline - chrono::Duration::days(1),
            Payload::ReferralOptedIn(proto::ReferralOptedIn {
                decision_id: opting.decision_id.clone(),
            }),
        );
        app.send(&opted).await;
        let clinician = app.token(Role::Clinician, &["highland"]);
        eventually(Duration::from_secs(10), || async {
            let view = json(app.get_decision(Some(&clinician), &opts_in).await).await;
            (view["current"]["opt_in"]["status"] == "opted_in").then_some(())
        })
        .await
        .expect("the opt-in resolves the window");

        // Nothing is due before the deadline.
        let closed = app
            .app
            .close_lapsed_opt_in_windows(deadline - chrono::Duration::seconds(1))
            .await
            .expect("sweep");
        assert_eq!(closed, 0, "{}", backend.name());
        // After it: the window that was not opted in, once.
        let later = deadline + chrono::Duration::days(1);
        let closed = app
            .app
            .close_lapsed_opt_in_windows(later)
            .await
            .expect("sweep");
        assert_eq!(closed, 1);
        let closed = app
            .app
            .close_lapsed_opt_in_windows(later)
            .await
            .expect("sweep");
        assert_eq!(closed, 0, "a window closes once");

        let on_stream = eventually(Duration::from_secs(10), || async {
            let lapsed = app.opt_in_lapses().await;
            (!lapsed.is_empty()).then_some(lapsed)
        })
        .await
        .expect("decision.opt_in_lapsed is published");
        // A second relay pass has nothing left to send.
        app.app
            .platform
            .relay()
            .try_publish_batch()
            .await
            .expect("relay");
        let on_stream_now = app.opt_in_lapses().await;
        assert_eq!(on_stream, on_stream_now);
        assert_eq!(on_stream.len(), 1, "{on_stream:?}");
        assert_eq!(on_stream[0].0, lapses);
        // Closing is notification's, once everyone has been told.
        assert_eq!(app.referrals_closed().await, 0);
        assert_eq!(app.audit_rows("opt_in.lapse", &lapses).await, 1);
        assert_eq!(app.audit_rows("opt_in.lapse", &opts_in).await, 0);

        let view = json(app.get_decision(Some(&clinician), &lapses).await).await;
        assert_eq!(view["current"]["opt_in"]["status"], "opt_in_window_passed");
        assert_eq!(
            view["current"]["opt_in"]["deadline"],
            "2026-11-04T00:30:00Z"
        );
    }
}

#[tokio::test]
async fn only_the_referrer_who_sent_it_and_the_boards_clinicians_see_a_decision() {
    for backend in backends().await {
        let intake = IntakeApp::spawn(&backend).await;
        intake.enable_board("highland").await;
        let referral = intake.refer(&valid_referral("highland")).await;
        let app = TestApp::spawn_beside(&backend, &intake).await;
        app.send(&vetting_completed(
            "highland",
            &referral,
            accept(proto::Priority::Routine),
            false,
        ))
        .await;
        app.wait_for_decisions(&referral, 1).await;

        // The referrer who sent it (intake's test referrer).
        let sender = intake.token(Role::Referrer, &["highland"]);
        let response = app.get_decision(Some(&sender), &referral).await;
        assert_eq!(response.status(), 200, "{}", backend.name());
        assert_eq!(json(response).await["current"]["outcome"]["code"], "accept");

        let clinician = app.token(Role::Clinician, &["highland"]);
        assert_eq!(
            app.get_decision(Some(&clinician), &referral).await.status(),
            200
        );

        // Not theirs, or nothing there: the same 404.
        let another_gp = app.token_for("another-gp", Role::Referrer, &["highland"]);
        let not_theirs = app.get_decision(Some(&another_gp), &referral).await;
        assert_eq!(not_theirs.status(), 404);
        let not_theirs = json(not_theirs).await;
        let elsewhere = app.token(Role::Clinician, &["fife"]);
        assert_eq!(
            app.get_decision(Some(&elsewhere), &referral).await.status(),
            404
        );
        let unknown = new_referral();
        let nothing = app.get_decision(Some(&clinician), &unknown).await;
        assert_eq!(nothing.status(), 404);
        assert_eq!(
            json(nothing).await["error"],
            not_theirs["error"],
            "no probing"
        );
        assert_eq!(
            app.get_decision(Some(&sender), &unknown).await.status(),
            404
        );

        // Roles that never see a single referral's decision.
        for role in [Role::Evaluator, Role::BoardAdmin] {
            let response = app
                .get_decision(Some(&app.token(role, &["highland"])), &referral)
                .await;
            assert_eq!(response.status(), 403);
            let body = json(response).await;
            assert!(
                body["message"]
                    .as_str()
                    .is_some_and(|m| m.contains(role.as_str())),
                "{body}"
            );
        }

        let response = app.get_decision(None, &referral).await;
        assert_eq!(response.status(), 401);
        assert_eq!(json(response).await["error"], "token_missing");

        let response = app.get_decision(Some(&clinician), "not-a-referral").await;
        assert_eq!(response.status(), 400);
        assert_eq!(json(response).await["fields"][0]["field"], "id");

        // One audit row per view that showed something.
        assert_eq!(app.audit_rows("decision.read", &referral).await, 2);
    }
}

#[tokio::test]
async fn a_referrer_is_told_to_retry_when_intake_cannot_confirm_them() {
    let app = TestApp::spawn(&pathway_tests::Backend::Sqlite).await;
    let referral = new_referral();
    app.send(&vetting_completed(
        "highland",
        &referral,
        outcome(proto::OutcomeKind::PainPsychology),
        false,
    ))
    .await;
    app.wait_for_decisions(&referral, 1).await;
    let referrer = app.token(Role::Referrer, &["highland"]);
    let response = app.get_decision(Some(&referrer), &referral).await;
    assert_eq!(response.status(), 503);
    assert_eq!(json(response).await["error"], "referrer_check_unavailable");
    assert_eq!(app.audit_rows("decision.read", &referral).await, 0);
}

#[tokio::test]
async fn the_service_describes_itself_and_answers_health_checks() {
    let app = TestApp::spawn(&pathway_tests::Backend::Sqlite).await;
    let openapi = json(
        app.http
            .get(format!("{}/openapi.json", app.base))
            .send()
            .await
            .expect("answers"),
    )
    .await;
    assert!(openapi["paths"]["/v1/referrals/{id}/decision"]["get"].is_object());
    for path in ["/healthz", "/readyz", "/metrics"] {
        let response = app
            .http
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status(), 200, "{path}");
    }
    let response = app
        .http
        .get(format!("{}/v1/nothing-here", app.base))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 404);
    assert_eq!(json(response).await["error"], "not_found");
}
