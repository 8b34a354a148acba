//! What is analytics' own in the shared start-up sequence
//! ([`pathway_common::startup`]): its state, its live consumer (which a
//! rebuild pauses, so the [`Rebuilder`](crate::application::Rebuilder) runs
//! it rather than the scaffold), and its routes. Also the offline rebuild
//! (`analytics rebuild`), on the same platform with the service stopped.

use axum::Router;
use pathway_common::background::Background;
use pathway_common::platform::Platform;
use pathway_common::startup::Service;

use crate::application::Analytics;
use crate::application::rebuild::{self, Progress};
use crate::domain::metrics::MetricRules;
use crate::settings::Settings;
use crate::store::Migrator;

pub use pathway_common::startup::Workers;

pub type Application = pathway_common::startup::Application<Analytics>;

impl Service for Analytics {
    const NAME: &'static str = "analytics";
    type Settings = Settings;
    type Migrator = Migrator;

    async fn build(platform: Platform, settings: &Settings) -> anyhow::Result<Self> {
        Ok(Analytics::new(platform, rules(settings)))
    }

    fn platform(&self) -> &Platform {
        &self.platform
    }

    /// The live consumer (when `workers.consumers`), run by the rebuilder so
    /// a rebuild can stop it and start it again, and stopped at shutdown
    /// with the message in hand finished.
    async fn start(
        &self,
        background: &mut Background,
        workers: Workers,
        _settings: &Settings,
    ) -> anyhow::Result<()> {
        self.rebuilder.run_live(workers.consumers).await?;
        let shutdown = background.shutdown();
        let rebuilder = self.rebuilder.clone();
        background.spawn(async move {
            shutdown.cancelled().await;
            rebuilder.shut_down().await;
            Ok(())
        });
        Ok(())
    }

    /// The pages' session cookie must be `Secure` in production.
    fn production_problems(settings: &Settings) -> Vec<pathway_common::profile::Problem> {
        if settings.secure_cookies() {
            Vec::new()
        } else {
            vec![pathway_common::profile::Problem::new(
                "PATHWAY_ANALYTICS__SECURE_COOKIES",
                "must be true (or unset where the service listens on more than loopback): the pages are served over HTTPS and the session cookie is `Secure`",
            )]
        }
    }

    fn routes(&self, settings: &Settings) -> Router {
        crate::web::routes(self.clone(), settings.secure_cookies())
    }
}

/// The metric rules the settings give.
fn rules(settings: &Settings) -> MetricRules {
    MetricRules {
        without_specialist: settings.without_specialist_outcomes.clone(),
        suppression_threshold: settings.suppression_threshold.max(1),
    }
}

/// Rebuild every fact from the stream with the service stopped (`analytics
/// rebuild`), calling `report` after each batch.
pub async fn rebuild(
    settings: &Settings,
    report: impl FnMut(Progress),
) -> anyhow::Result<Progress> {
    let platform = Platform::start::<Migrator>(
        Analytics::NAME,
        &settings.database,
        &settings.nats,
        &settings.auth,
    )
    .await?;
    let done = rebuild::replay(&platform, report).await;
    platform.db.close().await.ok();
    done
}
