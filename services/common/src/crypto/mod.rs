//! Encryption at rest: envelope encryption of identifiable columns.
//!
//! Each board has a data key ([`keyring`]), 256 random bits stored only
//! wrapped by a key-encryption key (KEK) from a provider behind
//! [`KeyEncryptionKey`] (a key file now, [`FileKek`]; a KMS-style provider
//! fits the same trait). A column's value is encrypted with AES-256-GCM
//! under its board's data key, bound to its table, column and row
//! ([`FieldCipher`], [`Place`]); values written before encryption are read as
//! they are and encrypted at start ([`backfill`]).
//!
//! Rotating the KEK: set `encryption.kek_file` to the new key and list the
//! old one in `encryption.previous_kek_files`; each instance re-wraps the
//! data keys still under an old KEK when it starts (or `rewrap` does it
//! from a command), and the old file can go once none is left under it.
//! Rows are never rewritten: the data keys do not change.
//!
//! `docs/decisions/0025-encryption-at-rest.md` says what is encrypted and why.

mod backfill;
mod field;
mod kek;
pub mod keyring;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use sea_orm::ConnectionTrait;
use serde::Deserialize;

pub use backfill::{Columns, backfill};
pub use field::{CryptoError, FieldCipher, Place};
pub use kek::{DataKey, FileKek, KeyEncryptionKey};
pub use keyring::{DataKeysMigration, Keyring, Rewrapped, rewrap};

use crate::profile::{Problem, Profile};

/// A KEK as a service holds it.
pub type Kek = Arc<dyn KeyEncryptionKey>;

/// Where a service's KEKs are.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EncryptionSettings {
    /// The key file (hex, at least 32 random bytes) of the KEK that wraps
    /// this service's data keys. Unset: `var/secrets/<service>-kek.key`,
    /// created on first use, in the embedded default; production refuses
    /// to start without it, and never creates it.
    pub kek_file: Option<PathBuf>,
    /// Key files of KEKs that wrapped data keys before this one: read to
    /// re-wrap them, then no longer needed.
    #[serde(deserialize_with = "paths")]
    pub previous_kek_files: Vec<PathBuf>,
}

/// A list of paths, from a list or one comma-separated string (as an
/// environment variable gives it).
fn paths<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<PathBuf>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Paths {
        One(String),
        Many(Vec<PathBuf>),
    }
    Ok(match Paths::deserialize(deserializer)? {
        Paths::One(text) => text
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .collect(),
        Paths::Many(list) => list,
    })
}

impl EncryptionSettings {
    /// The KEK in `file`, and no previous one.
    pub fn with_kek_file(file: impl Into<PathBuf>) -> Self {
        Self {
            kek_file: Some(file.into()),
            previous_kek_files: Vec::new(),
        }
    }

    /// What production refuses: no KEK file named (`service` names the
    /// variable, `PATHWAY_INTAKE__ENCRYPTION__KEK_FILE`).
    pub fn production_problems(&self, service: &str) -> Vec<Problem> {
        if self.kek_file.is_some() {
            return Vec::new();
        }
        vec![Problem::new(
            format!("PATHWAY_{}__ENCRYPTION__KEK_FILE", service.to_uppercase()),
            "must name the key file of the key-encryption key (hex, at least 32 random bytes) \
             that wraps the data keys of the identifiable columns: production never makes one \
             up",
        )]
    }

    /// The current KEK and the previous ones. In production a missing
    /// file stops the start; in the embedded default the current one is
    /// created.
    pub fn keks(&self, service: &str) -> anyhow::Result<(Kek, Vec<Kek>)> {
        let production = Profile::from_env()? == Profile::Production;
        let file = match &self.kek_file {
            Some(file) => file.clone(),
            None if production => anyhow::bail!(
                "PATHWAY_{}__ENCRYPTION__KEK_FILE is not set",
                service.to_uppercase()
            ),
            None => PathBuf::from(format!("var/secrets/{service}-kek.key")),
        };
        let current: Arc<dyn KeyEncryptionKey> =
            Arc::new(FileKek::load(&file, !production).with_context(|| {
                format!("cannot load the key-encryption key {}", file.display())
            })?);
        let previous = self
            .previous_kek_files
            .iter()
            .map(|file| {
                FileKek::load(file, false)
                    .map(|k| Arc::new(k) as Kek)
                    .with_context(|| {
                        format!(
                            "cannot load the previous key-encryption key {}",
                            file.display()
                        )
                    })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok((current, previous))
    }

    /// The cipher of `service`'s columns: its keyring opened in `db`.
    pub async fn cipher<C: ConnectionTrait>(
        &self,
        service: &str,
        db: &C,
    ) -> anyhow::Result<FieldCipher> {
        let (current, previous) = self.keks(service)?;
        let keyring = Keyring::open(db, current.as_ref(), &previous).await?;
        Ok(FieldCipher::new(keyring))
    }
}

/// `<service> rewrap-keys` as each service's `main` runs it: load
/// `service`'s settings (`S`), then [`rewrap_command`] with the encryption
/// settings `encryption` picks from them.
pub async fn rewrap_keys_main<S: crate::settings::ServiceSettings>(
    service: &str,
    encryption: fn(&S) -> &EncryptionSettings,
) -> std::process::ExitCode {
    let settings: S = match crate::settings::load(service) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("error: the {service} settings are not usable: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    rewrap_command(service, encryption(&settings), settings.database()).await
}

/// `<service> rewrap-keys`: re-wrap `service`'s data keys under the KEK
/// of `encryption`, reading those still under a previous KEK, in the
/// database of `database`. Safe while the service's instances run; prints
/// what it did. A start does the same, so this only hurries a rotation.
pub async fn rewrap_command(
    service: &str,
    encryption: &EncryptionSettings,
    database: &crate::settings::DatabaseSettings,
) -> std::process::ExitCode {
    let result = async {
        let (current, previous) = encryption.keks(service)?;
        let db = crate::db::connect(database).await?;
        let done = rewrap(&db, current.as_ref(), &previous).await;
        db.close().await.ok();
        anyhow::Ok((current.id().to_owned(), done?))
    }
    .await;
    match result {
        Ok((kek, done)) => {
            println!(
                "{service}: {} data key(s) re-wrapped under {kek}, {} already under it",
                done.rewrapped, done.current
            );
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
#[path = "../tests/crypto.rs"]
mod tests;
