//! What is intake's own in the start-up sequence (`pathway_common::startup`
//! runs it): its state (the pseudonym key, the postcode lookup loaded), its
//! status consumer, its request/reply endpoint, the sender of FHIR
//! Subscription notifications, and its routes.

use anyhow::Context;
use axum::Router;
use pathway_common::background::Background;
use pathway_common::inbox::ConsumerSpec;
use pathway_common::platform::Platform;

use crate::application::Intake;
use crate::consumer::{StatusProjection, filters};
use crate::settings::Settings;
use crate::store::{Migrator, postcodes};

pub use pathway_common::startup::Workers;

/// Intake built and listening: what `main` and the tests run.
pub type Application = pathway_common::startup::Application<Intake>;

impl pathway_common::startup::Service for Intake {
    const NAME: &'static str = "intake";
    type Settings = Settings;
    type Migrator = Migrator;

    async fn build(platform: Platform, settings: &Settings) -> anyhow::Result<Self> {
        let pseudonym_key = pathway_common::auth::load_or_create_key(&settings.pseudonym_key_file)
            .context("cannot load the pseudonym key")?;
        if let Some(file) = &settings.postcode_lookup_file {
            let count = postcodes::load_postcodes(&platform.db, file).await?;
            tracing::info!(count, file = %file.display(), "postcode lookup loaded");
        }
        let opt_in_key = pathway_common::auth::load_or_create_key(&settings.opt_in_key_file)
            .context("cannot load the opt-in link key")?;
        let cipher = settings
            .encryption
            .cipher(Self::NAME, &platform.db)
            .await
            .context("cannot open the data keys")?;
        crate::store::encrypted::backfill(&platform.db, &cipher).await?;
        crate::store::retention::fill_keep_until(&platform.db, &cipher).await?;
        let opt_in = crate::application::referrals::OptInLinks::new(
            &opt_in_key,
            &settings.patient_page_url,
        )?;
        let texts = pathway_common::clinical_text_client::ClinicalTextClient::from_settings(
            &platform,
            Self::NAME,
            &settings.auth,
            std::time::Duration::from_secs(5),
        )?;
        Ok(Intake {
            texts,
            platform,
            pseudonym_key,
            cipher,
            opt_in,
        })
    }

    fn platform(&self) -> &Platform {
        &self.platform
    }

    async fn start(
        &self,
        background: &mut Background,
        workers: Workers,
        _settings: &Settings,
    ) -> anyhow::Result<()> {
        if workers.consumers {
            background
                .consume(
                    &self.platform,
                    ConsumerSpec::new("intake-status", filters()),
                    StatusProjection {
                        opt_in: self.opt_in.clone(),
                    },
                )
                .await?;
        }
        if workers.sweeps {
            let deliverer = std::sync::Arc::new(
                crate::application::subscriptions::deliver::Deliverer::new(
                    self.clone(),
                    std::time::Duration::from_secs(10),
                )
                .context("cannot build the FHIR subscription HTTP client")?,
            );
            background.supervise("FHIR subscription notifications", move |stop| {
                let deliverer = deliverer.clone();
                async move { deliverer.run(stop).await }
            });
            let intake = self.clone();
            background.retention(move |now| {
                let intake = intake.clone();
                async move { Ok(intake.sweep_retention(now).await?) }
            });
        }
        if workers.rpc {
            let intake = self.clone();
            background.supervise("request/reply referral look-up", move |stop| {
                crate::rpc::serve(intake.clone(), stop)
            });
        }
        Ok(())
    }

    /// The opt-in links in patients' messages must be https: a link sent in
    /// clear is a credential any network on the way can read and use.
    fn production_problems(settings: &Settings) -> Vec<pathway_common::profile::Problem> {
        let mut problems = settings.encryption.production_problems(Self::NAME);
        let url = settings.patient_page_url.trim();
        if url.starts_with("https://") {
            return problems;
        }
        problems.push(pathway_common::profile::Problem::new(
            "PATHWAY_INTAKE__PATIENT_PAGE_URL",
            format!(
                "must be https, not {url:?}: the opt-in links patients are sent name this address"
            ),
        ));
        problems
    }

    fn routes(&self, _settings: &Settings) -> Router {
        crate::web::routes(self.clone())
    }
}
