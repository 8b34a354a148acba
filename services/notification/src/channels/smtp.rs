//! E-mail over SMTP (lettre), for a board that sends through its own mail
//! relay. One connection per message: connect (plain, STARTTLS or TLS),
//! authenticate when asked to, hand the message over, quit.
//!
//! SMTP has no look-up by reference, so [`Channel::lookup`] says it cannot
//! tell: a send in doubt is sent again. Each message's `Message-ID` is
//! `<delivery-id@domain>`, the same on every attempt, so the receiving side
//! can drop a repeat.
//!
//! Failures are classified from where they happen: a 4xx reply is worth
//! another try, a 5xx is not; a connection that could not be made (or
//! secured, or authenticated) delivered nothing; a timeout or a broken
//! connection once the server had accepted us is in doubt.

use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message as Email};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use secrecy::ExposeSecret;

use super::{Channel, Message, Receipt, SendError};
use crate::domain::Address;
use crate::settings::{SmtpSettings, SmtpTls};

pub struct SmtpClient {
    host: String,
    port: u16,
    tls: SmtpTls,
    credentials: Option<Credentials>,
    from: Mailbox,
    message_id_domain: String,
    timeout: Duration,
}

impl SmtpClient {
    /// A client for `settings`; `None` when no SMTP host is configured.
    pub fn from_settings(settings: &SmtpSettings) -> anyhow::Result<Option<Self>> {
        let Some(host) = settings
            .host
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty())
        else {
            return Ok(None);
        };
        let from: Mailbox = settings
            .from
            .parse()
            .with_context(|| format!("smtp.from: {:?} is not a mailbox", settings.from))?;
        let credentials = match (&settings.username, &settings.password) {
            (Some(user), Some(password)) => Some(Credentials::new(
                user.clone(),
                password.expose_secret().to_owned(),
            )),
            (None, None) => None,
            _ => anyhow::bail!("smtp.username and smtp.password are set together or not at all"),
        };
        let message_id_domain = settings
            .message_id_domain
            .clone()
            .filter(|d| !d.trim().is_empty())
            .unwrap_or_else(|| format!("pathway.{}", from.email.domain()));
        Ok(Some(Self {
            host: host.to_owned(),
            port: settings.port,
            tls: settings.tls,
            credentials,
            from,
            message_id_domain,
            timeout: Duration::from_millis(settings.timeout_ms.max(1)),
        }))
    }

    /// The `Message-ID` of a delivery: the same on every attempt.
    pub fn message_id(&self, reference: &str) -> String {
        format!("<{reference}@{}>", self.message_id_domain)
    }

    /// The e-mail for `message`, with its envelope.
    pub fn email(&self, message: &Message) -> Result<Email, SendError> {
        let Address::Email(to) = &message.address else {
            return Err(SendError::Permanent("an e-mail needs an address".into()));
        };
        let to: Mailbox = to
            .expose()
            .parse()
            .map_err(|_| SendError::Permanent("the e-mail address is not valid".into()))?;
        Email::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.clone())
            .message_id(Some(self.message_id(&message.reference)))
            .header(ContentType::TEXT_PLAIN)
            .body(message.body.clone())
            .map_err(|e| SendError::Permanent(format!("cannot build the e-mail: {e}")))
    }

    fn tls_parameters(&self) -> Result<TlsParameters, SendError> {
        TlsParameters::new(self.host.clone())
            .map_err(|e| SendError::Permanent(format!("cannot set up TLS for SMTP: {e}")))
    }

    /// Connect, secure and authenticate: nothing of the message has gone out.
    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let hello = ClientId::default();
        let implicit = match self.tls {
            SmtpTls::Tls => Some(self.tls_parameters()?),
            SmtpTls::None | SmtpTls::Starttls => None,
        };
        let mut connection = AsyncSmtpConnection::connect_tokio1(
            (self.host.as_str(), self.port),
            Some(self.timeout),
            &hello,
            implicit,
            None,
        )
        .await
        .map_err(|e| classify(&e, false))?;
        let ready = async {
            if self.tls == SmtpTls::Starttls {
                if !connection.can_starttls() {
                    return Err(SendError::Permanent(
                        "the SMTP server does not offer STARTTLS (smtp.tls = \"starttls\")".into(),
                    ));
                }
                connection
                    .starttls(self.tls_parameters()?, &hello)
                    .await
                    .map_err(|e| classify(&e, false))?;
            }
            if let Some(credentials) = &self.credentials {
                connection
                    .auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                    .await
                    .map_err(|e| classify(&e, false))?;
            }
            Ok(())
        }
        .await;
        match ready {
            Ok(()) => Ok(connection),
            Err(error) => {
                connection.abort().await;
                Err(error)
            }
        }
    }
}

impl SmtpClient {
    /// One mail transaction, step by step so that each failure is classified
    /// by where it happened: a refusal of MAIL, RCPT or DATA delivered
    /// nothing; once the message is out, a lost answer leaves it in doubt.
    async fn transaction(
        &self,
        connection: &mut AsyncSmtpConnection,
        envelope: &lettre::address::Envelope,
        raw: &[u8],
    ) -> Result<(), SendError> {
        let step = |what: &'static str| {
            let timeout = self.timeout;
            move |_: tokio::time::error::Elapsed| SendError::Transient {
                reason: format!("the SMTP server did not answer {what} in time ({timeout:?})"),
                in_doubt: what == "the message",
            }
        };
        // Pathway's messages are ASCII (lettre encodes non-ASCII text), so no
        // BODY=8BITMIME unless one is not.
        let mut parameters = Vec::new();
        if !raw.is_ascii() {
            if !connection
                .server_info()
                .supports_feature(Extension::EightBitMime)
            {
                return Err(SendError::Permanent(
                    "the message is not ASCII and the SMTP server does not take 8BITMIME".into(),
                ));
            }
            parameters.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        let mail = Mail::new(envelope.from().cloned(), parameters);
        tokio::time::timeout(self.timeout, connection.command(mail))
            .await
            .map_err(step("MAIL FROM"))?
            .map_err(|e| classify(&e, false))?;
        for to in envelope.to() {
            tokio::time::timeout(
                self.timeout,
                connection.command(Rcpt::new(to.clone(), vec![])),
            )
            .await
            .map_err(step("RCPT TO"))?
            .map_err(|e| classify(&e, false))?;
        }
        tokio::time::timeout(self.timeout, connection.command(Data))
            .await
            .map_err(step("DATA"))?
            .map_err(|e| classify(&e, false))?;
        tokio::time::timeout(self.timeout, connection.message(raw))
            .await
            .map_err(step("the message"))?
            .map_err(|e| classify(&e, true))?;
        Ok(())
    }
}

/// How long a polite QUIT may take once the message is the server's.
const QUIT_WAIT: Duration = Duration::from_secs(2);

/// Classify a failure; `sending` once the envelope and the message are
/// going out, when a lost answer leaves the message in doubt.
fn classify(error: &lettre::transport::smtp::Error, sending: bool) -> SendError {
    let reason = format!("the SMTP server: {error}");
    if error.is_permanent() {
        SendError::Permanent(reason)
    } else if error.is_transient() {
        SendError::Transient {
            reason,
            in_doubt: false,
        }
    } else if error.is_client() {
        // Refused by lettre itself (no common AUTH mechanism, an address the
        // server cannot take): the same next time.
        SendError::Permanent(reason)
    } else {
        // Timeouts, broken connections, TLS failures, garbled replies.
        SendError::Transient {
            reason,
            in_doubt: sending,
        }
    }
}

#[async_trait]
impl Channel for SmtpClient {
    fn name(&self) -> &'static str {
        "smtp"
    }

    async fn send(&self, message: &Message) -> Result<Receipt, SendError> {
        let email = self.email(message)?;
        let envelope = email.envelope().clone();
        if envelope
            .to()
            .iter()
            .chain(envelope.from())
            .any(|a| !AsRef::<str>::as_ref(a).is_ascii())
        {
            return Err(SendError::Permanent(
                "an e-mail address with letters outside ASCII needs SMTPUTF8, which Pathway does not use"
                    .into(),
            ));
        }
        let raw = email.formatted();
        let mut connection = tokio::time::timeout(self.timeout, self.connect())
            .await
            .map_err(|_| SendError::Transient {
                reason: format!(
                    "the SMTP server {}:{} did not answer in time",
                    self.host, self.port
                ),
                in_doubt: false,
            })??;
        let sent = self.transaction(&mut connection, &envelope, &raw).await;
        if sent.is_ok() {
            // The message is the server's: how QUIT goes changes nothing.
            let _ = tokio::time::timeout(QUIT_WAIT, connection.quit()).await;
        }
        // On a failure the connection is dropped, not QUIT: a server may
        // still be reading the message (or not answer at all).
        sent.map(|()| Receipt {
            gateway_id: self.message_id(&message.reference),
        })
    }

    /// SMTP cannot be asked whether it already has a message.
    async fn lookup(&self, _message: &Message) -> Result<Option<Receipt>, SendError> {
        Ok(None)
    }
}

#[cfg(test)]
#[path = "tests/smtp.rs"]
mod tests;
