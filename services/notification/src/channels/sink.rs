//! The embedded default: each message rendered into a file of its own under
//! a folder (`var/outbox-messages/<board>/<referral>/<delivery>.<channel>.txt`),
//! for a user to open. A file is written whole (to a temporary name, then
//! renamed), so the look-up of a send in doubt is whether the file exists.
//!
//! The messages hold patients' names and addresses: every folder is made
//! `0700` and every file `0600` (readable by the service's user only),
//! whatever the umask, and a folder left looser by an earlier version is
//! tightened on the next message written into it.

use std::path::{Path, PathBuf};

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

/// The mode of the sink's folders: the service's user only.
const FOLDER_MODE: u32 = 0o700;
/// The mode of the sink's files: the service's user only.
const FILE_MODE: u32 = 0o600;

/// `root` and every folder from it down to `folder`, made if missing, each
/// with [`FOLDER_MODE`] set explicitly (the umask only ever takes bits away,
/// and a folder may already exist with looser ones).
async fn private_folders(root: &Path, folder: &Path) -> std::io::Result<()> {
    let below = folder.strip_prefix(root).unwrap_or(Path::new(""));
    let mut current = root.to_path_buf();
    let mut chain = vec![current.clone()];
    for part in below.components() {
        current.push(part);
        chain.push(current.clone());
    }
    for dir in chain {
        let mut builder = tokio::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        builder.mode(FOLDER_MODE);
        builder.create(&dir).await?;
        set_mode(&dir, FOLDER_MODE).await?;
    }
    Ok(())
}

/// `bytes` into a new `path` (replacing a partial file a crash left), with
/// [`FILE_MODE`] from the start: no moment when another user could read it.
async fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(FILE_MODE);
    let mut file = options.open(path).await?;
    // A partial file from before may have been made with other bits.
    set_mode(path, FILE_MODE).await?;
    file.write_all(bytes).await?;
    file.flush().await?;
    Ok(())
}

#[cfg(unix)]
async fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    tokio::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).await
}

#[cfg(not(unix))]
async fn set_mode(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
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
        private_folders(&self.dir, &folder).await.map_err(io)?;
        write_private(&partial, text.as_bytes()).await.map_err(io)?;
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
