//! Who gets in, one audit row for every action and view, and the pages
//! behind a sign-in proxy.

use pathway_common::auth::Role;
use pathway_tests::backends;
use pathway_tests::referrals::valid_referral;
use serde_json::{Value, json};

use super::{Stack, accept};

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
        assert_eq!(trail["rows"].as_array().map(Vec::len), Some(4));
        assert_eq!(trail["rows"][1]["action"], "referral.claim");
        // A view names its purpose as intake's own audit row does.
        assert_eq!(
            trail["rows"][0]["purpose"],
            "vetting_view: clinical vetting",
            "{}",
            backend.name()
        );
        assert_eq!(trail["rows"][1]["actor"], "dr-a");
        assert_eq!(trail["next_after"], Value::Null, "one page holds them");
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
