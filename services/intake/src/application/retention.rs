//! The retention sweep: each board's referrals go, whole, once its
//! `retention.referral_years` have passed since their last change (a
//! child's not before the year after their 26th birthday), and its
//! audit rows after `retention.audit_years`, each by the settings in force
//! on the Scottish day of the sweep. What went is itself audited
//! ([`pathway_common::retention`]).

use chrono::{DateTime, Utc};
use pathway_common::retention::{Purged, Sweep};
use pathway_proto::{BoardCode, days};

use super::boards::settings_record;
use super::{Error, Intake};
use crate::store::retention::purge_batch;

/// The actor named on the sweep's audit rows.
const ACTOR: &str = "intake";

impl Intake {
    /// Sweep every board as of `now`; what went, board by board.
    pub async fn sweep_retention(&self, now: DateTime<Utc>) -> Result<Vec<Purged>, Error> {
        let today = days::day_of(now);
        let db = self.db();
        let mut sweep = Sweep::default();
        for board in BoardCode::all() {
            let periods = settings_record(db, board, today).await?.settings.retention;
            let cutoff = periods.referral_cutoff(today);
            sweep
                .kind(
                    board,
                    "referrals with everything held of them",
                    cutoff,
                    || purge_batch(db, board, cutoff, today),
                )
                .await?;
            sweep
                .audit_rows(db, board, periods.audit_cutoff(today))
                .await?;
        }
        Ok(sweep.finish(db, ACTOR).await?)
    }
}
