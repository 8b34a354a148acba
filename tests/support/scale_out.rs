//! Several instances of one service, as a board scales it out: each
//! [`another`] instance has the first one's settings (its database, NATS
//! account, signing key and, for vetting, its clock) and a port of its own.
//! [`Publishes`] counts what reaches the pathway subjects before the
//! stream's duplicate window drops anything, so a row published twice shows.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use pathway_common::startup::{Service, Workers};

use crate::running::Running;

/// Another instance of `first`'s service on the same database and NATS
/// account, running `workers`.
pub async fn another<S: Service>(first: &Running<S>, workers: Workers) -> Running<S>
where
    S::Settings: Clone,
{
    Running::start(first.settings.clone(), workers, first.dir().clone()).await
}

/// Every message published on the pathway subjects, by `Nats-Msg-Id`, as a
/// plain subscriber receives it: the stream's de-duplication does not hide
/// a second publish of the same id from it.
pub struct Publishes {
    seen: Arc<Mutex<HashMap<String, usize>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Publishes {
    /// Start counting on `nats` (the service's account).
    pub async fn start(nats: &async_nats::Client) -> Self {
        let mut subscriber = nats
            .subscribe(pathway_proto::stream::SUBJECTS)
            .await
            .expect("subscribe to the pathway subjects");
        // The subscription is in place before anything is published.
        nats.flush().await.expect("flush the subscription");
        let seen = Arc::new(Mutex::new(HashMap::<String, usize>::new()));
        let counts = seen.clone();
        let task = tokio::spawn(async move {
            while let Some(message) = subscriber.next().await {
                let id = message
                    .headers
                    .as_ref()
                    .and_then(|h| h.get(async_nats::header::NATS_MESSAGE_ID))
                    .map(|v| v.as_str().to_owned())
                    .unwrap_or_default();
                *counts.lock().expect("the counts").entry(id).or_default() += 1;
            }
        });
        Self { seen, task }
    }

    /// How many times each message id was published.
    pub fn counts(&self) -> HashMap<String, usize> {
        self.seen.lock().expect("the counts").clone()
    }

    /// The ids published more than once, with their counts.
    pub fn repeated(&self) -> Vec<(String, usize)> {
        let mut repeated: Vec<_> = self.counts().into_iter().filter(|(_, n)| *n > 1).collect();
        repeated.sort();
        repeated
    }
}

impl Drop for Publishes {
    fn drop(&mut self) {
        self.task.abort();
    }
}
