//! The analytics service's settings. Every field has a default that runs
//! locally; see `pathway_common::settings` for how files and `PATHWAY_*`
//! variables layer.

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
    /// Counts from 1 to one less than this are never shown (Public Health
    /// Scotland's convention is 5).
    pub suppression_threshold: u64,
    /// Outcome codes that count as managed without a specialist appointment.
    pub without_specialist_outcomes: Vec<String>,
    /// Whether the sign-in cookie is `Secure` (sent only over HTTPS). Unset,
    /// it is, unless the service listens on a loopback address (the embedded
    /// default, plain http on this machine): see [`Settings::secure_cookies`].
    pub secure_cookies: Option<bool>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            http: HttpSettings::with_port(8085),
            database: DatabaseSettings::sqlite_file("analytics"),
            nats: NatsSettings::default(),
            auth: AuthSettings::default(),
            telemetry: TelemetrySettings::default(),
            suppression_threshold: 5,
            // Advice to the referrer, self-management (with or without a
            // third-sector partner) and physiotherapy.
            without_specialist_outcomes: vec![
                "advice_to_referrer".into(),
                "self_management".into(),
                "physiotherapy".into(),
            ],
            secure_cookies: None,
        }
    }
}

pathway_common::service_settings!(Settings);

impl Settings {
    /// Whether the sign-in cookie is `Secure`: as set, or else unless the
    /// service listens only on a loopback address.
    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies.unwrap_or(!self.http.host.is_loopback())
    }
}
