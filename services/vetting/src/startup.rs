//! What is vetting's own in the start-up sequence every service runs
//! (`pathway_common::startup`): its state (with its client of intake), its
//! consumer, its sweeps (lapsed claims, overdue information requests,
//! retention), its request/reply endpoint of clinical text, and its routes.

use std::time::Duration;

use anyhow::Context;
use pathway_common::background::Background;
use pathway_common::inbox::ConsumerSpec;
use pathway_common::intake_client::IntakeClient;
use pathway_common::platform::Platform;
use pathway_common::startup::Service;

use crate::application::Vetting;
use crate::consumer::{WorklistProjection, filters};
use crate::settings::Settings;
use crate::store::Migrator;
use crate::web::AppState;

pub use pathway_common::startup::Workers;

/// The vetting service as `main` and the tests run it.
pub type Application = pathway_common::startup::Application<Vetting>;

impl Service for Vetting {
    const NAME: &'static str = "vetting";
    type Settings = Settings;
    type Migrator = Migrator;

    async fn build(platform: Platform, settings: &Settings) -> anyhow::Result<Self> {
        let cipher = settings
            .encryption
            .cipher(Self::NAME, &platform.db)
            .await
            .context("cannot open the data keys")?;
        crate::store::encrypted::backfill(&platform.db, &cipher).await?;
        Ok(Vetting {
            cipher,
            intake: IntakeClient::from_settings(
                &platform,
                Self::NAME,
                &settings.auth,
                Duration::from_millis(settings.intake_timeout_ms.max(1)),
            )?,
            platform,
            clock: settings.clock.clone(),
        })
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
                    ConsumerSpec::new("vetting-worklist", filters()),
                    WorklistProjection::default(),
                )
                .await?;
        }
        if workers.sweeps {
            let vetting = self.clone();
            background.every(
                "lapsed claims returned to the worklist",
                Duration::from_secs(settings.lease_sweep_seconds.max(1)),
                move || {
                    let vetting = vetting.clone();
                    async move { Ok(vetting.expire_leases().await?) }
                },
            );
            let vetting = self.clone();
            background.every(
                "unanswered information requests found overdue",
                Duration::from_secs(settings.information_reminder_sweep_seconds.max(1)),
                move || {
                    let vetting = vetting.clone();
                    async move { Ok(vetting.mark_overdue_information_requests().await?) }
                },
            );
            let vetting = self.clone();
            background.retention(move |now| {
                let vetting = vetting.clone();
                async move { Ok(vetting.sweep_retention(now).await?) }
            });
        }
        if workers.rpc {
            let vetting = self.clone();
            background.supervise("request/reply clinical text", move |stop| {
                crate::rpc::serve(vetting.clone(), stop)
            });
        }
        Ok(())
    }

    /// The pages' session cookie must be `Secure` in production, the client
    /// credentials it reads referrals from intake with, and the key file of
    /// the KEK of the clinicians' free text.
    fn production_problems(settings: &Settings) -> Vec<pathway_common::profile::Problem> {
        let mut problems = pathway_common::profile::service_token_problems(&settings.auth);
        problems.extend(settings.encryption.production_problems(Self::NAME));
        if !settings.secure_cookies() {
            problems.push(pathway_common::profile::Problem::new(
                "PATHWAY_VETTING__SECURE_COOKIES",
                "must be true (or unset where the service listens on more than loopback): the pages are served over HTTPS and the session cookie is `Secure`",
            ));
        }
        problems
    }

    fn routes(&self, settings: &Settings) -> axum::Router {
        crate::web::routes(AppState {
            vetting: self.clone(),
            secure_cookies: settings.secure_cookies(),
        })
    }
}
