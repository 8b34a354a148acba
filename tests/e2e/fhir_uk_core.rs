//! UK Core: a referral Bundle whose resources declare UK Core profiles and
//! carry a UK Core extension Pathway does not read is taken like any other,
//! and every resource Pathway answers with declares the UK Core profile it
//! follows (and is valid R4).

use pathway_common::auth::Role;
use pathway_tests::backends;
use pathway_tests::intake::TestApp;
use serde_json::{Value, json};

use super::fhir_task::{fhir, get, repository, task_when, validate};

const PROFILES: &str = "https://fhir.hl7.org.uk/StructureDefinition/";

fn profile(name: &str) -> Value {
    json!([format!("{PROFILES}UKCore-{name}")])
}

/// The example Bundle as a UK Core sender makes it: every resource
/// declaring its UK Core profile, and the Patient with an ethnic category.
fn uk_core_bundle() -> Value {
    let example = repository().join("examples/referral.fhir.json");
    let mut bundle: Value =
        serde_json::from_slice(&std::fs::read(&example).expect("the example")).expect("JSON");
    bundle["meta"] = json!({"profile": profile("Bundle")});
    for entry in bundle["entry"].as_array_mut().expect("entries") {
        let resource = &mut entry["resource"];
        let kind = resource["resourceType"]
            .as_str()
            .expect("a type")
            .to_owned();
        resource["meta"] = json!({"profile": profile(&kind)});
        if kind == "Patient" {
            resource["extension"] = json!([{
                "url": format!("{PROFILES}Extension-UKCore-EthnicCategory"),
                "valueCodeableConcept": {"coding": [{
                    "system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland",
                    "code": "G",
                    "display": "Mixed - Any other mixed background",
                }]},
            }]);
        }
    }
    bundle
}

async fn post(app: &TestApp, token: &str, bundle: &Value) -> (u16, Value) {
    fhir(
        app.http
            .post(format!("{}/fhir/Bundle", app.base))
            .bearer_auth(token)
            .header("content-type", "application/fhir+json")
            .body(bundle.to_string())
            .send()
            .await
            .expect("intake answers"),
    )
    .await
}

#[tokio::test]
async fn a_uk_core_bundle_is_taken_and_every_answer_declares_its_uk_core_profile() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        app.enable_board("highland").await;
        let referrer = app.token(Role::Referrer, &["highland"]);
        let bundle = uk_core_bundle();
        let mut emitted = Vec::new();

        // A bad CHI is still named at its element, in a UK Core outcome.
        let mut bad = bundle.clone();
        bad["entry"][1]["resource"]["identifier"][0]["value"] = json!("1234567890");
        let (status, outcome) = post(&app, &referrer, &bad).await;
        assert_eq!(status, 422, "{outcome}");
        assert_eq!(outcome["meta"]["profile"], profile("OperationOutcome"));
        emitted.push(outcome);

        let (status, created) = post(&app, &referrer, &bundle).await;
        assert_eq!(status, 201, "{created} ({})", backend.name());
        assert_eq!(created["resourceType"], "ServiceRequest");
        assert_eq!(created["meta"]["profile"], profile("ServiceRequest"));
        assert_eq!(created["performer"][0]["identifier"]["value"], "highland");
        let id = created["id"].as_str().expect("the referral id").to_owned();
        emitted.push(created);

        let response = app.get_referral(&referrer, &id).await;
        assert_eq!(response.status(), 200);
        let referral: Value = response.json().await.expect("a referral");
        assert_eq!(referral["referral"]["patient"]["chi"], "1204670021");

        let task = task_when(&app, &referrer, &id, "requested").await;
        assert_eq!(task["meta"]["profile"], profile("Task"));
        emitted.push(task);
        let (status, search) = get(&app, &referrer, "/fhir/Task?owner=highland").await;
        assert_eq!(status, 200, "{search}");
        assert_eq!(search["meta"]["profile"], profile("Bundle"));
        assert_eq!(
            search["entry"][0]["resource"]["meta"]["profile"],
            profile("Task")
        );
        emitted.push(search);
        let (status, questionnaire) =
            get(&app, &referrer, "/fhir/Questionnaire/pain-referral").await;
        assert_eq!(status, 200);
        assert_eq!(questionnaire["meta"]["profile"], profile("Questionnaire"));
        emitted.push(questionnaire);

        emitted.push(bundle.clone());
        validate(&format!("uk-core-{}", backend.name()), &emitted, &[]);
    }
}
