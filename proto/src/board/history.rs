//! A board's settings as they were on each Scottish day.
//!
//! Board settings are effective-dated: each change is in force from its
//! effective day until the next change's, and before its first change a board
//! has the defaults. Two changes in force from the same day: the one saved
//! later wins, so changes are added in the order they were saved
//! (docs/decisions/0021-effective-dated-settings.md).
//!
//! Every service that judges a wait asks the same questions of it: the
//! calendar and target in force on a day ([`SettingsHistory::settings_on`]),
//! and working days between two days, each day counted by the calendar in
//! force on it ([`SettingsHistory::working_days_between`]).

use chrono::{Days, NaiveDate};

use super::BoardSettings;
use crate::calendar::{WorkingCalendar, WorkingDays};

/// The settings that judge a wait, as in force from one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsVersion {
    pub calendar: WorkingCalendar,
    pub vetting_target_working_days: u32,
}

impl SettingsVersion {
    pub fn of(settings: &BoardSettings) -> Self {
        Self {
            calendar: WorkingCalendar::new(
                settings.scottish_bank_holidays,
                &settings.extra_holidays,
            ),
            vetting_target_working_days: settings.vetting_target_working_days,
        }
    }
}

impl Default for SettingsVersion {
    /// A board's settings before it changed them.
    fn default() -> Self {
        Self::of(&BoardSettings::default())
    }
}

/// A board's settings history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsHistory {
    /// In force before the first change.
    initial: SettingsVersion,
    /// Each change with the day it is in force from; sorted by day, one per
    /// day.
    changes: Vec<(NaiveDate, SettingsVersion)>,
}

impl SettingsHistory {
    /// A board whose settings were `version` on every day.
    pub fn constant(version: SettingsVersion) -> Self {
        Self {
            initial: version,
            changes: Vec::new(),
        }
    }

    /// Add a change in force from `from`. Add changes in the order they were
    /// saved: one in force from the same day as an earlier one replaces it.
    pub fn change_from(&mut self, from: NaiveDate, version: SettingsVersion) {
        match self.changes.binary_search_by_key(&from, |(day, _)| *day) {
            Ok(i) => self.changes[i].1 = version,
            Err(i) => self.changes.insert(i, (from, version)),
        }
    }

    /// [`Self::change_from`], for building one in a line.
    pub fn with_change_from(mut self, from: NaiveDate, version: SettingsVersion) -> Self {
        self.change_from(from, version);
        self
    }

    /// The settings in force on `day`.
    pub fn settings_on(&self, day: NaiveDate) -> &SettingsVersion {
        let after = self.changes.partition_point(|(from, _)| *from <= day);
        match after.checked_sub(1) {
            Some(i) => &self.changes[i].1,
            None => &self.initial,
        }
    }

    /// The working calendar in force on `day`.
    pub fn calendar_on(&self, day: NaiveDate) -> &WorkingCalendar {
        &self.settings_on(day).calendar
    }

    /// The vetting target, in working days, in force on `day`.
    pub fn target_on(&self, day: NaiveDate) -> u32 {
        self.settings_on(day).vetting_target_working_days
    }

    /// Working days after `from` up to and including `to` (0 when `to` is not
    /// after `from`), each day counted by the calendar in force on it.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        let mut total = 0u32;
        let mut cursor = from;
        while cursor < to {
            let Some(first) = cursor.checked_add_days(Days::new(1)) else {
                break;
            };
            // The stretch (cursor, end] has one version: up to the day before
            // the next change, or `to`.
            let next_change = self.changes.iter().map(|(d, _)| *d).find(|d| *d > first);
            let end = next_change
                .and_then(|d| d.pred_opt())
                .map_or(to, |before| before.min(to));
            total = total.saturating_add(self.calendar_on(first).working_days_between(cursor, end));
            cursor = end;
        }
        total
    }
}

impl WorkingDays for SettingsHistory {
    fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        SettingsHistory::working_days_between(self, from, to)
    }
}

#[cfg(test)]
#[path = "../tests/history.rs"]
mod tests;
