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
    /// Mark the dashboard's session cookie `Secure` (set behind HTTPS).
    pub secure_cookies: bool,
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
            secure_cookies: false,
        }
    }
}

pathway_common::service_settings!(Settings);
