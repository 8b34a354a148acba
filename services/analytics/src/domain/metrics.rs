//! The evaluators' metrics over a set of facts, by period and group.
//!
//! Each metric is counted in the period of its own event: referrals
//! received by the day of receipt, everything about vetting (waits, share
//! within target, information requests, outcomes) by the day the first
//! outcome was recorded, withdrawals by the day of withdrawal. The outcome is
//! the referral's current one (after any correction).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use pathway_proto::board::OUTCOME_CODES;
use pathway_proto::calendar::WorkingCalendar;
use serde::Serialize;

use super::disclosure::Disclosure;
use super::fact::{Fact, Route};
use super::period::{Granularity, Period, periods};
use super::waits::{Wait, quantile, wait};

/// What analytics knows of a board.
#[derive(Debug, Clone, Default)]
pub struct BoardContext {
    pub calendar: WorkingCalendar,
    pub vetting_target_working_days: u32,
    /// The first day on which the board's pathway was on; referrals received
    /// before it fall "before adoption".
    pub adopted_on: Option<NaiveDate>,
}

/// How rows are grouped beyond their period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// Per board, before and after its adoption date.
    Adoption,
    /// Scottish Government 6-fold urban/rural class (`unknown` when not derived).
    UrbanRural,
    /// SIMD quintile, 1 most deprived (`unknown` when not derived).
    Simd,
    AgeBand,
    Sex,
    /// The priority of an `accept` (`urgent`, `soon`, `routine`); `none`
    /// for every other outcome and for referrals not yet vetted.
    Priority,
}

impl Split {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "adoption" => Some(Self::Adoption),
            "urban_rural" => Some(Self::UrbanRural),
            "simd" => Some(Self::Simd),
            "age_band" => Some(Self::AgeBand),
            "sex" => Some(Self::Sex),
            "priority" => Some(Self::Priority),
            _ => None,
        }
    }

    pub const NAMES: [&'static str; 6] = [
        "adoption",
        "urban_rural",
        "simd",
        "age_band",
        "sex",
        "priority",
    ];
}

#[derive(Debug, Clone)]
pub struct MetricsQuery {
    pub boards: Vec<String>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by: Granularity,
    pub split: Option<Split>,
    /// Today: a re-referral window counts only once it has ended.
    pub as_of: NaiveDate,
}

/// Outcomes after which a re-referral is looked for.
const CLOSED_WITH_ADVICE: [&str; 2] = ["advice_to_referrer", "self_management"];

/// Outcomes that count as managed without a specialist appointment.
#[derive(Debug, Clone)]
pub struct MetricRules {
    pub without_specialist: Vec<String>,
    pub suppression_threshold: u64,
}

#[derive(Debug, Clone, Default)]
struct Tally {
    received_remote: u64,
    received_standard: u64,
    waits: Vec<Wait>,
    within_target: u64,
    info_requested: u64,
    outcomes: BTreeMap<String, u64>,
    without_specialist: u64,
    notification_failed: u64,
    withdrawn: u64,
    /// Working days from question to answer, of the answers in the period.
    turnaround: Vec<u32>,
    /// (followed for 6 months, re-referred within 6, followed 12, re-referred within 12)
    re_referral: [u64; 4],
}

/// One period of one group, after disclosure control.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MetricsRow {
    /// `2026-W14`, `2026-04` or `2026-Q2`.
    pub period: String,
    /// First day counted in this period (cut to `from`).
    pub period_first: NaiveDate,
    /// Last day counted in this period (cut to `to`).
    pub period_last: NaiveDate,
    /// The board, for `split=adoption`; otherwise the row covers every board asked for.
    pub board: Option<String>,
    /// `all`, or the split's value: `before`/`after`, urban/rural class `1`–`6`,
    /// SIMD quintile `1`–`5`, the age band, the sex, an accept's priority;
    /// `unknown` when not derived.
    pub group: String,
    /// Referrals received in the period, by either route.
    pub received: Option<u64>,
    /// Received onto the remote vetting pathway.
    pub received_remote: Option<u64>,
    /// Received while the board was not on the pathway, and routed to the standard route.
    pub received_standard: Option<u64>,
    /// Referrals whose first vetting outcome was recorded in the period.
    pub vetted: Option<u64>,
    /// Median wait from receipt to vetting in the board's working days, of the referrals vetted in the period.
    pub wait_working_days_median: Option<f64>,
    /// 90th centile of the same.
    pub wait_working_days_p90: Option<f64>,
    /// Median wait from receipt to vetting in calendar days.
    pub wait_calendar_days_median: Option<f64>,
    pub wait_calendar_days_p90: Option<f64>,
    /// Median wait in working days, with the time paused for information taken off.
    pub wait_working_days_excl_paused_median: Option<f64>,
    pub wait_working_days_excl_paused_p90: Option<f64>,
    /// Median wait in calendar days, with the time paused for information taken off.
    pub wait_calendar_days_excl_paused_median: Option<f64>,
    pub wait_calendar_days_excl_paused_p90: Option<f64>,
    /// Vetted within the board's target in working days, paused time taken off.
    pub vetted_within_target: Option<u64>,
    /// `vetted_within_target / vetted`.
    pub vetted_within_target_share: Option<f64>,
    /// Vetted referrals with at least one request for information.
    pub info_requested: Option<u64>,
    /// `info_requested / vetted`.
    pub info_request_rate: Option<f64>,
    /// Referrers' answers to requests for information given in the period.
    pub info_answered: Option<u64>,
    /// Median working days from a request for information to its answer, of the answers in the period.
    pub info_turnaround_working_days_median: Option<f64>,
    pub info_turnaround_working_days_p90: Option<f64>,
    /// Vetted referrals by current outcome code.
    pub outcomes: BTreeMap<String, Option<u64>>,
    /// Vetted referrals whose outcome needs no specialist appointment (as configured).
    pub managed_without_specialist: Option<u64>,
    /// `managed_without_specialist / vetted`.
    pub managed_without_specialist_share: Option<f64>,
    /// Vetted referrals with at least one failed notification (to the
    /// referrer, the patient or the receiving service).
    pub notification_failed: Option<u64>,
    /// Referrals withdrawn in the period.
    pub withdrawn: Option<u64>,
    /// Referrals vetted in the period with advice to the referrer or
    /// self-management, whose 6 months after vetting have passed.
    pub re_referral_followed_6m: Option<u64>,
    /// Of those, the patient (by keyed pseudonym) referred again, within the
    /// boards asked for, within 6 months of vetting.
    pub re_referred_6m: Option<u64>,
    /// `re_referred_6m / re_referral_followed_6m`.
    pub re_referral_rate_6m: Option<f64>,
    /// As `re_referral_followed_6m`, for 12 months.
    pub re_referral_followed_12m: Option<u64>,
    pub re_referred_12m: Option<u64>,
    pub re_referral_rate_12m: Option<f64>,
    /// Fields hidden by disclosure control (`null` here, `*` in CSV).
    pub suppressed: Vec<String>,
}

/// The rows for `query` over `facts` (already limited to its boards).
pub fn compute(
    facts: &[Fact],
    boards: &BTreeMap<String, BoardContext>,
    query: &MetricsQuery,
    rules: &MetricRules,
) -> Vec<MetricsRow> {
    let mut referrals = Referrals::default();
    for fact in facts {
        referrals.add(fact);
    }
    let mut metrics = Metrics::new(boards, query, rules, referrals);
    for fact in facts {
        metrics.add(fact);
    }
    metrics.rows()
}

/// Each patient's referrals by time of receipt, for re-referrals.
#[derive(Debug, Default)]
pub struct Referrals(HashMap<String, Vec<DateTime<Utc>>>);

impl Referrals {
    /// Note `fact`'s receipt under its patient's pseudonym.
    pub fn add(&mut self, fact: &Fact) {
        self.add_receipt(&fact.attributes.patient_pseudonym, fact.received_at);
    }

    /// Note a referral of the patient `pseudonym` received at `received`.
    pub fn add_receipt(&mut self, pseudonym: &str, received: Option<DateTime<Utc>>) {
        if let Some(received) = received
            && !pseudonym.is_empty()
        {
            match self.0.get_mut(pseudonym) {
                Some(times) => times.push(received),
                None => {
                    self.0.insert(pseudonym.to_owned(), vec![received]);
                }
            }
        }
    }
}

/// The rows for a query, worked out one fact at a time, so the facts need
/// not all be in memory at once: [`Metrics::add`] each fact of the boards
/// asked for, then [`Metrics::rows`]. The patients' referrals for
/// re-referrals are given first.
pub struct Metrics<'a> {
    boards: &'a BTreeMap<String, BoardContext>,
    query: &'a MetricsQuery,
    rules: &'a MetricRules,
    periods: Vec<Period>,
    referrals: Referrals,
    groups: BTreeMap<(Option<String>, String), Vec<Tally>>,
    default_board: BoardContext,
}

impl<'a> Metrics<'a> {
    /// `referrals` must hold every referral received from the start of
    /// `query` to 12 months after its end (more does no harm).
    pub fn new(
        boards: &'a BTreeMap<String, BoardContext>,
        query: &'a MetricsQuery,
        rules: &'a MetricRules,
        referrals: Referrals,
    ) -> Self {
        let periods = periods(query.from, query.to, query.by);
        let mut groups = BTreeMap::new();
        if query.split == Some(Split::Adoption) {
            for board in &query.boards {
                for phase in ["before", "after"] {
                    groups.insert(
                        (Some(board.clone()), phase.into()),
                        vec![Tally::default(); periods.len()],
                    );
                }
            }
        } else if query.split.is_none() {
            groups.insert((None, "all".into()), vec![Tally::default(); periods.len()]);
        }
        Self {
            boards,
            query,
            rules,
            periods,
            referrals,
            groups,
            default_board: BoardContext::default(),
        }
    }

    /// Give `fact`'s group its rows without counting the fact: every group
    /// among the boards' facts has rows, zeros where nothing of it falls in
    /// the range, so a fact that cannot count needs only naming.
    pub fn name_group(&mut self, fact: &Fact) {
        let board = self.boards.get(&fact.board).unwrap_or(&self.default_board);
        let key = group_of(fact, board, self.query.split);
        let periods = self.periods.len();
        self.groups
            .entry(key)
            .or_insert_with(|| vec![Tally::default(); periods]);
    }

    /// Count `fact` in the periods of its events.
    pub fn add(&mut self, fact: &Fact) {
        let query = self.query;
        let rules = self.rules;
        let periods = &self.periods;
        let board = self.boards.get(&fact.board).unwrap_or(&self.default_board);
        let key = group_of(fact, board, query.split);
        let tallies = self
            .groups
            .entry(key)
            .or_insert_with(|| vec![Tally::default(); periods.len()]);
        if let (Some(received), Some(route)) = (fact.received_at, fact.route)
            && let Some(t) = slot(tallies, periods, received.date_naive())
        {
            match route {
                Route::Remote => t.received_remote += 1,
                Route::Standard => t.received_standard += 1,
            }
        }
        if let (Some(received), Some(vetted)) = (fact.received_at, fact.vetted_at)
            && let Some(t) = slot(tallies, periods, vetted.date_naive())
        {
            let w = wait(&board.calendar, received, vetted, &fact.pauses);
            if w.working_days_excluding_paused() <= board.vetting_target_working_days {
                t.within_target += 1;
            }
            if !fact.pauses.is_empty() {
                t.info_requested += 1;
            }
            if fact.notification_failures > 0 {
                t.notification_failed += 1;
            }
            let outcome = fact.outcome.clone().unwrap_or_else(|| "unknown".into());
            if rules.without_specialist.contains(&outcome) {
                t.without_specialist += 1;
            }
            // Followed when the patient is known; the referrals after the
            // vetting, if any, are in `referrals`.
            if CLOSED_WITH_ADVICE.contains(&outcome.as_str())
                && !fact.attributes.patient_pseudonym.is_empty()
            {
                let later = self
                    .referrals
                    .0
                    .get(fact.attributes.patient_pseudonym.as_str())
                    .map_or(&[][..], Vec::as_slice);
                for (i, months) in [(0, 6), (2, 12)] {
                    let Some(end) = vetted.checked_add_months(chrono::Months::new(months)) else {
                        continue;
                    };
                    if end.date_naive() > query.as_of {
                        continue;
                    }
                    t.re_referral[i] += 1;
                    if later.iter().any(|r| *r > vetted && *r <= end) {
                        t.re_referral[i + 1] += 1;
                    }
                }
            }
            *t.outcomes.entry(outcome).or_default() += 1;
            t.waits.push(w);
        }
        for pause in &fact.pauses {
            if let Some(answered) = pause.answered_at
                && let Some(t) = slot(tallies, periods, answered.date_naive())
            {
                t.turnaround.push(
                    board.calendar.working_days_between(
                        pause.requested_at.date_naive(),
                        answered.date_naive(),
                    ),
                );
            }
        }
        if let Some(withdrawn) = fact.withdrawn_at
            && let Some(t) = slot(tallies, periods, withdrawn.date_naive())
        {
            t.withdrawn += 1;
        }
    }

    /// The rows, after disclosure control, by period, board and group.
    pub fn rows(self) -> Vec<MetricsRow> {
        let mut rows = Vec::new();
        for ((board, group), tallies) in self.groups {
            for (period, tally) in self.periods.iter().zip(tallies) {
                rows.push(publish(
                    period,
                    board.clone(),
                    group.clone(),
                    tally,
                    self.rules.suppression_threshold,
                ));
            }
        }
        rows.sort_by(|a, b| {
            (a.period_first, &a.board, &a.group).cmp(&(b.period_first, &b.board, &b.group))
        });
        rows
    }
}

fn group_of(fact: &Fact, board: &BoardContext, split: Option<Split>) -> (Option<String>, String) {
    let known = |n: u8| {
        if n == 0 {
            "unknown".to_owned()
        } else {
            n.to_string()
        }
    };
    match split {
        None => (None, "all".into()),
        Some(Split::Adoption) => {
            let after = match (board.adopted_on, fact.received_at) {
                (Some(on), Some(received)) => received.date_naive() >= on,
                _ => false,
            };
            (
                Some(fact.board.clone()),
                if after { "after" } else { "before" }.into(),
            )
        }
        Some(Split::UrbanRural) => (None, known(fact.attributes.urban_rural_class)),
        Some(Split::Simd) => (None, known(fact.attributes.simd_quintile)),
        Some(Split::AgeBand) => (None, fact.attributes.age_band.clone()),
        Some(Split::Sex) => (None, fact.attributes.sex.clone()),
        Some(Split::Priority) => (
            None,
            match fact.outcome.as_deref() {
                Some("accept") => fact.priority.clone().unwrap_or_else(|| "none".into()),
                _ => "none".into(),
            },
        ),
    }
}

fn slot<'a>(tallies: &'a mut [Tally], periods: &[Period], day: NaiveDate) -> Option<&'a mut Tally> {
    let index = periods.partition_point(|p| p.first <= day).checked_sub(1)?;
    let period = periods.get(index)?;
    if day > period.last {
        return None;
    }
    tallies.get_mut(index)
}

fn publish(
    period: &Period,
    board: Option<String>,
    group: String,
    tally: Tally,
    threshold: u64,
) -> MetricsRow {
    let mut d = Disclosure::new(threshold);
    let vetted_n = tally.waits.len() as u64;
    let received_n = tally.received_remote + tally.received_standard;

    let routes = [
        ("received_remote".to_owned(), tally.received_remote),
        ("received_standard".to_owned(), tally.received_standard),
    ];
    // A hidden route hides the total too, so the other route alone cannot
    // give it away.
    let route_small = routes.iter().any(|(_, n)| d.is_small(*n));
    let received = if route_small || d.is_small(received_n) {
        d.hide("received")
    } else {
        Some(received_n)
    };
    let route_values = d.parts("received", &routes);

    let vetted = d.count("vetted", vetted_n);
    let quantiles = |f: fn(&Wait) -> u32| {
        let mut values: Vec<u32> = tally.waits.iter().map(f).collect();
        values.sort_unstable();
        (quantile(&values, 0.5), quantile(&values, 0.9))
    };
    let (wm, w90) = quantiles(|w| w.working_days);
    let (cm, c90) = quantiles(|w| w.calendar_days);
    let (wxm, wx90) = quantiles(Wait::working_days_excluding_paused);
    let (cxm, cx90) = quantiles(Wait::calendar_days_excluding_paused);
    let mut wait_field = |name: &str, value: Option<f64>| d.derived(name, value, &["vetted"]);
    let wait_working_days_median = wait_field("wait_working_days_median", wm);
    let wait_working_days_p90 = wait_field("wait_working_days_p90", w90);
    let wait_calendar_days_median = wait_field("wait_calendar_days_median", cm);
    let wait_calendar_days_p90 = wait_field("wait_calendar_days_p90", c90);
    let wait_working_days_excl_paused_median =
        wait_field("wait_working_days_excl_paused_median", wxm);
    let wait_working_days_excl_paused_p90 = wait_field("wait_working_days_excl_paused_p90", wx90);
    let wait_calendar_days_excl_paused_median =
        wait_field("wait_calendar_days_excl_paused_median", cxm);
    let wait_calendar_days_excl_paused_p90 = wait_field("wait_calendar_days_excl_paused_p90", cx90);

    let share = |n: u64| (vetted_n > 0).then(|| n as f64 / vetted_n as f64);
    let vetted_within_target = d.subset(
        "vetted_within_target",
        tally.within_target,
        vetted_n,
        "vetted",
    );
    let vetted_within_target_share = d.derived(
        "vetted_within_target_share",
        share(tally.within_target),
        &["vetted_within_target"],
    );
    let info_requested = d.subset("info_requested", tally.info_requested, vetted_n, "vetted");
    let info_request_rate = d.derived(
        "info_request_rate",
        share(tally.info_requested),
        &["info_requested"],
    );
    let info_answered = d.count("info_answered", tally.turnaround.len() as u64);
    let mut turnaround = tally.turnaround.clone();
    turnaround.sort_unstable();
    let info_turnaround_working_days_median = d.derived(
        "info_turnaround_working_days_median",
        quantile(&turnaround, 0.5),
        &["info_answered"],
    );
    let info_turnaround_working_days_p90 = d.derived(
        "info_turnaround_working_days_p90",
        quantile(&turnaround, 0.9),
        &["info_answered"],
    );
    let managed_without_specialist = d.subset(
        "managed_without_specialist",
        tally.without_specialist,
        vetted_n,
        "vetted",
    );
    let managed_without_specialist_share = d.derived(
        "managed_without_specialist_share",
        share(tally.without_specialist),
        &["managed_without_specialist"],
    );

    let mut codes: Vec<String> = OUTCOME_CODES.iter().map(|c| (*c).to_owned()).collect();
    codes.extend(
        tally
            .outcomes
            .keys()
            .filter(|k| !OUTCOME_CODES.contains(&k.as_str()))
            .cloned(),
    );
    let parts: Vec<(String, u64)> = codes
        .iter()
        .map(|c| {
            (
                format!("outcomes.{c}"),
                tally.outcomes.get(c).copied().unwrap_or(0),
            )
        })
        .collect();
    let shown = d.parts("vetted", &parts);
    let outcomes = codes.into_iter().zip(shown).collect();

    let notification_failed = d.subset(
        "notification_failed",
        tally.notification_failed,
        vetted_n,
        "vetted",
    );
    let withdrawn = d.count("withdrawn", tally.withdrawn);
    let rate = |n: u64, of: u64| (of > 0).then(|| n as f64 / of as f64);
    let [f6, r6, f12, r12] = tally.re_referral;
    let re_referral_followed_6m = d.count("re_referral_followed_6m", f6);
    let re_referred_6m = d.subset("re_referred_6m", r6, f6, "re_referral_followed_6m");
    let re_referral_rate_6m = d.derived("re_referral_rate_6m", rate(r6, f6), &["re_referred_6m"]);
    let re_referral_followed_12m = d.count("re_referral_followed_12m", f12);
    let re_referred_12m = d.subset("re_referred_12m", r12, f12, "re_referral_followed_12m");
    let re_referral_rate_12m =
        d.derived("re_referral_rate_12m", rate(r12, f12), &["re_referred_12m"]);
    MetricsRow {
        period: period.label.clone(),
        period_first: period.first,
        period_last: period.last,
        board,
        group,
        received,
        received_remote: route_values.first().copied().flatten(),
        received_standard: route_values.get(1).copied().flatten(),
        vetted,
        wait_working_days_median,
        wait_working_days_p90,
        wait_calendar_days_median,
        wait_calendar_days_p90,
        wait_working_days_excl_paused_median,
        wait_working_days_excl_paused_p90,
        wait_calendar_days_excl_paused_median,
        wait_calendar_days_excl_paused_p90,
        vetted_within_target,
        vetted_within_target_share,
        info_requested,
        info_request_rate,
        info_answered,
        info_turnaround_working_days_median,
        info_turnaround_working_days_p90,
        outcomes,
        managed_without_specialist,
        managed_without_specialist_share,
        notification_failed,
        withdrawn,
        re_referral_followed_6m,
        re_referred_6m,
        re_referral_rate_6m,
        re_referral_followed_12m,
        re_referred_12m,
        re_referral_rate_12m,
        suppressed: d.suppressed,
    }
}
