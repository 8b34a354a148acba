//! Outcomes: bad ones refused, a red-flag override recorded, a correction
//! marked as one.

use std::time::Duration;

use pathway_common::auth::Role;
use pathway_proto::v1::Payload;
use pathway_tests::referrals::valid_referral;
use pathway_tests::{backends, eventually};
use serde_json::{Value, json};

use super::{Stack, accept, with_red_flags};

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
        assert!(
            stack
                .vetting
                .text(&done.red_flag_override_reason_text_id)
                .await
                .is_some_and(|t| t.starts_with("Cancer treated"))
        );
        assert_eq!(
            stack
                .vetting
                .text(&done.outcome.expect("outcome").advice_text_id)
                .await
                .as_deref(),
            Some("Review in the practice in six weeks.")
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
