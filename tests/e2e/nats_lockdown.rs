//! NATS locked down as production runs it (`deploy/nats/`): TLS for
//! clients and routes, one user per service from `accounts.conf` itself,
//! each allowed only its own subjects, its own reply inbox and the
//! JetStream calls it makes.
//!
//! - a referral goes from intake through vetting, decision and notification
//!   (and into analytics), every service on its own user over mutual TLS,
//!   and every service ends ready (its consumers and workers all running);
//! - a plain-text client, an anonymous one, an unknown key and a client
//!   without a certificate are refused;
//! - a service's credential is refused what it does not own: another's
//!   events, another's reply inbox, deleting the stream, the identifiable
//!   look-up when it has no purpose for it;
//! - three nodes from `cluster-node.conf` route to each other over TLS,
//!   replicate the stream and carry a request from one node to another
//!   ([`cluster`]).

use std::sync::Arc;
use std::time::Duration;

use async_nats::connection::State;
use pathway_common::auth::Role;
use pathway_common::bus;
use pathway_common::settings::{HttpSettings, NatsSettings};
use pathway_common::startup::{Service, Workers};
use pathway_notification::store::delivery::Status;
use pathway_proto::rpc::REFERRAL_LOOKUP;
use pathway_proto::stream as names;
use pathway_tests::intake::TestApp as IntakeApp;
use pathway_tests::locked_nats::LockedNats;
use pathway_tests::notification::{NotifyGateway, TestApp as NotificationApp, WebhookReceiver};
use pathway_tests::referrals::valid_referral;
use pathway_tests::running::{Running, database};
use pathway_tests::{Backend, eventually};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

mod cluster;

const WAIT: Duration = Duration::from_secs(20);

/// A connection made exactly as `service` makes its own, and the errors it
/// met (the server's `-ERR` lines: refusals, permissions violations).
struct Watched {
    client: async_nats::Client,
    errors: mpsc::UnboundedReceiver<String>,
}

impl Watched {
    async fn connect(settings: &NatsSettings, service: &str) -> Self {
        let (url, options) = bus::connect_options(settings, service)
            .await
            .expect("the settings are complete");
        let (sender, errors) = mpsc::unbounded_channel();
        let client = options
            .event_callback(move |event| {
                let sender = sender.clone();
                async move {
                    match event {
                        async_nats::Event::ServerError(error) => {
                            let _ = sender.send(error.to_string());
                        }
                        async_nats::Event::ClientError(error) => {
                            let _ = sender.send(error.to_string());
                        }
                        _ => {}
                    }
                }
            })
            .connect(url.as_str())
            .await
            .expect("the options are valid");
        Self { client, errors }
    }

    /// Connected within a few seconds.
    async fn connected(&self) -> bool {
        eventually(Duration::from_secs(5), || async {
            (self.client.connection_state() == State::Connected).then_some(())
        })
        .await
        .is_some()
    }

    /// The next error, lower-cased.
    async fn next_error(&mut self) -> String {
        tokio::time::timeout(Duration::from_secs(5), self.errors.recv())
            .await
            .ok()
            .flatten()
            .map(|error| error.to_lowercase())
            .unwrap_or_else(|| "(no error from the server)".into())
    }

    fn jetstream(&self) -> async_nats::jetstream::Context {
        async_nats::jetstream::new(self.client.clone())
    }
}

/// A service's own folder, as the harness gives each.
fn folder() -> Arc<tempfile::TempDir> {
    Arc::new(tempfile::tempdir().expect("a temporary folder"))
}

/// `/readyz` answers 200: the database, NATS and every worker of the
/// service run.
async fn ready<S: Service>(running: &Running<S>) {
    let response = running
        .http
        .get(format!("{}/readyz", running.base))
        .send()
        .await
        .expect("the service answers /readyz");
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    assert_eq!(status, 200, "{} is not ready: {body}", S::NAME);
}

#[tokio::test]
async fn a_referral_flows_through_every_service_each_on_its_own_user_over_tls() {
    let nats = LockedNats::start();
    let backend = Backend::Sqlite;

    // intake first: it alone may create the streams.
    let intake = IntakeApp::spawn_adjusted(&backend, Workers::default(), |settings| {
        settings.nats = nats.settings("intake");
    })
    .await;
    intake.enable_board("highland").await;
    let auth = intake.settings.auth.clone();

    let dir = folder();
    let vetting = Running::<pathway_vetting::application::Vetting>::start(
        pathway_vetting::settings::Settings {
            http: HttpSettings::with_port(0),
            database: database(&backend, dir.path()).await,
            nats: nats.settings("vetting"),
            auth: auth.clone(),
            encryption: pathway_common::crypto::EncryptionSettings::with_kek_file(
                dir.path().join("vetting-kek.key"),
            ),
            ..Default::default()
        },
        Workers {
            sweeps: false,
            ..Workers::default()
        },
        dir,
    )
    .await;

    let dir = folder();
    let decision = Running::<pathway_decision::application::Decisions>::start(
        pathway_decision::settings::Settings {
            http: HttpSettings::with_port(0),
            database: database(&backend, dir.path()).await,
            nats: nats.settings("decision"),
            auth: auth.clone(),
            intake_timeout_ms: 3000,
            ..Default::default()
        },
        pathway_tests::decision::test_workers(),
        dir,
    )
    .await;

    let gateway = NotifyGateway::start().await;
    let receiver = WebhookReceiver::start().await;
    let dir = folder();
    let mut settings = pathway_tests::notification::settings_beside(
        &backend,
        &intake,
        &gateway,
        &receiver,
        dir.path(),
    )
    .await;
    settings.nats = nats.settings("notification");
    let notification = NotificationApp::start(settings, Workers::default(), dir).await;

    let dir = folder();
    let analytics = Running::<pathway_analytics::application::Analytics>::start(
        pathway_analytics::settings::Settings {
            http: HttpSettings::with_port(0),
            database: database(&backend, dir.path()).await,
            nats: nats.settings("analytics"),
            auth: auth.clone(),
            ..Default::default()
        },
        Workers::default(),
        dir,
    )
    .await;

    // Referred through intake, on vetting's worklist.
    let id = intake.refer(&valid_referral("highland")).await;
    let dr = intake.token_for("dr-mackay", Role::Clinician, &["highland"]);
    let listed = eventually(WAIT, || async {
        let page: Value = vetting
            .http
            .get(format!("{}/v1/boards/highland/worklist", vetting.base))
            .bearer_auth(&dr)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        page["referrals"]
            .as_array()?
            .iter()
            .any(|row| row["referral_id"] == id.as_str())
            .then_some(())
    })
    .await;
    assert!(
        listed.is_some(),
        "referral {id} never reached vetting's worklist:\n{}",
        nats.log()
    );

    // Claimed, read (vetting asks intake over request/reply, on its own
    // inbox), vetted.
    let claimed = vetting
        .http
        .post(format!("{}/v1/referrals/{id}/claim", vetting.base))
        .bearer_auth(&dr)
        .send()
        .await
        .expect("vetting answers");
    assert_eq!(claimed.status(), 200);
    let detail: Value = vetting
        .http
        .get(format!("{}/v1/referrals/{id}", vetting.base))
        .bearer_auth(&dr)
        .send()
        .await
        .expect("vetting answers")
        .json()
        .await
        .expect("JSON");
    assert!(
        detail["referral"]["patient"]["family_name"]
            .as_str()
            .is_some_and(|name| name.starts_with("MacLeod")),
        "intake answered vetting's look-up: {detail}"
    );
    let recorded = vetting
        .http
        .post(format!("{}/v1/referrals/{id}/outcome", vetting.base))
        .bearer_auth(&dr)
        .json(&json!({
            "outcome": "accept",
            "priority": "routine",
            "mode": "video",
            "rationale": "Persistent pain despite physiotherapy: the clinic should see her."
        }))
        .send()
        .await
        .expect("vetting answers");
    assert_eq!(recorded.status(), 201);

    // Decided (decision checks the referrer with intake), told (notification
    // reads the contact details from intake), and intake hears of both.
    let decided = eventually(WAIT, || async {
        let view: Value = decision
            .http
            .get(format!("{}/v1/referrals/{id}/decision", decision.base))
            .bearer_auth(&dr)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (view["current"]["outcome"]["code"] == "accept").then_some(())
    })
    .await;
    assert!(decided.is_some(), "no decision for {id}:\n{}", nats.log());
    let deliveries = notification.wait_until_settled(&id, 1).await;
    assert!(
        deliveries.iter().any(|d| d.status == Status::Sent),
        "{deliveries:?}"
    );
    let referrer = intake.token(Role::Referrer, &["highland"]);
    let notified = eventually(WAIT, || async {
        let referral: Value = intake
            .get_referral(&referrer, &id)
            .await
            .json()
            .await
            .ok()?;
        (referral["status"] == "notified").then_some(())
    })
    .await;
    assert!(notified.is_some(), "intake never heard {id} was notified");

    // Analytics reads every event: the board switched on, received,
    // claimed, completed, decided, and at least one sent.
    let counted = eventually(WAIT, || async {
        let handled = pathway_common::inbox::entity::Entity::find()
            .filter(pathway_common::inbox::entity::Column::Consumer.eq("analytics"))
            .count(&analytics.db)
            .await
            .ok()?;
        (handled >= 6).then_some(())
    })
    .await;
    assert!(counted.is_some(), "analytics did not read the events");

    // Every worker of every service runs: consumers, advisories, relays,
    // intake's look-up; none was refused a subject it needs.
    ready::<pathway_intake::application::Intake>(&intake).await;
    ready(&vetting).await;
    ready(&decision).await;
    ready::<pathway_notification::application::Notifications>(&notification).await;
    ready(&analytics).await;
    let log = nats.log();
    assert!(
        !log.contains("Violation"),
        "a service was refused something it needs:\n{log}"
    );
}

#[tokio::test]
async fn plain_text_anonymous_and_certificate_less_clients_are_refused() {
    let nats = LockedNats::start();

    // Plain text: the server asks for TLS first and hangs up on a client
    // that speaks in clear, whatever it sends.
    let socket = tokio::net::TcpStream::connect(("127.0.0.1", nats.port()))
        .await
        .expect("the port answers");
    let mut socket = BufReader::new(socket);
    let mut info = String::new();
    socket.read_line(&mut info).await.expect("INFO");
    assert!(info.starts_with("INFO "), "{info}");
    assert!(info.contains("\"tls_required\":true"), "{info}");
    let connect = format!(
        "CONNECT {}\r\nPING\r\n",
        json!({"user": "intake", "pass": "intake", "verbose": false})
    );
    // The server may have hung up already: then the write fails, as it should.
    let _ = socket.get_mut().write_all(connect.as_bytes()).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the server kept a plain-text connection open");
    assert!(
        !String::from_utf8_lossy(&answer).contains("PONG"),
        "a plain-text client was served: {}",
        String::from_utf8_lossy(&answer)
    );

    // Over TLS with a certificate, but anonymous, with a key the servers do
    // not know, or with a user and password made up.
    let stranger = tempfile::NamedTempFile::new().expect("a file");
    std::fs::write(
        stranger.path(),
        nkeys::KeyPair::new_user().seed().expect("a seed"),
    )
    .expect("write the seed");
    let refused = [
        NatsSettings {
            nkey_seed_file: None,
            ..nats.settings("vetting")
        },
        NatsSettings {
            nkey_seed_file: Some(stranger.path().to_owned()),
            ..nats.settings("vetting")
        },
        NatsSettings {
            nkey_seed_file: None,
            user: Some("vetting".into()),
            password: Some("vetting".to_owned().into()),
            ..nats.settings("vetting")
        },
    ];
    for settings in refused {
        let mut client = Watched::connect(&settings, "vetting").await;
        let error = client.next_error().await;
        assert!(
            error.contains("authorization violation"),
            "{settings:?}: {error}"
        );
        assert!(!client.connected().await, "{settings:?}");
    }

    // The right key without a client certificate: the TLS handshake fails
    // before the key is even used.
    let certificate_less = NatsSettings {
        tls_client_cert_file: None,
        tls_client_key_file: None,
        ..nats.settings("vetting")
    };
    let client = Watched::connect(&certificate_less, "vetting").await;
    assert!(!client.connected().await);

    // And with all of it, it is in.
    let client = Watched::connect(&nats.settings("vetting"), "vetting").await;
    assert!(client.connected().await, "{}", nats.log());
}

#[tokio::test]
async fn a_service_is_refused_what_it_does_not_own() {
    let nats = LockedNats::start();
    let intake = Watched::connect(&nats.settings("intake"), "intake").await;
    bus::ensure_streams(&intake.jetstream(), 1)
        .await
        .expect("intake may create the streams");
    let messages = || async {
        intake
            .jetstream()
            .get_stream(names::NAME)
            .await
            .expect("intake reads the stream's info")
            .info()
            .await
            .expect("stream info")
            .state
            .messages
    };
    let before = messages().await;

    let mut notification = Watched::connect(&nats.settings("notification"), "notification").await;
    assert!(notification.connected().await);
    // Its own calls work: the refusals below are its permissions.
    notification
        .jetstream()
        .get_stream(names::NAME)
        .await
        .expect("notification reads the stream's info on its own inbox");

    // Another service's event.
    let forged = "pathway.v1.highland.referral.received";
    notification
        .client
        .publish(forged, "forged".into())
        .await
        .expect("sent");
    notification.client.flush().await.expect("flushed");
    let error = notification.next_error().await;
    assert!(
        error.contains(&format!(
            "permissions violation for publish to \"{forged}\""
        )),
        "{error}"
    );

    // An event it reads, but may not publish: a forged decision would make
    // it message a patient. (A replay goes on its own replay subject.)
    let read = "pathway.v1.highland.decision.recorded";
    notification
        .client
        .publish(read, "forged".into())
        .await
        .expect("sent");
    notification.client.flush().await.expect("flushed");
    let error = notification.next_error().await;
    assert!(
        error.contains(&format!("permissions violation for publish to \"{read}\"")),
        "{error}"
    );

    // Another service's replies (intake's answers carry patient data).
    let _subscription = notification
        .client
        .subscribe("_INBOX_intake.>")
        .await
        .expect("sent");
    let error = notification.next_error().await;
    assert!(
        error.contains("permissions violation for subscription to \"_inbox_intake.>\""),
        "{error}"
    );
    let _subscription = notification
        .client
        .subscribe("_INBOX.>")
        .await
        .expect("sent");
    let error = notification.next_error().await;
    assert!(
        error.contains("permissions violation for subscription to \"_inbox.>\""),
        "{error}"
    );

    // Deleting the stream.
    let deleted = tokio::time::timeout(
        Duration::from_secs(3),
        notification.jetstream().delete_stream(names::NAME),
    )
    .await;
    assert!(
        !matches!(deleted, Ok(Ok(_))),
        "notification deleted the stream"
    );
    let error = notification.next_error().await;
    assert!(
        error.contains("permissions violation for publish to \"$js.api.stream.delete.pathway\""),
        "{error}"
    );

    // Analytics has no purpose for a patient's identifiable data.
    let mut analytics = Watched::connect(&nats.settings("analytics"), "analytics").await;
    let asked = tokio::time::timeout(
        Duration::from_secs(3),
        analytics.client.request(REFERRAL_LOOKUP, "{}".into()),
    )
    .await;
    assert!(
        !matches!(asked, Ok(Ok(_))),
        "analytics reached intake's look-up"
    );
    let error = analytics.next_error().await;
    assert!(
        error.contains(&format!(
            "permissions violation for publish to \"{REFERRAL_LOOKUP}\""
        )),
        "{error}"
    );

    // Nothing forged reached the stream, which is still there; the server's
    // log names each refusal for the operators.
    assert_eq!(messages().await, before);
    let log = nats.log();
    assert!(
        log.contains(&format!(
            "nkey:{}\" - Publish Violation - Subject \"{forged}\"",
            nats.keys.public_key("notification")
        )),
        "{log}"
    );
}
