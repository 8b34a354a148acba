//! Vetting's settings. Every field has a default that runs locally; see
//! `pathway_common::settings` for how files and `PATHWAY_*` variables layer.

use pathway_common::crypto::EncryptionSettings;
use pathway_common::settings::{
    AuthSettings, DatabaseSettings, HttpSettings, NatsSettings, TelemetrySettings,
};
use serde::Deserialize;

use crate::clock::Clock;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub http: HttpSettings,
    pub database: DatabaseSettings,
    pub nats: NatsSettings,
    pub auth: AuthSettings,
    pub telemetry: TelemetrySettings,
    /// The key-encryption key of the clinicians' free text (the texts, the
    /// questions and the outcomes that quote them): `encryption.kek_file`,
    /// and `previous_kek_files` while rotating.
    pub encryption: EncryptionSettings,
    /// How often lapsed claims are returned to the worklist.
    pub lease_sweep_seconds: u64,
    /// How often unanswered information requests are checked for being
    /// overdue (their referrers then reminded).
    pub information_reminder_sweep_seconds: u64,
    /// How long to wait for intake to answer a request for a referral.
    pub intake_timeout_ms: u64,
    /// Whether the sign-in cookie is `Secure` (sent only over HTTPS). Unset,
    /// it is, unless the service listens on a loopback address (the embedded
    /// default, plain http on this machine): see [`Settings::secure_cookies`].
    pub secure_cookies: Option<bool>,
    /// The service's idea of now: the system clock, which tests move forward.
    #[serde(skip)]
    pub clock: Clock,
}

pathway_common::service_settings!(Settings);

impl Settings {
    /// Whether the sign-in cookie is `Secure`: as set, or else unless the
    /// service listens only on a loopback address.
    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies.unwrap_or(!self.http.host.is_loopback())
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            http: HttpSettings::with_port(8082),
            database: DatabaseSettings::sqlite_file("vetting"),
            nats: NatsSettings::default(),
            auth: AuthSettings::default(),
            telemetry: TelemetrySettings::default(),
            encryption: EncryptionSettings::default(),
            lease_sweep_seconds: 15,
            information_reminder_sweep_seconds: 300,
            intake_timeout_ms: 5000,
            secure_cookies: None,
            clock: Clock::default(),
        }
    }
}
