//! The channels a delivery can go out on, behind one trait: a GOV.UK
//! Notify-compatible gateway ([`notify`]), SMTP e-mail ([`smtp`]), signed
//! webhooks ([`webhook`]) and a local folder of rendered messages ([`sink`]),
//! the embedded default.
//!
//! Whatever a board's settings say, a webhook goes only to a host on the
//! board's `allowed_hosts`, over https (plain http only to loopback, for a
//! board that allows private addresses), and, in production, a board's
//! messages never go to the file sink nor over plain http: a delivery that
//! would is a permanent failure, recorded with the reason.

pub mod http;
pub mod notify;
pub mod sink;
pub mod smtp;
pub mod webhook;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use pathway_common::profile::Profile;
use pathway_proto::board::{is_account_name, webhook_url_problem};

use crate::domain::{Address, ChannelKind};
use crate::settings::{
    BoardChannels, DEFAULT_ACCOUNT, EmailGateway, MessageGateway, Settings, WebhookGateway,
};

/// One message, ready to go.
#[derive(Debug, Clone)]
pub struct Message {
    /// The delivery id: the gateway's `reference` and the webhook's delivery header.
    pub reference: String,
    pub referral_id: String,
    pub board: String,
    pub channel: ChannelKind,
    pub address: Address,
    pub subject: String,
    pub body: String,
    /// The JSON document a webhook posts.
    pub document: Option<serde_json::Value>,
}

/// What a gateway says when it takes a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The gateway's own id for it.
    pub gateway_id: String,
}

/// Why a send failed, which decides whether it is tried again.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SendError {
    /// Worth another try: a 5xx, a timeout, a broken connection. `in_doubt`
    /// when the gateway may have taken the message all the same (the request
    /// went out and no answer came back).
    #[error("{reason}")]
    Transient { reason: String, in_doubt: bool },
    /// 429: try again after the delay the gateway asks for.
    #[error("{reason}")]
    Throttled {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Never worth another try (a 4xx, a bad address, no configuration).
    #[error("{0}")]
    Permanent(String),
}

impl SendError {
    pub fn is_retryable(&self) -> bool {
        !matches!(self, SendError::Permanent(_))
    }

    pub fn in_doubt(&self) -> bool {
        matches!(self, SendError::Transient { in_doubt: true, .. })
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SendError::Throttled { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Classify a request that got no answer.
    pub fn from_reqwest(error: &reqwest::Error) -> Self {
        if let Some(refused) = http::refused_address(error) {
            return SendError::Permanent(refused.to_string());
        }
        // A connection that was never made cannot have delivered anything.
        let in_doubt = !error.is_connect();
        SendError::Transient {
            reason: format!(
                "{}: {error}",
                if error.is_timeout() {
                    "timed out"
                } else {
                    "no answer"
                }
            ),
            in_doubt,
        }
    }

    /// Classify an HTTP answer that was not a success.
    pub fn from_status(
        status: reqwest::StatusCode,
        retry_after: Option<Duration>,
        body: &str,
    ) -> Self {
        let body: String = body.chars().take(500).collect();
        if status.is_redirection() {
            // Following it would send the message somewhere nobody named;
            // trying again gets the same answer.
            return SendError::Permanent(format!(
                "the gateway answered {status}, a redirect, and redirects are not followed: {body}"
            ));
        }
        let reason = format!("the gateway answered {status}: {body}");
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            SendError::Throttled {
                reason,
                retry_after,
            }
        } else if status.is_server_error() || status == reqwest::StatusCode::REQUEST_TIMEOUT {
            SendError::Transient {
                reason,
                in_doubt: false,
            }
        } else {
            SendError::Permanent(reason)
        }
    }
}

/// A `Retry-After` header in seconds (HTTP dates are not used by gateways we know).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// A way out for messages.
#[async_trait]
pub trait Channel: Send + Sync {
    /// The gateway's name in delivery rows: `notify`, `smtp`, `webhook`, `sink`.
    fn name(&self) -> &'static str;

    /// Hand the message over.
    async fn send(&self, message: &Message) -> Result<Receipt, SendError>;

    /// Whether the gateway already has the message with this reference, for a
    /// send in doubt. `Ok(None)` when it has not, or cannot say (the message
    /// is then sent again with the same reference, for the receiver to drop).
    async fn lookup(&self, message: &Message) -> Result<Option<Receipt>, SendError>;
}

/// Every configured channel, and which one a board's delivery takes.
#[derive(Clone)]
pub struct Channels {
    sink: Arc<dyn Channel>,
    /// Each Notify account by name (`default` is `[notify]`), `None` for an
    /// account with no API key.
    notify: BTreeMap<String, Option<Arc<dyn Channel>>>,
    /// Each SMTP server by name (`default` is `[smtp]`), `None` for a server
    /// with no host.
    smtp: BTreeMap<String, Option<Arc<dyn Channel>>>,
    /// Webhooks to public addresses only.
    webhook: Arc<dyn Channel>,
    /// Webhooks of boards that allow private addresses.
    webhook_any_address: Arc<dyn Channel>,
    /// The keys webhooks are signed with and the public keys published.
    keys: Arc<webhook::SigningKeys>,
    /// Running with `PATHWAY_PROFILE=production`: no board's messages go to
    /// the file sink or over plain http, whatever its settings say.
    production: bool,
}

impl Channels {
    /// The channels of `settings`, under the profile `PATHWAY_PROFILE`
    /// names, signing webhooks with the keys in `settings.webhook`'s files.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let keys = webhook::SigningKeys::load(&settings.webhook)?;
        Self::build(settings, Profile::from_env()?, Arc::new(keys))
    }

    /// The channels of `settings` under `profile`, signing with `keys`.
    pub fn build(
        settings: &Settings,
        profile: Profile,
        keys: Arc<webhook::SigningKeys>,
    ) -> anyhow::Result<Self> {
        // The HTTP clients below need rustls's provider, whoever builds them.
        pathway_common::tls::install_crypto_provider();
        anyhow::ensure!(
            !settings.notify_accounts.contains_key(DEFAULT_ACCOUNT),
            "notify_accounts.{DEFAULT_ACCOUNT}: the account named {DEFAULT_ACCOUNT} is [notify]"
        );
        anyhow::ensure!(
            !settings.smtp_servers.contains_key(DEFAULT_ACCOUNT),
            "smtp_servers.{DEFAULT_ACCOUNT}: the server named {DEFAULT_ACCOUNT} is [smtp]"
        );
        let mut notify = BTreeMap::new();
        for (name, account) in settings.all_notify_accounts() {
            let section = if name == DEFAULT_ACCOUNT {
                "notify".to_owned()
            } else {
                format!("notify_accounts.{name}")
            };
            anyhow::ensure!(
                is_account_name(name),
                "{section}: an account name is 1 to 64 lower-case letters, digits, hyphens or underscores"
            );
            let client: Option<Arc<dyn Channel>> = match &account.api_key {
                Some(key) => Some(Arc::new(
                    notify::NotifyClient::new(account, key)
                        .with_context(|| format!("[{section}]"))?,
                )),
                None => None,
            };
            notify.insert(name.to_owned(), client);
        }
        let mut smtp = BTreeMap::new();
        for (name, server) in settings.all_smtp_servers() {
            let section = if name == DEFAULT_ACCOUNT {
                "smtp".to_owned()
            } else {
                format!("smtp_servers.{name}")
            };
            anyhow::ensure!(
                is_account_name(name),
                "{section}: a server name is 1 to 64 lower-case letters, digits, hyphens or underscores"
            );
            let client: Option<Arc<dyn Channel>> = match smtp::SmtpClient::from_settings(server)
                .with_context(|| format!("[{section}]"))?
            {
                Some(client) => Some(Arc::new(client)),
                None => None,
            };
            smtp.insert(name.to_owned(), client);
        }
        let channels = Self {
            sink: Arc::new(sink::Sink::new(settings.sink.dir.clone())),
            notify,
            smtp,
            webhook: Arc::new(webhook::WebhookClient::new(
                &settings.webhook,
                keys.clone(),
                http::Addresses::Public,
            )?),
            webhook_any_address: Arc::new(webhook::WebhookClient::new(
                &settings.webhook,
                keys.clone(),
                http::Addresses::Any,
            )?),
            keys,
            production: profile == Profile::Production,
        };
        for (section, board) in settings.all_boards() {
            channels
                .check(board)
                .with_context(|| format!("[{section}] cannot be used"))?;
        }
        Ok(channels)
    }

    /// The keys webhooks are signed with, and the public keys published.
    pub fn signing_keys(&self) -> &webhook::SigningKeys {
        &self.keys
    }

    /// Whether this deployment has a Notify account of this name (with or
    /// without an API key).
    pub fn knows_notify_account(&self, name: &str) -> bool {
        self.notify.contains_key(name)
    }

    /// Whether this deployment has an SMTP server of this name.
    pub fn knows_smtp_server(&self, name: &str) -> bool {
        self.smtp.contains_key(name)
    }

    /// Whether the Notify account `name` can send (it has an API key).
    pub fn has_notify(&self, name: &str) -> bool {
        self.notify.get(name).is_some_and(Option::is_some)
    }

    /// Whether the SMTP server `name` can send (it has a host).
    pub fn has_smtp(&self, name: &str) -> bool {
        self.smtp.get(name).is_some_and(Option::is_some)
    }

    /// The account a message on `kind` goes out through with `board`'s
    /// channels: the Notify account or the SMTP server's name; `None` for the
    /// folder and webhooks, which have no accounts.
    pub fn account_for(board: &BoardChannels, kind: ChannelKind) -> Option<String> {
        let notify = || Some(board.notify_account().to_owned());
        match kind {
            ChannelKind::Webhook => None,
            ChannelKind::Email => match board.email_gateway() {
                EmailGateway::Sink => None,
                EmailGateway::Notify => notify(),
                EmailGateway::Smtp => Some(board.smtp_server().to_owned()),
            },
            ChannelKind::Sms | ChannelKind::Letter => match board.messages {
                MessageGateway::Sink => None,
                MessageGateway::Notify => notify(),
            },
        }
    }

    /// The channel a message on `kind` goes out on, with `board`'s channels,
    /// through the Notify account or SMTP server named `account` (for a
    /// delivery that already went out through one), or else the board's own.
    pub fn for_board(
        &self,
        board: &BoardChannels,
        kind: ChannelKind,
        account: Option<&str>,
    ) -> Result<Arc<dyn Channel>, SendError> {
        let notify = || {
            let name = account.unwrap_or(board.notify_account());
            self.notify.get(name).cloned().flatten().ok_or_else(|| {
                SendError::Permanent(format!(
                    "the Notify account {name} is not configured (an API key in [notify] or [notify_accounts.{name}])"
                ))
            })
        };
        let sink = || {
            if self.production {
                return Err(SendError::Permanent(format!(
                    "the board's {} messages go to the file sink, which production refuses: it keeps patients' messages on this machine and sends nothing (set the board's notification channels)",
                    kind.as_str()
                )));
            }
            Ok(self.sink.clone())
        };
        match kind {
            ChannelKind::Webhook => match board.webhooks {
                WebhookGateway::Sink => sink(),
                WebhookGateway::Http => Ok(Arc::new(Guarded {
                    inner: if board.allow_private_addresses {
                        self.webhook_any_address.clone()
                    } else {
                        self.webhook.clone()
                    },
                    allowed_hosts: board.allowed_hosts.clone(),
                    allow_private_addresses: board.allow_private_addresses,
                    production: self.production,
                })),
            },
            ChannelKind::Email => match board.email_gateway() {
                EmailGateway::Sink => sink(),
                EmailGateway::Notify => notify(),
                EmailGateway::Smtp => {
                    let name = account.unwrap_or(board.smtp_server());
                    self.smtp.get(name).cloned().flatten().ok_or_else(|| {
                        SendError::Permanent(format!(
                            "the SMTP server {name} is not configured (a host in [smtp] or [smtp_servers.{name}])"
                        ))
                    })
                }
            },
            ChannelKind::Sms | ChannelKind::Letter => match board.messages {
                MessageGateway::Sink => sink(),
                MessageGateway::Notify => notify(),
            },
        }
    }
}

/// A board's webhooks, refused before anything is sent when the URL is not
/// one the board may send to: a host off its allow-list, a non-public
/// address it does not allow, plain http (in production, even to loopback).
struct Guarded {
    inner: Arc<dyn Channel>,
    allowed_hosts: Vec<String>,
    allow_private_addresses: bool,
    production: bool,
}

impl Guarded {
    fn check(&self, message: &Message) -> Result<(), SendError> {
        let Address::Webhook(url) = &message.address else {
            return Ok(());
        };
        if let Some(reason) =
            webhook_url_problem(url, &self.allowed_hosts, self.allow_private_addresses)
        {
            return Err(SendError::Permanent(format!("{reason}: not sent")));
        }
        if self.production && !url.starts_with("https://") {
            return Err(SendError::Permanent(
                "production sends webhooks over https only: not sent".into(),
            ));
        }
        Ok(())
    }
}

#[async_trait]
impl Channel for Guarded {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    async fn send(&self, message: &Message) -> Result<Receipt, SendError> {
        self.check(message)?;
        self.inner.send(message).await
    }

    async fn lookup(&self, message: &Message) -> Result<Option<Receipt>, SendError> {
        self.check(message)?;
        self.inner.lookup(message).await
    }
}

#[cfg(test)]
#[path = "tests/accounts.rs"]
mod tests;
