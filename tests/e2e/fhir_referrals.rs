//! Referrals as FHIR R4: the documented Bundle becomes the very referral
//! the native JSON does, every bad input is answered with an
//! `OperationOutcome` naming the element by FHIRPath (and writes nothing),
//! a retry with the same `Bundle.identifier` makes one referral, and the
//! `CapabilityStatement` lists exactly what answers.

use pathway_common::auth::Role;
use pathway_tests::intake::TestApp;
use pathway_tests::{Backend, backends};
use serde_json::{Value, json};

const PATIENT: &str = "Bundle.entry[1].resource";
const ORGANIZATION: &str = "Bundle.entry[2].resource";
const PRACTITIONER: &str = "Bundle.entry[4].resource";
const RESPONSE: &str = "Bundle.entry[5].resource";

fn example(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).expect("the example is there"))
        .expect("the example is JSON")
}

async fn post_bundle(app: &TestApp, token: Option<&str>, body: &[u8]) -> reqwest::Response {
    let mut request = app
        .http
        .post(format!("{}/fhir/Bundle", app.base))
        .header("content-type", "application/fhir+json")
        .body(body.to_vec());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("intake answers")
}

/// Status and body of an answer, which is FHIR JSON.
async fn answer(response: reqwest::Response) -> (u16, Value) {
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

fn at<'a>(bundle: &'a mut Value, pointer: &str) -> &'a mut Value {
    bundle
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("the example has {pointer}"))
}

/// The answer of item `link_id` of the QuestionnaireResponse.
fn item<'a>(bundle: &'a mut Value, link_id: &str) -> &'a mut Value {
    let items = at(bundle, "/entry/5/resource/item")
        .as_array_mut()
        .expect("items");
    items
        .iter_mut()
        .find(|i| i["linkId"] == link_id)
        .unwrap_or_else(|| panic!("the example answers {link_id}"))
}

fn item_index(bundle: &Value, link_id: &str) -> usize {
    bundle["entry"][5]["resource"]["item"]
        .as_array()
        .and_then(|items| items.iter().position(|i| i["linkId"] == link_id))
        .unwrap_or_else(|| panic!("the example answers {link_id}"))
}

#[tokio::test]
async fn the_example_bundle_becomes_the_referral_the_native_json_would() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        app.enable_board("highland").await;
        let referrer = app.token(Role::Referrer, &["highland"]);

        // The native example first, withdrawn so that the FHIR one is no
        // duplicate of it.
        let native_id = app.refer(&example("referral.json")).await;
        let withdrawn = app
            .referral_action(
                &referrer,
                &native_id,
                "withdraw",
                &json!({"reason_code": "sent_in_error"}),
            )
            .await;
        assert_eq!(withdrawn.status(), 200);

        let bundle = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/referral.fhir.json"),
        )
        .expect("examples/referral.fhir.json");
        let response = post_bundle(&app, Some(&referrer), &bundle).await;
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let (status, created) = answer(response).await;
        assert_eq!(status, 201, "{created} ({})", backend.name());
        assert_eq!(created["resourceType"], "ServiceRequest");
        let id = created["id"].as_str().expect("the referral id").to_owned();
        assert_eq!(location, format!("/v1/referrals/{id}"));
        assert_ne!(id, native_id);

        let read = |id: String| {
            let app = &app;
            let referrer = referrer.clone();
            async move {
                let response = app.get_referral(&referrer, &id).await;
                assert_eq!(response.status(), 200);
                response.json::<Value>().await.expect("a referral")
            }
        };
        let from_fhir = read(id).await;
        let from_json = read(native_id).await;
        assert_eq!(from_fhir["status"], "awaiting_vetting", "{from_fhir}");
        let referral = &from_fhir["referral"];
        assert_eq!(referral["clinical"]["pain_intensity"], 7, "{referral}");
        assert_eq!(referral["patient"]["chi"], "1204670021", "{referral}");
        for field in ["board", "route", "referral"] {
            assert_eq!(
                from_fhir[field],
                from_json[field],
                "{field} differs ({})",
                backend.name()
            );
        }
    }
}

#[tokio::test]
async fn the_service_and_red_flags_may_be_named_by_snomed_ct() {
    let backend = &backends().await[0];
    let app = TestApp::spawn(backend).await;
    app.enable_board("highland").await;
    let referrer = app.token(Role::Referrer, &["highland"]);
    let mut bundle = example("referral.fhir.json");
    // SNOMED CT alone: 310071006 |Pain management service|.
    *at(&mut bundle, "/entry/0/resource/code/coding") = json!([
        {"system": "http://snomed.info/sct", "code": "310071006"}
    ]);
    item(&mut bundle, "red-flags")["answer"] = json!([
        {"valueCoding": {"system": "http://snomed.info/sct", "code": "266987004"}},
        {"valueCoding": {"system": "http://snomed.info/sct", "code": "38013005"}},
    ]);
    let body = serde_json::to_vec(&bundle).expect("JSON");
    let (status, created) = answer(post_bundle(&app, Some(&referrer), &body).await).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("the referral id");
    let view: Value = app
        .get_referral(&referrer, id)
        .await
        .json()
        .await
        .expect("a referral");
    assert_eq!(
        view["referral"]["clinical"]["red_flags"],
        json!(["history_of_cancer", "immunosuppression"]),
        "{view}"
    );

    // A SNOMED CT concept Pathway has no red flag for is named.
    let mut unknown = example("referral.fhir.json");
    item(&mut unknown, "red-flags")["answer"] = json!([
        {"valueCoding": {"system": "http://snomed.info/sct", "code": "386661006"}},
    ]);
    let body = serde_json::to_vec(&unknown).expect("JSON");
    let (status, outcome) = answer(post_bundle(&app, Some(&referrer), &body).await).await;
    assert_eq!(status, 422, "{outcome}");
    let index = item_index(&unknown, "red-flags");
    assert_eq!(
        expressions(&outcome),
        [format!("{RESPONSE}.item[{index}].answer[0].valueCoding")]
    );
}

#[tokio::test]
async fn a_retry_with_the_same_bundle_identifier_makes_one_referral() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    app.enable_board("highland").await;
    let referrer = app.token(Role::Referrer, &["highland"]);
    let bundle = example("referral.fhir.json");
    let body = serde_json::to_vec(&bundle).expect("JSON");

    let (status, first) = answer(post_bundle(&app, Some(&referrer), &body).await).await;
    assert_eq!(status, 201, "{first}");
    // The same Bundle again, laid out differently: the same referral.
    let pretty = serde_json::to_vec_pretty(&bundle).expect("JSON");
    let (status, again) = answer(post_bundle(&app, Some(&referrer), &pretty).await).await;
    assert_eq!(
        status, 201,
        "a retry answers as the first time did: {again}"
    );
    assert_eq!(again["id"], first["id"], "one referral");

    // The same identifier on another referral is refused, naming it.
    let mut other = bundle.clone();
    item(&mut other, "pain-intensity")["answer"][0]["valueInteger"] = json!(3);
    let body = serde_json::to_vec(&other).expect("JSON");
    let (status, refused) = answer(post_bundle(&app, Some(&referrer), &body).await).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(expressions(&refused), ["Bundle.identifier"]);

    // Without an identifier it is a second referral of an open one: the
    // duplicate rule, at the CHI.
    other
        .as_object_mut()
        .expect("a Bundle")
        .remove("identifier");
    let body = serde_json::to_vec(&other).expect("JSON");
    let (status, duplicate) = answer(post_bundle(&app, Some(&referrer), &body).await).await;
    assert_eq!(status, 409, "{duplicate}");
    assert_eq!(
        expressions(&duplicate),
        [format!("{PATIENT}.identifier[0].value")]
    );
    assert_eq!(duplicate["issue"][0]["code"], "duplicate");
}

/// `(what is wrong, how to break the example, status, an expression named)`.
type BadInput = (&'static str, fn(&mut Value), u16, String);

fn bad_inputs(example: &Value) -> Vec<BadInput> {
    let answer = |link_id: &str, element: &str| {
        format!(
            "{RESPONSE}.item[{}].answer[0].{element}",
            item_index(example, link_id)
        )
    };
    vec![
        (
            "wrong CHI check digit",
            |b| *at(b, "/entry/1/resource/identifier/0/value") = json!("1204670022"),
            422,
            format!("{PATIENT}.identifier[0].value"),
        ),
        (
            "CHI too short",
            |b| *at(b, "/entry/1/resource/identifier/0/value") = json!("12345"),
            422,
            format!("{PATIENT}.identifier[0].value"),
        ),
        (
            "no CHI",
            |b| {
                *at(b, "/entry/1/resource/identifier/0/system") =
                    json!("https://fhir.nhs.uk/Id/nhs-number")
            },
            422,
            format!("{PATIENT}.identifier"),
        ),
        (
            "CHI not matching the sex",
            |b| *at(b, "/entry/1/resource/gender") = json!("male"),
            422,
            format!("{PATIENT}.identifier[0].value"),
        ),
        (
            "a gender Pathway does not record",
            |b| *at(b, "/entry/1/resource/gender") = json!("other"),
            422,
            format!("{PATIENT}.gender"),
        ),
        (
            "birth date in the future",
            |b| *at(b, "/entry/1/resource/birthDate") = json!("2999-01-01"),
            422,
            format!("{PATIENT}.birthDate"),
        ),
        (
            "a preferred language that is no ISO 639 code",
            |b| {
                *at(
                    b,
                    "/entry/1/resource/communication/0/language/coding/0/code",
                ) = json!("Gàidhlig")
            },
            422,
            format!("{PATIENT}.communication[0].language.coding[0].code"),
        ),
        (
            "not a postcode",
            |b| *at(b, "/entry/1/resource/address/0/postalCode") = json!("NOWHERE"),
            422,
            format!("{PATIENT}.address[0].postalCode"),
        ),
        (
            "unknown board",
            |b| *at(b, "/entry/0/resource/performer/0/identifier/value") = json!("atlantis"),
            422,
            "Bundle.entry[0].resource.performer[0].identifier.value".to_owned(),
        ),
        (
            "no board",
            |b| *at(b, "/entry/0/resource/performer") = json!([]),
            422,
            "Bundle.entry[0].resource.performer".to_owned(),
        ),
        (
            "another service",
            |b| {
                *at(b, "/entry/0/resource/code/coding") = json!([
                    {"system": "https://pathway.scot.nhs.uk/fhir/CodeSystem/service", "code": "dermatology"},
                    {"system": "http://snomed.info/sct", "code": "310072004"}, // Acute pain service
                ]);
            },
            422,
            "Bundle.entry[0].resource.code".to_owned(),
        ),
        (
            "not a practice code",
            |b| *at(b, "/entry/2/resource/identifier/0/value") = json!("ABC"),
            422,
            format!("{ORGANIZATION}.identifier[0].value"),
        ),
        (
            "a reply address that is no e-mail address",
            |b| *at(b, "/entry/4/resource/telecom/0/value") = json!("not an address"),
            422,
            format!("{PRACTITIONER}.telecom[0].value"),
        ),
        (
            "no consent",
            |b| item(b, "consent-to-remote-pathway")["answer"][0]["valueBoolean"] = json!(false),
            422,
            answer("consent-to-remote-pathway", "valueBoolean"),
        ),
        (
            "consent not recorded",
            |b| {
                let items = at(b, "/entry/5/resource/item")
                    .as_array_mut()
                    .expect("items");
                items.retain(|i| i["linkId"] != "consent-to-remote-pathway");
            },
            422,
            format!("{RESPONSE}.item.where(linkId='consent-to-remote-pathway')"),
        ),
        (
            "pain intensity 11",
            |b| item(b, "pain-intensity")["answer"][0]["valueInteger"] = json!(11),
            422,
            answer("pain-intensity", "valueInteger"),
        ),
        (
            "pain intensity as text",
            |b| item(b, "pain-intensity")["answer"][0] = json!({"valueString": "7"}),
            422,
            answer("pain-intensity", "valueInteger"),
        ),
        (
            "unknown pain site",
            |b| item(b, "pain-sites")["answer"][1]["valueCoding"]["code"] = json!("elbow"),
            422,
            format!(
                "{RESPONSE}.item[{}].answer[1].valueCoding",
                item_index(example, "pain-sites")
            ),
        ),
        (
            "unknown red flag",
            |b| item(b, "red-flags")["answer"][0]["valueCoding"]["code"] = json!("headache"),
            422,
            answer("red-flags", "valueCoding"),
        ),
        (
            "an answer of another questionnaire",
            |b| {
                *at(b, "/entry/5/resource/questionnaire") =
                    json!("https://example.org/Questionnaire/other")
            },
            422,
            format!("{RESPONSE}.questionnaire"),
        ),
        (
            "an item the questionnaire does not have",
            |b| {
                let items = at(b, "/entry/5/resource/item")
                    .as_array_mut()
                    .expect("items");
                items.push(json!({"linkId": "shoe-size", "answer": [{"valueInteger": 9}]}));
            },
            422,
            format!(
                "{RESPONSE}.item[{}].linkId",
                example["entry"][5]["resource"]["item"]
                    .as_array()
                    .map_or(0, Vec::len)
            ),
        ),
        (
            "no QuestionnaireResponse",
            |b| {
                at(b, "/entry").as_array_mut().expect("entries").remove(5);
            },
            422,
            "Bundle.entry".to_owned(),
        ),
        (
            "a transaction, not a collection",
            |b| *at(b, "/type") = json!("transaction"),
            422,
            "Bundle.type".to_owned(),
        ),
        (
            "not a Bundle",
            |b| *b = json!({"resourceType": "Patient"}),
            400,
            "Bundle.resourceType".to_owned(),
        ),
        (
            "not an object",
            |b| *b = json!([1, 2]),
            400,
            "Bundle".to_owned(),
        ),
    ]
}

#[tokio::test]
async fn every_bad_input_is_answered_with_an_operation_outcome_naming_the_element() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    app.enable_board("highland").await;
    let referrer = app.token(Role::Referrer, &["highland"]);
    let mut example = example("referral.fhir.json");
    // Each row must be refused on its own fault, not as a retry.
    example
        .as_object_mut()
        .expect("a Bundle")
        .remove("identifier");

    for (what, break_it, status, expression) in bad_inputs(&example) {
        let mut bundle = example.clone();
        break_it(&mut bundle);
        let body = serde_json::to_vec(&bundle).expect("JSON");
        let (got, outcome) = answer(post_bundle(&app, Some(&referrer), &body).await).await;
        assert_eq!(got, status, "{what}: {outcome}");
        let named = expressions(&outcome);
        assert!(
            named.contains(&expression),
            "{what}: expected {expression} among {named:?}"
        );
        assert!(
            outcome["issue"]
                .as_array()
                .is_some_and(|i| i.iter().all(|i| i["severity"] == "error")),
            "{what}: {outcome}"
        );
    }
    let (status, outcome) = answer(post_bundle(&app, Some(&referrer), b"{not json").await).await;
    assert_eq!(status, 400);
    assert_eq!(expressions(&outcome), ["Bundle"]);

    // Nothing was written: the patient has no open referral yet.
    let body = serde_json::to_vec(&example).expect("JSON");
    let (status, created) = answer(post_bundle(&app, Some(&referrer), &body).await).await;
    assert_eq!(status, 201, "{created}");

    // Only a referrer of the board may send it.
    let other_board = app.token(Role::Referrer, &["grampian"]);
    let (status, _) = answer(post_bundle(&app, Some(&other_board), &body).await).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn the_capability_statement_lists_exactly_what_answers() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    let get = |path: &'static str| {
        let app = &app;
        async move {
            let response = app
                .http
                .get(format!("{}{path}", app.base))
                .send()
                .await
                .expect("intake answers");
            answer(response).await
        }
    };
    let (status, metadata) = get("/fhir/metadata").await;
    assert_eq!(status, 200);
    assert_eq!(metadata["resourceType"], "CapabilityStatement");
    assert_eq!(metadata["fhirVersion"], "4.0.1");
    assert_eq!(metadata["format"], json!(["json"]));
    let listed: Vec<(String, String)> = metadata["rest"][0]["resource"]
        .as_array()
        .expect("resources")
        .iter()
        .flat_map(|r| {
            let kind = r["type"].as_str().unwrap_or_default().to_owned();
            r["interaction"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |i| {
                    (
                        kind.clone(),
                        i["code"].as_str().unwrap_or_default().to_owned(),
                    )
                })
        })
        .collect();
    let expected = [
        ("Bundle", "create"),
        ("Appointment", "create"),
        ("Task", "read"),
        ("Task", "search-type"),
        ("Communication", "create"),
        ("Subscription", "create"),
        ("Subscription", "read"),
        ("Subscription", "delete"),
        ("Questionnaire", "read"),
    ]
    .map(|(k, i)| (k.to_owned(), i.to_owned()));
    assert_eq!(listed, expected);

    // What is listed answers...
    let (status, questionnaire) = get("/fhir/Questionnaire/pain-referral").await;
    assert_eq!(status, 200);
    assert_eq!(
        questionnaire["url"],
        "https://pathway.scot.nhs.uk/fhir/Questionnaire/pain-referral"
    );
    for path in ["/fhir/Bundle", "/fhir/Appointment", "/fhir/Subscription"] {
        let response = app
            .http
            .post(format!("{}{path}", app.base))
            .header("content-type", "application/fhir+json")
            .body("{}")
            .send()
            .await
            .expect("intake answers");
        assert_eq!(response.status(), 401, "{path} is there, behind a token");
    }
    // ...and what is not listed does not.
    for path in ["/fhir/Patient", "/fhir/ServiceRequest"] {
        let response = app
            .http
            .post(format!("{}{path}", app.base))
            .body("{}")
            .send()
            .await
            .expect("intake answers");
        assert_eq!(response.status(), 404, "{path}");
    }

    // The example answers the questionnaire: each item is one of its own,
    // each code one of the item's options.
    let example = example("referral.fhir.json");
    let items = questionnaire["item"].as_array().expect("items");
    for answered in example["entry"][5]["resource"]["item"]
        .as_array()
        .expect("answers")
    {
        let asked = items
            .iter()
            .find(|i| i["linkId"] == answered["linkId"])
            .unwrap_or_else(|| panic!("{} is asked", answered["linkId"]));
        for a in answered["answer"].as_array().expect("answers") {
            if let Some(coding) = a.get("valueCoding") {
                let options = asked["answerOption"].as_array().expect("options");
                assert!(
                    options.iter().any(|o| o["valueCoding"] == *coding),
                    "{coding} is an option of {}",
                    answered["linkId"]
                );
            }
        }
    }
}
