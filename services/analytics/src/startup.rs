//! What is analytics' own in the shared start-up sequence
//! ([`pathway_common::startup`]): its state, its live consumer (which a
//! rebuild pauses, so the [`Rebuilder`](crate::application::Rebuilder) runs
//! it rather than the scaffold), its daily snapshot of the facts, its
//! boards' daily summaries, and its
//! routes. Also the offline rebuild (`analytics rebuild`), on the same
//! platform with the service stopped, and an operator's snapshot
//! (`analytics snapshot`).

use anyhow::Context;
use axum::Router;
use pathway_common::background::Background;
use pathway_common::platform::Platform;
use pathway_common::startup::Service;

use crate::application::Analytics;
use crate::application::rebuild::{self, Progress};
use crate::application::snapshot;
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
        if workers.sweeps {
            let platform = self.platform.clone();
            let rebuilder = self.rebuilder.clone();
            let started = std::time::Instant::now();
            background.every(
                "daily snapshot of the facts",
                snapshot::DAILY_CHECK_EVERY,
                move || {
                    let platform = platform.clone();
                    let waiting = started.elapsed() < snapshot::FIRST_CHECK_AFTER;
                    let rebuilding = rebuilder.is_running();
                    async move {
                        if waiting || rebuilding {
                            return Ok(0);
                        }
                        snapshot::take_daily(&platform, chrono::Utc::now()).await
                    }
                },
            );
        }
        if workers.sweeps {
            let analytics = self.clone();
            background.every(
                "daily summaries to the boards' service managers",
                crate::application::daily_summary::CHECK_EVERY,
                move || {
                    let analytics = analytics.clone();
                    async move { Ok(analytics.try_daily_summaries(chrono::Utc::now()).await?) }
                },
            );
        }
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

/// Rebuild every fact from the latest snapshot and the stream after it (or,
/// `from_start`, from what the stream holds) with the service stopped
/// (`analytics rebuild`), calling `report` after each batch.
pub async fn rebuild(
    settings: &Settings,
    from_start: bool,
    report: impl FnMut(Progress),
) -> anyhow::Result<Progress> {
    let platform = platform(settings).await?;
    let done = rebuild::replay(&platform, from_start, report).await;
    platform.db.close().await.ok();
    done
}

/// Take a snapshot of the facts now, for `taken_by` (`analytics snapshot`),
/// whether the service runs or not.
pub async fn take_snapshot(
    settings: &Settings,
    taken_by: &str,
) -> anyhow::Result<crate::store::fact_snapshot::Model> {
    let platform = platform(settings).await?;
    let taken = snapshot::take(&platform, None, taken_by, chrono::Utc::now()).await;
    platform.db.close().await.ok();
    taken?.context("an operator's snapshot is always taken")
}

/// The platform of a command run beside (or instead of) the service.
async fn platform(settings: &Settings) -> anyhow::Result<Platform> {
    Platform::start::<Migrator>(
        Analytics::NAME,
        &settings.database,
        &settings.nats,
        &settings.auth,
    )
    .await
}
