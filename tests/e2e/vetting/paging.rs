//! The worklist and the audit trails (vetting's and the decision service's)
//! a page at a time: every row once, in the list's order, a cursor that
//! holds when days pass between pages, the clinician page's link to the
//! next, and a precise 400 for a bad page.

use pathway_common::auth::Role;
use pathway_proto::v1 as proto;
use pathway_tests::backends;
use pathway_tests::decision::{TestApp as DecisionApp, new_referral, outcome, vetting_completed};
use pathway_tests::referrals::valid_referral;
use serde_json::{Value, json};

use super::{Stack, with_red_flags};

fn ids(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .filter_map(|r| r["referral_id"].as_str().map(str::to_owned))
        .collect()
}

/// Each page of `path` (which has a query already) with `limit`, as `token` reads them.
async fn pages(stack: &Stack, token: &str, path: &str, limit: u32, list: &str) -> Vec<Vec<Value>> {
    let mut pages = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut url = format!("{path}&limit={limit}");
        if let Some(after) = &after {
            url.push_str(&format!("&after={after}"));
        }
        let response = stack.vetting.get(&url, token).await;
        assert_eq!(response.status(), 200, "{url}");
        let page: Value = response.json().await.expect("JSON");
        pages.push(page[list].as_array().cloned().unwrap_or_default());
        match page["next_after"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => return pages,
        }
    }
}

#[tokio::test]
async fn the_worklist_comes_a_page_at_a_time_red_flags_first() {
    for backend in backends().await {
        let stack = Stack::start(&backend).await;
        let dr = stack.clinician("dr-a");
        let mut flagged = Vec::new();
        let mut plain = Vec::new();
        for i in 0..5 {
            if i % 2 == 0 {
                flagged.push(stack.referral(with_red_flags("highland")).await);
            } else {
                plain.push(stack.referral(valid_referral("highland")).await);
            }
        }
        let expected: Vec<String> = flagged.iter().chain(&plain).cloned().collect();

        let whole = stack.vetting.worklist(&dr, "highland", "?limit=500").await;
        assert_eq!(whole["next_after"], Value::Null, "{}", backend.name());
        let whole = whole["referrals"].as_array().cloned().unwrap_or_default();
        assert_eq!(ids(&whole), expected, "red flags first, then the oldest");
        let first = stack.vetting.worklist(&dr, "highland", "").await;
        assert_eq!(
            first["referrals"].as_array().map(Vec::len),
            Some(5),
            "50 a page unless asked"
        );

        let walked = pages(
            &stack,
            &dr,
            "/v1/boards/highland/worklist?mine=false",
            2,
            "referrals",
        )
        .await;
        let sizes: Vec<usize> = walked.iter().map(Vec::len).collect();
        assert_eq!(sizes, [2, 2, 1], "{}", backend.name());
        assert_eq!(ids(&walked.concat()), expected, "every row once, in order");

        // A claim between two pages moves nothing across the cursor.
        let page = stack.vetting.worklist(&dr, "highland", "?limit=3").await;
        let after = page["next_after"].as_str().expect("more").to_owned();
        assert_eq!(stack.claim(&dr, &expected[4]).await.status(), 200);
        let rest = stack
            .vetting
            .worklist(&dr, "highland", &format!("?limit=3&after={after}"))
            .await;
        assert_eq!(
            ids(rest["referrals"].as_array().expect("rows")),
            expected[3..]
        );
        assert_eq!(rest["next_after"], Value::Null);

        // The OpenAPI document says how to ask for a page.
        let openapi: Value = stack
            .vetting
            .http
            .get(format!("{}/openapi.json", stack.vetting.base))
            .send()
            .await
            .expect("answers")
            .json()
            .await
            .expect("JSON");
        for path in ["worklist", "audit"] {
            let get = &openapi["paths"][format!("/v1/boards/{{board}}/{path}")]["get"];
            let params: Vec<&str> = get["parameters"]
                .as_array()
                .expect("parameters")
                .iter()
                .filter_map(|p| p["name"].as_str())
                .collect();
            assert!(
                params.contains(&"limit") && params.contains(&"after"),
                "{path}: {params:?}"
            );
            assert!(get["responses"]["400"].is_object(), "{path}");
        }
        let schemas = &openapi["components"]["schemas"];
        assert!(schemas["Worklist"]["properties"]["next_after"].is_object());
        assert!(schemas["AuditPage"]["properties"]["next_after"].is_object());
    }
}

#[tokio::test]
async fn days_passing_between_pages_skip_nothing_and_repeat_nothing() {
    for backend in backends().await {
        let stack = Stack::start(&backend).await;
        let dr = stack.clinician("dr-a");
        let paused = stack.referral(valid_referral("highland")).await;
        let waiting = stack.referral(valid_referral("highland")).await;
        // The older one waits for the referrer: its clock stops today.
        assert_eq!(stack.claim(&dr, &paused).await.status(), 200);
        let asked = stack
            .vetting
            .post(
                &format!("/v1/referrals/{paused}/information-requests"),
                &dr,
                &json!({"question": "Any imaging of the lumbar spine?"}),
            )
            .await;
        assert_eq!(asked.status(), 201);

        // Today both have waited nothing: the older first.
        let first = stack.vetting.worklist(&dr, "highland", "?limit=1").await;
        assert_eq!(
            ids(first["referrals"].as_array().expect("rows")),
            std::slice::from_ref(&paused)
        );
        let after = first["next_after"]
            .as_str()
            .expect("a next page")
            .to_owned();

        // A week on the other has waited longest and leads a fresh list…
        stack.vetting.clock.advance(chrono::Duration::days(7));
        let fresh = stack.vetting.worklist(&dr, "highland", "?limit=1").await;
        assert_eq!(
            ids(fresh["referrals"].as_array().expect("rows")),
            std::slice::from_ref(&waiting)
        );
        assert!(fresh["referrals"][0]["waited_working_days"].as_u64() > Some(0));

        // …but the walk begun a week ago goes on in its own order: the other
        // referral comes next, not never.
        let next = stack
            .vetting
            .worklist(&dr, "highland", &format!("?limit=1&after={after}"))
            .await;
        assert_eq!(
            ids(next["referrals"].as_array().expect("rows")),
            std::slice::from_ref(&waiting),
            "{}",
            backend.name()
        );
        assert_eq!(next["next_after"], Value::Null);
        // The rows show their waits as they are now.
        assert_eq!(
            next["referrals"][0]["waited_working_days"],
            fresh["referrals"][0]["waited_working_days"]
        );
    }
}

#[tokio::test]
async fn a_bad_limit_or_cursor_is_a_400_naming_it() {
    for backend in backends().await {
        let stack = Stack::start(&backend).await;
        let dr = stack.clinician("dr-a");
        let admin = stack.intake.token(Role::BoardAdmin, &["highland"]);
        let cases: [(&str, &str, &[&str]); 10] = [
            ("worklist", "limit=0", &["limit"]),
            ("worklist", "limit=501", &["limit"]),
            ("worklist", "limit=many", &["limit"]),
            ("worklist", "after=yesterday", &["after"]),
            (
                "worklist",
                "limit=-1&after=1.1.1.1.1.x",
                &["limit", "after"],
            ),
            ("audit", "limit=0", &["limit"]),
            ("audit", "limit=1000", &["limit"]),
            ("audit", "after=yesterday", &["after"]),
            ("audit", "after=1.2.3", &["after"]),
            ("audit", "limit=&after=", &["limit", "after"]),
        ];
        for (list, query, fields) in cases {
            let token = if list == "audit" { &admin } else { &dr };
            let response = stack
                .vetting
                .get(&format!("/v1/boards/highland/{list}?{query}"), token)
                .await;
            assert_eq!(
                response.status(),
                400,
                "{list}?{query} ({})",
                backend.name()
            );
            let error: Value = response.json().await.expect("JSON");
            let named: Vec<&str> = error["fields"]
                .as_array()
                .expect("fields")
                .iter()
                .filter_map(|f| f["field"].as_str())
                .collect();
            assert_eq!(named, fields, "{list}?{query}: {error}");
            assert!(
                error["message"]
                    .as_str()
                    .is_some_and(|m| m.contains(fields[0]))
            );
        }
    }
}

#[tokio::test]
async fn the_audit_trail_comes_a_page_at_a_time_oldest_first() {
    for backend in backends().await {
        let stack = Stack::start(&backend).await;
        let dr = stack.clinician("dr-a");
        let id = stack.referral(valid_referral("highland")).await;
        // Five views and a claim: six rows.
        for _ in 0..5 {
            let view = stack.vetting.get(&format!("/v1/referrals/{id}"), &dr).await;
            assert_eq!(view.status(), 200);
        }
        assert_eq!(stack.claim(&dr, &id).await.status(), 200);
        let admin = stack.intake.token(Role::BoardAdmin, &["highland"]);
        let whole: Value = stack
            .vetting
            .get("/v1/boards/highland/audit?limit=500", &admin)
            .await
            .json()
            .await
            .expect("JSON");
        let whole = whole["rows"].as_array().cloned().unwrap_or_default();
        assert_eq!(whole.len(), 6, "{}", backend.name());
        assert_eq!(whole[5]["action"], "referral.claim", "oldest first");

        let path = format!("/v1/boards/highland/audit?referral_id={id}");
        let walked = pages(&stack, &admin, &path, 4, "rows").await;
        let sizes: Vec<usize> = walked.iter().map(Vec::len).collect();
        assert_eq!(sizes, [4, 2]);
        assert_eq!(walked.concat(), whole, "every row once, in order");
        let walked = pages(&stack, &admin, &path, 3, "rows").await;
        let sizes: Vec<usize> = walked.iter().map(Vec::len).collect();
        assert_eq!(sizes, [3, 3], "an exact fit ends without an empty page");
        assert_eq!(walked.concat(), whole);
    }
}

#[tokio::test]
async fn the_worklist_page_links_to_the_next_page() {
    for backend in backends().await {
        let stack = Stack::start(&backend).await;
        let dr = stack.clinician("dr-a");
        let mut expected = Vec::new();
        for _ in 0..3 {
            expected.push(stack.referral(valid_referral("highland")).await);
        }
        let page = |url: String| {
            let request = stack.vetting.http.get(url).bearer_auth(&dr);
            async move {
                let response = request.send().await.expect("the worklist page answers");
                assert_eq!(response.status(), 200);
                // Ampersands in links as HTML escapes them, back as they are sent.
                let html = response.text().await.expect("HTML");
                html.replace("&#38;", "&").replace("&amp;", "&")
            }
        };
        let first = page(format!("{}/worklist?limit=2", stack.vetting.base)).await;
        assert!(first.contains(&format!("/referrals/{}\"", expected[0])));
        assert!(first.contains(&format!("/referrals/{}\"", expected[1])));
        assert!(!first.contains(&format!("/referrals/{}\"", expected[2])));
        assert!(
            !first.contains(">First page<"),
            "the first page links to no first page"
        );
        let link = first
            .split("<a href=\"")
            .filter_map(|a| a.split_once("\" rel=\"next\">Next page</a>"))
            .map(|(href, _)| href.to_owned())
            .next()
            .unwrap_or_else(|| panic!("no next page link: {first}"));
        assert!(
            link.starts_with("/worklist?board=highland&status=waiting&limit=2&after="),
            "{link}"
        );

        let second = page(format!("{}{link}", stack.vetting.base)).await;
        assert!(
            second.contains(&format!("/referrals/{}\"", expected[2])),
            "{}",
            backend.name()
        );
        assert!(!second.contains(&format!("/referrals/{}\"", expected[0])));
        assert!(
            !second.contains("rel=\"next\""),
            "the last page has no next"
        );
        assert!(second.contains(
            "<a href=\"/worklist?board=highland&status=waiting&limit=2\">First page</a>"
        ));

        // A cursor that is not one is said so on the page.
        let response = stack
            .vetting
            .http
            .get(format!("{}/worklist?after=nonsense", stack.vetting.base))
            .bearer_auth(&dr)
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status(), 400);
        let html = response.text().await.expect("HTML");
        assert!(html.contains("after"), "{html}");
    }
}

#[tokio::test]
async fn the_decision_services_audit_trail_comes_a_page_at_a_time() {
    let app = DecisionApp::spawn(&pathway_tests::Backend::Sqlite).await;
    for _ in 0..3 {
        let referral = new_referral();
        let kind = outcome(proto::OutcomeKind::PainPsychology);
        app.send(&vetting_completed("highland", &referral, kind, false))
            .await;
        app.wait_for_decisions(&referral, 1).await;
    }
    let admin = app.token(Role::BoardAdmin, &["highland"]);
    let audit = |query: String| {
        app.http
            .get(format!("{}/v1/boards/highland/audit?{query}", app.base))
            .bearer_auth(&admin)
            .send()
    };
    let whole = json_of(audit("limit=500".into()).await.expect("answers")).await;
    assert_eq!(whole["rows"].as_array().map(Vec::len), Some(3), "{whole}");
    let first = json_of(audit("limit=2".into()).await.expect("answers")).await;
    let after = first["next_after"].as_str().expect("a next page");
    let second = json_of(
        audit(format!("limit=2&after={after}"))
            .await
            .expect("answers"),
    )
    .await;
    assert_eq!(second["next_after"], Value::Null);
    let walked: Vec<Value> = [&first, &second]
        .iter()
        .flat_map(|page| page["rows"].as_array().cloned().unwrap_or_default())
        .collect();
    assert_eq!(
        Some(&walked),
        whole["rows"].as_array(),
        "every row once, oldest first"
    );
    for (query, field) in [("limit=0", "limit"), ("after=someday", "after")] {
        let refused = audit(query.into()).await.expect("answers");
        assert_eq!(refused.status(), 400, "{query}");
        assert_eq!(json_of(refused).await["fields"][0]["field"], field);
    }
    let openapi = json_of(
        app.http
            .get(format!("{}/openapi.json", app.base))
            .send()
            .await
            .expect("answers"),
    )
    .await;
    let get = &openapi["paths"]["/v1/boards/{board}/audit"]["get"];
    let params: Vec<&str> = get["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(
        params.contains(&"limit") && params.contains(&"after"),
        "{params:?}"
    );
    assert!(openapi["components"]["schemas"]["AuditPage"]["properties"]["next_after"].is_object());
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.expect("a JSON answer")
}
