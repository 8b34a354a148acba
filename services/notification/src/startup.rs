//! Building and running the notification service: the same [`Application`]
//! runs in `main` and in the tests.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use pathway_common::background::Background;
use pathway_common::inbox::ConsumerSpec;
use pathway_common::platform::Platform;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::application::Notifications;
use crate::boards::Boards;
use crate::channels::Channels;
use crate::consumer::{DURABLE, NotificationConsumer, filters};
use crate::db::Migrator;
use crate::http::{AppState, router};
use crate::intake::IntakeClient;
use crate::settings::Settings;
use crate::templates::Templates;

/// Which background workers run; tests switch some off to drive them by hand.
#[derive(Debug, Clone, Copy)]
pub struct Workers {
    pub relay: bool,
    pub consumer: bool,
    /// Sends planned deliveries.
    pub sender: bool,
}

impl Default for Workers {
    fn default() -> Self {
        Self {
            relay: true,
            consumer: true,
            sender: true,
        }
    }
}

pub struct Application {
    listener: TcpListener,
    notifications: Notifications,
    workers: Workers,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with(settings, Workers::default()).await
    }

    pub async fn build_with(settings: Settings, workers: Workers) -> anyhow::Result<Self> {
        // Templates and channels first: a broken one stops the start before
        // anything is connected.
        let templates = Templates::load().context("the message templates are not usable")?;
        let channels = Channels::from_settings(&settings)?;
        let settings = Arc::new(settings);
        let boards = Boards::new(settings.clone(), Arc::new(templates));
        let platform = Platform::start::<Migrator>(
            "notification",
            &settings.database,
            &settings.nats,
            &settings.auth,
        )
        .await?;
        if settings.auth.jwks_url.is_some() && settings.auth.service_token.is_none() {
            tracing::warn!(
                "no auth.service_token: contact details cannot be read from intake, so nothing will be sent"
            );
        }
        let intake = IntakeClient::new(
            platform.nats.clone(),
            settings.auth.service_token.clone(),
            Duration::from_millis(settings.intake_timeout_ms.max(1)),
        );
        if workers.consumer {
            // Before the service is handed back, so whoever starts it sees
            // the consumer as it will run.
            follow_current_subjects(&platform).await?;
        }
        let address = (settings.http.host, settings.http.port);
        let listener = TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen on {}:{}", address.0, address.1))?;
        Ok(Self {
            listener,
            notifications: Notifications {
                platform,
                intake,
                channels,
                boards: Arc::new(boards),
                settings,
            },
            workers,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn notifications(&self) -> &Notifications {
        &self.notifications
    }

    /// Serve until `shutdown`; then stop taking work, finish what is in
    /// flight and flush the outbox.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let platform = self.notifications.platform.clone();
        let mut background = Background::new(&shutdown);
        if self.workers.relay {
            background.relay(&platform);
        }
        if self.workers.consumer {
            background
                .consume(
                    &platform,
                    ConsumerSpec::new(DURABLE, filters()),
                    NotificationConsumer {
                        notifications: self.notifications.clone(),
                    },
                )
                .await?;
        }
        if self.workers.sender {
            let notifications = self.notifications.clone();
            let stop = shutdown.clone();
            background.spawn(async move {
                send(notifications, stop).await;
                Ok(())
            });
        }
        let app = router(AppState {
            notifications: self.notifications.clone(),
        });
        background
            .serve(self.listener, app)
            .await
            .context("the HTTP server failed")
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
    let wanted = filters();
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

/// Send what is due, again and again, until `shutdown`. A send under way
/// when the stop comes is finished: its end is recorded with its event.
async fn send(notifications: Notifications, shutdown: CancellationToken) {
    let every = Duration::from_millis(notifications.settings.sender.poll_ms.max(10));
    loop {
        match notifications.try_send_due().await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(error) => tracing::warn!(
                error = format!("{error:#}"),
                "sending failed: will try again"
            ),
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {},
            () = shutdown.cancelled() => return,
        }
    }
}
