//! FHIR R4 `Subscription`s (rest-hook) to referrals' Tasks: a local HTTP
//! server stands for the GP system and is told, with the header it asked
//! for, when a clinician claims and decides (the Task PUT to
//! `<endpoint>/Task/<id>`, or an empty POST); bad criteria and endpoints
//! are named by FHIRPath; another referrer's practice and another board
//! are refused; a 4xx from the endpoint puts the subscription in `error`;
//! a deleted subscription is owed nothing more. The Subscriptions and the
//! Tasks received are validated as FHIR R4 (`FHIR_VALIDATOR`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use pathway_common::auth::Role;
use pathway_intake::store::subscriptions::notification;
use pathway_tests::intake::TestApp;
use pathway_tests::referrals::valid_referral;
use pathway_tests::vetting::VettingApp;
use pathway_tests::{backends, eventually};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use super::fhir_task::validate;

const WAIT: Duration = Duration::from_secs(20);

/// One request the GP system received.
#[derive(Debug, Clone)]
struct Received {
    method: Method,
    path: String,
    authorization: Option<String>,
    body: Option<Value>,
}

/// A GP system's endpoint on a free loopback port: `/gone` answers 410,
/// anything else 200; every request is kept.
struct GpSystem {
    base: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl GpSystem {
    async fn start() -> Self {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        async fn keep(
            State(received): State<Arc<Mutex<Vec<Received>>>>,
            method: Method,
            uri: Uri,
            headers: HeaderMap,
            body: Bytes,
        ) -> StatusCode {
            let path = uri.path().to_owned();
            let gone = path.starts_with("/gone");
            received.lock().expect("not poisoned").push(Received {
                method,
                path,
                authorization: headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
                body: serde_json::from_slice(&body).ok(),
            });
            if gone {
                StatusCode::GONE
            } else {
                StatusCode::OK
            }
        }
        let app = Router::new().fallback(keep).with_state(received.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let address = listener.local_addr().expect("an address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            base: format!("http://{address}"),
            received,
        }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().expect("not poisoned").clone()
    }

    /// Wait for a request matching `want`.
    async fn wait_for(&self, what: &str, want: impl Fn(&Received) -> bool) -> Received {
        eventually(WAIT, || async {
            self.received().into_iter().find(|r| want(r))
        })
        .await
        .unwrap_or_else(|| panic!("never received {what}: {:?}", self.received()))
    }
}

async fn fhir(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

async fn subscribe(app: &TestApp, token: &str, body: &Value) -> (u16, Value, Option<String>) {
    let response = app
        .http
        .post(format!("{}/fhir/Subscription", app.base))
        .bearer_auth(token)
        .header("content-type", "application/fhir+json")
        .body(body.to_string())
        .send()
        .await
        .expect("intake answers");
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (status, body) = fhir(response).await;
    (status, body, location)
}

async fn read(app: &TestApp, token: &str, id: &str) -> (u16, Value) {
    fhir(
        app.http
            .get(format!("{}/fhir/Subscription/{id}", app.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("intake answers"),
    )
    .await
}

fn subscription(criteria: &str, endpoint: &str, payload: bool) -> Value {
    let mut channel = json!({
        "type": "rest-hook",
        "endpoint": endpoint,
        "header": ["Authorization: Bearer gp-system-secret"],
    });
    if payload {
        channel["payload"] = json!("application/fhir+json");
    }
    json!({
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "Tell the practice when its referrals change",
        "criteria": criteria,
        "channel": channel,
    })
}

fn expressions(outcome: &Value) -> Vec<String> {
    assert_eq!(outcome["resourceType"], "OperationOutcome", "{outcome}");
    outcome["issue"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|i| i["expression"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| e.as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_gp_system_is_told_when_its_referral_is_claimed_and_decided() {
    for backend in backends().await {
        let intake = TestApp::spawn(&backend).await;
        intake.enable_board("highland").await;
        let vetting = VettingApp::spawn(&intake, &backend).await;
        let _decision = pathway_tests::decision::TestApp::spawn_beside(&backend, &intake).await;
        let gp = GpSystem::start().await;
        let app = &intake;

        // The board lets its webhooks go to the GP system (on 127.0.0.1).
        let admin = app.token(Role::BoardAdmin, &["highland"]);
        let mut settings = TestApp::example_board_settings();
        settings["notification"]["allow_private_addresses"] = json!(true);
        settings["notification"]["allowed_hosts"]
            .as_array_mut()
            .expect("the example lists hosts")
            .push(json!("127.0.0.1"));
        let saved = app
            .put_board_settings(&admin, "highland", &settings.to_string())
            .await;
        assert_eq!(saved.status(), 200, "{:?}", saved.text().await);

        let referrer = app.token(Role::Referrer, &["highland"]);
        let dr = app.token_for("dr-a", Role::Clinician, &["highland"]);
        let id = app.refer(&valid_referral("highland")).await;
        vetting.wait_for_referral("highland", &id).await;
        let mut emitted = Vec::new();

        // Mistakes are named by FHIRPath and create nothing.
        let endpoint = format!("{}/fhir", gp.base);
        for (body, status, path) in [
            (
                subscription("Patient?name=smith", &endpoint, true),
                422,
                "Subscription.criteria",
            ),
            (
                subscription(
                    "Task?requester=55005",
                    "https://elsewhere.example/fhir",
                    true,
                ),
                422,
                "Subscription.channel.endpoint",
            ),
            (
                subscription("Task?requester=55005", "http://10.0.0.7/fhir", true),
                422,
                "Subscription.channel.endpoint",
            ),
        ] {
            let (got, outcome, _) = subscribe(app, &referrer, &body).await;
            assert_eq!(got, status, "{outcome}");
            assert_eq!(expressions(&outcome), [path], "{outcome}");
            emitted.push(outcome);
        }
        let (status, outcome, _) =
            subscribe(app, &referrer, &json!({"resourceType": "Task"})).await;
        assert_eq!(status, 400, "{outcome}");

        // Another referrer's practice, another board: refused.
        let other_gp = app.token_for("another-gp", Role::Referrer, &["highland"]);
        let (status, outcome, _) = subscribe(
            app,
            &other_gp,
            &subscription("Task?requester=55005", &endpoint, true),
        )
        .await;
        assert_eq!(status, 403, "{outcome}");
        assert_eq!(expressions(&outcome), ["Subscription.criteria"]);
        emitted.push(outcome);
        let grampian = app.token(Role::Clinician, &["grampian"]);
        let (status, outcome, _) = subscribe(
            app,
            &grampian,
            &subscription("Task?requester=55005&owner=highland", &endpoint, false),
        )
        .await;
        assert_eq!(status, 403, "{outcome}");

        // The practice's own referrer, with the Task; a clinician, empty
        // notifications; and an endpoint that answers 410.
        let (status, with_task, location) = subscribe(
            app,
            &referrer,
            &subscription(
                "Task?requester=https://pathway.scot.nhs.uk/fhir/Id/gp-practice-code|55005",
                &endpoint,
                true,
            ),
        )
        .await;
        assert_eq!(status, 201, "{with_task}");
        assert_eq!(with_task["status"], "active");
        assert_eq!(
            with_task["channel"]["header"],
            json!(["Authorization: ***"]),
            "the secret is not echoed"
        );
        let with_task_id = with_task["id"].as_str().expect("an id").to_owned();
        assert_eq!(
            location.as_deref(),
            Some(format!("/fhir/Subscription/{with_task_id}").as_str())
        );
        let (status, read_back) = read(app, &referrer, &with_task_id).await;
        assert_eq!(status, 200);
        assert_eq!(read_back, with_task);
        let (status, _) = read(app, &other_gp, &with_task_id).await;
        assert_eq!(status, 404, "only its owner reads it");
        emitted.push(with_task);

        let (status, empty, _) = subscribe(
            app,
            &dr,
            &subscription(
                "Task?requester=55005&owner=highland",
                &format!("{}/ping", gp.base),
                false,
            ),
        )
        .await;
        assert_eq!(status, 201, "{empty}");
        let empty_id = empty["id"].as_str().expect("an id").to_owned();
        let (status, gone, _) = subscribe(
            app,
            &referrer,
            &subscription("Task?requester=55005", &format!("{}/gone", gp.base), false),
        )
        .await;
        assert_eq!(status, 201, "{gone}");
        let gone_id = gone["id"].as_str().expect("an id").to_owned();

        // Claimed: the Task, received, with the header asked for.
        let claimed = vetting
            .post_empty(&format!("/v1/referrals/{id}/claim"), &dr)
            .await;
        assert_eq!(claimed.status(), 200);
        let task_path = format!("/fhir/Task/{id}");
        let received = gp
            .wait_for("the received Task", |r| {
                r.method == Method::PUT
                    && r.path == task_path
                    && r.body.as_ref().is_some_and(|t| t["status"] == "received")
            })
            .await;
        assert_eq!(
            received.authorization.as_deref(),
            Some("Bearer gp-system-secret")
        );
        let ping = gp
            .wait_for("an empty notification", |r| r.path == "/ping")
            .await;
        assert_eq!(ping.method, Method::POST);
        assert!(ping.body.is_none(), "an empty notification");
        let errored = eventually(WAIT, || async {
            let (_, sub) = read(app, &referrer, &gone_id).await;
            (sub["status"] == "error").then_some(sub)
        })
        .await
        .expect("a 410 puts the subscription in error");
        assert!(
            errored["error"]
                .as_str()
                .unwrap_or_default()
                .contains("410"),
            "{errored}"
        );
        emitted.push(errored);

        // Decided: the Task, accepted.
        let recorded = vetting
            .post(
                &format!("/v1/referrals/{id}/outcome"),
                &dr,
                &json!({"outcome": "accept", "priority": "urgent", "mode": "video", "rationale": "The clinic should see her."}),
            )
            .await;
        assert_eq!(recorded.status(), 201);
        let accepted = gp
            .wait_for("the accepted Task", |r| {
                r.path == task_path && r.body.as_ref().is_some_and(|t| t["status"] == "accepted")
            })
            .await;
        let accepted = accepted.body.expect("a Task");
        assert_eq!(accepted["resourceType"], "Task");
        emitted.push(received.body.expect("a Task"));
        emitted.push(accepted);

        // Deleted: owed nothing more.
        for (token, sub) in [(&referrer, &with_task_id), (&dr, &empty_id)] {
            let deleted = app
                .http
                .delete(format!("{}/fhir/Subscription/{sub}", app.base))
                .bearer_auth(token)
                .send()
                .await
                .expect("intake answers");
            assert_eq!(deleted.status(), 204);
            assert_eq!(read(app, token, sub).await.0, 404);
        }
        let second = app.refer(&valid_referral("highland")).await;
        vetting.wait_for_referral("highland", &second).await;
        let claimed = vetting
            .post_empty(&format!("/v1/referrals/{second}/claim"), &dr)
            .await;
        assert_eq!(claimed.status(), 200);
        vetting
            .wait_for_status("highland", &second, "in_vetting")
            .await;
        eventually(WAIT, || async {
            let (status, task) = fhir(
                app.http
                    .get(format!("{}/fhir/Task/{second}", app.base))
                    .bearer_auth(&referrer)
                    .send()
                    .await
                    .expect("intake answers"),
            )
            .await;
            (status == 200 && task["status"] == "received").then_some(())
        })
        .await
        .expect("the second referral is claimed in intake");
        // Intake changed the status with no subscription left to owe.
        let owed = notification::Entity::find()
            .filter(notification::Column::ReferralId.eq(second.as_str()))
            .all(&app.db)
            .await
            .expect("the notifications table");
        assert!(owed.is_empty(), "{owed:?}");
        assert!(
            gp.received().iter().all(|r| !r.path.contains(&second)
                && r.body.as_ref().is_none_or(|b| b["id"] != second.as_str())),
            "nothing sent for the second referral"
        );

        validate("fhir-subscription", &emitted, &[]);
    }
}
