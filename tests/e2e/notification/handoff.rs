//! Hand-offs: a referral the pathway does not take (its board is not on the
//! pathway, the patient is a child) and a `redirect` decision are forwarded,
//! signed, to the board's route as its settings name it, and only once the
//! route has it is the GP told it was passed there (for a redirect, in the
//! one message that also gives the decision); a route that answers 500 is
//! tried again until it takes the referral; a board with no route set tells
//! the GP it could not be passed on yet, and the forward is a failed
//! delivery on the board's list, naming the missing setting, sent once the
//! board sets the route and retries it.

use std::time::Duration;

use chrono::Datelike;
use pathway_common::auth::Role;
use pathway_notification::startup::Workers;
use pathway_notification::store::delivery::{self, Status};
use pathway_proto::v1::{self as proto, Payload};
use pathway_tests::notification::{Hook, decision_recorded};
use pathway_tests::referrals::{chi_for, set, valid_referral};
use pathway_tests::{backends, eventually};
use serde_json::{Value, json};

use super::{Setup, setup};

/// The board's settings with its routes on the test's receiver (`with` the
/// routes to set: `standard`, `paediatric`).
fn settings_with_routes(s: &Setup, with: &[&str]) -> Value {
    let mut document = pathway_tests::intake::TestApp::example_board_settings();
    let mut section = json!({
        "messages": "notify",
        "webhooks": "http",
        "referrer_channel": "webhook",
        "gp_webhook_url": s.receiver.url("gp"),
        "allow_private_addresses": true,
        "allowed_hosts": ["127.0.0.1"],
    });
    if with.contains(&"standard") {
        section["standard_route"] =
            json!({"name": "NHS Musculoskeletal Service", "url": s.receiver.url("standard")});
    }
    if with.contains(&"paediatric") {
        section["paediatric_route"] =
            json!({"name": "Children's Pain Service", "url": s.receiver.url("paediatric")});
    }
    document["notification"] = section;
    document
}

/// Save `document` as `board`'s settings and wait until notification keeps them.
pub(super) async fn set_board_settings(s: &Setup, board: &str, document: &Value) {
    let admin = s.intake.token(Role::BoardAdmin, &[board]);
    // Read before the change: notification may have taken it by the time
    // intake answers.
    let before = s
        .app
        .board_notification(board)
        .await
        .and_then(|row| row.notification_json);
    let response = s
        .intake
        .put_board_settings(&admin, board, &document.to_string())
        .await;
    assert_eq!(
        response.status(),
        200,
        "{}",
        response.text().await.unwrap_or_default()
    );
    eventually(Duration::from_secs(15), || async {
        s.app
            .board_notification(board)
            .await
            .filter(|row| row.notification_json.is_some() && row.notification_json != before)
    })
    .await
    .expect("notification keeps the board's settings");
}

pub(super) fn hooks_at(s: &Setup, path: &str) -> Vec<Hook> {
    s.receiver
        .hooks()
        .into_iter()
        .filter(|h| h.path == path)
        .collect()
}

pub(super) fn row<'a>(rows: &'a [delivery::Model], template: &str) -> &'a delivery::Model {
    rows.iter()
        .find(|r| r.template == template)
        .unwrap_or_else(|| panic!("a delivery with {template}: {rows:?}"))
}

/// A valid referral for a patient who turns `years` old on the Scottish
/// day of receipt, or (`tomorrow`) the day after.
fn referral_turning(board: &str, years: i32, tomorrow: bool) -> Value {
    let mut body = valid_referral(board);
    let today = pathway_proto::days::today();
    let born = today
        .with_year(today.year() - years)
        .and_then(|d| if tomorrow { d.succ_opt() } else { Some(d) })
        .expect("a birth date");
    set(
        &mut body,
        "patient.date_of_birth",
        json!(born.format("%Y-%m-%d").to_string()),
    );
    let ddmmyy = born.format("%d%m%y").to_string();
    set(&mut body, "patient.chi", json!(chi_for(&ddmmyy, false, 7)));
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referral_for_a_board_not_on_the_pathway_reaches_its_standard_route_signed_and_the_gp_is_told_where()
 {
    for backend in backends().await {
        let s = setup(&backend, Workers::default()).await;
        set_board_settings(&s, "fife", &settings_with_routes(&s, &["standard"])).await;

        let body = valid_referral("fife");
        let referral = s.intake.refer(&body).await;
        let rows = s.app.wait_until_settled(&referral, 2).await;
        assert!(
            rows.iter().all(|r| r.status == Status::Sent),
            "{}: {rows:?}",
            backend.name()
        );
        assert_eq!(rows.len(), 2, "{rows:?}");
        let to_route = row(&rows, "receiving_service/handoff");
        assert_eq!(to_route.cause, "handoff");
        // Told "passed to" only once the route had it.
        let notice = row(&rows, "referrer/handoff");
        assert!(notice.sent_at >= to_route.sent_at, "{rows:?}");
        assert_eq!(
            to_route.receiving_service.as_deref(),
            Some("standard_route")
        );

        // Every hook was signed with Pathway's key: the receiver refuses
        // any other with a 401, and none was refused.
        assert_eq!(s.receiver.bad_signatures(), 0);
        let routed = hooks_at(&s, "standard");
        assert_eq!(routed.len(), 1, "{routed:?}");
        let document = &routed[0].document;
        assert_eq!(document["type"], "pathway.handoff");
        assert_eq!(document["referral_id"], referral.as_str());
        assert_eq!(document["reason"], "board_not_on_pathway");
        assert_eq!(document["route"], "standard_route");
        // What the receiving route needs to see the patient.
        let sent = &document["referral"];
        assert_eq!(sent["patient"]["chi"], body["patient"]["chi"]);
        assert_eq!(
            sent["patient"]["date_of_birth"],
            body["patient"]["date_of_birth"]
        );
        assert_eq!(
            sent["patient"]["accessibility_needs"],
            json!(["large_print"])
        );
        assert_eq!(sent["clinical"]["pain_intensity"], 7);
        assert_eq!(sent["referrer"]["practice_code"], "55005");
        assert!(sent.get("referrer_subject").is_none(), "{sent}");

        let told = hooks_at(&s, "gp");
        assert_eq!(told.len(), 1, "{told:?}");
        assert_eq!(told[0].document["type"], "pathway.handoff_notice");
        assert_eq!(told[0].document["handed_on"], true);
        assert_eq!(
            told[0].document["service_name"],
            "NHS Musculoskeletal Service"
        );
        let words = told[0].document["message"]["body"]
            .as_str()
            .unwrap_or_default();
        assert!(
            words.contains("passed to NHS Musculoskeletal Service"),
            "{words}"
        );
        assert!(words.contains("usual route"), "{words}");
        assert!(told[0].document.get("referral").is_none());

        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_decision_hands_the_referral_to_the_standard_route() {
    for backend in backends().await {
        let s = setup(&backend, Workers::default()).await;
        set_board_settings(&s, "highland", &settings_with_routes(&s, &["standard"])).await;

        let referral = s.intake.refer(&valid_referral("highland")).await;
        assert!(
            hooks_at(&s, "standard").is_empty(),
            "a pathway referral stays"
        );
        let redirect = proto::Outcome {
            kind: proto::OutcomeKind::Redirect as i32,
            ..proto::Outcome::default()
        };
        let decided = decision_recorded("highland", &referral, redirect);
        let decision_id = match &decided.payload {
            Some(Payload::DecisionRecorded(recorded)) => recorded.decision_id.clone(),
            _ => unreachable!("a decision"),
        };
        s.app.send(&decided).await;
        // The patient told of the decision, the forward, and then the GP
        // told, once, of the decision and where the referral went.
        let rows = s.app.wait_until_settled(&referral, 3).await;
        assert_eq!(rows.len(), 3, "{}: {rows:?}", backend.name());
        assert!(rows.iter().all(|r| r.status == Status::Sent), "{rows:?}");
        row(&rows, "patient/redirect");
        let forward = row(&rows, "receiving_service/handoff");
        assert!(row(&rows, "referrer/handoff").sent_at >= forward.sent_at);
        let gp: Vec<Hook> = hooks_at(&s, "gp")
            .into_iter()
            .filter(|h| h.document["referral_id"] == referral.as_str())
            .collect();
        assert_eq!(gp.len(), 1, "one message to the GP: {gp:?}");
        let routed = hooks_at(&s, "standard");
        assert_eq!(routed.len(), 1, "{routed:?}");
        assert_eq!(routed[0].document["reason"], "redirect");
        assert_eq!(routed[0].document["decision_id"], decision_id.as_str());
        assert_eq!(
            routed[0].document["referral"]["id"],
            referral.as_str(),
            "the referral itself goes"
        );
        let notice = hooks_at(&s, "gp")
            .into_iter()
            .find(|h| h.document["type"] == "pathway.handoff_notice")
            .expect("the GP told where it went");
        let words = notice.document["message"]["body"]
            .as_str()
            .unwrap_or_default();
        assert!(words.contains("redirected"), "{words}");
        assert!(
            words.contains("has been passed to NHS Musculoskeletal Service"),
            "{words}"
        );

        // Everyone told: closed, as redirected.
        let closed = eventually(Duration::from_secs(15), || async {
            let reasons: Vec<String> = s
                .app
                .stream_events()
                .await
                .into_iter()
                .filter(|e| e.event.referral_id == referral)
                .filter_map(|e| match e.event.payload {
                    Some(Payload::ReferralClosed(c)) => Some(c.reason),
                    _ => None,
                })
                .collect();
            Some(reasons).filter(|r| !r.is_empty())
        })
        .await;
        assert_eq!(closed, Some(vec!["redirected".to_owned()]));

        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_childs_referral_goes_to_the_paediatric_route_not_the_worklist() {
    for backend in backends().await {
        let s = setup(&backend, Workers::default()).await;
        set_board_settings(
            &s,
            "highland",
            &settings_with_routes(&s, &["standard", "paediatric"]),
        )
        .await;

        // Fifteen today (sixteen tomorrow): a child on the day of receipt.
        let token = s.intake.token(Role::Referrer, &["highland"]);
        let response = s
            .intake
            .post_referral(&token, &referral_turning("highland", 16, true))
            .await;
        assert_eq!(response.status(), 201, "{}", backend.name());
        let created: Value = response.json().await.expect("JSON");
        assert_eq!(created["status"], "routed_standard", "{created}");
        assert_eq!(created["route"], "paediatric", "{created}");
        let referral = created["id"].as_str().expect("an id").to_owned();

        let rows = s.app.wait_until_settled(&referral, 2).await;
        assert!(rows.iter().all(|r| r.status == Status::Sent), "{rows:?}");
        let routed = hooks_at(&s, "paediatric");
        assert_eq!(routed.len(), 1, "{routed:?}");
        assert_eq!(routed[0].document["reason"], "paediatric_patient");
        assert!(hooks_at(&s, "standard").is_empty());
        let notice = &hooks_at(&s, "gp")[0];
        let words = notice.document["message"]["body"]
            .as_str()
            .unwrap_or_default();
        assert!(words.contains("for a child"), "{words}");
        assert!(words.contains("Children's Pain Service"), "{words}");

        // Not onto the pathway: intake published no `referral.received`
        // (what puts a referral on the vetting worklist) for it.
        let events: Vec<_> = s
            .app
            .stream_events()
            .await
            .into_iter()
            .filter(|e| e.event.referral_id == referral)
            .filter_map(|e| e.event.payload)
            .collect();
        assert!(
            events
                .iter()
                .any(|p| matches!(p, Payload::ReferralRoutedStandard(r) if r.reason == "paediatric_patient")),
            "{events:?}"
        );
        assert!(
            !events
                .iter()
                .any(|p| matches!(p, Payload::ReferralReceived(_))),
            "{events:?}"
        );

        // Sixteen today: an adult, onto the pathway.
        let response = s
            .intake
            .post_referral(&token, &referral_turning("highland", 16, false))
            .await;
        assert_eq!(response.status(), 201);
        let created: Value = response.json().await.expect("JSON");
        assert_eq!(created["status"], "awaiting_vetting", "{created}");
        assert_eq!(created["route"], "remote_pathway", "{created}");

        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_that_answers_500_is_tried_again_and_then_takes_the_referral() {
    for backend in backends().await {
        let s = setup(&backend, Workers::default()).await;
        set_board_settings(&s, "fife", &settings_with_routes(&s, &["standard"])).await;

        // The next two webhooks are answered 500, whichever comes first.
        s.receiver.script(&[500, 500]);
        let referral = s.intake.refer(&valid_referral("fife")).await;
        let rows = s.app.wait_until_settled(&referral, 2).await;
        assert!(
            rows.iter().all(|r| r.status == Status::Sent),
            "{}: {rows:?}",
            backend.name()
        );
        let attempts: i32 = rows.iter().map(|r| r.attempts).sum();
        assert_eq!(attempts, 4, "two refused, then each taken: {rows:?}");
        let routed = hooks_at(&s, "standard");
        assert_eq!(routed.len(), 1, "taken once: {routed:?}");
        assert_eq!(
            routed[0].delivery,
            row(&rows, "receiving_service/handoff").id
        );

        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_route_set_the_gp_is_told_and_the_board_sees_a_failed_delivery_it_can_retry() {
    for backend in backends().await {
        let s = setup(&backend, Workers::default()).await;
        set_board_settings(&s, "fife", &settings_with_routes(&s, &[])).await;

        let referral = s.intake.refer(&valid_referral("fife")).await;
        let rows = s.app.wait_until_settled(&referral, 2).await;
        let forward = row(&rows, "receiving_service/handoff");
        assert_eq!(forward.status, Status::Failed, "{}", backend.name());
        let reason = forward.last_error.clone().unwrap_or_default();
        assert!(reason.contains("notification.standard_route"), "{reason}");
        // Told it could not be passed on yet, never that it was.
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert_eq!(row(&rows, "referrer/handoff_failed").status, Status::Sent);
        let notice = &hooks_at(&s, "gp")[0];
        assert_eq!(notice.document["handed_on"], false);
        let words = notice.document["message"]["body"]
            .as_str()
            .unwrap_or_default();
        assert!(
            words.contains("has not yet set where such referrals go"),
            "{words}"
        );

        // Recorded on the stream, and on the board's failed deliveries.
        let events = s.app.wait_for_notification_events(&referral, 2).await;
        assert!(
            events.iter().any(|p| matches!(p,
                Payload::NotificationFailed(f) if f.delivery_id == forward.id
                    && f.reason.contains("notification.standard_route"))),
            "{events:?}"
        );
        let admin = s.app.token(Role::BoardAdmin, &["fife"]);
        let listed: Value = s
            .app
            .get(&admin, "/v1/deliveries?status=failed")
            .await
            .json()
            .await
            .expect("JSON");
        let failed: Vec<&Value> = listed["deliveries"]
            .as_array()
            .expect("a list")
            .iter()
            .filter(|d| d["id"] == forward.id.as_str())
            .collect();
        assert_eq!(failed.len(), 1, "{listed}");
        assert!(
            failed[0]
                .to_string()
                .contains("notification.standard_route"),
            "{listed}"
        );

        // The board sets its route and retries: the referral goes.
        set_board_settings(&s, "fife", &settings_with_routes(&s, &["standard"])).await;
        let retried = s
            .app
            .post(&admin, &format!("/v1/deliveries/{}/retry", forward.id))
            .await;
        assert_eq!(
            retried.status(),
            202,
            "{}",
            retried.text().await.unwrap_or_default()
        );
        let sent = eventually(Duration::from_secs(15), || async {
            s.app
                .deliveries(&referral)
                .await
                .into_iter()
                .find(|r| r.id == forward.id && r.status == Status::Sent)
        })
        .await;
        assert!(sent.is_some(), "the forward is sent once the route is set");
        let routed = hooks_at(&s, "standard");
        assert_eq!(routed.len(), 1, "{routed:?}");
        assert_eq!(routed[0].document["referral"]["id"], referral.as_str());

        s.stop().await;
    }
}
