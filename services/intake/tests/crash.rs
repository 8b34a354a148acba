//! The real `intake` binary, killed with SIGKILL in the middle of a burst of
//! referrals and started again: every referral it acknowledged is kept, and
//! each kept referral's event is on the stream exactly once.

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use pathway_common::auth::{Authenticator, Claims, Role};
use pathway_common::settings::AuthSettings;
use pathway_proto::v1::Payload;
use pathway_tests::referrals::valid_referral;
use pathway_tests::{eventually, free_port, nats_account_url};
use prost::Message as _;
use sea_orm::{ConnectionTrait, Database};

struct Intake {
    child: Child,
    base: String,
}

fn start(dir: &std::path::Path, nats: &str) -> Intake {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_intake"))
        .env("PATHWAY_INTAKE__HTTP__PORT", port.to_string())
        .env(
            "PATHWAY_INTAKE__DATABASE__URL",
            format!("sqlite://{}/intake.db", dir.display()),
        )
        .env("PATHWAY_NATS__URL", nats)
        .env("PATHWAY_AUTH__LOCAL_KEY_FILE", dir.join("jwt.key"))
        .env(
            "PATHWAY_INTAKE__PSEUDONYM_KEY_FILE",
            dir.join("pseudonym.key"),
        )
        .env("PATHWAY_INTAKE__ENCRYPTION__KEK_FILE", dir.join("kek.key"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the intake binary starts");
    Intake {
        child,
        base: format!("http://127.0.0.1:{port}"),
    }
}

async fn ready(http: &reqwest::Client, base: &str) {
    let ok = eventually(Duration::from_secs(30), || async {
        let response = http.get(format!("{base}/readyz")).send().await.ok()?;
        response.status().is_success().then_some(())
    })
    .await;
    assert!(ok.is_some(), "intake became ready");
}

#[tokio::test]
async fn a_killed_intake_loses_no_acknowledged_referral_and_publishes_each_once() {
    let dir = tempfile::tempdir().expect("dir");
    let nats = nats_account_url();
    pathway_common::tls::install_crypto_provider();
    let http = reqwest::Client::new();
    let mut intake = start(dir.path(), &nats);
    ready(&http, &intake.base).await;

    let auth = Authenticator::from_settings(&AuthSettings {
        local_key_file: dir.path().join("jwt.key"),
        ..AuthSettings::default()
    })
    .expect("the key intake created");
    let sign = |role, boards: &[&str]| {
        let claims = Claims::new(
            "crash-test",
            role,
            boards.iter().map(|b| (*b).to_owned()).collect(),
            Duration::from_secs(600),
        );
        auth.issue(&claims).expect("sign")
    };
    let switched = http
        .put(format!("{}/v1/boards/highland/pathway", intake.base))
        .bearer_auth(sign(Role::BoardAdmin, &["highland"]))
        .json(&serde_json::json!({"enabled": true}))
        .send()
        .await
        .expect("answer");
    assert_eq!(switched.status(), 200);

    // A burst of referrals; the process is killed while they are in flight.
    let token = sign(Role::Referrer, &["highland"]);
    let mut burst = tokio::task::JoinSet::new();
    let answered = Arc::new(AtomicUsize::new(0));
    for _ in 0..300 {
        let request = http
            .post(format!("{}/v1/referrals", intake.base))
            .bearer_auth(&token)
            .json(&valid_referral("highland"));
        let answered = answered.clone();
        burst.spawn(async move {
            let response = request.send().await.ok()?;
            if response.status() != 201 {
                return None;
            }
            let body: serde_json::Value = response.json().await.ok()?;
            answered.fetch_add(1, Ordering::SeqCst);
            body["id"].as_str().map(str::to_owned)
        });
    }
    // Kill it as soon as the first referrals are acknowledged, with most of
    // the burst still in flight: waiting on the answers, not on a fixed
    // time, so a slow machine kills it mid-burst too.
    let started = std::time::Instant::now();
    while answered.load(Ordering::SeqCst) < 5 && started.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    intake.child.kill().expect("SIGKILL");
    intake.child.wait().expect("reaped");
    let mut acknowledged = HashSet::new();
    while let Some(result) = burst.join_next().await {
        if let Ok(Some(id)) = result {
            acknowledged.insert(id);
        }
    }
    assert!(
        !acknowledged.is_empty(),
        "some referrals were acknowledged before the kill"
    );

    // Start again: the outbox publishes what was committed.
    let mut intake = start(dir.path(), &nats);
    ready(&http, &intake.base).await;
    let db = Database::connect(format!("sqlite://{}/intake.db", dir.path().display()))
        .await
        .expect("open the database");
    let stored: HashSet<String> = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT id FROM referrals",
        ))
        .await
        .expect("read referrals")
        .into_iter()
        .filter_map(|row| row.try_get::<String>("", "id").ok())
        .collect();
    eprintln!(
        "acknowledged before the kill: {}, stored: {}",
        acknowledged.len(),
        stored.len()
    );
    assert!(
        acknowledged.is_subset(&stored),
        "every acknowledged referral is kept"
    );

    let client = pathway_common::bus::connect(
        &pathway_common::settings::NatsSettings {
            url: nats.clone(),
            ..Default::default()
        },
        "crash-test",
    )
    .await
    .expect("NATS");
    let js = async_nats::jetstream::new(client);
    let mut stream = js
        .get_stream(pathway_proto::stream::NAME)
        .await
        .expect("stream");
    let expected = stored.len() as u64 + 1;
    let settled = eventually(Duration::from_secs(30), || {
        let mut stream = stream.clone();
        async move {
            let count = stream.info().await.ok()?.state.messages;
            (count >= expected).then_some(count)
        }
    })
    .await;
    assert_eq!(
        settled,
        Some(expected),
        "one event per stored referral, plus the board switch"
    );
    let last = stream.info().await.expect("info").state.last_sequence;
    let mut published = Vec::new();
    for sequence in 1..=last {
        let message = stream.get_raw_message(sequence).await.expect("message");
        let event = pathway_proto::v1::Event::decode(message.payload.as_ref()).expect("an event");
        if let Some(Payload::ReferralReceived(_)) = event.payload {
            published.push(event.referral_id);
        }
    }
    let unique: HashSet<String> = published.iter().cloned().collect();
    assert_eq!(unique.len(), published.len(), "no referral published twice");
    assert_eq!(unique, stored, "every stored referral published");
    intake.child.kill().ok();
    intake.child.wait().ok();
}
