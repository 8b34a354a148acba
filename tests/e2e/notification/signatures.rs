//! Webhooks are signed with Ed25519: a receiver verifies each one with the
//! public key the service publishes, without any secret of Pathway's, and a
//! message whose body, timestamp, delivery id or URL was changed fails.

use base64::Engine;
use ed25519_dalek::VerifyingKey;
use pathway_notification::startup::Workers;
use pathway_notification::store::delivery::Status;
use pathway_tests::backends;
use pathway_tests::notification::{decision_recorded, verifies};
use pathway_tests::referrals::valid_referral;
use serde_json::Value;

use super::{accept, setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_verifies_a_webhook_with_the_published_key_and_a_tampered_one_fails() {
    for backend in backends().await {
        let s = setup(&backend, Workers::default()).await;

        // The key set, fetched as a GP system would: no token.
        let response = s
            .app
            .http
            .get(format!("{}/.well-known/pathway-signing-keys", s.app.base))
            .send()
            .await
            .expect("notification answers");
        assert_eq!(response.status(), 200, "{}", backend.name());
        let set: Value = response.json().await.expect("JSON");
        let published = &set["keys"][0];
        assert_eq!(published["kty"], "OKP", "{set}");
        assert_eq!(published["crv"], "Ed25519", "{set}");
        let kid = published["kid"].as_str().expect("a kid").to_owned();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(published["public_key"].as_str().expect("a public key"))
            .expect("base64");
        let key = VerifyingKey::from_bytes(&bytes.try_into().expect("32 bytes"))
            .expect("an Ed25519 public key");

        let referral = s.intake.refer(&valid_referral("highland")).await;
        s.app
            .send(&decision_recorded("highland", &referral, accept()))
            .await;
        let rows = s.app.wait_until_settled(&referral, 2).await;
        assert!(rows.iter().all(|r| r.status == Status::Sent), "{rows:?}");
        let hooks = s.receiver.hooks();
        assert_eq!(hooks.len(), 1, "{hooks:?}");
        let hook = &hooks[0];
        assert_eq!(s.receiver.bad_signatures(), 0);
        assert_eq!(hook.key_id, kid, "the key id names the published key");
        assert!(hook.signature.starts_with("v2="), "{}", hook.signature);

        let (ts, delivery, url, body) = (
            hook.timestamp.as_str(),
            hook.delivery.as_str(),
            hook.url.as_str(),
            hook.body.as_slice(),
        );
        assert!(verifies(&key, &hook.signature, ts, delivery, url, body));
        // Each signed part, changed, fails.
        let mut tampered = body.to_vec();
        tampered.extend_from_slice(b" ");
        assert!(!verifies(
            &key,
            &hook.signature,
            ts,
            delivery,
            url,
            &tampered
        ));
        let body_text = String::from_utf8_lossy(body).replace("accept", "decline");
        assert!(!verifies(
            &key,
            &hook.signature,
            ts,
            delivery,
            url,
            body_text.as_bytes()
        ));
        let later = (ts.parse::<i64>().expect("seconds") + 1).to_string();
        assert!(!verifies(
            &key,
            &hook.signature,
            &later,
            delivery,
            url,
            body
        ));
        assert!(!verifies(
            &key,
            &hook.signature,
            ts,
            "another-delivery",
            url,
            body
        ));
        // Replayed by this receiver to another one: not for that URL.
        let elsewhere = url.replace("/gp", "/partner");
        assert!(!verifies(
            &key,
            &hook.signature,
            ts,
            delivery,
            &elsewhere,
            body
        ));

        s.stop().await;
    }
}
