use serde::Deserialize;

use super::*;
use crate::settings::{
    AuthSettings, DatabaseSettings, HttpSettings, NatsSettings, TelemetrySettings,
};

#[derive(Debug, Clone, Deserialize)]
struct Settings {
    http: HttpSettings,
    database: DatabaseSettings,
    nats: NatsSettings,
    auth: AuthSettings,
    telemetry: TelemetrySettings,
}

crate::service_settings!(Settings);

impl Default for Settings {
    /// The embedded default, as `make run` starts intake.
    fn default() -> Self {
        Self {
            http: HttpSettings::default(),
            database: DatabaseSettings::sqlite_file("intake"),
            nats: NatsSettings::default(),
            auth: AuthSettings::default(),
            telemetry: TelemetrySettings::default(),
        }
    }
}

/// A deployment with everything production asks for.
fn safe() -> Settings {
    let mut settings = Settings::default();
    settings.auth.jwks_url = Some("https://idp.highland.example/jwks.json".into());
    settings.auth.issuer = Some("https://idp.highland.example".into());
    settings.auth.audience = Some("pathway".into());
    settings.auth.token_pasting = false;
    settings.nats.url = "tls://nats.highland.example:4222".into();
    settings.nats.credentials_file = Some("/run/secrets/intake.creds".into());
    settings.nats.replicas = 3;
    settings.database.url = "postgres://pathway@db.highland.example/intake".into();
    settings
}

fn refused(settings: &Settings) -> Vec<String> {
    common_problems("intake", settings)
        .into_iter()
        .map(|p| p.setting)
        .collect()
}

#[test]
fn a_safe_deployment_has_no_problem() {
    assert_eq!(refused(&safe()), Vec::<String>::new());
}

#[test]
fn the_embedded_default_is_refused_on_every_count() {
    assert_eq!(
        refused(&Settings::default()),
        [
            "PATHWAY_AUTH__JWKS_URL",
            "PATHWAY_AUTH__ISSUER",
            "PATHWAY_AUTH__AUDIENCE",
            "PATHWAY_AUTH__TOKEN_PASTING",
            "PATHWAY_NATS__URL",
            "PATHWAY_NATS__CREDENTIALS_FILE",
            "PATHWAY_NATS__REPLICAS",
            "PATHWAY_INTAKE__DATABASE__URL",
        ]
    );
}

#[test]
fn each_unsafe_setting_is_refused_alone() {
    type Spoil = fn(&mut Settings);
    let cases: [(&str, Spoil); 12] = [
        ("PATHWAY_AUTH__TOKEN_PASTING", |s| {
            s.auth.token_pasting = true
        }),
        ("PATHWAY_AUTH__JWKS_URL", |s| s.auth.jwks_url = None),
        ("PATHWAY_AUTH__JWKS_URL", |s| {
            s.auth.jwks_url = Some("http://idp.highland.example/jwks.json".into())
        }),
        ("PATHWAY_AUTH__ISSUER", |s| {
            s.auth.issuer = Some(String::new())
        }),
        ("PATHWAY_AUTH__AUDIENCE", |s| s.auth.audience = None),
        ("PATHWAY_NATS__URL", |s| {
            s.nats.url = "nats://nats.highland.example:4222".into()
        }),
        ("PATHWAY_NATS__CREDENTIALS_FILE", |s| {
            s.nats.credentials_file = None
        }),
        ("PATHWAY_NATS__REPLICAS", |s| s.nats.replicas = 1),
        ("PATHWAY_NATS__STREAM_MAX_AGE_DAYS", |s| {
            s.nats.stream_max_age_days = 0
        }),
        ("PATHWAY_NATS__STREAM_MAX_AGE_DAYS", |s| {
            s.nats.stream_max_age_days = 6
        }),
        ("PATHWAY_NATS__STREAM_MAX_AGE_DAYS", |s| {
            s.nats.stream_max_age_days = 3651
        }),
        ("PATHWAY_HTTP__RATE_LIMIT_PER_SECOND", |s| {
            s.http.rate_limit_per_second = 0
        }),
    ];
    for (setting, spoil) in cases {
        let mut settings = safe();
        spoil(&mut settings);
        assert_eq!(refused(&settings), [setting], "{setting}");
    }
    let mut sqlite = safe();
    sqlite.database.url = "sqlite://var/intake.db".into();
    assert_eq!(refused(&sqlite), ["PATHWAY_INTAKE__DATABASE__URL"]);
}

#[test]
fn the_refusal_names_every_setting_and_what_it_must_be() {
    let text = refusal("intake", &common_problems("intake", &Settings::default()));
    assert!(
        text.starts_with("intake will not start with PATHWAY_PROFILE=production: 8 settings"),
        "{text}"
    );
    assert!(
        text.contains("\n  PATHWAY_NATS__URL: must be tls://"),
        "{text}"
    );
    assert!(
        !text.contains("t0:t0@"),
        "no credentials in the message: {text}"
    );
}

#[test]
fn the_profile_is_read_from_one_switch() {
    assert_eq!(Profile::parse(None).expect("unset"), Profile::Development);
    assert_eq!(
        Profile::parse(Some("development")).expect("dev"),
        Profile::Development
    );
    assert_eq!(
        Profile::parse(Some("production")).expect("prod"),
        Profile::Production
    );
    let error = Profile::parse(Some("prod"))
        .expect_err("a typo")
        .to_string();
    assert!(error.contains("PATHWAY_PROFILE is \"prod\""), "{error}");
}

#[test]
fn a_service_that_asks_another_needs_client_credentials_not_a_fixed_token() {
    let mut auth = safe().auth;
    assert_eq!(
        service_token_problems(&auth)
            .into_iter()
            .map(|p| p.setting)
            .collect::<Vec<_>>(),
        [
            "PATHWAY_AUTH__TOKEN_URL",
            "PATHWAY_AUTH__CLIENT_ID",
            "PATHWAY_AUTH__CLIENT_SECRET"
        ]
    );
    auth.token_url = Some("https://idp.highland.example/token".into());
    auth.client_id = Some("vetting".into());
    auth.client_secret = Some("secret".to_owned().into());
    assert_eq!(service_token_problems(&auth), Vec::new());
    auth.service_token = Some("a.static.jwt".to_owned().into());
    auth.token_url = Some("http://idp.highland.example/token".into());
    let refused: Vec<String> = service_token_problems(&auth)
        .into_iter()
        .map(|p| p.setting)
        .collect();
    assert_eq!(
        refused,
        ["PATHWAY_AUTH__TOKEN_URL", "PATHWAY_AUTH__SERVICE_TOKEN"]
    );
}

#[test]
fn nats_must_be_encrypted_and_this_services_own() {
    type Spoil = fn(&mut NatsSettings);
    let cases: [(&[&str], Spoil); 10] = [
        (&[], |n| {
            n.credentials_file = None;
            n.nkey_seed_file = Some("/run/secrets/intake.nk".into());
        }),
        (&["PATHWAY_NATS__URL"], |n| {
            n.url = "tls://a.example:4222,nats://b.example:4222".into()
        }),
        (&[], |n| {
            n.url = "nats://a.example:4222".into();
            n.require_tls = true;
        }),
        (&["PATHWAY_NATS__URL"], |n| {
            n.url = "tls://intake:secret@a.example:4222".into()
        }),
        (&["PATHWAY_NATS__CREDENTIALS_FILE"], |n| {
            n.credentials_file = None;
            n.user = Some(" ".into());
        }),
        (&[], |n| {
            n.credentials_file = None;
            n.user = Some("intake".into());
            n.password = Some("p".repeat(MIN_NATS_PASSWORD_LEN).into());
        }),
        (&["PATHWAY_NATS__PASSWORD"], |n| {
            n.credentials_file = None;
            n.user = Some("intake".into());
        }),
        (&["PATHWAY_NATS__PASSWORD"], |n| {
            n.user = Some("intake".into());
            n.password = Some("p".repeat(MIN_NATS_PASSWORD_LEN - 1).into());
        }),
        (&["PATHWAY_NATS__TLS_CLIENT_KEY_FILE"], |n| {
            n.tls_client_cert_file = Some("/etc/pathway/intake.pem".into())
        }),
        (&["PATHWAY_NATS__INBOX_PREFIX"], |n| {
            n.inbox_prefix = Some("_INBOX".into())
        }),
    ];
    for (expected, spoil) in cases {
        let mut settings = safe();
        spoil(&mut settings.nats);
        assert_eq!(refused(&settings), expected, "{:?}", settings.nats);
    }
}

#[test]
fn production_keeps_the_stream_long_enough_for_a_rebuild_and_not_for_ever() {
    for (days, why) in [
        (0, "must not be 0"),
        (1, "at least 7 days"),
        (6, "at least 7 days"),
        (3651, "at most 3650"),
    ] {
        let mut settings = safe();
        settings.nats.stream_max_age_days = days;
        let problems = common_problems("intake", &settings);
        assert_eq!(problems.len(), 1, "{days}");
        assert_eq!(problems[0].setting, "PATHWAY_NATS__STREAM_MAX_AGE_DAYS");
        assert!(
            problems[0].must.contains(why),
            "{days}: {}",
            problems[0].must
        );
    }
    for days in [7, 30, 3650] {
        let mut settings = safe();
        settings.nats.stream_max_age_days = days;
        assert_eq!(refused(&settings), Vec::<String>::new(), "{days}");
    }
}
