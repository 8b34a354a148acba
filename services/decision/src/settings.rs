//! The decision service's settings. Every field has a default that runs
//! locally; see `pathway_common::settings` for how files and `PATHWAY_*`
//! variables layer.

use pathway_common::settings::{
    AuthSettings, DatabaseSettings, HttpSettings, NatsSettings, TelemetrySettings,
};
use serde::Deserialize;

/// The HTTP port when none is set.
pub const DEFAULT_PORT: u16 = 8083;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub http: HttpSettings,
    pub database: DatabaseSettings,
    pub nats: NatsSettings,
    pub auth: AuthSettings,
    pub telemetry: TelemetrySettings,
    /// Seconds between two looks for opt-in windows whose deadline passed.
    pub opt_in_sweep_seconds: u64,
    /// How long a look-up of a referral's referrer waits for intake.
    pub intake_timeout_ms: u64,
}

pathway_common::service_settings!(Settings);

impl Default for Settings {
    fn default() -> Self {
        Self {
            http: HttpSettings::with_port(DEFAULT_PORT),
            database: DatabaseSettings::sqlite_file("decision"),
            nats: NatsSettings::default(),
            auth: AuthSettings::default(),
            telemetry: TelemetrySettings::default(),
            opt_in_sweep_seconds: 60,
            intake_timeout_ms: 5000,
        }
    }
}
