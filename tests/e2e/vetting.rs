//! Vetting, black-box: intake and vetting side by side on a real nats-server
//! and real databases (SQLite always, PostgreSQL when one answers). A
//! referral goes in through intake's API and is vetted through vetting's.

use std::time::Duration;

use pathway_common::auth::Role;
use pathway_proto::calendar::WorkingCalendar;
use pathway_proto::v1::{self as proto, Payload};
use pathway_tests::intake::TestApp;
use pathway_tests::referrals::{set, valid_referral};
use pathway_tests::vetting::VettingApp;
use pathway_tests::{Backend, backends, eventually};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

struct Stack {
    intake: TestApp,
    vetting: VettingApp,
}

impl Stack {
    async fn start(backend: &Backend) -> Self {
        let intake = TestApp::spawn(backend).await;
        intake.enable_board("highland").await;
        intake.enable_board("fife").await;
        let vetting = VettingApp::spawn(&intake, backend).await;
        Self { intake, vetting }
    }

    fn clinician(&self, name: &str) -> String {
        self.intake.token_for(name, Role::Clinician, &["highland"])
    }

    /// A referral through intake, waiting on vetting's worklist.
    async fn referral(&self, body: Value) -> String {
        let board = body["board"].as_str().unwrap_or("highland").to_owned();
        let id = self.intake.refer(&body).await;
        self.vetting.wait_for_referral(&board, &id).await;
        id
    }

    async fn claim(&self, token: &str, id: &str) -> reqwest::Response {
        self.vetting
            .post_empty(&format!("/v1/referrals/{id}/claim"), token)
            .await
    }

    async fn outcome(&self, token: &str, id: &str, body: &Value) -> reqwest::Response {
        self.vetting
            .post(&format!("/v1/referrals/{id}/outcome"), token, body)
            .await
    }

    /// Events of one kind about one referral on the stream.
    async fn events(&self, id: &str, kind: (&str, &str)) -> Vec<proto::Event> {
        self.intake
            .stream_events()
            .await
            .into_iter()
            .map(|e| e.event)
            .filter(|e| e.referral_id == id && e.kind() == Some(kind))
            .collect()
    }

    async fn wait_for_event(&self, id: &str, kind: (&str, &str)) -> proto::Event {
        let found = eventually(Duration::from_secs(10), || async {
            self.events(id, kind).await.into_iter().next()
        })
        .await;
        found.unwrap_or_else(|| panic!("no {kind:?} event for {id}"))
    }

    /// Publish `event` onto the stream as its owner would.
    async fn publish(&self, event: &proto::Event) {
        use prost::Message as _;
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", event.event_id.as_str());
        self.intake
            .jetstream
            .publish_with_headers(
                event.subject().expect("an event with a payload"),
                headers,
                event.encode_to_vec().into(),
            )
            .await
            .expect("publish")
            .await
            .expect("the stream acknowledges");
    }

    async fn outcome_rows(&self) -> u64 {
        pathway_vetting::store::outcome::Entity::find()
            .count(&self.vetting.db)
            .await
            .expect("count outcomes")
    }

    async fn audit(&self, id: &str) -> Vec<(String, String)> {
        pathway_common::audit::entity::Entity::find()
            .all(&self.vetting.db)
            .await
            .expect("read the audit trail")
            .into_iter()
            .filter(|r| r.referral_id.as_deref() == Some(id))
            .map(|r| (r.action, r.actor))
            .collect()
    }
}

fn accept() -> Value {
    json!({
        "outcome": "accept",
        "priority": "routine",
        "mode": "video",
        "rationale": "Persistent pain despite physiotherapy: the clinic should see her."
    })
}

fn with_red_flags(board: &str) -> Value {
    let mut body = valid_referral(board);
    set(
        &mut body,
        "clinical.red_flags",
        json!(["history_of_cancer"]),
    );
    body
}

#[tokio::test]
async fn a_referral_goes_from_intake_to_a_vetting_outcome() {
    for backend in backends().await {
        let mut stack = Stack::start(&backend).await;
        let plain = stack.referral(valid_referral("highland")).await;
        let flagged = stack.referral(with_red_flags("highland")).await;
        let dr = stack.clinician("dr-mackay");

        // Red flags come first, whatever their age; each row has its wait.
        let list = stack.vetting.worklist(&dr, "highland", "").await;
        let rows = list["referrals"].as_array().expect("rows");
        assert_eq!(rows.len(), 2, "{}", backend.name());
        assert_eq!(rows[0]["referral_id"], flagged.as_str());
        assert_eq!(rows[0]["red_flags"], json!(["history_of_cancer"]));
        assert_eq!(rows[1]["referral_id"], plain.as_str());
        assert_eq!(rows[1]["waited_working_days"], 0);
        assert_eq!(rows[1]["target_working_days"], 10);
        assert_eq!(rows[1]["status"], "awaiting_vetting");

        // Claim, read, record.
        let claimed = stack.claim(&dr, &plain).await;
        assert_eq!(claimed.status(), 200);
        let claimed: Value = claimed.json().await.expect("JSON");
        assert_eq!(claimed["status"], "in_vetting");
        assert_eq!(claimed["claimed_by"], "dr-mackay");
        let detail: Value = stack
            .vetting
            .get(&format!("/v1/referrals/{plain}"), &dr)
            .await
            .json()
            .await
            .expect("JSON");
        assert!(
            detail["referral"]["patient"]["family_name"]
                .as_str()
                .is_some_and(|n| n.starts_with("MacLeod"))
        );
        assert_eq!(
            detail["allowed_actions"],
            json!(["claim", "release", "request_information", "record_outcome"])
        );
        // The README's walk-through records examples/outcome.json.
        let example: Value = serde_json::from_str(
            &std::fs::read_to_string(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/outcome.json"),
            )
            .expect("examples/outcome.json is there"),
        )
        .expect("examples/outcome.json is JSON");
        let recorded = stack.outcome(&dr, &plain, &example).await;
        assert_eq!(recorded.status(), 201);

        let completed = stack.wait_for_event(&plain, ("vetting", "completed")).await;
        assert_eq!(completed.actor, "dr-mackay");
        let Some(Payload::VettingCompleted(done)) = completed.payload else {
            panic!("not a vetting.completed payload");
        };
        assert_eq!(done.clinician, "dr-mackay");
        assert!(done.rationale.starts_with("Eighteen months"));
        assert!(!done.correction);
        let outcome = done.outcome.expect("an outcome");
        assert_eq!(outcome.kind, proto::OutcomeKind::Accept as i32);
        assert_eq!(outcome.priority, proto::Priority::Routine as i32);
        assert_eq!(outcome.mode, proto::AppointmentMode::Video as i32);
        stack.wait_for_event(&plain, ("vetting", "claimed")).await;

        // Intake follows: the referrer sees the referral vetted.
        let referrer = stack.intake.token(Role::Referrer, &["highland"]);
        let seen = eventually(Duration::from_secs(10), || async {
            let view: Value = stack
                .intake
                .get_referral(&referrer, &plain)
                .await
                .json()
                .await
                .ok()?;
            (view["status"] == "vetted").then_some(view)
        })
        .await;
        assert!(seen.is_some(), "intake never saw the outcome");
        // The vetted referral leaves the waiting list.
        let list = stack.vetting.worklist(&dr, "highland", "").await;
        assert_eq!(list["referrals"].as_array().map(Vec::len), Some(1));
        stack.vetting.stop().await;
        stack.intake.stop().await;
    }
}

#[tokio::test]
async fn two_clinicians_racing_for_one_claim_one_wins() {
    for backend in backends().await {
        let stack = Stack::start(&backend).await;
        for round in 0..3 {
            let id = stack.referral(valid_referral("highland")).await;
            let (a, b) = (stack.clinician("dr-a"), stack.clinician("dr-b"));
            let (first, second) = tokio::join!(stack.claim(&a, &id), stack.claim(&b, &id));
            let mut statuses = [first.status().as_u16(), second.status().as_u16()];
            statuses.sort_unstable();
            assert_eq!(statuses, [200, 409], "round {round} on {}", backend.name());
            let loser = if first.status() == 409 { first } else { second };
            let error: Value = loser.json().await.expect("JSON error");
            assert_eq!(error["error"], "claimed_by_another_clinician");
            let holder = error["claimed_by"].as_str().expect("the holder is named");
            assert!(holder == "dr-a" || holder == "dr-b");
            assert!(error["message"].as_str().unwrap_or("").contains(holder));
            // Exactly one claim event.
            let claims = eventually(Duration::from_secs(10), || async {
                let found = stack.events(&id, ("vetting", "claimed")).await;
                (!found.is_empty()).then_some(found)
            })
            .await
            .expect("a claim event");
            tokio::time::sleep(Duration::from_millis(200)).await;
            assert_eq!(claims.len(), 1);
            assert_eq!(stack.events(&id, ("vetting", "claimed")).await.len(), 1);
        }
    }
}

#[tokio::test]
async fn a_lapsed_claim_goes_back_to_the_worklist() {
    for backend in backends().await {
        let stack = Stack::start(&backend).await;
        let id = stack.referral(valid_referral("highland")).await;
        let (a, b) = (stack.clinician("dr-a"), stack.clinician("dr-b"));
        assert_eq!(stack.claim(&a, &id).await.status(), 200);
        assert_eq!(stack.claim(&b, &id).await.status(), 409);

        // The default lease is 30 minutes.
        stack.vetting.clock.advance(chrono::Duration::minutes(31));
        let late = stack.outcome(&a, &id, &accept()).await;
        assert_eq!(late.status(), 409);
        let error: Value = late.json().await.expect("JSON");
        assert_eq!(error["error"], "lease_lapsed");
        assert_eq!(stack.outcome_rows().await, 0);

        // The worklist already shows it waiting; the sweep makes it so.
        let row = stack.vetting.wait_for_referral("highland", &id).await;
        assert_eq!(row["status"], "awaiting_vetting");
        assert_eq!(stack.vetting.app.expire_leases().await.expect("sweep"), 1);
        assert_eq!(stack.vetting.app.expire_leases().await.expect("sweep"), 0);
        let released = stack.wait_for_event(&id, ("vetting", "released")).await;
        let Some(Payload::VettingReleased(released)) = released.payload else {
            panic!("not a release");
        };
        assert_eq!(released.reason, "lapsed");
        assert_eq!(released.clinician, "dr-a");

        // Another clinician may take it now.
        assert_eq!(stack.claim(&b, &id).await.status(), 200);
        assert_eq!(stack.outcome(&b, &id, &accept()).await.status(), 201);
    }
}

#[tokio::test]
async fn a_claim_can_be_given_back() {
    for backend in backends().await {
        let stack = Stack::start(&backend).await;
        let id = stack.referral(valid_referral("highland")).await;
        let (a, b) = (stack.clinician("dr-a"), stack.clinician("dr-b"));
        assert_eq!(stack.claim(&a, &id).await.status(), 200);
        let path = format!("/v1/referrals/{id}/release");
        assert_eq!(stack.vetting.post_empty(&path, &b).await.status(), 409);
        assert_eq!(stack.vetting.post_empty(&path, &a).await.status(), 200);
        assert_eq!(stack.vetting.post_empty(&path, &a).await.status(), 409);
        let event = stack.wait_for_event(&id, ("vetting", "released")).await;
        let Some(Payload::VettingReleased(released)) = event.payload else {
            panic!("not a release");
        };
        assert_eq!(released.reason, "released");
        assert_eq!(stack.claim(&b, &id).await.status(), 200);
    }
}

#[tokio::test]
async fn the_information_loop_pauses_the_clock() {
    for backend in backends().await {
        let stack = Stack::start(&backend).await;
        let id = stack.referral(valid_referral("highland")).await;
        let dr = stack.clinician("dr-a");
        assert_eq!(stack.claim(&dr, &id).await.status(), 200);
        let path = format!("/v1/referrals/{id}/information-requests");
        let blank = stack
            .vetting
            .post(&path, &dr, &json!({"question": "  "}))
            .await;
        assert_eq!(blank.status(), 422);
        let error: Value = blank.json().await.expect("JSON");
        assert_eq!(error["fields"][0]["field"], "question");
        let asked = stack
            .vetting
            .post(
                &path,
                &dr,
                &json!({"question": "Any imaging of the lumbar spine?"}),
            )
            .await;
        assert_eq!(asked.status(), 201);
        let event = stack
            .wait_for_event(&id, ("vetting", "info_requested"))
            .await;
        let Some(Payload::VettingInfoRequested(request)) = event.payload else {
            panic!("not an information request");
        };
        assert_eq!(request.question, "Any imaging of the lumbar spine?");

        // A week passes while the referrer is asked: the clock stands still.
        stack.vetting.clock.advance(chrono::Duration::days(7));
        let row = stack
            .vetting
            .wait_for_status("highland", &id, "info_requested")
            .await;
        assert_eq!(row["clock_paused"], true);
        assert_eq!(row["waited_working_days"], 0, "no wait counts while paused");
        assert_eq!(stack.claim(&dr, &id).await.status(), 409);

        // The referrer answers through intake; the referral is back, answered.
        let referrer = stack.intake.token(Role::Referrer, &["highland"]);
        // The referrer can answer once intake has heard of the question.
        let asked_in_intake = eventually(Duration::from_secs(10), || async {
            let view: Value = stack
                .intake
                .get_referral(&referrer, &id)
                .await
                .json()
                .await
                .ok()?;
            (view["status"] == "info_requested").then_some(())
        })
        .await;
        assert!(
            asked_in_intake.is_some(),
            "intake never heard of the question"
        );
        let answered = stack
            .intake
            .http
            .post(format!(
                "{}/v1/referrals/{id}/information",
                stack.intake.base
            ))
            .bearer_auth(&referrer)
            .json(&json!({"answer": "MRI in March showed no nerve root compression."}))
            .send()
            .await
            .expect("intake answers");
        assert_eq!(answered.status(), 200);
        let row = stack
            .vetting
            .wait_for_status("highland", &id, "awaiting_vetting")
            .await;
        assert_eq!(row["answer_received"], true);
        assert_eq!(row["clock_paused"], false);
        // The pause ended at the answer (today in real time), so the week
        // that passed on the vetting clock now counts.
        let today = chrono::Utc::now().date_naive();
        let calendar = WorkingCalendar::new(true, &[]);
        let expected = calendar.working_days_between(today, today + chrono::Days::new(7));
        assert_eq!(row["waited_working_days"], expected);
        let detail: Value = stack
            .vetting
            .get(&format!("/v1/referrals/{id}"), &dr)
            .await
            .json()
            .await
            .expect("JSON");
        assert_eq!(
            detail["information_requests"][0]["answer"],
            "MRI in March showed no nerve root compression."
        );
        assert_eq!(
            detail["information_requests"][0]["question"],
            "Any imaging of the lumbar spine?"
        );
    }
}

#[tokio::test]
async fn bad_outcomes_are_refused_and_nothing_is_written() {
    for backend in backends().await {
        let stack = Stack::start(&backend).await;
        let dr = stack.clinician("dr-a");
        let other = stack.clinician("dr-b");
        let fife_dr = stack
            .intake
            .token_for("dr-fife", Role::Clinician, &["fife"]);
        let id = stack.referral(valid_referral("highland")).await;

        let mut accept_without_mode = accept();
        accept_without_mode
            .as_object_mut()
            .map(|o| o.remove("mode"));
        let mut physio_with_priority = json!({"outcome": "physiotherapy", "rationale": "r"});
        physio_with_priority["priority"] = json!("urgent");
        let mut decline_without_code =
            json!({"outcome": "decline", "reason": "not chronic pain", "rationale": "r"});
        decline_without_code["reason"] = json!("not chronic pain");

        // (who, body, status, error code or field) — before any claim.
        let cases: Vec<(&str, &String, Value, u16, &str)> = vec![
            ("without a claim", &dr, accept(), 409, "not_claimed"),
            (
                "another board's clinician",
                &fife_dr,
                accept(),
                404,
                "not_found",
            ),
        ];
        for (what, token, body, status, code) in &cases {
            let response = stack.outcome(token, &id, body).await;
            assert_eq!(
                response.status().as_u16(),
                *status,
                "{what} ({})",
                backend.name()
            );
            let error: Value = response.json().await.expect("JSON");
            assert_eq!(error["error"], *code, "{what}");
        }
        assert_eq!(stack.claim(&dr, &id).await.status(), 200);
        let field_cases: Vec<(&str, Value, &str)> = vec![
            ("a missing required field", accept_without_mode, "mode"),
            (
                "a priority on a non-accept outcome",
                physio_with_priority,
                "priority",
            ),
            (
                "a decline without its coded reason",
                decline_without_code,
                "rejection_reason",
            ),
            (
                "no rationale",
                json!({"outcome": "pain_psychology"}),
                "rationale",
            ),
            (
                "an unknown outcome",
                json!({"outcome": "teleport", "rationale": "r"}),
                "outcome",
            ),
        ];
        for (what, body, field) in &field_cases {
            let response = stack.outcome(&dr, &id, body).await;
            assert_eq!(response.status(), 422, "{what}");
            let error: Value = response.json().await.expect("JSON");
            let fields: Vec<&str> = error["fields"]
                .as_array()
                .expect("fields")
                .iter()
                .filter_map(|f| f["field"].as_str())
                .collect();
            assert!(fields.contains(field), "{what}: {fields:?}");
        }
        let unknown_field = stack
            .outcome(
                &dr,
                &id,
                &json!({"outcome": "physiotherapy", "rationale": "r", "urgency": 1}),
            )
            .await;
        assert_eq!(unknown_field.status(), 422);
        let not_json = stack
            .vetting
            .http
            .post(format!("{}/v1/referrals/{id}/outcome", stack.vetting.base))
            .bearer_auth(&dr)
            .header("Content-Type", "application/json")
            .body("{not json")
            .send()
            .await
            .expect("answers");
        assert_eq!(not_json.status(), 400);
        // Another clinician, while the claim is held.
        let response = stack.outcome(&other, &id, &accept()).await;
        assert_eq!(response.status(), 409);
        assert_eq!(stack.outcome_rows().await, 0, "nothing written");
        assert!(stack.events(&id, ("vetting", "completed")).await.is_empty());

        // The same outcome twice: one record, one event, the same answer.
        let first = stack.outcome(&dr, &id, &accept()).await;
        assert_eq!(first.status(), 201);
        let first: Value = first.json().await.expect("JSON");
        let again = stack.outcome(&dr, &id, &accept()).await;
        assert_eq!(again.status(), 200);
        let again: Value = again.json().await.expect("JSON");
        assert_eq!(first["event_id"], again["event_id"]);
        let different = stack
            .outcome(
                &dr,
                &id,
                &json!({"outcome": "physiotherapy", "rationale": "r"}),
            )
            .await;
        assert_eq!(different.status(), 409);
        assert_eq!(stack.outcome_rows().await, 1);
        stack.wait_for_event(&id, ("vetting", "completed")).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(stack.events(&id, ("vetting", "completed")).await.len(), 1);

        // A withdrawn referral cannot be vetted.
        let withdrawn = stack.referral(valid_referral("highland")).await;
        assert_eq!(stack.claim(&dr, &withdrawn).await.status(), 200);
        let referrer = stack.intake.token(Role::Referrer, &["highland"]);
        let response = stack
            .intake
            .http
            .post(format!(
                "{}/v1/referrals/{withdrawn}/withdraw",
                stack.intake.base
            ))
            .bearer_auth(&referrer)
            .json(&json!({"reason_code": "patient_request"}))
            .send()
            .await
            .expect("intake answers");
        assert_eq!(response.status(), 200);
        stack
            .vetting
            .wait_for_status("highland", &withdrawn, "withdrawn")
            .await;
        let response = stack.outcome(&dr, &withdrawn, &accept()).await;
        assert_eq!(response.status(), 409);
        let error: Value = response.json().await.expect("JSON");
        assert_eq!(error["error"], "withdrawn");
        assert_eq!(stack.outcome_rows().await, 1);
    }
}

#[tokio::test]
async fn closing_a_red_flag_referral_with_advice_needs_a_recorded_override() {
    for backend in backends().await {
        let stack = Stack::start(&backend).await;
        let dr = stack.clinician("dr-a");
        let id = stack.referral(with_red_flags("highland")).await;
        assert_eq!(stack.claim(&dr, &id).await.status(), 200);
        let advice = json!({
            "outcome": "advice_to_referrer",
            "advice": "Review in the practice in six weeks.",
            "rationale": "Longstanding, stable history."
        });
        let refused = stack.outcome(&dr, &id, &advice).await;
        assert_eq!(refused.status(), 422);
        let error: Value = refused.json().await.expect("JSON");
        assert_eq!(error["fields"][0]["field"], "red_flag_override_reason");
        assert!(
            error["fields"][0]["reason"]
                .as_str()
                .unwrap_or("")
                .contains("history_of_cancer")
        );
        assert_eq!(stack.outcome_rows().await, 0);

        let mut overridden = advice;
        overridden["red_flag_override_reason"] =
            json!("Cancer treated in 2009, discharged; pain unchanged for ten years.");
        assert_eq!(stack.outcome(&dr, &id, &overridden).await.status(), 201);
        let event = stack.wait_for_event(&id, ("vetting", "completed")).await;
        let Some(Payload::VettingCompleted(done)) = event.payload else {
            panic!("not a vetting.completed");
        };
        assert!(done.red_flag_override_reason.starts_with("Cancer treated"));
        assert_eq!(
            done.outcome.expect("outcome").advice,
            "Review in the practice in six weeks."
        );
        // The override is visible on the referral.
        let detail: Value = stack
            .vetting
            .get(&format!("/v1/referrals/{id}"), &dr)
            .await
            .json()
            .await
            .expect("JSON");
        assert!(
            detail["outcomes"][0]["outcome"]["red_flag_override_reason"]
                .as_str()
                .is_some_and(|r| r.starts_with("Cancer treated"))
        );
    }
}

#[tokio::test]
async fn a_correction_is_a_second_outcome_marked_as_one() {
    for backend in backends().await {
        let stack = Stack::start(&backend).await;
        let dr = stack.clinician("dr-a");
        let id = stack.referral(valid_referral("highland")).await;
        let path = format!("/v1/referrals/{id}/correction");
        let early = stack.vetting.post(&path, &dr, &accept()).await;
        assert_eq!(early.status(), 409, "nothing to correct yet");
        assert_eq!(stack.claim(&dr, &id).await.status(), 200);
        assert_eq!(stack.outcome(&dr, &id, &accept()).await.status(), 201);
        let corrected = stack
            .vetting
            .post(
                &path,
                &stack.clinician("dr-b"),
                &json!({"outcome": "pain_management_programme", "rationale": "On review, the programme suits her better."}),
            )
            .await;
        assert_eq!(corrected.status(), 201);
        let events = eventually(Duration::from_secs(10), || async {
            let found = stack.events(&id, ("vetting", "completed")).await;
            (found.len() == 2).then_some(found)
        })
        .await
        .expect("two vetting.completed events");
        let corrections: Vec<bool> = events
            .iter()
            .map(|e| match &e.payload {
                Some(Payload::VettingCompleted(done)) => done.correction,
                _ => false,
            })
            .collect();
        assert_eq!(corrections, [false, true]);
        assert_eq!(stack.outcome_rows().await, 2);
    }
}

#[tokio::test]
async fn late_events_leave_a_vetted_referral_vetted() {
    for backend in backends().await {
        let stack = Stack::start(&backend).await;
        let dr = stack.clinician("dr-a");
        let id = stack.referral(valid_referral("highland")).await;
        assert_eq!(stack.claim(&dr, &id).await.status(), 200);
        assert_eq!(stack.outcome(&dr, &id, &accept()).await.status(), 201);
        stack.wait_for_event(&id, ("vetting", "completed")).await;

        // Events that raced the outcome and arrive after it: a withdrawal the
        // referrer sent while the referral was being vetted, an answer to a
        // question nobody is waiting on, and the referral published again
        // (a republish carries a new event id, so only the handler can tell).
        let referral = uuid::Uuid::parse_str(&id).expect("a UUID");
        let at = chrono::Utc::now();
        let withdrawn = proto::Event::new(
            "highland",
            Some(referral),
            "dr-referrer",
            at,
            Payload::ReferralWithdrawn(proto::ReferralWithdrawn {
                previous_status: "in_vetting".into(),
                reason_code: "patient_request".into(),
            }),
        );
        let answered = proto::Event::new(
            "highland",
            Some(referral),
            "dr-referrer",
            at,
            Payload::ReferralInfoProvided(proto::ReferralInfoProvided {
                information_request_id: uuid::Uuid::now_v7().to_string(),
            }),
        );
        let mut received = stack.wait_for_event(&id, ("referral", "received")).await;
        received.event_id = uuid::Uuid::now_v7().to_string();
        let late = [withdrawn, answered, received];
        for event in &late {
            stack.publish(event).await;
        }
        let handled = eventually(Duration::from_secs(10), || async {
            let seen = pathway_common::inbox::entity::Entity::find()
                .all(&stack.vetting.db)
                .await
                .ok()?;
            late.iter()
                .all(|e| seen.iter().any(|row| row.event_id == e.event_id))
                .then_some(())
        })
        .await;
        assert!(handled.is_some(), "vetting never handled the late events");

        let row = stack.vetting.wait_for_referral("highland", &id).await;
        assert_eq!(row["status"], "vetted", "{}", backend.name());
        assert_eq!(row["answer_received"], false);
        let detail: Value = stack
            .vetting
            .get(&format!("/v1/referrals/{id}"), &dr)
            .await
            .json()
            .await
            .expect("JSON");
        assert_eq!(detail["allowed_actions"], json!(["correct_outcome"]));
        // Acknowledged without effect, not dead-lettered.
        let dead = pathway_common::inbox::dead_letter::Entity::find()
            .count(&stack.vetting.db)
            .await
            .expect("count dead letters");
        assert_eq!(dead, 0);
    }
}

/// A board's settings changed twice, and the older change redelivered after
/// the newer one was kept: the newer settings stand.
#[tokio::test]
async fn an_older_settings_change_redelivered_late_does_not_undo_a_newer_one() {
    use pathway_proto::board::BoardSettings;
    use pathway_vetting::store::board_settings;

    for backend in backends().await {
        let stack = Stack::start(&backend).await;
        let settings_changed = |at: chrono::DateTime<chrono::Utc>, days: u32| {
            let settings = BoardSettings {
                vetting_target_working_days: days,
                ..BoardSettings::default()
            };
            proto::Event::new(
                "highland",
                None,
                "highland-admin",
                at,
                Payload::BoardSettingsChanged(proto::BoardSettingsChanged {
                    vetting_target_working_days: days,
                    changed_by: "highland-admin".into(),
                    settings_json: serde_json::to_string(&settings).expect("JSON"),
                }),
            )
        };
        let now = chrono::Utc::now();
        let older = settings_changed(now - chrono::Duration::minutes(5), 5);
        let newer = settings_changed(now, 20);

        stack.publish(&newer).await;
        let kept = eventually(Duration::from_secs(10), || async {
            board_settings::Entity::find_by_id("highland".to_owned())
                .one(&stack.vetting.db)
                .await
                .ok()?
                .filter(|row| row.event_id == newer.event_id)
        })
        .await
        .expect("vetting keeps the newer settings");

        stack.publish(&older).await;
        let handled = eventually(Duration::from_secs(10), || async {
            pathway_common::inbox::entity::Entity::find()
                .all(&stack.vetting.db)
                .await
                .ok()?
                .iter()
                .any(|row| row.event_id == older.event_id)
                .then_some(())
        })
        .await;
        assert!(handled.is_some(), "vetting never handled the older change");

        let row = board_settings::Entity::find_by_id("highland".to_owned())
            .one(&stack.vetting.db)
            .await
            .expect("read the board's settings")
            .expect("a row for highland");
        assert_eq!(row, kept, "{}", backend.name());
        let highland = pathway_proto::BoardCode::parse("highland").expect("a board");
        let settings = board_settings::of_board(&stack.vetting.db, highland)
            .await
            .expect("readable settings");
        assert_eq!(settings.vetting_target_working_days, 20);
        // Acknowledged without effect, not dead-lettered.
        let dead = pathway_common::inbox::dead_letter::Entity::find()
            .count(&stack.vetting.db)
            .await
            .expect("count dead letters");
        assert_eq!(dead, 0);
    }
}

#[tokio::test]
async fn nobody_outside_the_board_or_the_role_gets_in() {
    for backend in backends().await {
        let stack = Stack::start(&backend).await;
        let id = stack.referral(valid_referral("highland")).await;
        let intake = &stack.intake;
        let tokens: Vec<(&str, String)> = vec![
            (
                "fife clinician",
                intake.token_for("dr-fife", Role::Clinician, &["fife"]),
            ),
            (
                "highland referrer",
                intake.token(Role::Referrer, &["highland"]),
            ),
            (
                "highland board admin",
                intake.token(Role::BoardAdmin, &["highland"]),
            ),
            (
                "highland evaluator",
                intake.token(Role::Evaluator, &["highland"]),
            ),
            ("fife service", intake.token(Role::Service, &["fife"])),
        ];
        let outcome = accept();
        let question = json!({"question": "Any imaging?"});
        for (who, token) in &tokens {
            let mut answers = vec![
                (
                    "worklist",
                    stack
                        .vetting
                        .get("/v1/boards/highland/worklist", token)
                        .await,
                ),
                (
                    "view",
                    stack
                        .vetting
                        .get(&format!("/v1/referrals/{id}"), token)
                        .await,
                ),
                ("claim", stack.claim(token, &id).await),
                (
                    "release",
                    stack
                        .vetting
                        .post_empty(&format!("/v1/referrals/{id}/release"), token)
                        .await,
                ),
                (
                    "question",
                    stack
                        .vetting
                        .post(
                            &format!("/v1/referrals/{id}/information-requests"),
                            token,
                            &question,
                        )
                        .await,
                ),
                ("outcome", stack.outcome(token, &id, &outcome).await),
                (
                    "correction",
                    stack
                        .vetting
                        .post(&format!("/v1/referrals/{id}/correction"), token, &outcome)
                        .await,
                ),
            ];
            if !who.contains("board admin") {
                answers.push((
                    "audit",
                    stack.vetting.get("/v1/boards/highland/audit", token).await,
                ));
            }
            for (endpoint, response) in answers {
                let status = response.status().as_u16();
                assert!(
                    status == 403 || status == 404,
                    "{who} on {endpoint}: {status} ({})",
                    backend.name()
                );
                let error: Value = response.json().await.expect("a JSON error");
                assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
            }
        }
        // No token at all.
        let response = stack
            .vetting
            .http
            .get(format!(
                "{}/v1/boards/highland/worklist",
                stack.vetting.base
            ))
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status(), 401);
        // Nothing happened to the referral.
        let row = stack.vetting.wait_for_referral("highland", &id).await;
        assert_eq!(row["status"], "awaiting_vetting");
        assert_eq!(row["version"], 1);
        assert!(stack.audit(&id).await.is_empty());
        // The board's own admin reads the (empty) audit trail.
        let admin = intake.token(Role::BoardAdmin, &["highland"]);
        assert_eq!(
            stack
                .vetting
                .get("/v1/boards/highland/audit", &admin)
                .await
                .status(),
            200
        );
    }
}

#[tokio::test]
async fn every_action_and_every_view_leaves_exactly_one_audit_row() {
    for backend in backends().await {
        let stack = Stack::start(&backend).await;
        let dr = stack.clinician("dr-a");
        let id = stack.referral(valid_referral("highland")).await;
        let view = format!("/v1/referrals/{id}");
        assert_eq!(stack.vetting.get(&view, &dr).await.status(), 200);
        assert_eq!(stack.claim(&dr, &id).await.status(), 200);
        assert_eq!(stack.vetting.get(&view, &dr).await.status(), 200);
        let asked = stack
            .vetting
            .post(
                &format!("/v1/referrals/{id}/information-requests"),
                &dr,
                &json!({"question": "Any imaging?"}),
            )
            .await;
        assert_eq!(asked.status(), 201);
        // The worklist holds no identifiable data: no audit row for it.
        stack.vetting.worklist(&dr, "highland", "").await;
        // A refused action writes nothing.
        assert_eq!(stack.claim(&dr, &id).await.status(), 409);

        let rows = stack.audit(&id).await;
        let actions: Vec<&str> = rows.iter().map(|(a, _)| a.as_str()).collect();
        assert_eq!(
            actions,
            [
                "referral.read_identifiable",
                "referral.claim",
                "referral.read_identifiable",
                "referral.request_information"
            ],
            "{}",
            backend.name()
        );
        assert!(rows.iter().all(|(_, actor)| actor == "dr-a"));
        // The board admin sees the same rows through the API.
        let admin = stack.intake.token(Role::BoardAdmin, &["highland"]);
        let trail: Value = stack
            .vetting
            .get(
                &format!("/v1/boards/highland/audit?referral_id={id}"),
                &admin,
            )
            .await
            .json()
            .await
            .expect("JSON");
        assert_eq!(trail.as_array().map(Vec::len), Some(4));
        assert_eq!(trail[1]["action"], "referral.claim");
        assert_eq!(trail[1]["actor"], "dr-a");
    }
}

#[tokio::test]
async fn the_worklist_filters_by_status_and_by_claimant() {
    for backend in backends().await {
        let stack = Stack::start(&backend).await;
        let dr = stack.clinician("dr-a");
        let mine = stack.referral(valid_referral("highland")).await;
        let _other = stack.referral(valid_referral("highland")).await;
        assert_eq!(stack.claim(&dr, &mine).await.status(), 200);
        let list = stack.vetting.worklist(&dr, "highland", "?mine=true").await;
        let ids: Vec<&str> = list["referrals"]
            .as_array()
            .expect("rows")
            .iter()
            .filter_map(|r| r["referral_id"].as_str())
            .collect();
        assert_eq!(ids, [mine.as_str()]);
        assert_eq!(list["referrals"][0]["claimed_by_me"], true);
        let list = stack
            .vetting
            .worklist(&dr, "highland", "?status=awaiting_vetting")
            .await;
        assert_eq!(list["referrals"].as_array().map(Vec::len), Some(1));
        let bad = stack
            .vetting
            .get("/v1/boards/highland/worklist?status=lost", &dr)
            .await;
        assert_eq!(bad.status(), 400);
        let error: Value = bad.json().await.expect("JSON");
        assert_eq!(error["fields"][0]["field"], "status");
        let openapi = stack
            .vetting
            .http
            .get(format!("{}/openapi.json", stack.vetting.base))
            .send()
            .await
            .expect("answers");
        assert_eq!(openapi.status(), 200);
        let doc: Value = openapi.json().await.expect("JSON");
        assert!(doc["paths"]["/v1/referrals/{id}/outcome"]["post"].is_object());
    }
}

#[tokio::test]
async fn the_whole_journey_ends_in_a_decision_and_a_correction_supersedes_it() {
    for backend in backends().await {
        let stack = Stack::start(&backend).await;
        let mut decision =
            pathway_tests::decision::TestApp::spawn_beside(&backend, &stack.intake).await;
        let dr = stack.clinician("dr-a");
        let id = stack.referral(valid_referral("highland")).await;
        assert_eq!(stack.claim(&dr, &id).await.status(), 200);
        let mut urgent = accept();
        urgent["priority"] = json!("urgent");
        assert_eq!(stack.outcome(&dr, &id, &urgent).await.status(), 201);

        let recorded = stack.wait_for_event(&id, ("decision", "recorded")).await;
        let Some(Payload::DecisionRecorded(first)) = recorded.payload else {
            panic!("not a decision");
        };
        assert_eq!(first.clinician, "dr-a");
        let decided = first
            .decided_at
            .as_ref()
            .and_then(proto::from_timestamp)
            .expect("decided_at");
        // An urgent accept is due within the board's 28 days.
        assert_eq!(
            first.target_date,
            (decided.date_naive() + chrono::Days::new(28)).to_string()
        );
        assert!(first.supersedes_decision_id.is_empty());

        // The referrer who sent it and the board's clinicians see it.
        let referrer = stack.intake.token(Role::Referrer, &["highland"]);
        for token in [&referrer, &dr] {
            let response = decision.get_decision(Some(token), &id).await;
            assert_eq!(response.status(), 200);
            let body: Value = response.json().await.expect("JSON");
            assert_eq!(body["current"]["id"], first.decision_id.as_str());
        }

        // A correction through vetting supersedes it; both are kept.
        let corrected = stack
            .vetting
            .post(
                &format!("/v1/referrals/{id}/correction"),
                &dr,
                &json!({"outcome": "pain_management_programme", "rationale": "The programme suits her better."}),
            )
            .await;
        assert_eq!(corrected.status(), 201);
        let second = eventually(Duration::from_secs(10), || async {
            stack
                .events(&id, ("decision", "recorded"))
                .await
                .into_iter()
                .filter_map(|e| match e.payload {
                    Some(Payload::DecisionRecorded(d)) => Some(d),
                    _ => None,
                })
                .find(|d| d.supersedes_decision_id == first.decision_id)
        })
        .await
        .expect("a superseding decision");
        let body: Value = decision
            .get_decision(Some(&dr), &id)
            .await
            .json()
            .await
            .expect("JSON");
        assert_eq!(body["current"]["id"], second.decision_id.as_str());
        assert_eq!(body["superseded"][0]["id"], first.decision_id.as_str());
        // Intake's status follows the journey.
        let decided = eventually(Duration::from_secs(10), || async {
            let view: Value = stack
                .intake
                .get_referral(&referrer, &id)
                .await
                .json()
                .await
                .ok()?;
            (view["status"] == "decided").then_some(())
        })
        .await;
        assert!(
            decided.is_some(),
            "intake never saw the decision ({})",
            backend.name()
        );
        // The board's admin reads the decision service's audit trail too.
        let admin = stack.intake.token(Role::BoardAdmin, &["highland"]);
        let audit_url = format!(
            "{}/v1/boards/highland/audit?referral_id={id}",
            decision.base
        );
        let trail: Value = decision
            .http
            .get(&audit_url)
            .bearer_auth(&admin)
            .send()
            .await
            .expect("decision answers")
            .json()
            .await
            .expect("JSON");
        let actions: Vec<&str> = trail
            .as_array()
            .expect("rows")
            .iter()
            .filter_map(|r| r["action"].as_str())
            .collect();
        assert_eq!(
            actions.iter().filter(|a| **a == "decision.record").count(),
            2
        );
        assert_eq!(actions.iter().filter(|a| **a == "decision.read").count(), 3);
        let refused = decision
            .http
            .get(&audit_url)
            .bearer_auth(&dr)
            .send()
            .await
            .expect("answers");
        assert_eq!(refused.status(), 403);
        decision.stop().await;
    }
}

#[tokio::test]
async fn the_pages_take_the_token_from_a_sign_in_proxy_and_refuse_other_roles() {
    let backend = backends().await.remove(0);
    let stack = Stack::start(&backend).await;
    let id = stack.referral(valid_referral("highland")).await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    let page = |token: Option<String>| {
        let mut request = no_redirects.get(format!("{}/worklist", stack.vetting.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let shown = page(Some(stack.clinician("dr-a"))).await.expect("answers");
    assert_eq!(shown.status(), 200);
    let html = shown.text().await.expect("HTML");
    assert!(html.contains("Referrals waiting for vetting"));
    assert!(html.contains(&format!("/referrals/{id}")));
    for token in [
        None,
        Some(stack.intake.token(Role::Referrer, &["highland"])),
        Some("not-a-token".to_owned()),
    ] {
        let refused = page(token).await.expect("answers");
        assert_eq!(refused.status(), 303);
        let to = refused.headers()["location"].to_str().unwrap_or("");
        assert!(to.starts_with("/sign-in"), "{to}");
    }
}
