//! Unit tests of `mod.rs`: Notify accounts and SMTP servers by name.

use pathway_proto::board::NotificationSettings;

use super::Channels;
use crate::domain::ChannelKind;
use crate::settings::{
    BoardChannels, EmailGateway, MessageGateway, NotifySettings, Settings, SmtpSettings,
};

fn account(service: &str) -> NotifySettings {
    NotifySettings {
        api_key: Some(
            format!("pathway_test-{service}-3d844edf-8d35-48ac-975b-e847b4f122b0").into(),
        ),
        sms_template_id: "1b7e4c0e-5b1a-4a47-9d7c-1b0a6c3f2e01".into(),
        email_template_id: "1b7e4c0e-5b1a-4a47-9d7c-1b0a6c3f2e02".into(),
        letter_template_id: "1b7e4c0e-5b1a-4a47-9d7c-1b0a6c3f2e03".into(),
        ..NotifySettings::default()
    }
}

fn settings() -> Settings {
    let mut settings = Settings {
        notify: account("26785a09-ab16-4eb0-8407-a37497a57506"),
        ..Settings::default()
    };
    // A secret given, so no key file is written.
    settings.webhook.signing_secret = Some("unit-test-webhook-secret".to_owned().into());
    settings.notify_accounts.insert(
        "highland".into(),
        account("5f0c7f8e-7e0b-4c39-9a57-2a6f0d2b8c11"),
    );
    settings.smtp_servers.insert(
        "highland".into(),
        SmtpSettings {
            host: Some("smtp.highland.example.org".into()),
            ..SmtpSettings::default()
        },
    );
    settings
}

#[test]
fn a_board_sends_through_the_account_it_names_and_default_when_it_names_none() {
    let board = BoardChannels {
        messages: MessageGateway::Notify,
        email: Some(EmailGateway::Smtp),
        ..BoardChannels::default()
    };
    assert_eq!(
        Channels::account_for(&board, ChannelKind::Sms).as_deref(),
        Some("default")
    );
    assert_eq!(
        Channels::account_for(&board, ChannelKind::Email).as_deref(),
        Some("default")
    );
    assert_eq!(Channels::account_for(&board, ChannelKind::Webhook), None);
    let highland = BoardChannels {
        notify_account: Some("highland".into()),
        smtp_server: Some("highland".into()),
        ..board
    };
    assert_eq!(
        Channels::account_for(&highland, ChannelKind::Letter).as_deref(),
        Some("highland")
    );
    let channels = Channels::from_settings(&settings()).expect("the accounts are usable");
    channels.check(&highland).expect("highland has both");
    assert!(
        channels
            .for_board(&highland, ChannelKind::Sms, None)
            .is_ok()
    );
    assert!(
        channels
            .for_board(&highland, ChannelKind::Email, None)
            .is_ok()
    );
    // `[smtp]` has no host: the default server cannot send.
    assert!(
        channels
            .for_board(&highland, ChannelKind::Email, Some("default"))
            .is_err()
    );
}

#[test]
fn an_account_the_deployment_lacks_is_refused_by_name() {
    let channels = Channels::from_settings(&settings()).expect("the accounts are usable");
    let board = BoardChannels::from(&NotificationSettings {
        messages: MessageGateway::Notify,
        notify_account: Some("grampian".into()),
        ..NotificationSettings::default()
    });
    let error = channels.check(&board).expect_err("no grampian account");
    assert!(error.to_string().contains("grampian"), "{error}");

    let mut bad = settings();
    bad.boards.insert("grampian".into(), board);
    let error = Channels::from_settings(&bad)
        .err()
        .expect("no start with a missing account");
    let text = format!("{error:#}");
    assert!(text.contains("boards.grampian"), "{text}");
    assert!(text.contains("notify_accounts.grampian"), "{text}");

    let mut named_default = settings();
    named_default.notify_accounts.insert(
        "default".into(),
        account("26785a09-ab16-4eb0-8407-a37497a57506"),
    );
    assert!(Channels::from_settings(&named_default).is_err());
}

#[test]
fn board_settings_check_the_shape_of_account_names_only() {
    let section = NotificationSettings {
        notify_account: Some("NHS Highland".into()),
        smtp_server: Some("any-server_1".into()),
        ..NotificationSettings::default()
    };
    let fields: Vec<String> = section.problems().into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, ["notification.notify_account"]);
    let old: NotificationSettings =
        serde_json::from_str(r#"{"messages": "notify"}"#).expect("a section without names");
    assert_eq!(old.notify_account, None);
    assert_eq!(BoardChannels::from(&old).notify_account(), "default");
}
