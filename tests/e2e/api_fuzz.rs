//! Every service's API fuzzed from its own `/openapi.json`: schemathesis
//! generates requests, valid and invalid, for every operation the document
//! lists, and checks each answer — never a 5xx, and always a status, a
//! content type and a body the document declares for that operation.
//!
//! Each service runs as in the other tests, and is fuzzed once per role that
//! reaches its endpoints, with a token for every board: answers that role
//! may not have (403) must be declared too. The seed and the number of
//! examples are fixed, so a run repeats the last one; a failure prints
//! schemathesis' report, with a `curl` line that replays each failing request.
//!
//! `make test` installs the pinned schemathesis (`scripts/schemathesis.sh`)
//! and passes its path in `SCHEMATHESIS`. Without it the tests fail under CI
//! (`CI=true`) and are skipped, saying so, elsewhere.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use pathway_common::auth::Role;
use pathway_notification::startup::Workers as NotificationWorkers;
use pathway_tests::Backend;
use pathway_tests::analytics::TestApp as AnalyticsApp;
use pathway_tests::decision::TestApp as DecisionApp;
use pathway_tests::intake::TestApp as IntakeApp;
use pathway_tests::notification::TestApp as NotificationApp;
use pathway_tests::notification::{NotifyGateway, WebhookReceiver};
use pathway_tests::vetting::VettingApp;

/// What every answer is checked for.
const CHECKS: &str = "not_a_server_error,status_code_conformance,\
                      content_type_conformance,response_schema_conformance";
/// Generated cases per operation and phase: enough to reach every declared
/// answer, few enough for well under a minute per service on two cores.
const MAX_EXAMPLES: &str = "50";
/// A fixed seed: the same requests every run.
const SEED: &str = "16";
/// How long one schemathesis run may take before the test gives up on it.
const RUN_WITHIN: Duration = Duration::from_secs(120);

/// The schemathesis CLI: `SCHEMATHESIS`, else the one
/// `scripts/schemathesis.sh` installs under `.tools/`. `None` (the test
/// skipped) only outside CI.
fn schemathesis() -> Option<PathBuf> {
    let path = std::env::var_os("SCHEMATHESIS")
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../.tools/schemathesis/bin/schemathesis")
        });
    if path.is_file() {
        return Some(path);
    }
    let message = format!(
        "schemathesis not found at {} (set SCHEMATHESIS, or run `make test` or \
         scripts/schemathesis.sh, which install it from PyPI)",
        path.display()
    );
    assert!(
        std::env::var("CI").map_or(true, |ci| ci.is_empty() || ci == "false"),
        "{message}"
    );
    eprintln!("SKIPPED: the API fuzz: {message}");
    None
}

/// Fuzz the API `base` serves with `token`, failing with schemathesis'
/// report on any finding.
async fn fuzz(schemathesis: &PathBuf, service: &str, base: &str, role: Role, token: &str) {
    let work = tempfile::tempdir().expect("a temporary folder");
    let mut command = Command::new(schemathesis);
    command
        // Hypothesis keeps its example database in the working folder.
        .current_dir(work.path())
        .arg("run")
        .arg(format!("{base}/openapi.json"))
        .args(["--checks", CHECKS])
        .args(["--max-examples", MAX_EXAMPLES])
        .args(["--seed", SEED])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--generation-database", "none"])
        .args(["--workers", "1"])
        .args(["--request-timeout", "10"])
        .arg("--no-color")
        .args(["--header", &format!("Authorization: Bearer {token}")]);
    let started = Instant::now();
    let output = tokio::time::timeout(
        RUN_WITHIN,
        tokio::task::spawn_blocking(move || command.output()),
    )
    .await
    .unwrap_or_else(|_| panic!("schemathesis on {service} ({role}) ran past {RUN_WITHIN:?}"))
    .expect("the schemathesis task")
    .expect("schemathesis starts");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "schemathesis found problems in {service}'s API as {role} ({}):\n{report}",
        output.status
    );
    // The summary: operations, phases, warnings and the count of cases.
    let summary = report
        .split_once("SUMMARY")
        .map_or(report.as_str(), |(_, summary)| summary);
    eprintln!(
        "{service} as {role}: fuzzed in {:.1} s{summary}",
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intake_api_holds_to_its_document() {
    let Some(schemathesis) = schemathesis() else {
        return;
    };
    let app = IntakeApp::spawn(&Backend::Sqlite).await;
    app.enable_board("highland").await;
    for role in [Role::Referrer, Role::BoardAdmin, Role::HospitalSystem] {
        fuzz(
            &schemathesis,
            "intake",
            &app.base,
            role,
            &app.token(role, &["*"]),
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vetting_api_holds_to_its_document() {
    let Some(schemathesis) = schemathesis() else {
        return;
    };
    let intake = IntakeApp::spawn(&Backend::Sqlite).await;
    let app = VettingApp::spawn(&intake, &Backend::Sqlite).await;
    for role in [Role::Clinician, Role::BoardAdmin] {
        fuzz(
            &schemathesis,
            "vetting",
            &app.base,
            role,
            &app.token(role, &["*"]),
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decision_api_holds_to_its_document() {
    let Some(schemathesis) = schemathesis() else {
        return;
    };
    let intake = IntakeApp::spawn(&Backend::Sqlite).await;
    let app = DecisionApp::spawn_beside(&Backend::Sqlite, &intake).await;
    for role in [Role::Clinician, Role::Referrer, Role::BoardAdmin] {
        fuzz(
            &schemathesis,
            "decision",
            &app.base,
            role,
            &app.token(role, &["*"]),
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notification_api_holds_to_its_document() {
    let Some(schemathesis) = schemathesis() else {
        return;
    };
    let intake = IntakeApp::spawn(&Backend::Sqlite).await;
    let gateway = NotifyGateway::start().await;
    let receiver = WebhookReceiver::start().await;
    let app = NotificationApp::spawn(
        &Backend::Sqlite,
        &intake,
        &gateway,
        &receiver,
        NotificationWorkers::default(),
    )
    .await;
    for role in [Role::BoardAdmin, Role::Clinician] {
        fuzz(
            &schemathesis,
            "notification",
            &app.base,
            role,
            &app.token(role, &["*"]),
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analytics_api_holds_to_its_document() {
    let Some(schemathesis) = schemathesis() else {
        return;
    };
    let app = AnalyticsApp::spawn(&Backend::Sqlite).await;
    for role in [Role::BoardAdmin, Role::Evaluator] {
        fuzz(
            &schemathesis,
            "analytics",
            &app.base,
            role,
            &app.token(role, &["*"]),
        )
        .await;
    }
}
