//! The analytics service under test, on a NATS account of its own: events
//! are published onto the stream by hand, as the other services would, and
//! the metrics are read back over HTTP.

use std::time::Duration;

use async_nats::jetstream;
use pathway_analytics::application::Analytics;
use pathway_analytics::settings::Settings;
use pathway_analytics::startup::Workers;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::running::{Common, Running};
use crate::{Backend, eventually};

pub struct TestApp {
    running: Running<Analytics>,
}

crate::running_app!(TestApp => Analytics);

impl TestApp {
    pub async fn spawn(backend: &Backend) -> Self {
        let common = Common::alone(backend).await;
        let settings = Settings {
            http: common.http,
            database: common.database,
            nats: common.nats,
            auth: common.auth,
            ..Settings::default()
        };
        let running = Running::start(settings, Workers::default(), common.dir).await;
        Self { running }
    }

    /// Analytics beside `intake`: the same NATS account and signing key, so
    /// it takes in what the other services publish.
    pub async fn spawn_beside(backend: &Backend, intake: &crate::intake::TestApp) -> Self {
        let common = Common::beside(backend, &intake.settings).await;
        let settings = Settings {
            http: common.http,
            database: common.database,
            nats: common.nats,
            auth: common.auth,
            ..Settings::default()
        };
        let running = Running::start(settings, Workers::default(), common.dir).await;
        Self { running }
    }

    /// As [`TestApp::spawn_beside`], running only `workers` (a test that
    /// drives a sweep itself, one step at a time, turns the sweeps off).
    pub async fn spawn_beside_with(
        backend: &Backend,
        intake: &crate::intake::TestApp,
        workers: Workers,
    ) -> Self {
        let common = Common::beside(backend, &intake.settings).await;
        let settings = Settings {
            http: common.http,
            database: common.database,
            nats: common.nats,
            auth: common.auth,
            ..Settings::default()
        };
        let running = Running::start(settings, workers, common.dir).await;
        Self { running }
    }

    /// The same service again on the same database and NATS account, after
    /// [`Running::stop`].
    pub async fn restart(self) -> Self {
        let running = self.running.restart(Workers::default()).await;
        Self { running }
    }

    /// Wait until the consumer has handled `events` distinct events and has
    /// nothing left to deliver or to acknowledge.
    pub async fn wait_until_caught_up(&self, events: u64) {
        assert!(
            caught_up(&self.running, Some(events)).await,
            "analytics did not handle {events} events within 90 s"
        );
    }

    /// `GET /v1/metrics?<query>` as `token`.
    pub async fn metrics(&self, token: &str, query: &str) -> reqwest::Response {
        self.http
            .get(format!("{}/v1/metrics?{query}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("analytics answers")
    }

    /// `GET /v1/metrics.csv?<query>` as `token`.
    pub async fn metrics_csv(&self, token: &str, query: &str) -> reqwest::Response {
        self.http
            .get(format!("{}/v1/metrics.csv?{query}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("analytics answers")
    }
}

/// Whether, within 90 s (generous: the test suite shares two cores), the
/// analytics consumer has handled `events` distinct events (all the stream
/// holds when `None`) and has nothing left to deliver or to acknowledge.
pub(crate) async fn caught_up(running: &Running<Analytics>, events: Option<u64>) -> bool {
    let caught_up = eventually(Duration::from_secs(90), || async {
        let events = match events {
            Some(events) => events,
            None => {
                let mut stream = running
                    .jetstream
                    .get_stream(pathway_proto::stream::NAME)
                    .await
                    .ok()?;
                stream.info().await.ok()?.state.messages
            }
        };
        let handled = pathway_common::inbox::entity::Entity::find()
            .filter(pathway_common::inbox::entity::Column::Consumer.eq("analytics"))
            .count(&running.db)
            .await
            .ok()?;
        let mut consumer: jetstream::consumer::PullConsumer = running
            .jetstream
            .get_consumer_from_stream("analytics", pathway_proto::stream::NAME)
            .await
            .ok()?;
        let info = consumer.info().await.ok()?;
        (handled >= events && info.num_pending == 0 && info.num_ack_pending == 0).then_some(())
    })
    .await;
    caught_up.is_some()
}
