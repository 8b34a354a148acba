//! What is the decision service's own in the shared start-up sequence
//! (`pathway_common::startup`): its state (intake's client beside the
//! platform), its consumer, its sweeps of opt-in windows and of what is past its
//! retention, and its routes.

use std::time::Duration;

use axum::Router;
use pathway_common::background::Background;
use pathway_common::inbox::ConsumerSpec;
use pathway_common::intake_client::IntakeClient;
use pathway_common::platform::Platform;

use crate::application::Decisions;
use crate::consumer::{DURABLE, DecisionConsumer, filters};
use crate::settings::Settings;
use crate::store::Migrator;

pub use pathway_common::startup::Workers;

/// The decision service, built and listening: `main` and the tests run it.
pub type Application = pathway_common::startup::Application<Decisions>;

impl pathway_common::startup::Service for Decisions {
    const NAME: &'static str = "decision";
    type Settings = Settings;
    type Migrator = Migrator;

    async fn build(platform: Platform, settings: &Settings) -> anyhow::Result<Self> {
        let intake = IntakeClient::from_settings(
            &platform,
            "decision",
            &settings.auth,
            Duration::from_millis(settings.intake_timeout_ms.max(1)),
        )?;
        let texts = pathway_common::clinical_text_client::ClinicalTextClient::from_settings(
            &platform,
            "decision",
            &settings.auth,
            Duration::from_millis(settings.intake_timeout_ms.max(1)),
        )?;
        Ok(Decisions {
            platform,
            intake,
            texts,
        })
    }

    /// The client credentials it checks referrers with intake with.
    fn production_problems(settings: &Settings) -> Vec<pathway_common::profile::Problem> {
        pathway_common::profile::service_token_problems(&settings.auth)
    }

    fn platform(&self) -> &Platform {
        &self.platform
    }

    async fn start(
        &self,
        background: &mut Background,
        workers: Workers,
        settings: &Settings,
    ) -> anyhow::Result<()> {
        if workers.consumers {
            background
                .consume(
                    &self.platform,
                    ConsumerSpec::new(DURABLE, filters()),
                    DecisionConsumer {
                        decisions: self.clone(),
                    },
                )
                .await?;
        }
        if workers.sweeps {
            let decisions = self.clone();
            background.every(
                "opt-in windows reminded and closed",
                Duration::from_secs(settings.opt_in_sweep_seconds.max(1)),
                move || {
                    let decisions = decisions.clone();
                    async move {
                        let now = chrono::Utc::now();
                        let reminded = decisions.remind_opt_in_windows(now).await?;
                        let closed = decisions.close_lapsed_opt_in_windows(now).await?;
                        Ok(reminded + closed)
                    }
                },
            );
            let decisions = self.clone();
            background.retention(move |now| {
                let decisions = decisions.clone();
                async move { Ok(decisions.sweep_retention(now).await?) }
            });
        }
        Ok(())
    }

    fn routes(&self, _settings: &Settings) -> Router {
        crate::web::routes(self.clone())
    }
}
