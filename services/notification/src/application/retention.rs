//! The retention sweep: each board's messages lose their address and words
//! once its `retention.delivery_days` have passed since they were last
//! tried, and its audit rows go after `retention.audit_years`, each by the
//! settings in force on the Scottish day of the sweep. What went is itself
//! audited ([`pathway_common::retention`]).

use chrono::{DateTime, Utc};
use pathway_common::board_settings;
use pathway_common::retention::{Purged, Sweep};
use pathway_proto::{BoardCode, days};

use super::{ACTOR, Error, Notifications};
use crate::store::retention::scrub_batch;

impl Notifications {
    /// Sweep every board as of `now`; what went, board by board.
    pub async fn sweep_retention(&self, now: DateTime<Utc>) -> Result<Vec<Purged>, Error> {
        let today = days::day_of(now);
        let db = self.db();
        let mut sweep = Sweep::default();
        for board in BoardCode::all() {
            let periods = board_settings::in_force_on(db, board, today)
                .await?
                .retention;
            let cutoff = periods.delivery_cutoff(today);
            sweep
                .kind(board, "messages' addresses and words", cutoff, || {
                    scrub_batch(db, board, cutoff)
                })
                .await?;
            sweep
                .audit_rows(db, board, periods.audit_cutoff(today))
                .await?;
        }
        Ok(sweep.finish(db, ACTOR).await?)
    }
}
