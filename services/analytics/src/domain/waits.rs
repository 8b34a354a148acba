//! The clock from receipt to vetting, following Public Health Scotland's
//! conventions: it starts on the day the referral is received, stops on the
//! day the clinician records the outcome, and pauses while the service waits
//! on information from the referrer (from the day of the question to the day
//! of the answer, or to the day of vetting when the clinician went ahead
//! without one).
//!
//! Days are UTC dates. A wait in working days counts the board's working
//! days after the day of receipt up to and including the day of vetting (a
//! referral received on Monday and vetted on Tuesday waited one working
//! day); in calendar days, the days between the two dates. Paused time is
//! counted the same way over each pause, overlapping pauses merged, and
//! taken off to give the wait without paused time.

use chrono::{DateTime, NaiveDate, Utc};
use pathway_proto::calendar::WorkingCalendar;

use super::fact::Pause;

/// One referral's wait to vetting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait {
    pub working_days: u32,
    pub calendar_days: u32,
    pub working_days_paused: u32,
    pub calendar_days_paused: u32,
}

impl Wait {
    pub fn working_days_excluding_paused(&self) -> u32 {
        self.working_days.saturating_sub(self.working_days_paused)
    }

    pub fn calendar_days_excluding_paused(&self) -> u32 {
        self.calendar_days.saturating_sub(self.calendar_days_paused)
    }
}

/// The wait of a referral received at `received` and vetted at `vetted`.
pub fn wait(
    calendar: &WorkingCalendar,
    received: DateTime<Utc>,
    vetted: DateTime<Utc>,
    pauses: &[Pause],
) -> Wait {
    let start = received.date_naive();
    let end = vetted.date_naive().max(start);
    let mut spans: Vec<(NaiveDate, NaiveDate)> = pauses
        .iter()
        .map(|p| {
            let from = p.requested_at.date_naive().clamp(start, end);
            let to = p
                .answered_at
                .map_or(end, |a| a.date_naive())
                .clamp(from, end);
            (from, to)
        })
        .filter(|(from, to)| from < to)
        .collect();
    spans.sort_unstable();
    let mut merged: Vec<(NaiveDate, NaiveDate)> = Vec::with_capacity(spans.len());
    for (from, to) in spans {
        match merged.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => merged.push((from, to)),
        }
    }
    let (working_days_paused, calendar_days_paused) =
        merged.iter().fold((0u32, 0u32), |(w, c), (from, to)| {
            (
                w.saturating_add(calendar.working_days_between(*from, *to)),
                c.saturating_add(days_between(*from, *to)),
            )
        });
    Wait {
        working_days: calendar.working_days_between(start, end),
        calendar_days: days_between(start, end),
        working_days_paused,
        calendar_days_paused,
    }
}

fn days_between(from: NaiveDate, to: NaiveDate) -> u32 {
    u32::try_from((to - from).num_days()).unwrap_or(0)
}

/// The `q`th quantile (0..=1) of `sorted` values, interpolating linearly
/// between the two nearest ranks: the definition of a spreadsheet's
/// `PERCENTILE.INC` and `MEDIAN`, R's default (type 7) and NumPy's, so an
/// evaluator can reproduce it from the CSV of facts. `None` for no values.
pub fn quantile(sorted: &[u32], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let rank = q.clamp(0.0, 1.0) * last as f64;
    let below = rank.floor() as usize;
    let above = rank.ceil() as usize;
    let low = f64::from(*sorted.get(below)?);
    let high = f64::from(*sorted.get(above)?);
    Some(low + (high - low) * (rank - below as f64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, m, d, 10, 0, 0)
            .single()
            .expect("test data is valid")
    }

    #[test]
    fn good_friday_and_a_pause_are_not_counted() {
        // Wed 1 April 2026 to Wed 8 April: Thu 2, (Good Friday 3), Mon 6,
        // Tue 7, Wed 8. Asked Thu 2, answered Tue 7: (Fri 3), Mon 6, Tue 7.
        let pause = Pause {
            information_request_id: "q".into(),
            requested_at: at(4, 2),
            answered_at: Some(at(4, 7)),
        };
        let got = wait(&WorkingCalendar::default(), at(4, 1), at(4, 8), &[pause]);
        assert_eq!(
            got,
            Wait {
                working_days: 4,
                calendar_days: 7,
                working_days_paused: 2,
                calendar_days_paused: 5,
            }
        );
        assert_eq!(got.working_days_excluding_paused(), 2);
    }

    #[test]
    fn overlapping_and_unanswered_pauses_count_once_up_to_vetting() {
        let pauses = [
            Pause {
                information_request_id: "a".into(),
                requested_at: at(5, 11),
                answered_at: Some(at(5, 14)),
            },
            Pause {
                information_request_id: "b".into(),
                requested_at: at(5, 13),
                answered_at: None,
            },
        ];
        let got = wait(&WorkingCalendar::default(), at(5, 11), at(5, 15), &pauses);
        assert_eq!(got.calendar_days_paused, 4);
        assert_eq!(got.calendar_days_excluding_paused(), 0);
    }

    #[test]
    fn quantiles_interpolate_like_a_spreadsheet() {
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[3], 0.9), Some(3.0));
        assert_eq!(quantile(&[1, 2, 3, 4], 0.5), Some(2.5));
        // PERCENTILE.INC({1..10}, 0.9) = 9.1
        let ten: Vec<u32> = (1..=10).collect();
        let p90 = quantile(&ten, 0.9).expect("test data is valid");
        assert!((p90 - 9.1).abs() < 1e-9);
    }
}
