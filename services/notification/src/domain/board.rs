//! One board's channels: which gateway its messages, e-mail and webhooks go
//! out on, how the referrer hears, and where its receiving services are.
//! From the board's own settings, or this service's configuration for a
//! board that never set them.

use std::collections::BTreeMap;

use pathway_proto::board::{DailySummary, NotificationSettings};
pub use pathway_proto::board::{EmailGateway, MessageGateway, ReferrerChannel, WebhookGateway};
use serde::Deserialize;

/// The name of `[notify]` and `[smtp]` among the accounts and servers, and
/// the account a board uses unless it names another.
pub const DEFAULT_ACCOUNT: &str = "default";

/// One board's channels.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct BoardChannels {
    /// SMS and letters, and e-mail unless `email` says otherwise.
    pub messages: MessageGateway,
    /// E-mail (to the patient, and to the referrer when `referrer_channel =
    /// email`); when unset, the way of `messages`.
    pub email: Option<EmailGateway>,
    pub webhooks: WebhookGateway,
    /// How the referrer hears: the board's GP system webhook, or e-mail to
    /// the referral's reply address.
    pub referrer_channel: ReferrerChannel,
    /// The board's GP system endpoint; when unset, the referral's own
    /// webhook reply address is used.
    pub gp_webhook_url: Option<String>,
    /// Receiving services by code (a third-sector partner's code,
    /// `pain_management_programme`, `residential_programme`) and their webhook.
    pub receiving_services: BTreeMap<String, String>,
    /// The Notify account (`notify_accounts.<name>`) the board's Notify
    /// messages go through; unset, `default` (`[notify]`).
    pub notify_account: Option<String>,
    /// The SMTP server (`smtp_servers.<name>`) the board's SMTP e-mail goes
    /// through; unset, `default` (`[smtp]`).
    pub smtp_server: Option<String>,
    /// Whether the board's webhooks may go to loopback, private, link-local
    /// or other non-public addresses; off, such an address is refused.
    pub allow_private_addresses: bool,
    /// The hosts the board's webhooks may go to (`gp.highland.example`,
    /// `*.nhs.scot`, an address); a webhook to any other host is refused
    /// when it is sent. Empty: no webhook goes anywhere.
    pub allowed_hosts: Vec<String>,
    /// Whether the patient is told of a withdrawal; unset, they are.
    pub tell_patient_of_withdrawal: Option<bool>,
    /// Where and when the board's daily summary goes; unset, nowhere.
    pub daily_summary: Option<DailySummary>,
    /// Whether the patient is told of a decline; unset, they are.
    pub tell_patient_of_decline: Option<bool>,
    /// Whether the patient is told of a redirect; unset, they are.
    pub tell_patient_of_redirect: Option<bool>,
}

impl BoardChannels {
    /// Whether the patient is told when the referrer withdraws.
    pub fn tells_patient_of_withdrawal(&self) -> bool {
        self.tell_patient_of_withdrawal.unwrap_or(true)
    }

    /// Whether the patient is told of a decision with `outcome`: always,
    /// but for a decline or a redirect the board chose not to tell them of.
    pub fn tells_patient_of(&self, outcome: &str) -> bool {
        match outcome {
            "decline" => self.tell_patient_of_decline.unwrap_or(true),
            "redirect" => self.tell_patient_of_redirect.unwrap_or(true),
            _ => true,
        }
    }

    /// The name of the board's Notify account.
    pub fn notify_account(&self) -> &str {
        self.notify_account.as_deref().unwrap_or(DEFAULT_ACCOUNT)
    }

    /// The name of the board's SMTP server.
    pub fn smtp_server(&self) -> &str {
        self.smtp_server.as_deref().unwrap_or(DEFAULT_ACCOUNT)
    }

    /// Where this board's e-mail goes.
    pub fn email_gateway(&self) -> EmailGateway {
        self.email.unwrap_or(match self.messages {
            MessageGateway::Sink => EmailGateway::Sink,
            MessageGateway::Notify => EmailGateway::Notify,
        })
    }
}

impl From<&NotificationSettings> for BoardChannels {
    /// The channels a board set in its board settings.
    fn from(section: &NotificationSettings) -> Self {
        Self {
            messages: section.messages,
            email: section.email,
            webhooks: section.webhooks,
            referrer_channel: section.referrer_channel,
            gp_webhook_url: section.gp_webhook_url.clone(),
            receiving_services: section.receiving_services.clone(),
            notify_account: section.notify_account.clone(),
            smtp_server: section.smtp_server.clone(),
            allow_private_addresses: section.allow_private_addresses,
            allowed_hosts: section.allowed_hosts.clone(),
            tell_patient_of_withdrawal: section.tell_patient_of_withdrawal,
            daily_summary: section.daily_summary.clone(),
            tell_patient_of_decline: section.tell_patient_of_decline,
            tell_patient_of_redirect: section.tell_patient_of_redirect,
        }
    }
}

impl Default for BoardChannels {
    /// Everything to the file sink; the webhook URLs are placeholders under
    /// `.invalid`, which never resolves, and only their hosts are allowed.
    fn default() -> Self {
        const SERVICES: [&str; 3] = [
            "pain_management_programme",
            "residential_programme",
            "pain-association-scotland",
        ];
        Self {
            messages: MessageGateway::Sink,
            email: None,
            webhooks: WebhookGateway::Sink,
            referrer_channel: ReferrerChannel::Webhook,
            gp_webhook_url: Some("https://gp-system.invalid/pathway".into()),
            receiving_services: SERVICES
                .into_iter()
                .map(|code| (code.to_owned(), format!("https://{code}.invalid/pathway")))
                .collect(),
            notify_account: None,
            smtp_server: None,
            allow_private_addresses: false,
            allowed_hosts: std::iter::once("gp-system".to_owned())
                .chain(SERVICES.into_iter().map(str::to_owned))
                .map(|name| format!("{name}.invalid"))
                .collect(),
            tell_patient_of_withdrawal: None,
            daily_summary: None,
            tell_patient_of_decline: None,
            tell_patient_of_redirect: None,
        }
    }
}
