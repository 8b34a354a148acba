//! The durable consumer `analytics`: every event on every board, from the
//! start of the stream (the inbox's consumers deliver everything the stream
//! holds), each handled once.

use pathway_common::inbox::{HandleError, Handler};
use pathway_proto::v1::Event;
use sea_orm::DatabaseTransaction;

use crate::application::Analytics;

/// Durable consumer name.
pub const DURABLE: &str = "analytics";

/// Every subject of the pathway stream, so an aggregate added later is not
/// missed.
pub fn filters() -> Vec<String> {
    vec![pathway_proto::stream::SUBJECTS.to_owned()]
}

pub struct AnalyticsConsumer {
    pub analytics: Analytics,
}

impl Handler for AnalyticsConsumer {
    async fn handle(&self, txn: &DatabaseTransaction, event: &Event) -> Result<(), HandleError> {
        self.analytics.record(txn, event).await
    }
}
