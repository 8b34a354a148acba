//! The retention sweep: by each board's settings in force on the Scottish
//! day of the sweep, the clinicians' words kept in older decisions of
//! finished referrals are emptied once `retention.clinical_text_years` have
//! passed since the referral's last change, the referral's decisions and
//! opt-in windows go after `retention.referral_years`, and audit rows after
//! `retention.audit_years` (`crate::store::retention` says what counts as
//! finished). What went is itself audited ([`pathway_common::retention`]).

use chrono::{DateTime, Utc};
use pathway_common::retention::{Purged, Sweep};
use pathway_proto::{BoardCode, days};

use super::{Decisions, Error};
use crate::store::board_settings;
use crate::store::retention::{purge_referrals_batch, purge_texts_batch};

/// The actor named on the sweep's audit rows.
const ACTOR: &str = "decision";

impl Decisions {
    /// Sweep every board as of `now`; what went, board by board.
    pub async fn sweep_retention(&self, now: DateTime<Utc>) -> Result<Vec<Purged>, Error> {
        let today = days::day_of(now);
        let db = self.db();
        let mut sweep = Sweep::default();
        for board in BoardCode::all() {
            let periods = board_settings::in_force_on(db, board, today)
                .await?
                .retention;
            let cutoff = periods.clinical_text_cutoff(today);
            sweep
                .kind(
                    board,
                    "clinicians' words in decisions of finished referrals",
                    cutoff,
                    || purge_texts_batch(db, board, cutoff),
                )
                .await?;
            let cutoff = periods.referral_cutoff(today);
            sweep
                .kind(
                    board,
                    "finished referrals' decisions and opt-in windows",
                    cutoff,
                    || purge_referrals_batch(db, board, cutoff),
                )
                .await?;
            sweep
                .audit_rows(db, board, periods.audit_cutoff(today))
                .await?;
        }
        Ok(sweep.finish(db, ACTOR).await?)
    }
}
