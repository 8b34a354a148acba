//! The whole journey: a referral from intake to a vetting outcome and on to
//! a decision, and the information loop pausing the clock.

use std::time::Duration;

use pathway_common::auth::Role;
use pathway_proto::calendar::WorkingCalendar;
use pathway_proto::v1::{self as proto, Payload};
use pathway_tests::referrals::valid_referral;
use pathway_tests::{backends, eventually};
use serde_json::{Value, json};

use super::{Stack, accept, with_red_flags};

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
        assert!(
            stack
                .vetting
                .text(&done.rationale_text_id)
                .await
                .is_some_and(|t| t.starts_with("Eighteen months"))
        );
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
        assert_eq!(
            stack
                .vetting
                .text(&request.question_text_id)
                .await
                .as_deref(),
            Some("Any imaging of the lumbar spine?")
        );

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
        let actions: Vec<&str> = trail["rows"]
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
