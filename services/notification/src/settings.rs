//! The notification service's settings. Every field has a default that runs
//! locally with no external account: messages and webhooks go to a folder of
//! rendered files under `var/outbox-messages/`.
//!
//! A board's channels and templates are part of its board settings
//! (`notification`, changed through intake's admin API at run time); the
//! channels here (`boards.<code>`, and `board_defaults` for every board not
//! named) apply to a board until it sets its own. Secrets stay here: the
//! Notify API key, the SMTP password, the webhook signing key's file.

use std::collections::BTreeMap;
use std::path::PathBuf;

use pathway_common::crypto::EncryptionSettings;
use pathway_common::settings::{
    AuthSettings, DatabaseSettings, HttpSettings, NatsSettings, TelemetrySettings,
};
use pathway_proto::BoardCode;
pub use pathway_proto::board::{EmailGateway, MessageGateway, ReferrerChannel, WebhookGateway};
use secrecy::SecretString;
use serde::Deserialize;

pub use crate::domain::{BoardChannels, DEFAULT_ACCOUNT};

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub http: HttpSettings,
    pub database: DatabaseSettings,
    pub nats: NatsSettings,
    pub auth: AuthSettings,
    pub telemetry: TelemetrySettings,
    /// How long a look-up of a referral's contact details waits for intake.
    pub intake_timeout_ms: u64,
    pub sender: SenderSettings,
    pub sink: SinkSettings,
    pub notify: NotifySettings,
    pub webhook: WebhookSettings,
    pub smtp: SmtpSettings,
    /// More GOV.UK Notify accounts by name (`[notify_accounts.highland]`, the
    /// fields of `[notify]`), for a deployment shared by boards that each
    /// have their own Notify service; `[notify]` is the account `default`.
    pub notify_accounts: BTreeMap<String, NotifySettings>,
    /// More SMTP servers by name (`[smtp_servers.highland]`, the fields of
    /// `[smtp]`); `[smtp]` is the server `default`.
    pub smtp_servers: BTreeMap<String, SmtpSettings>,
    /// Channels of the boards named here.
    pub boards: BTreeMap<String, BoardChannels>,
    /// Channels of every other board.
    pub board_defaults: BoardChannels,
    /// The key-encryption key of the deliveries' addresses and words:
    /// `encryption.kek_file`, and `previous_kek_files` while rotating.
    pub encryption: EncryptionSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            http: HttpSettings::with_port(8084),
            database: DatabaseSettings::sqlite_file("notification"),
            nats: NatsSettings::default(),
            auth: AuthSettings::default(),
            telemetry: TelemetrySettings::default(),
            intake_timeout_ms: 5000,
            sender: SenderSettings::default(),
            sink: SinkSettings::default(),
            notify: NotifySettings::default(),
            webhook: WebhookSettings::default(),
            smtp: SmtpSettings::default(),
            notify_accounts: BTreeMap::new(),
            smtp_servers: BTreeMap::new(),
            boards: BTreeMap::new(),
            board_defaults: BoardChannels::default(),
            encryption: EncryptionSettings::default(),
        }
    }
}

impl Settings {
    /// `board`'s channels as configured here.
    pub fn board(&self, board: BoardCode) -> &BoardChannels {
        self.boards
            .get(board.code())
            .unwrap_or(&self.board_defaults)
    }

    /// Every board's channels, the defaults included, with where they are set.
    pub fn all_boards(&self) -> impl Iterator<Item = (String, &BoardChannels)> {
        std::iter::once(("board_defaults".to_owned(), &self.board_defaults)).chain(
            self.boards
                .iter()
                .map(|(code, board)| (format!("boards.{code}"), board)),
        )
    }

    /// Every Notify account by name: `[notify]` as `default`, then
    /// `[notify_accounts.*]`.
    pub fn all_notify_accounts(&self) -> impl Iterator<Item = (&str, &NotifySettings)> {
        std::iter::once((DEFAULT_ACCOUNT, &self.notify)).chain(
            self.notify_accounts
                .iter()
                .map(|(name, account)| (name.as_str(), account)),
        )
    }

    /// Every SMTP server by name: `[smtp]` as `default`, then `[smtp_servers.*]`.
    pub fn all_smtp_servers(&self) -> impl Iterator<Item = (&str, &SmtpSettings)> {
        std::iter::once((DEFAULT_ACCOUNT, &self.smtp)).chain(
            self.smtp_servers
                .iter()
                .map(|(name, server)| (name.as_str(), server)),
        )
    }
}

/// How the sender works through deliveries.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SenderSettings {
    /// Milliseconds between two looks for deliveries to send.
    pub poll_ms: u64,
    /// Deliveries taken per look.
    pub batch: u64,
    /// Attempts per delivery, the first included, before it is `failed`.
    pub max_attempts: usize,
    /// The first back-off, doubled each attempt (with jitter) up to `max_backoff_ms`.
    pub min_backoff_ms: u64,
    pub max_backoff_ms: u64,
    /// How long a worker holds a delivery it is sending; a delivery still
    /// `sending` after that is in doubt and is looked up at the gateway.
    /// Longer than the whole retry horizon.
    pub lease_seconds: u64,
}

impl Default for SenderSettings {
    fn default() -> Self {
        Self {
            poll_ms: 1000,
            batch: 32,
            max_attempts: 5,
            min_backoff_ms: 1000,
            max_backoff_ms: 30_000,
            lease_seconds: 600,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SinkSettings {
    /// Folder of rendered messages, one file per delivery.
    pub dir: PathBuf,
}

impl Default for SinkSettings {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("var/outbox-messages"),
        }
    }
}

/// A GOV.UK Notify-compatible gateway.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct NotifySettings {
    pub base_url: String,
    /// The API key as Notify issues it: `{name}-{service id}-{secret}`.
    pub api_key: Option<SecretString>,
    pub timeout_ms: u64,
    /// Notify template ids; each template shows `((subject))` and `((body))`,
    /// which Pathway renders from its own templates.
    pub sms_template_id: String,
    pub email_template_id: String,
    pub letter_template_id: String,
    /// The bearer token Notify presents on its status callbacks
    /// (`POST /v1/callbacks/notify`); callbacks are refused while unset.
    pub callback_token: Option<SecretString>,
}

impl Default for NotifySettings {
    fn default() -> Self {
        Self {
            base_url: "https://api.notifications.service.gov.uk".into(),
            api_key: None,
            timeout_ms: 10_000,
            sms_template_id: String::new(),
            email_template_id: String::new(),
            letter_template_id: String::new(),
            callback_token: None,
        }
    }
}

/// Signed webhooks to GP systems and receiving services.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    /// The Ed25519 key webhooks are signed with: 32 random bytes as hex,
    /// created (mode 0600) on first start. Receivers verify with its public
    /// key, published at `/.well-known/pathway-signing-keys`; nothing secret
    /// is shared with them.
    pub signing_key_file: PathBuf,
    /// More key files whose public keys are published beside the signing
    /// key's, for rotation: the next key before it signs, the previous one
    /// while receivers may still see its signatures. Each is created when
    /// missing.
    pub published_key_files: Vec<PathBuf>,
    pub timeout_ms: u64,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            // Not the file of the former shared HMAC secret, which receivers
            // were given: that must never become a private key.
            signing_key_file: PathBuf::from("var/secrets/webhook-ed25519.key"),
            published_key_files: Vec::new(),
            timeout_ms: 10_000,
        }
    }
}

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain text: only for a relay on the same host or a test sink.
    None,
    /// Plain connection upgraded with STARTTLS, which the server must offer
    /// (submission, port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (submissions, port 465).
    Tls,
}

/// An SMTP server (a board's mail relay) for the `smtp` e-mail gateway.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SmtpSettings {
    /// The server's host name (checked against its certificate). Unset: no
    /// board may send e-mail over SMTP.
    pub host: Option<String>,
    pub port: u16,
    pub tls: SmtpTls,
    /// Credentials, when the server asks for them (AUTH PLAIN or LOGIN).
    pub username: Option<String>,
    pub password: Option<SecretString>,
    /// The sender, e.g. `NHS Highland pain service <pain.service@nhs.scot>`.
    pub from: String,
    /// The domain of each message's `Message-ID` (`<delivery-id@domain>`);
    /// when unset, `pathway.` and the sender's domain.
    pub message_id_domain: Option<String>,
    /// How long connecting, and then handing over one message, may take.
    pub timeout_ms: u64,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            host: None,
            port: 587,
            tls: SmtpTls::Starttls,
            username: None,
            password: None,
            from: "Pathway <pathway@localhost>".into(),
            message_id_domain: None,
            timeout_ms: 10_000,
        }
    }
}

pathway_common::service_settings!(Settings);
