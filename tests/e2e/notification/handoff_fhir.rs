//! Hand-offs to a FHIR route: a board whose standard route is of kind
//! `fhir` has the referral POSTed to the route's base URL as a FHIR R4
//! `transaction` Bundle (`application/fhir+json`, signed as any webhook) of
//! the Patient and a UK Core ServiceRequest naming the referral, to a real
//! local HTTP server standing in for the FHIR server. A 500 is tried again
//! until the server takes it, and only then is the GP told where it went; a
//! 4xx is a failed delivery whose reason is the server's OperationOutcome,
//! and the GP is told it could not be passed on yet. The Bundle received is
//! validated as FHIR R4 as `fhir_task` validates every resource Pathway
//! emits.

use pathway_notification::startup::Workers;
use pathway_notification::store::delivery::Status;
use pathway_tests::backends;
use pathway_tests::notification::{FhirPost, FhirServer};
use pathway_tests::referrals::valid_referral;
use serde_json::{Value, json};

use super::handoff::{hooks_at, row, set_board_settings};
use super::{Setup, setup};

const CHI_SYSTEM: &str = "urn:oid:2.16.840.1.113883.2.1.3.2.4.16.53";
const REFERRAL_SYSTEM: &str = "https://pathway.scot.nhs.uk/fhir/Id/referral";

/// The board's settings with its standard route a FHIR server at `fhir`.
fn settings_with_fhir_route(s: &Setup, fhir: &FhirServer) -> Value {
    let mut document = pathway_tests::intake::TestApp::example_board_settings();
    document["notification"] = json!({
        "messages": "notify",
        "webhooks": "http",
        "referrer_channel": "webhook",
        "gp_webhook_url": s.receiver.url("gp"),
        "allow_private_addresses": true,
        "allowed_hosts": ["127.0.0.1"],
        "standard_route": {
            "name": "NHS Fife MSK Service",
            "kind": "fhir",
            "url": fhir.url("R4"),
        },
    });
    document
}

fn resource<'a>(bundle: &'a Value, kind: &str) -> &'a Value {
    bundle["entry"]
        .as_array()
        .and_then(|entries| {
            entries
                .iter()
                .find(|e| e["resource"]["resourceType"] == kind)
        })
        .map(|e| &e["resource"])
        .unwrap_or_else(|| panic!("a {kind} in {bundle}"))
}

fn taken(posts: &[FhirPost]) -> Vec<&FhirPost> {
    posts.iter().filter(|p| p.status == 200).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fhir_route_that_answers_500_is_sent_the_bundle_again_then_the_gp_is_told() {
    for backend in backends().await {
        let s = setup(&backend, Workers::default()).await;
        let fhir = FhirServer::start().await;
        set_board_settings(&s, "fife", &settings_with_fhir_route(&s, &fhir)).await;

        fhir.script(&[500]);
        let body = valid_referral("fife");
        let referral = s.intake.refer(&body).await;
        let rows = s.app.wait_until_settled(&referral, 2).await;
        assert!(
            rows.iter().all(|r| r.status == Status::Sent),
            "{}: {rows:?}",
            backend.name()
        );
        let forward = row(&rows, "receiving_service/handoff");
        assert_eq!(forward.attempts, 2, "refused once, then taken: {rows:?}");

        let posts = fhir.posts();
        assert_eq!(posts.len(), 2, "{posts:?}");
        assert_eq!(posts[0].status, 500);
        let taken = taken(&posts);
        assert_eq!(taken.len(), 1, "taken once: {posts:?}");
        let post = taken[0];
        assert_eq!(post.path, "R4", "POSTed at the base URL");
        assert_eq!(post.content_type, "application/fhir+json");
        assert!(post.signed, "signed as any webhook");
        assert_eq!(post.delivery, forward.id);
        // The same Bundle on the retry as on the first try.
        assert_eq!(posts[0].body, post.body);

        let bundle = &post.body;
        // FHIR R4 as an implementation that is not Pathway's reads it.
        crate::fhir_task::validate("handoff_bundle", std::slice::from_ref(bundle), &[]);
        assert_eq!(bundle["resourceType"], "Bundle");
        assert_eq!(bundle["type"], "transaction");
        let request = resource(bundle, "ServiceRequest");
        assert_eq!(
            request["identifier"][0],
            json!({"system": REFERRAL_SYSTEM, "value": referral})
        );
        assert_eq!(request["status"], "active");
        assert_eq!(request["intent"], "order");
        assert_eq!(request["requester"]["identifier"]["value"], "55005");
        assert!(
            request["note"][0]["text"]
                .as_str()
                .is_some_and(|n| n.contains("board_not_on_pathway")),
            "{request}"
        );
        let patient = resource(bundle, "Patient");
        assert_eq!(
            patient["identifier"][0],
            json!({"system": CHI_SYSTEM, "value": body["patient"]["chi"]})
        );
        assert_eq!(patient["birthDate"], body["patient"]["date_of_birth"]);
        assert_eq!(
            request["subject"]["reference"], bundle["entry"][0]["fullUrl"],
            "{bundle}"
        );

        // The GP is told "passed to" only once the FHIR server had it.
        let notice = row(&rows, "referrer/handoff");
        assert!(notice.sent_at >= forward.sent_at, "{rows:?}");
        let told = hooks_at(&s, "gp");
        assert_eq!(told.len(), 1, "{told:?}");
        assert_eq!(told[0].document["handed_on"], true);
        let words = told[0].document["message"]["body"]
            .as_str()
            .unwrap_or_default();
        assert!(words.contains("passed to NHS Fife MSK Service"), "{words}");

        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fhir_route_that_refuses_the_bundle_fails_with_its_operation_outcome() {
    for backend in backends().await {
        let s = setup(&backend, Workers::default()).await;
        let fhir = FhirServer::start().await;
        set_board_settings(&s, "fife", &settings_with_fhir_route(&s, &fhir)).await;

        fhir.script(&[422]);
        let referral = s.intake.refer(&valid_referral("fife")).await;
        let rows = s.app.wait_until_settled(&referral, 2).await;
        let forward = row(&rows, "receiving_service/handoff");
        assert_eq!(forward.status, Status::Failed, "{}", backend.name());
        assert_eq!(forward.attempts, 1, "a 4xx is not tried again");
        assert_eq!(fhir.posts().len(), 1);
        let reason = forward.last_error.clone().unwrap_or_default();
        assert!(
            reason.contains("422")
                && reason.contains(
                    "error business-rule: the service takes no referrals for this practice"
                ),
            "{reason}"
        );
        // Told it could not be passed on yet, never that it was.
        assert_eq!(row(&rows, "referrer/handoff_failed").status, Status::Sent);
        let told = hooks_at(&s, "gp");
        assert_eq!(told.len(), 1, "{told:?}");
        assert_eq!(told[0].document["handed_on"], false);

        s.stop().await;
    }
}
