//! Dead letters over HTTP, as every service lists them (written once in
//! `pathway_common::http::dead_letters`): real ones, made by the decision
//! service's consumer refusing events, listed newest first page by page and
//! shown one at a time, never with their payload bytes; and who may not.

use pathway_common::auth::Role;
use pathway_proto::v1 as proto;
use pathway_tests::backends;
use pathway_tests::decision::{TestApp, accept, new_referral, outcome, vetting_completed};
use serde_json::Value;

/// `GET <path>` on `app`, with `token` when given: the status and the body.
async fn get(app: &TestApp, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = app.http.get(format!("{}{path}", app.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the service answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON answer"))
}

/// A referral decided once, then a second outcome not marked as a
/// correction, which the consumer refuses: one dead letter.
async fn refuse_a_second_outcome(app: &TestApp, board: &str) -> String {
    let referral = new_referral();
    app.send(&vetting_completed(
        board,
        &referral,
        accept(proto::Priority::Routine),
        false,
    ))
    .await;
    app.wait_for_decisions(&referral, 1).await;
    let decline = proto::Outcome {
        reason_text_id: uuid::Uuid::now_v7().to_string(),
        rejection_reason: "02".into(),
        ..outcome(proto::OutcomeKind::Decline)
    };
    app.send(&vetting_completed(board, &referral, decline, false))
        .await;
    referral
}

#[tokio::test]
async fn dead_letters_are_listed_newest_first_page_by_page_and_shown() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        let admin = app.token(Role::BoardAdmin, &["*"]);
        let (status, empty) = get(&app, "/v1/dead-letters", Some(&admin)).await;
        assert_eq!(status, 200, "{empty}");
        assert_eq!(empty["dead_letters"], serde_json::json!([]));
        assert!(empty["next_before"].is_null(), "{empty}");

        let mut referrals = Vec::new();
        for (n, board) in ["highland", "fife", "highland"].into_iter().enumerate() {
            referrals.push(refuse_a_second_outcome(&app, board).await);
            app.wait_for_dead_letters(n + 1).await;
        }
        // Bytes that are not an event, on a subject the consumer reads.
        app.jetstream
            .publish(
                "pathway.v1.highland.vetting.completed",
                vec![0xff, 0xff, 0xff].into(),
            )
            .await
            .expect("publish")
            .await
            .expect("the stream acknowledges");
        let rows = app.wait_for_dead_letters(4).await;
        assert_eq!(rows.len(), 4, "{} {rows:?}", backend.name());

        let (status, all) = get(&app, "/v1/dead-letters", Some(&admin)).await;
        assert_eq!(status, 200, "{all}");
        let items = all["dead_letters"].as_array().expect("a list");
        assert_eq!(items.len(), 4, "{all}");
        let mut ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        ids.sort_unstable_by(|a, b| b.cmp(a));
        let listed: Vec<&str> = items
            .iter()
            .map(|i| i["id"].as_str().unwrap_or("?"))
            .collect();
        assert_eq!(listed, ids, "newest first");
        let times: Vec<&str> = items
            .iter()
            .map(|i| i["dead_at"].as_str().unwrap_or(""))
            .collect();
        assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");

        // The newest did not decode: no event, no payload.
        let undecodable = &items[0];
        assert_eq!(undecodable["decodes"], false, "{undecodable}");
        assert!(undecodable["event_type"].is_null(), "{undecodable}");
        assert!(
            undecodable["message_id"]
                .as_str()
                .unwrap_or("")
                .starts_with("stream-seq-"),
            "{undecodable}"
        );
        for item in items {
            assert!(item.get("payload").is_none(), "never the bytes: {item}");
            assert_eq!(item["consumer"], "decision", "{item}");
            assert!(item["replayed_at"].is_null(), "{item}");
        }
        // The others are the refused outcomes, oldest last.
        for (item, (referral, board)) in items[1..]
            .iter()
            .rev()
            .zip(referrals.iter().zip(["highland", "fife", "highland"]))
        {
            assert_eq!(item["decodes"], true, "{item}");
            assert_eq!(item["event_type"], "vetting.completed", "{item}");
            assert_eq!(item["board"], board, "{item}");
            assert_eq!(item["referral_id"], referral.as_str(), "{item}");
            assert!(item["occurred_at"].is_string(), "{item}");
            assert_eq!(
                item["subject"],
                format!("pathway.v1.{board}.vetting.completed"),
                "{item}"
            );
            assert!(item["deliveries"].as_i64().unwrap_or(0) >= 1, "{item}");
            let reason = item["reason"].as_str().unwrap_or("");
            assert!(reason.contains("already decided"), "{reason}");
        }

        // Page by page, two at a time.
        let (_, first) = get(&app, "/v1/dead-letters?limit=2", Some(&admin)).await;
        let page: Vec<&str> = first["dead_letters"]
            .as_array()
            .expect("a list")
            .iter()
            .map(|i| i["id"].as_str().unwrap_or("?"))
            .collect();
        assert_eq!(page, ids[..2], "{first}");
        assert_eq!(first["next_before"], ids[1], "{first}");
        let next = format!("/v1/dead-letters?limit=2&before={}", ids[1]);
        let (_, second) = get(&app, &next, Some(&admin)).await;
        let page: Vec<&str> = second["dead_letters"]
            .as_array()
            .expect("a list")
            .iter()
            .map(|i| i["id"].as_str().unwrap_or("?"))
            .collect();
        assert_eq!(page, ids[2..], "{second}");
        assert!(second["next_before"].is_null(), "the last page: {second}");

        // By consumer.
        let (_, mine) = get(&app, "/v1/dead-letters?consumer=decision", Some(&admin)).await;
        assert_eq!(mine["dead_letters"].as_array().map(Vec::len), Some(4));
        let (_, other) = get(&app, "/v1/dead-letters?consumer=nobody", Some(&admin)).await;
        assert_eq!(other["dead_letters"], serde_json::json!([]), "{other}");

        // One, shown.
        let newest_refused = items[1]["id"].as_str().expect("an id");
        let (status, one) = get(
            &app,
            &format!("/v1/dead-letters/{newest_refused}"),
            Some(&admin),
        )
        .await;
        assert_eq!(status, 200, "{one}");
        assert_eq!(one, items[1]);
    }
}

#[tokio::test]
async fn dead_letters_refuse_who_may_not_and_what_is_not_valid() {
    let backend = pathway_tests::Backend::Sqlite;
    let app = TestApp::spawn(&backend).await;
    let admin = app.token(Role::BoardAdmin, &["*"]);

    let (status, body) = get(&app, "/v1/dead-letters", None).await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = get(&app, "/v1/dead-letters/x", None).await;
    assert_eq!(status, 401, "{body}");
    for token in [
        app.token(Role::BoardAdmin, &["highland"]),
        app.token(Role::Clinician, &["*"]),
    ] {
        let (status, body) = get(&app, "/v1/dead-letters", Some(&token)).await;
        assert_eq!(status, 403, "{body}");
        let (status, body) = get(&app, "/v1/dead-letters/x", Some(&token)).await;
        assert_eq!(status, 403, "{body}");
    }

    let missing = uuid::Uuid::now_v7();
    let (status, body) = get(&app, &format!("/v1/dead-letters/{missing}"), Some(&admin)).await;
    assert_eq!(status, 404, "{body}");

    let cases: &[(&str, &[&str])] = &[
        ("limit=0", &["limit"]),
        ("limit=501", &["limit"]),
        ("limit=many", &["limit"]),
        ("before=yesterday", &["before"]),
        ("consumer=", &["consumer"]),
        ("limit=-3&before=x", &["limit", "before"]),
    ];
    for (query, fields) in cases {
        let (status, body) = get(&app, &format!("/v1/dead-letters?{query}"), Some(&admin)).await;
        assert_eq!(status, 422, "{query}: {body}");
        let named: Vec<&str> = body["fields"]
            .as_array()
            .expect("the fields")
            .iter()
            .map(|f| f["field"].as_str().unwrap_or("?"))
            .collect();
        assert_eq!(&named, fields, "{query}: {body}");
    }
    let (status, body) = get(&app, "/v1/dead-letters?limit=500", Some(&admin)).await;
    assert_eq!(status, 200, "{body}");

    let (_, openapi) = get(&app, "/openapi.json", None).await;
    for path in ["/v1/dead-letters", "/v1/dead-letters/{id}"] {
        assert!(
            openapi["paths"][path]["get"].is_object(),
            "{path} undocumented"
        );
    }
}
