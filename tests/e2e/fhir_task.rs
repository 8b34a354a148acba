//! A referral's status as a FHIR R4 `Task`: searched by practice and
//! `_lastUpdated` in pages the caller may see, bad parameters named; and
//! the helpers the round trip ([`super::fhir_round_trip`]: the Task read as
//! a clinician vets the referral, through to the first appointment) shares.
//! Every
//! resource these tests receive, and every `examples/*.fhir.json`, is
//! validated as FHIR R4 by an implementation that is not Pathway's
//! (`scripts/fhir-validate.sh`: fhir.resources 6.2.2, FHIR 4.0.1).
//!
//! `make test` installs the validator and passes its path in
//! `FHIR_VALIDATOR`. Without it the validation fails under CI (`CI=true`)
//! and is skipped, saying so, elsewhere.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use pathway_common::auth::Role;
use pathway_tests::intake::TestApp;
use pathway_tests::referrals::valid_referral;
use pathway_tests::vetting::VettingApp;
use pathway_tests::{Backend, backends, eventually};
use serde_json::{Value, json};

pub(super) const PRACTICE_SYSTEM: &str = "https://pathway.scot.nhs.uk/fhir/Id/gp-practice-code";
pub(super) const QUESTION_SYSTEM: &str = "https://pathway.scot.nhs.uk/fhir/Id/information-request";

pub(super) fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The validator: `FHIR_VALIDATOR`, else `scripts/fhir-validate.sh` when
/// its venv is installed. `None` (validation skipped) only outside CI.
pub(super) fn validator() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("FHIR_VALIDATOR").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(path));
    }
    if repository()
        .join(".tools/fhir-resources/bin/python")
        .is_file()
    {
        return Some(repository().join("scripts/fhir-validate.sh"));
    }
    let message = "the FHIR validator is not installed (set FHIR_VALIDATOR, or run `make test` \
                   or scripts/fhir-validate.sh --install, which install fhir.resources from PyPI)";
    assert!(
        std::env::var("CI").map_or(true, |ci| ci.is_empty() || ci == "false"),
        "{message}"
    );
    eprintln!("SKIPPED: FHIR R4 validation: {message}");
    None
}

/// Validate `resources` (and `files`) as FHIR R4, failing with the
/// validator's report on any error.
pub(super) fn validate(label: &str, resources: &[Value], files: &[PathBuf]) {
    let Some(validator) = validator() else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary folder");
    let emitted = dir.path().join(format!("{label}.json"));
    std::fs::write(&emitted, Value::Array(resources.to_vec()).to_string())
        .expect("write the resources");
    let output = Command::new(&validator)
        .arg(&emitted)
        .args(files)
        .output()
        .expect("the FHIR validator runs");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "FHIR R4 validation failed ({label}):\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Every resource was looked at, not just the file.
    let checked = report.lines().filter(|l| l.starts_with("ok ")).count();
    assert_eq!(checked, resources.len() + files.len(), "{report}");
}

pub(super) struct Stack {
    pub(super) intake: TestApp,
    pub(super) vetting: VettingApp,
}

impl Stack {
    pub(super) async fn start(backend: &Backend) -> Self {
        let intake = TestApp::spawn(backend).await;
        intake.enable_board("highland").await;
        let vetting = VettingApp::spawn(&intake, backend).await;
        Self { intake, vetting }
    }
}

/// Status and FHIR JSON body of an answer.
pub(super) async fn fhir(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body: Value = response.json().await.expect("a JSON answer");
    assert_eq!(kind, "application/fhir+json", "{body}");
    (status, body)
}

pub(super) async fn get(app: &TestApp, token: &str, path_and_query: &str) -> (u16, Value) {
    let url = if path_and_query.starts_with("http") {
        path_and_query.to_owned()
    } else {
        format!("{}{path_and_query}", app.base)
    };
    let response = app
        .http
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("intake answers");
    fhir(response).await
}

pub(super) async fn task(app: &TestApp, token: &str, id: &str) -> Value {
    let (status, task) = get(app, token, &format!("/fhir/Task/{id}")).await;
    assert_eq!(status, 200, "{task}");
    assert_eq!(task["resourceType"], "Task");
    task
}

/// Wait until the Task of `id` has `status`, and return it.
pub(super) async fn task_when(app: &TestApp, token: &str, id: &str, status: &str) -> Value {
    let found = eventually(Duration::from_secs(10), || async {
        let task = task(app, token, id).await;
        (task["status"] == status).then_some(task)
    })
    .await;
    found.unwrap_or_else(|| panic!("the Task of {id} never became {status}"))
}

pub(super) fn business_codes(task: &Value) -> Vec<String> {
    task["businessStatus"]["coding"]
        .as_array()
        .expect("businessStatus codings")
        .iter()
        .map(|c| c["code"].as_str().unwrap_or_default().to_owned())
        .collect()
}

pub(super) async fn post_communication(
    app: &TestApp,
    token: &str,
    if_match: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    let mut request = app
        .http
        .post(format!("{}/fhir/Communication", app.base))
        .bearer_auth(token)
        .header("content-type", "application/fhir+json")
        .body(body.to_string());
    if let Some(version) = if_match {
        request = request.header("if-match", version);
    }
    request.send().await.expect("intake answers")
}

pub(super) fn answer_to(id: &str, question: Option<&str>, text: &str) -> Value {
    let mut communication = json!({
        "resourceType": "Communication",
        "status": "completed",
        "basedOn": [{"reference": format!("ServiceRequest/{id}")}],
        "payload": [{"contentString": text}],
    });
    if let Some(question) = question {
        communication["about"] =
            json!([{"identifier": {"system": QUESTION_SYSTEM, "value": question}}]);
    }
    communication
}

pub(super) fn expressions(outcome: &Value) -> Vec<String> {
    assert_eq!(outcome["resourceType"], "OperationOutcome", "{outcome}");
    outcome["issue"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|i| i["expression"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| e.as_str().map(str::to_owned))
        .collect()
}

/// The Task search URL with `pairs` as its query, each encoded.
fn search_url(app: &TestApp, pairs: &[(&str, &str)]) -> String {
    let mut url = reqwest::Url::parse(&format!("{}/fhir/Task", app.base)).expect("a URL");
    if !pairs.is_empty() {
        url.query_pairs_mut().extend_pairs(pairs);
    }
    url.to_string()
}

/// Every Task id a search answers, following the `next` links.
async fn search_all(
    app: &TestApp,
    token: &str,
    pairs: &[(&str, &str)],
    emitted: &mut Vec<Value>,
) -> Vec<String> {
    let mut ids = Vec::new();
    let mut url = search_url(app, pairs);
    for _ in 0..50 {
        let (status, bundle) = get(app, token, &url).await;
        assert_eq!(status, 200, "{bundle}");
        assert_eq!(bundle["type"], "searchset");
        ids.extend(
            bundle["entry"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| e["resource"]["id"].as_str().unwrap_or_default().to_owned()),
        );
        let next = bundle["link"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|l| l["relation"] == "next")
            .and_then(|l| l["url"].as_str())
            .map(str::to_owned);
        emitted.push(bundle);
        match next {
            Some(next) => url = next,
            None => return ids,
        }
    }
    panic!("more than 50 pages");
}

#[tokio::test]
async fn a_gp_system_polls_its_own_tasks_in_pages() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        app.enable_board("highland").await;
        app.enable_board("fife").await;
        let before = chrono::Utc::now() - chrono::Duration::seconds(1);
        let mut emitted = Vec::new();

        // Five of this GP's, two of another GP of the same practice and
        // board, one of this GP's for Fife, one of another practice.
        let gp = app.token_for("gp-a", Role::Referrer, &["highland", "fife"]);
        let other_gp = app.token_for("gp-b", Role::Referrer, &["highland"]);
        let send = |token: String, body: Value| {
            let app = &app;
            async move {
                let response = app.post_referral(&token, &body).await;
                assert_eq!(response.status(), 201);
                let created: Value = response.json().await.expect("JSON");
                created["id"].as_str().expect("an id").to_owned()
            }
        };
        let mut mine = BTreeSet::new();
        for _ in 0..5 {
            mine.insert(send(gp.clone(), valid_referral("highland")).await);
        }
        for _ in 0..2 {
            send(other_gp.clone(), valid_referral("highland")).await;
        }
        let fife = send(gp.clone(), valid_referral("fife")).await;
        let mut elsewhere = valid_referral("highland");
        elsewhere["referrer"]["practice_code"] = json!("55999");
        let other_practice = send(gp.clone(), elsewhere).await;

        // By practice, two a page: the five, each once, and nothing else.
        let since = format!(
            "ge{}",
            before.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        let practice = format!("{PRACTICE_SYSTEM}|55005");
        let found = search_all(
            &app,
            &gp,
            &[
                ("requester", &practice),
                ("owner", "highland"),
                ("_lastUpdated", &since),
                ("_count", "2"),
            ],
            &mut emitted,
        )
        .await;
        assert_eq!(found.len(), 5, "no Task twice: {found:?}");
        assert_eq!(found.iter().cloned().collect::<BTreeSet<_>>(), mine);
        assert_eq!(emitted.len(), 3, "three pages of two");

        // Without filters: the GP's own referrals on all their boards.
        let all = search_all(&app, &gp, &[("_count", "100")], &mut emitted).await;
        let mut expected = mine.clone();
        expected.extend([fife.clone(), other_practice.clone()]);
        assert_eq!(all.into_iter().collect::<BTreeSet<_>>(), expected);

        // A clinician sees their board's, whoever sent them.
        let dr = app.token_for("dr-a", Role::Clinician, &["highland"]);
        let board = search_all(&app, &dr, &[("_count", "100")], &mut emitted).await;
        assert_eq!(board.len(), 8, "{board:?}");
        assert!(!board.contains(&fife));
        let (_, none) = get(&app, &dr, "/fhir/Task?owner=fife").await;
        assert!(none.get("entry").is_none(), "not their board: {none}");
        emitted.push(none);

        // Only what changed since: a withdrawal moves one past the mark.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let mark = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let changed = mine.iter().next().expect("one").clone();
        let withdrawn = app
            .referral_action(
                &gp,
                &changed,
                "withdraw",
                &json!({"reason_code": "sent_in_error"}),
            )
            .await;
        assert_eq!(withdrawn.status(), 200);
        let after_mark = format!("gt{mark}");
        let since_mark = search_all(
            &app,
            &gp,
            &[("requester", "55005"), ("_lastUpdated", &after_mark)],
            &mut emitted,
        )
        .await;
        assert_eq!(since_mark, std::slice::from_ref(&changed));
        let until_mark = format!("lt{mark}");
        let before_mark = search_all(
            &app,
            &gp,
            &[("_lastUpdated", &until_mark), ("_count", "100")],
            &mut emitted,
        )
        .await;
        assert_eq!(before_mark.len(), 6, "{before_mark:?}");
        assert!(!before_mark.contains(&changed));

        // Bad parameters: 400, each named.
        let cases = [
            ("_lastUpdated=2026-11-01", vec!["_lastUpdated"]),
            ("_lastUpdated=ge2026-02-30", vec!["_lastUpdated"]),
            ("_count=0&subject=Patient/1", vec!["_count", "subject"]),
            ("requester=http://example.org|55005", vec!["requester"]),
            ("_cursor=12", vec!["_cursor"]),
        ];
        for (query, names) in cases {
            let url = format!("{}/fhir/Task?{}", app.base, query.replace('|', "%7C"));
            let (status, outcome) = get(&app, &gp, &url).await;
            assert_eq!(status, 400, "{query}: {outcome}");
            assert_eq!(expressions(&outcome), names, "{query}");
            emitted.push(outcome);
        }
        let evaluator = app.token(Role::Evaluator, &["highland"]);
        let (status, outcome) = get(&app, &evaluator, "/fhir/Task").await;
        assert_eq!(status, 403, "{outcome}");
        emitted.push(outcome);

        validate(&format!("search-{}", backend.name()), &emitted, &[]);
    }
}

#[tokio::test]
async fn every_other_resource_pathway_emits_and_every_example_is_valid_r4() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    app.enable_board("highland").await;
    let referrer = app.token(Role::Referrer, &["highland"]);
    let mut emitted = Vec::new();
    for path in ["/fhir/metadata", "/fhir/Questionnaire/pain-referral"] {
        let (status, resource) = get(&app, &referrer, path).await;
        assert_eq!(status, 200, "{resource}");
        emitted.push(resource);
    }
    // What the CapabilityStatement lists for Task answers.
    let capability = &emitted[0];
    let task = capability["rest"][0]["resource"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["type"] == "Task")
        .expect("Task is listed");
    let params: Vec<&str> = task["searchParam"]
        .as_array()
        .expect("search parameters")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    let (status, bundle) = get(
        &app,
        &referrer,
        &format!(
            "/fhir/Task?{}",
            params
                .iter()
                .map(|p| match *p {
                    "_lastUpdated" => "_lastUpdated=ge2026-01-01".to_owned(),
                    "_count" => "_count=5".to_owned(),
                    "_cursor" => format!("_cursor=0_{}", uuid::Uuid::nil()),
                    other => format!("{other}=x"),
                })
                .collect::<Vec<_>>()
                .join("&")
        ),
    )
    .await;
    assert_eq!(
        status, 200,
        "every listed parameter is understood: {bundle}"
    );
    emitted.push(bundle);

    // The ServiceRequest answered for the example, and an OperationOutcome.
    let example = repository().join("examples/referral.fhir.json");
    let body = std::fs::read(&example).expect("the example");
    for expected in [201, 422] {
        let sent = if expected == 201 {
            body.clone()
        } else {
            let mut bundle: Value = serde_json::from_slice(&body).expect("JSON");
            bundle["entry"][1]["resource"]["identifier"][0]["value"] = json!("1234567890");
            bundle.to_string().into_bytes()
        };
        let (status, resource) = fhir(
            app.http
                .post(format!("{}/fhir/Bundle", app.base))
                .bearer_auth(&referrer)
                .header("content-type", "application/fhir+json")
                .body(sent)
                .send()
                .await
                .expect("intake answers"),
        )
        .await;
        assert_eq!(status, expected, "{resource}");
        emitted.push(resource);
    }
    let mut examples: Vec<PathBuf> = std::fs::read_dir(repository().join("examples"))
        .expect("examples/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".fhir.json"))
        .collect();
    examples.sort();
    assert!(examples.len() >= 2, "{examples:?}");
    validate("others", &emitted, &examples);
}

#[test]
fn the_validator_refuses_what_is_not_r4() {
    let Some(validator) = validator() else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary folder");
    let cases = [
        json!({"resourceType": "Task", "status": "requested", "intent": "order", "owner": "highland"}),
        json!({"resourceType": "Task", "status": "requested"}),
        json!({"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": {"resourceType": "Task", "status": "requested", "intent": "order", "lastModified": "yesterday"}}]}),
        json!({"resourceType": "Task", "status": "requested", "intent": "order", "businessStatus": {"codes": []}}),
    ];
    for case in cases {
        let file = dir.path().join("case.json");
        std::fs::write(&file, case.to_string()).expect("write");
        let output = Command::new(&validator)
            .arg(&file)
            .output()
            .expect("the validator runs");
        assert!(!output.status.success(), "accepted {case}");
    }
}
