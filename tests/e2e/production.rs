//! The production profile (`pathway_common::profile`), service by service:
//! with what every service needs set, each service's own unsafe settings are
//! refused by name (vetting's and analytics' cookies, notification's file
//! sink and plain-http endpoints, the client credentials of those that ask
//! intake), and a deployment with none of them starts clean. What every service needs is tested in `pathway_common`; the real
//! binary refusing the embedded default in `pathway-intake`'s tests.

use pathway_common::crypto::EncryptionSettings;
use pathway_common::settings::{AuthSettings, DatabaseSettings, NatsSettings};
use pathway_common::startup::{Service, check_production};
use pathway_proto::board::{EmailGateway, MessageGateway, WebhookGateway};

fn auth() -> AuthSettings {
    AuthSettings {
        jwks_url: Some("https://idp.highland.example/jwks.json".into()),
        issuer: Some("https://idp.highland.example".into()),
        audience: Some("pathway".into()),
        token_pasting: false,
        ..AuthSettings::default()
    }
}

/// `auth()` with the client credentials a service that asks intake needs.
fn asking_auth() -> AuthSettings {
    AuthSettings {
        token_url: Some("https://idp.highland.example/token".into()),
        client_id: Some("pathway-service".into()),
        client_secret: Some("secret".to_owned().into()),
        ..auth()
    }
}

fn nats() -> NatsSettings {
    NatsSettings {
        url: "tls://nats.highland.example:4222".into(),
        credentials_file: Some("/run/secrets/service.creds".into()),
        replicas: 3,
        ..NatsSettings::default()
    }
}

fn database(service: &str) -> DatabaseSettings {
    DatabaseSettings {
        url: format!("postgres://pathway@db.highland.example/{service}"),
        max_connections: 10,
    }
}

/// The settings `S` is refused for, in production.
fn refused<S: Service>(settings: &S::Settings) -> Vec<String> {
    match check_production::<S>(settings) {
        Ok(()) => Vec::new(),
        Err(error) => error
            .to_string()
            .lines()
            .skip(1)
            .filter_map(|line| line.trim().split(':').next().map(str::to_owned))
            .collect(),
    }
}

#[test]
fn vetting_and_analytics_need_secure_cookies() {
    use pathway_analytics::application::Analytics;
    use pathway_vetting::application::Vetting;

    let mut vetting = pathway_vetting::settings::Settings {
        auth: asking_auth(),
        nats: nats(),
        database: database("vetting"),
        encryption: EncryptionSettings::with_kek_file("/run/secrets/vetting-kek"),
        ..Default::default()
    };
    let mut without_kek = vetting.clone();
    without_kek.encryption = EncryptionSettings::default();
    without_kek.secure_cookies = Some(true);
    assert_eq!(
        refused::<Vetting>(&without_kek),
        ["PATHWAY_VETTING__ENCRYPTION__KEK_FILE"]
    );
    assert_eq!(
        refused::<Vetting>(&vetting),
        ["PATHWAY_VETTING__SECURE_COOKIES"]
    );
    vetting.secure_cookies = Some(true);
    assert_eq!(refused::<Vetting>(&vetting), Vec::<String>::new());
    // Unset, the cookie is `Secure` unless the service listens on loopback.
    vetting.secure_cookies = None;
    vetting.http.host = std::net::Ipv4Addr::UNSPECIFIED.into();
    assert!(vetting.secure_cookies());
    assert_eq!(refused::<Vetting>(&vetting), Vec::<String>::new());
    vetting.secure_cookies = Some(false);
    assert_eq!(
        refused::<Vetting>(&vetting),
        ["PATHWAY_VETTING__SECURE_COOKIES"]
    );

    let mut analytics = pathway_analytics::settings::Settings {
        auth: auth(),
        nats: nats(),
        database: database("analytics"),
        ..Default::default()
    };
    assert_eq!(
        refused::<Analytics>(&analytics),
        ["PATHWAY_ANALYTICS__SECURE_COOKIES"]
    );
    analytics.secure_cookies = Some(true);
    assert_eq!(refused::<Analytics>(&analytics), Vec::<String>::new());
}

#[test]
fn intake_needs_what_every_service_needs_and_decision_client_credentials() {
    use pathway_decision::application::Decisions;
    use pathway_intake::application::Intake;

    let mut intake = pathway_intake::settings::Settings {
        auth: auth(),
        nats: nats(),
        database: database("intake"),
        patient_page_url: "https://pathway.highland.example".into(),
        encryption: EncryptionSettings::with_kek_file("/run/secrets/intake-kek"),
        ..Default::default()
    };
    assert_eq!(refused::<Intake>(&intake), Vec::<String>::new());
    // The identifiable columns are encrypted under a key the board keeps:
    // production never makes one up.
    let mut without_kek = intake.clone();
    without_kek.encryption = EncryptionSettings::default();
    assert_eq!(
        refused::<Intake>(&without_kek),
        ["PATHWAY_INTAKE__ENCRYPTION__KEK_FILE"]
    );
    // The opt-in links patients are sent are never plain http.
    intake.patient_page_url = "http://pathway.highland.example".into();
    assert_eq!(
        refused::<Intake>(&intake),
        ["PATHWAY_INTAKE__PATIENT_PAGE_URL"]
    );
    let mut decision = pathway_decision::settings::Settings {
        auth: asking_auth(),
        nats: nats(),
        database: database("decision"),
        ..Default::default()
    };
    assert_eq!(refused::<Decisions>(&decision), Vec::<String>::new());
    // Decision asks intake about referrers: a fixed token is refused.
    decision.auth = auth();
    decision.auth.service_token = Some("a.static.jwt".to_owned().into());
    assert_eq!(
        refused::<Decisions>(&decision),
        [
            "PATHWAY_AUTH__TOKEN_URL",
            "PATHWAY_AUTH__CLIENT_ID",
            "PATHWAY_AUTH__CLIENT_SECRET",
            "PATHWAY_AUTH__SERVICE_TOKEN",
        ]
    );
}

#[test]
fn notification_refuses_the_file_sink_and_plain_http() {
    use pathway_notification::application::Notifications;
    use pathway_notification::settings::{BoardChannels, Settings};

    let https_channels = BoardChannels {
        messages: MessageGateway::Notify,
        email: Some(EmailGateway::Smtp),
        webhooks: WebhookGateway::Http,
        gp_webhook_url: Some("https://gp.highland.example/pathway".into()),
        ..BoardChannels::default()
    };
    let mut settings = Settings {
        auth: auth(),
        nats: nats(),
        database: database("notification"),
        board_defaults: https_channels.clone(),
        encryption: EncryptionSettings::with_kek_file("/run/secrets/notification-kek"),
        ..Default::default()
    };
    settings.notify.base_url = "https://api.notifications.service.gov.uk".into();
    // Notification reads contact details from intake: it needs client
    // credentials, as vetting and decision do.
    assert_eq!(
        refused::<Notifications>(&settings),
        [
            "PATHWAY_AUTH__TOKEN_URL",
            "PATHWAY_AUTH__CLIENT_ID",
            "PATHWAY_AUTH__CLIENT_SECRET",
        ]
    );
    settings.auth = asking_auth();
    assert_eq!(refused::<Notifications>(&settings), Vec::<String>::new());
    let mut without_kek = settings.clone();
    without_kek.encryption = EncryptionSettings::default();
    assert_eq!(
        refused::<Notifications>(&without_kek),
        ["PATHWAY_NOTIFICATION__ENCRYPTION__KEK_FILE"]
    );

    // The embedded default's channels: every message to the file sink.
    let mut sink = settings.clone();
    sink.board_defaults = BoardChannels::default();
    assert_eq!(
        refused::<Notifications>(&sink),
        [
            "PATHWAY_NOTIFICATION__BOARD_DEFAULTS__MESSAGES",
            "PATHWAY_NOTIFICATION__BOARD_DEFAULTS__WEBHOOKS",
        ]
    );

    // One board's own channels, in clear.
    let mut clear = settings.clone();
    let mut fife = https_channels;
    fife.email = Some(EmailGateway::Sink);
    fife.gp_webhook_url = Some("http://gp.fife.example/pathway".into());
    fife.receiving_services.insert(
        "pain_management_programme".into(),
        "http://ppp.example/in".into(),
    );
    clear.boards.insert("fife".into(), fife);
    clear.notify.base_url = "http://notify.example".into();
    assert_eq!(
        refused::<Notifications>(&clear),
        [
            "PATHWAY_NOTIFICATION__BOARDS__FIFE__EMAIL",
            "PATHWAY_NOTIFICATION__BOARDS__FIFE__GP_WEBHOOK_URL",
            "PATHWAY_NOTIFICATION__BOARDS__FIFE__RECEIVING_SERVICES__PAIN_MANAGEMENT_PROGRAMME",
            "PATHWAY_NOTIFICATION__NOTIFY__BASE_URL",
        ]
    );
}

#[test]
fn every_service_refuses_nats_in_clear_or_without_its_own_credentials() {
    use pathway_analytics::application::Analytics;
    use pathway_vetting::application::Vetting;

    // Its own user over TLS, as deploy/nats/accounts.conf has it: fine.
    let own_user = NatsSettings {
        url: "tls://nats-1.highland.example:4222,tls://nats-2.highland.example:4222".into(),
        user: Some("vetting".into()),
        password: Some("x".repeat(32).into()),
        tls_ca_file: Some("/etc/pathway/nats-ca.pem".into()),
        replicas: 3,
        ..NatsSettings::default()
    };
    let mut vetting = pathway_vetting::settings::Settings {
        auth: asking_auth(),
        nats: own_user.clone(),
        database: database("vetting"),
        secure_cookies: Some(true),
        encryption: EncryptionSettings::with_kek_file("/run/secrets/vetting-kek"),
        ..Default::default()
    };
    assert_eq!(refused::<Vetting>(&vetting), Vec::<String>::new());

    // In clear, and anonymous.
    vetting.nats = NatsSettings {
        url: "nats://nats-1.highland.example:4222".into(),
        replicas: 3,
        ..NatsSettings::default()
    };
    assert_eq!(
        refused::<Vetting>(&vetting),
        ["PATHWAY_NATS__URL", "PATHWAY_NATS__CREDENTIALS_FILE"]
    );
    let text = check_production::<Vetting>(&vetting)
        .expect_err("refused")
        .to_string();
    assert!(text.contains("PATHWAY_NATS__URL: must be tls://"), "{text}");
    assert!(
        text.contains("production never connects anonymously"),
        "{text}"
    );

    // One server of two in clear; a user without a password; a password
    // in the URL; the shared inbox every client may read.
    let mut analytics = pathway_analytics::settings::Settings {
        auth: auth(),
        nats: NatsSettings {
            url: "tls://nats-1.highland.example:4222,nats://analytics:pw@nats-2.highland.example:4222"
                .into(),
            user: Some("analytics".into()),
            inbox_prefix: Some("_INBOX".into()),
            ..own_user.clone()
        },
        database: database("analytics"),
        secure_cookies: Some(true),
        ..Default::default()
    };
    analytics.nats.password = None;
    let text = check_production::<Analytics>(&analytics)
        .expect_err("refused")
        .to_string();
    assert_eq!(
        refused::<Analytics>(&analytics),
        [
            "PATHWAY_NATS__URL",
            "PATHWAY_NATS__URL",
            "PATHWAY_NATS__PASSWORD",
            "PATHWAY_NATS__INBOX_PREFIX",
        ],
        "{text}"
    );
    assert!(!text.contains(":pw@"), "no password in the message: {text}");
}
