//! Unit tests of `mod.rs`: Notify accounts and SMTP servers by name.

use pathway_proto::board::NotificationSettings;

use std::sync::Arc;

use pathway_common::profile::Profile;

use super::webhook::SigningKeys;
use super::{Channels, Message, SendError};
use crate::domain::{Address, ChannelKind};
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

/// The channels of `settings` in the embedded default, with a fixed key (no
/// key file is written).
fn channels_of(settings: &Settings) -> anyhow::Result<Channels> {
    Channels::build(
        settings,
        Profile::Development,
        Arc::new(SigningKeys::from_seeds([1; 32], &[])),
    )
}

fn settings() -> Settings {
    let mut settings = Settings {
        notify: account("26785a09-ab16-4eb0-8407-a37497a57506"),
        ..Settings::default()
    };
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
    let channels = channels_of(&settings()).expect("the accounts are usable");
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
    let channels = channels_of(&settings()).expect("the accounts are usable");
    let board = BoardChannels::from(&NotificationSettings {
        messages: MessageGateway::Notify,
        notify_account: Some("grampian".into()),
        ..NotificationSettings::default()
    });
    let error = channels.check(&board).expect_err("no grampian account");
    assert!(error.to_string().contains("grampian"), "{error}");

    let mut bad = settings();
    bad.boards.insert("grampian".into(), board);
    let error = channels_of(&bad)
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
    assert!(channels_of(&named_default).is_err());
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

fn webhook(url: &str) -> Message {
    Message {
        reference: "0190f1d2-0000-7000-8000-000000000001".into(),
        referral_id: "0190f1d2-0000-7000-8000-00000000000a".into(),
        board: "highland".into(),
        channel: ChannelKind::Webhook,
        address: Address::Webhook(url.into()),
        subject: "Decision".into(),
        body: "Accepted".into(),
        document: Some(serde_json::json!({"outcome": "accept"})),
    }
}

fn permanent(result: Result<super::Receipt, SendError>) -> String {
    match result {
        Err(SendError::Permanent(reason)) => reason,
        other => panic!("not a permanent failure: {other:?}"),
    }
}

#[tokio::test]
async fn a_webhook_to_a_host_off_the_board_s_allow_list_is_refused_before_it_is_sent() {
    let channels = channels_of(&settings()).expect("usable");
    let board = BoardChannels {
        webhooks: crate::settings::WebhookGateway::Http,
        allowed_hosts: vec!["gp.highland.example".into(), "*.nhs.scot".into()],
        ..BoardChannels::default()
    };
    let channel = channels
        .for_board(&board, ChannelKind::Webhook, None)
        .expect("a webhook channel");
    // A referral's own reply address, or a URL the deployment configured:
    // every host is checked at send.
    let reason = permanent(channel.send(&webhook("https://elsewhere.example/in")).await);
    assert!(
        reason.contains("elsewhere.example is not on the board's allowed hosts"),
        "{reason}"
    );
    let reason = permanent(
        channel
            .send(&webhook("http://gp.highland.example/in"))
            .await,
    );
    assert!(reason.contains("must be https"), "{reason}");
    let reason = permanent(channel.send(&webhook("https://10.0.0.7/in")).await);
    assert!(reason.contains("private"), "{reason}");
    // Nothing for the allow-list to allow: no webhook at all.
    let empty = BoardChannels {
        allowed_hosts: Vec::new(),
        ..board
    };
    let channel = channels
        .for_board(&empty, ChannelKind::Webhook, None)
        .expect("a webhook channel");
    let reason = permanent(
        channel
            .send(&webhook("https://gp.highland.example/in"))
            .await,
    );
    assert!(
        reason.contains("not on the board's allowed hosts"),
        "{reason}"
    );
}

#[test]
fn production_refuses_a_board_s_file_sink_when_it_sends() {
    let settings = settings();
    let keys = Arc::new(SigningKeys::from_seeds([1; 32], &[]));
    let sink = BoardChannels::default();
    assert_eq!(sink.messages, MessageGateway::Sink);
    let development =
        Channels::build(&settings, Profile::Development, keys.clone()).expect("usable");
    let production = Channels::build(&settings, Profile::Production, keys).expect("usable");
    for kind in [
        ChannelKind::Sms,
        ChannelKind::Email,
        ChannelKind::Letter,
        ChannelKind::Webhook,
    ] {
        let channel = development
            .for_board(&sink, kind, None)
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        assert_eq!(channel.name(), "sink");
        let error = production
            .for_board(&sink, kind, None)
            .err()
            .unwrap_or_else(|| panic!("{kind:?} to the sink in production"));
        assert!(!error.is_retryable(), "{error}");
        assert!(error.to_string().contains("file sink"), "{error}");
    }
    // A board on real gateways is not refused.
    let real = BoardChannels {
        messages: MessageGateway::Notify,
        webhooks: crate::settings::WebhookGateway::Http,
        ..BoardChannels::default()
    };
    assert_eq!(
        production
            .for_board(&real, ChannelKind::Sms, None)
            .map(|c| c.name())
            .ok(),
        Some("notify")
    );
}

#[tokio::test]
async fn production_refuses_plain_http_even_to_loopback_a_board_allows() {
    let keys = Arc::new(SigningKeys::from_seeds([1; 32], &[]));
    let production = Channels::build(&settings(), Profile::Production, keys).expect("usable");
    let board = BoardChannels {
        webhooks: crate::settings::WebhookGateway::Http,
        allow_private_addresses: true,
        allowed_hosts: vec!["127.0.0.1".into()],
        ..BoardChannels::default()
    };
    let channel = production
        .for_board(&board, ChannelKind::Webhook, None)
        .expect("a webhook channel");
    let reason = permanent(channel.send(&webhook("http://127.0.0.1:9/in")).await);
    assert!(reason.contains("https only"), "{reason}");
}
