//! Claims: one winner in a race, a lapsed claim back on the worklist, a
//! claim given back, and the worklist's filters.

use std::time::Duration;

use pathway_proto::v1::Payload;
use pathway_tests::referrals::valid_referral;
use pathway_tests::{backends, eventually};
use serde_json::Value;

use super::{Stack, accept};

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
