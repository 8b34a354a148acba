use super::*;

#[test]
fn credentials_leave_every_url_and_the_first_are_kept() {
    assert_eq!(
        split_credentials("nats://127.0.0.1:4222"),
        ("nats://127.0.0.1:4222".to_owned(), None)
    );
    assert_eq!(
        split_credentials("tls://intake:s3cr@t@a.example:4222, tls://intake:other@b.example:4222"),
        (
            "tls://a.example:4222,tls://b.example:4222".to_owned(),
            Some(("intake".to_owned(), "s3cr@t".to_owned()))
        )
    );
}

#[test]
fn each_service_has_its_own_reply_inbox() {
    let settings = NatsSettings::default();
    assert_eq!(settings.inbox_prefix_for("vetting"), "_INBOX_vetting");
    let settings = NatsSettings {
        inbox_prefix: Some("_INBOX_vetting_highland".into()),
        ..NatsSettings::default()
    };
    assert_eq!(
        settings.inbox_prefix_for("vetting"),
        "_INBOX_vetting_highland"
    );
}

#[test]
fn tls_is_required_by_the_switch_or_by_every_url() {
    let with = |url: &str, require_tls: bool| NatsSettings {
        url: url.into(),
        require_tls,
        ..NatsSettings::default()
    };
    assert!(!with("nats://a:4222", false).tls_required());
    assert!(with("nats://a:4222", true).tls_required());
    assert!(with("tls://a:4222, tls://b:4222", false).tls_required());
    assert!(!with("tls://a:4222,nats://b:4222", false).tls_required());
}

#[tokio::test]
async fn incomplete_or_unreadable_settings_stop_the_start_naming_the_setting() {
    let dir = tempfile::tempdir().expect("a folder");
    let not_pem = dir.path().join("ca.pem");
    std::fs::write(&not_pem, "not a certificate").expect("write");
    let not_a_seed = dir.path().join("garbage.nk");
    std::fs::write(&not_a_seed, "SUNOTASEED").expect("write");
    let server_seed = dir.path().join("server.nk");
    std::fs::write(
        &server_seed,
        nkeys::KeyPair::new_server().seed().expect("a seed"),
    )
    .expect("write");
    let cases = [
        (
            NatsSettings {
                nkey_seed_file: Some(dir.path().join("missing.nk")),
                ..NatsSettings::default()
            },
            "PATHWAY_NATS__NKEY_SEED_FILE: cannot read",
        ),
        (
            NatsSettings {
                nkey_seed_file: Some(not_a_seed),
                ..NatsSettings::default()
            },
            "PATHWAY_NATS__NKEY_SEED_FILE",
        ),
        (
            NatsSettings {
                nkey_seed_file: Some(server_seed),
                ..NatsSettings::default()
            },
            "PATHWAY_NATS__NKEY_SEED_FILE",
        ),
        (
            NatsSettings {
                user: Some("intake".into()),
                ..NatsSettings::default()
            },
            "PATHWAY_NATS__PASSWORD",
        ),
        (
            NatsSettings {
                password: Some("p".repeat(32).into()),
                ..NatsSettings::default()
            },
            "PATHWAY_NATS__USER",
        ),
        (
            NatsSettings {
                tls_client_cert_file: Some(dir.path().join("intake.pem")),
                ..NatsSettings::default()
            },
            "PATHWAY_NATS__TLS_CLIENT_KEY_FILE",
        ),
        (
            NatsSettings {
                tls_ca_file: Some(dir.path().join("missing.pem")),
                ..NatsSettings::default()
            },
            "PATHWAY_NATS__TLS_CA_FILE: cannot read",
        ),
        (
            NatsSettings {
                tls_ca_file: Some(not_pem),
                ..NatsSettings::default()
            },
            "PATHWAY_NATS__TLS_CA_FILE: no certificate",
        ),
    ];
    for (settings, expected) in cases {
        let error = connect_options(&settings, "intake")
            .await
            .err()
            .unwrap_or_else(|| panic!("{settings:?} is refused"));
        assert!(
            error.to_string().starts_with(expected),
            "{expected}: {error:#}"
        );
    }
}

#[tokio::test]
async fn a_user_seed_is_taken() {
    let dir = tempfile::tempdir().expect("a folder");
    let seed = dir.path().join("intake.nk");
    std::fs::write(
        &seed,
        format!("{}\n", nkeys::KeyPair::new_user().seed().expect("a seed")),
    )
    .expect("write");
    let settings = NatsSettings {
        nkey_seed_file: Some(seed),
        ..NatsSettings::default()
    };
    let (url, _) = connect_options(&settings, "intake")
        .await
        .expect("a user seed is taken");
    assert_eq!(url, settings.url);
}

#[test]
fn the_streams_max_age_is_days_zero_for_ever_and_bounded() {
    let with = |days| NatsSettings {
        stream_max_age_days: days,
        ..NatsSettings::default()
    };
    let day = Duration::from_secs(24 * 60 * 60);
    assert_eq!(
        NatsSettings::default().stream_max_age().expect("valid"),
        Some(30 * day)
    );
    assert_eq!(with(0).stream_max_age().expect("valid"), None);
    assert_eq!(with(1).stream_max_age().expect("valid"), Some(day));
    assert_eq!(
        with(3650).stream_max_age().expect("valid"),
        Some(3650 * day)
    );
    let refused = with(3651).stream_max_age().expect_err("too long");
    assert!(
        refused
            .to_string()
            .starts_with("PATHWAY_NATS__STREAM_MAX_AGE_DAYS:"),
        "{refused}"
    );

    let limits = StreamLimits::from_settings(&with(7)).expect("valid");
    assert_eq!(pathway_stream_config(limits).max_age, 7 * day);
    assert_eq!(
        pathway_stream_config(StreamLimits::keep_forever(1)).max_age,
        Duration::ZERO,
        "JetStream's 0 keeps every event"
    );
    // The dead letters and advisories keep their own ages.
    assert_eq!(dead_letter_stream_config(1).max_age, Duration::ZERO);
    assert_eq!(advisory_stream_config(1).max_age, names::ADVISORY_MAX_AGE);
}
