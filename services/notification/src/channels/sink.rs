//! The embedded default: each message rendered into a file of its own under
//! a folder (`var/outbox-messages/<board>/<referral>/<delivery>.<channel>.txt`),
//! for a user to open. A file is written whole (to a temporary name, then
//! renamed), so the look-up of a send in doubt is whether the file exists.

use std::path::PathBuf;

use async_trait::async_trait;

use super::{Channel, Message, Receipt, SendError};
use crate::domain::Address;

pub struct Sink {
    dir: PathBuf,
}

impl Sink {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    fn path(&self, message: &Message) -> PathBuf {
        self.dir
            .join(safe(&message.board))
            .join(safe(&message.referral_id))
            .join(format!(
                "{}.{}.txt",
                safe(&message.reference),
                message.channel
            ))
    }
}

/// A path segment from an identifier: letters, digits, `-` and `_` only.
fn safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn render(message: &Message) -> String {
    let to = match &message.address {
        Address::Mobile(mobile) => mobile.expose().clone(),
        Address::Email(email) => email.expose().clone(),
        Address::Webhook(url) => url.clone(),
        Address::Letter { lines, postcode } => {
            let mut all = lines.expose().clone();
            all.push(postcode.expose().clone());
            all.join(", ")
        }
    };
    let mut text = format!(
        "Channel: {}\nTo: {to}\nReference: {}\nSubject: {}\n\n{}\n",
        message.channel, message.reference, message.subject, message.body
    );
    if let Some(document) = &message.document {
        text.push_str("\n--- webhook document ---\n");
        text.push_str(&serde_json::to_string_pretty(document).unwrap_or_default());
        text.push('\n');
    }
    text
}

#[async_trait]
impl Channel for Sink {
    fn name(&self) -> &'static str {
        "sink"
    }

    async fn send(&self, message: &Message) -> Result<Receipt, SendError> {
        let path = self.path(message);
        let folder = path.parent().map(PathBuf::from).unwrap_or_default();
        let partial = path.with_extension("partial");
        let text = render(message);
        let io = |error: std::io::Error| SendError::Transient {
            reason: format!("cannot write {}: {error}", path.display()),
            in_doubt: false,
        };
        tokio::fs::create_dir_all(&folder).await.map_err(io)?;
        tokio::fs::write(&partial, text).await.map_err(io)?;
        tokio::fs::rename(&partial, &path).await.map_err(io)?;
        Ok(Receipt {
            gateway_id: path.display().to_string(),
        })
    }

    async fn lookup(&self, message: &Message) -> Result<Option<Receipt>, SendError> {
        let path = self.path(message);
        Ok(tokio::fs::try_exists(&path)
            .await
            .unwrap_or(false)
            .then(|| Receipt {
                gateway_id: path.display().to_string(),
            }))
    }
}

#[cfg(test)]
#[path = "tests/sink.rs"]
mod tests;
