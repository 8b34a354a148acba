//! One period of one group as it is published: every count after
//! disclosure control, with the names of the fields it hid.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use pathway_proto::BoardCode;
use pathway_proto::board::OUTCOME_CODES;
use serde::Serialize;

use super::aggregate::Tally;
use crate::domain::disclosure::Disclosure;
use crate::domain::period::Period;
use crate::domain::waits::{Wait, quantile};

/// One period of one group, after disclosure control.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MetricsRow {
    /// `2026-W14`, `2026-04` or `2026-Q2`.
    pub period: String,
    /// First Scottish day counted in this period (cut to `from`).
    pub period_first: NaiveDate,
    /// Last Scottish day counted in this period (cut to `to`).
    pub period_last: NaiveDate,
    /// The board, for `split=adoption`; otherwise the row covers every board asked for.
    pub board: Option<BoardCode>,
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
    /// self-management, whose 6 months after vetting (on Scotland's clock)
    /// have passed by today in Scotland.
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

pub(super) fn publish(
    period: &Period,
    board: Option<BoardCode>,
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
