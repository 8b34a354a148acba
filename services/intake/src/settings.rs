//! Intake's settings. Every field has a default that runs locally; see
//! `pathway_common::settings` for how files and `PATHWAY_*` variables layer.

use std::path::PathBuf;

use pathway_common::crypto::EncryptionSettings;
use pathway_common::settings::{
    AuthSettings, DatabaseSettings, HttpSettings, NatsSettings, TelemetrySettings,
};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub http: HttpSettings,
    pub database: DatabaseSettings,
    pub nats: NatsSettings,
    pub auth: AuthSettings,
    pub telemetry: TelemetrySettings,
    /// File holding the key of the patient pseudonym; created on first use.
    /// Keep it: a new key breaks re-referral analysis across the change.
    pub pseudonym_key_file: PathBuf,
    /// CSV `postcode,urban_rural_class,simd_quintile` loaded at start.
    pub postcode_lookup_file: Option<PathBuf>,
    /// File holding the key that signs patients' opt-in links; created on
    /// first use. A new key makes the links already sent unusable.
    pub opt_in_key_file: PathBuf,
    /// Where patients reach intake's opt-in page, as the links in their
    /// messages name it (the public address in front of intake).
    pub patient_page_url: String,
    /// The key-encryption key of the identifiable columns (the referral
    /// document): `encryption.kek_file`, and `previous_kek_files` while
    /// rotating.
    pub encryption: EncryptionSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            http: HttpSettings::with_port(8081),
            database: DatabaseSettings::sqlite_file("intake"),
            nats: NatsSettings::default(),
            auth: AuthSettings::default(),
            telemetry: TelemetrySettings::default(),
            pseudonym_key_file: PathBuf::from("var/secrets/pseudonym.key"),
            postcode_lookup_file: None,
            opt_in_key_file: PathBuf::from("var/secrets/opt-in.key"),
            patient_page_url: "http://127.0.0.1:8081".into(),
            encryption: EncryptionSettings::default(),
        }
    }
}

pathway_common::service_settings!(Settings);
