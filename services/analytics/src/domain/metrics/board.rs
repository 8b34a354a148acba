//! What analytics knows of a board: its settings as they were on each
//! Scottish day ([`SettingsHistory`], shared with every service that judges
//! a wait), and its adoption date.
//!
//! A wait is judged by the target in force on the day the referral was
//! received, and each of its days counted by the calendar in force on that
//! day (docs/decisions/0021-effective-dated-settings.md).

use chrono::NaiveDate;
use pathway_proto::board::history::SettingsHistory;
pub use pathway_proto::board::history::SettingsVersion;
use pathway_proto::calendar::WorkingCalendar;

/// A board's settings history and adoption date.
#[derive(Debug, Clone, Default)]
pub struct BoardContext {
    history: SettingsHistory,
    /// The first day on which the board's pathway was on; referrals received
    /// before it (in Scottish days) fall "before adoption".
    pub adopted_on: Option<NaiveDate>,
}

impl BoardContext {
    /// A board that never changed its settings.
    pub fn new(adopted_on: Option<NaiveDate>) -> Self {
        Self {
            adopted_on,
            ..Self::default()
        }
    }

    /// A board whose settings were `version` on every day.
    pub fn constant(version: SettingsVersion, adopted_on: Option<NaiveDate>) -> Self {
        Self {
            history: SettingsHistory::constant(version),
            adopted_on,
        }
    }

    /// Add a change in force from `from`. Add changes in the order they were
    /// saved: one in force from the same day as an earlier one replaces it.
    pub fn change_from(&mut self, from: NaiveDate, version: SettingsVersion) {
        self.history.change_from(from, version);
    }

    /// [`Self::change_from`], for building one in a line.
    pub fn with_change_from(mut self, from: NaiveDate, version: SettingsVersion) -> Self {
        self.change_from(from, version);
        self
    }

    /// The settings in force on `day`.
    pub fn settings_on(&self, day: NaiveDate) -> &SettingsVersion {
        self.history.settings_on(day)
    }

    /// The working calendar in force on `day`.
    pub fn calendar_on(&self, day: NaiveDate) -> &WorkingCalendar {
        self.history.calendar_on(day)
    }

    /// The vetting target, in working days, in force on `day`.
    pub fn target_on(&self, day: NaiveDate) -> u32 {
        self.history.target_on(day)
    }

    /// Working days after `from` up to and including `to` (0 when `to` is not
    /// after `from`), each day counted by the calendar in force on it.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        self.history.working_days_between(from, to)
    }
}
