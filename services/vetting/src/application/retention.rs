//! The retention sweep: by each board's settings in force on the Scottish
//! day of the sweep, the clinicians' free text of finished referrals goes
//! once `retention.clinical_text_years` have passed since their last change,
//! the referrals themselves (worklist row, questions, outcomes) after
//! `retention.referral_years`, and audit rows after `retention.audit_years`
//! (`crate::store::retention` says what counts as finished). What went is
//! itself audited ([`pathway_common::retention`]).

use chrono::{DateTime, Utc};
use pathway_common::retention::{Purged, Sweep};
use pathway_proto::{BoardCode, days};

use super::{Error, Vetting};
use crate::store::board_settings;
use crate::store::retention::{purge_referrals_batch, purge_texts_batch};

/// The actor named on the sweep's audit rows.
const ACTOR: &str = "vetting";

impl Vetting {
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
                    "clinicians' texts of finished referrals",
                    cutoff,
                    || purge_texts_batch(db, &self.cipher, board, cutoff),
                )
                .await?;
            let cutoff = periods.referral_cutoff(today);
            sweep
                .kind(
                    board,
                    "finished referrals with everything held of them",
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
