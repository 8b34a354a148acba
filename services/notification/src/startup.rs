//! What the notification service adds to the start-up every service shares
//! (`pathway_common::startup`): its templates, channels and boards, checked
//! before any of its own work starts; its durable consumer, widened to today's
//! subjects before the service is handed back; the sending sweep; its routes.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use pathway_common::background::Background;
use pathway_common::inbox::ConsumerSpec;
use pathway_common::platform::Platform;

use crate::application::Notifications;
use crate::boards::Boards;
use crate::channels::Channels;
use crate::consumer::{DURABLE, NotificationConsumer, filters};
use crate::settings::Settings;
use crate::store::Migrator;
use crate::templates::Templates;
use pathway_common::intake_client::IntakeClient;

pub use pathway_common::startup::Workers;

/// The notification service as `main` and the tests run it.
pub type Application = pathway_common::startup::Application<Notifications>;

impl pathway_common::startup::Service for Notifications {
    const NAME: &'static str = "notification";
    type Settings = Settings;
    type Migrator = Migrator;

    async fn build(platform: Platform, settings: &Settings) -> anyhow::Result<Self> {
        // Templates and channels first: a broken one stops the start before
        // anything else of this service's is done.
        let templates = Templates::load().context("the message templates are not usable")?;
        let channels = Channels::from_settings(settings)?;
        let settings = Arc::new(settings.clone());
        let boards = Boards::new(settings.clone(), Arc::new(templates));
        // Contact details come from intake with a token this service gets,
        // and renews, by the client credentials grant (or signs itself on
        // the embedded default), as vetting and decision do.
        let intake = IntakeClient::from_settings(
            &platform,
            Self::NAME,
            &settings.auth,
            Duration::from_millis(settings.intake_timeout_ms.max(1)),
        )?;
        // The clinicians' texts messages quote come from vetting the same way.
        let texts = pathway_common::clinical_text_client::ClinicalTextClient::from_settings(
            &platform,
            Self::NAME,
            &settings.auth,
            Duration::from_millis(settings.intake_timeout_ms.max(1)),
        )?;
        let cipher = settings
            .encryption
            .cipher(Self::NAME, &platform.db)
            .await
            .context("cannot open the data keys")?;
        crate::store::encrypted::backfill(&platform.db, &cipher).await?;
        // Before the service is handed back, so whoever starts it sees the
        // consumer as it will run.
        follow_current_subjects(&platform).await?;
        Ok(Self {
            platform,
            intake,
            channels,
            boards: Arc::new(boards),
            settings,
            cipher,
            texts,
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
                    ConsumerSpec::new(DURABLE, filters()),
                    NotificationConsumer {
                        notifications: self.clone(),
                        scrub: Default::default(),
                    },
                )
                .await?;
        }
        if workers.sweeps {
            let every = Duration::from_millis(settings.sender.poll_ms.max(10));
            let notifications = self.clone();
            background.every("deliveries finished", every, move || {
                let notifications = notifications.clone();
                async move { send_all_due(&notifications).await }
            });
            let notifications = self.clone();
            background.retention(move |now| {
                let notifications = notifications.clone();
                async move { Ok(notifications.sweep_retention(now).await?) }
            });
        }
        Ok(())
    }

    fn production_problems(settings: &Settings) -> Vec<pathway_common::profile::Problem> {
        crate::production::problems(settings)
    }

    fn routes(&self, _settings: &Settings) -> Router {
        crate::web::routes(self.clone())
    }
}

/// Send what is due until nothing is: a send under way when the stop comes
/// is finished, its end recorded with its event.
async fn send_all_due(notifications: &Notifications) -> anyhow::Result<usize> {
    let mut total = 0;
    loop {
        match notifications.try_send_due().await {
            Ok(0) => return Ok(total),
            Ok(n) => total += n,
            Err(error) => {
                return Err(anyhow::Error::new(error).context(format!(
                    "sending failed after {total} deliveries: will try again"
                )));
            }
        }
    }
}

/// A durable consumer keeps the subjects it was created with: one made
/// before this service followed `board.settings_changed` is widened here, so
/// an existing deployment picks board settings up without being rebuilt.
async fn follow_current_subjects(platform: &Platform) -> anyhow::Result<()> {
    let stream = platform
        .jetstream
        .get_stream(pathway_proto::stream::NAME)
        .await
        .context("the pathway stream is missing")?;
    let Ok(mut consumer) = stream
        .get_consumer::<async_nats::jetstream::consumer::pull::Config>(DURABLE)
        .await
    else {
        // Not there yet: it is created with the current subjects.
        return Ok(());
    };
    let info = consumer
        .info()
        .await
        .context("cannot read the durable consumer")?;
    let mut config = info.config.clone();
    let wanted = pathway_common::inbox::consumer_filters(DURABLE, filters());
    let mut have = config.filter_subjects.clone();
    if !config.filter_subject.is_empty() {
        have.push(config.filter_subject.clone());
    }
    if wanted.iter().all(|w| have.contains(w)) {
        return Ok(());
    }
    config.filter_subject = String::new();
    config.filter_subjects = wanted;
    stream
        .update_consumer(config)
        .await
        .context("cannot widen the durable consumer's subjects")?;
    tracing::info!(
        consumer = DURABLE,
        "the durable consumer now follows board settings too"
    );
    Ok(())
}
