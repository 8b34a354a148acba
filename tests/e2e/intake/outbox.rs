//! The outbox: an event committed before a crash published once after a
//! restart, and no patient identifier ever on the stream.

use std::time::Duration;

use pathway_common::auth::Role;
use pathway_intake::startup::Workers;
use pathway_tests::intake::TestApp;
use pathway_tests::referrals::valid_referral;
use pathway_tests::{Backend, backends, eventually};
use sea_orm::ConnectionTrait;

#[tokio::test]
async fn an_event_committed_before_a_crash_is_published_once_after_restart() {
    for backend in backends().await {
        // The relay is off: the referral commits, nothing is published, and
        // the service stops, as if killed between commit and publish.
        let no_relay = Workers {
            relay: false,
            consumers: false,
            sweeps: false,
            rpc: false,
        };
        let app = TestApp::spawn_with(&backend, no_relay).await;
        app.enable_board("orkney").await;
        let id = app.refer(&valid_referral("orkney")).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            app.stream_events().await.is_empty(),
            "nothing published yet"
        );

        let app = app.restart(Workers::default()).await;
        let events = app.wait_for_events(2).await;
        assert_eq!(
            events.iter().filter(|e| e.event.referral_id == id).count(),
            1
        );

        // A crash after the publish but before the row was marked: the relay
        // publishes again and the stream's de-duplication drops the copy.
        app.db
            .execute_unprepared("UPDATE outbox SET published_at = NULL")
            .await
            .expect("reset the outbox");
        // This relay or the service's own, whichever locks the rows first
        // (relays share the outbox): each row goes out once more.
        app.app
            .platform
            .relay()
            .try_publish_batch()
            .await
            .expect("relay runs");
        eventually(Duration::from_secs(5), || async {
            let published = app.metric("outbox_published_total", &[]).await;
            (published >= 4.0).then_some(())
        })
        .await
        .expect("two rows published, then again");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            app.stream_events().await.len(),
            2,
            "still one copy of each event ({})",
            backend.name()
        );
    }
}

#[tokio::test]
async fn no_patient_identifier_ever_reaches_the_stream() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    app.enable_board("highland").await;
    let mut bodies = Vec::new();
    for board in ["highland", "lothian"] {
        for _ in 0..3 {
            let body = valid_referral(board);
            app.post_referral(&app.token(Role::Referrer, &[board]), &body)
                .await;
            bodies.push(body);
        }
    }
    let events = app.wait_for_events(7).await;
    for body in &bodies {
        let p = &body["patient"];
        let chi = p["chi"].as_str().unwrap_or_default().to_owned();
        let identifiers = [
            chi.clone(),
            p["family_name"].as_str().unwrap_or_default().to_owned(),
            p["date_of_birth"].as_str().unwrap_or_default().to_owned(),
            p["date_of_birth"]
                .as_str()
                .unwrap_or_default()
                .replace('-', ""),
            p["postcode"].as_str().unwrap_or_default().to_owned(),
            p["postcode"].as_str().unwrap_or_default().replace(' ', ""),
            p["contact"]["email"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            "07700900123".to_owned(),
            "Culduthel".to_owned(),
            "IV2 4AG".to_owned(),
        ];
        for event in &events {
            let mut haystack = event.raw.clone();
            if let Some(headers) = &event.headers {
                for (name, values) in headers.iter() {
                    haystack.extend_from_slice(name.to_string().as_bytes());
                    for value in values {
                        haystack.extend_from_slice(value.as_str().as_bytes());
                    }
                }
            }
            for identifier in &identifiers {
                let found = haystack
                    .windows(identifier.len())
                    .any(|w| w == identifier.as_bytes());
                assert!(!found, "an identifier reached {}", event.subject);
            }
        }
    }
}
