//! One period of the waits to first appointment as published: every count
//! through [`Disclosure`], with the names of the fields it hid.

use chrono::NaiveDate;
use serde::Serialize;

use super::disclosure::Disclosure;
use super::period::Period;
use super::phs::{Band, Bands, PhsTally};
use super::waits::quantile;

/// Patients by PHS's weeks-waited bands, with their total.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BandCounts {
    pub total: Option<u64>,
    /// 12 weeks or less (0 to 90 days).
    pub weeks_0_12: Option<u64>,
    /// 13 to 24 weeks (91 to 174 days).
    pub weeks_13_24: Option<u64>,
    /// 25 to 51 weeks (175 to 363 days).
    pub weeks_25_51: Option<u64>,
    /// 52 weeks or more (364 days and over).
    pub weeks_52_plus: Option<u64>,
}

/// Patients seen for their first appointment in the period, by weeks waited.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SeenWaits {
    /// At a consultant-led pain clinic.
    pub consultant_led: BandCounts,
    /// The same, with the days paused for information taken off.
    pub consultant_led_excl_paused: BandCounts,
    /// With the most appropriate clinician: every clinic type.
    pub all_clinicians: BandCounts,
    pub all_clinicians_excl_paused: BandCounts,
}

/// Patients still waiting at the end of the period's last day.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StillWaiting {
    /// By weeks waited so far.
    pub bands: BandCounts,
    /// By weeks waited so far, the days paused for information taken off.
    pub bands_excl_paused: BandCounts,
    pub awaiting_vetting: Option<u64>,
    /// A question to the referrer open that day.
    pub awaiting_information: Option<u64>,
    /// Decided for a clinic or treatment, not yet seen.
    pub awaiting_first_appointment: Option<u64>,
}

/// Days from decision to first appointment, of the patients of one clinic
/// type seen in the period.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DecisionToAppointment {
    /// `pain_clinic`, `pain_psychology`, `physiotherapy`,
    /// `pain_management_programme`, or `unknown` when the hospital's system did not say.
    pub clinic_type: String,
    pub seen: Option<u64>,
    pub median_days: Option<f64>,
    pub p90_days: Option<f64>,
}

/// One period of the waits to first appointment, after disclosure control.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PhsRow {
    /// `2026-W14`, `2026-04` or `2026-Q2`.
    pub period: String,
    pub period_first: NaiveDate,
    /// The census day of `still_waiting`.
    pub period_last: NaiveDate,
    pub seen: SeenWaits,
    pub still_waiting: StillWaiting,
    pub decision_to_first_appointment: Vec<DecisionToAppointment>,
    /// Fields hidden by disclosure control (`null` here, `*` in CSV).
    pub suppressed: Vec<String>,
}

fn band_parts(prefix: &str, counts: &Bands) -> Vec<(String, u64)> {
    Band::ALL
        .iter()
        .map(|b| (format!("{prefix}.{}", b.field()), counts[*b as usize]))
        .collect()
}

fn to_counts(total: Option<u64>, shown: &[Option<u64>]) -> BandCounts {
    let at = |i: usize| shown.get(i).copied().flatten();
    BandCounts {
        total,
        weeks_0_12: at(0),
        weeks_13_24: at(1),
        weeks_25_51: at(2),
        weeks_52_plus: at(3),
    }
}

/// Bands that add up to the total in `total_field`, already decided.
fn bands_of(d: &mut Disclosure, prefix: &str, total_field: &str, counts: &Bands) -> BandCounts {
    let shown = d.parts(total_field, &band_parts(prefix, counts));
    let total = if d.is_hidden(total_field) {
        None
    } else {
        Some(counts.iter().sum())
    };
    to_counts(total, &shown)
}

/// Consultant-led bands, a subset of every clinician's: a band is hidden
/// too when the other clinicians' count in it is small, and then, if it is
/// the only one hidden, the next smallest with it.
fn subset_bands(
    d: &mut Disclosure,
    prefix: &str,
    total_field: &str,
    counts: &Bands,
    of: &Bands,
) -> BandCounts {
    let parts = band_parts(prefix, counts);
    let mut shown = d.parts(total_field, &parts);
    for (i, (field, n)) in parts.iter().enumerate() {
        if shown[i].is_some() && d.is_small(of[i].saturating_sub(*n)) {
            shown[i] = d.hide(field);
        }
    }
    if shown.iter().filter(|v| v.is_none()).count() == 1 && !d.is_hidden(total_field) {
        let smallest = shown
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.filter(|n| *n > 0).map(|n| (n, i)))
            .min();
        if let Some((_, i)) = smallest {
            shown[i] = d.hide(&parts[i].0);
        }
    }
    let total = if d.is_hidden(total_field) {
        None
    } else {
        Some(counts.iter().sum())
    };
    to_counts(total, &shown)
}

/// `tally` of `period` as published, counts from 1 to `threshold - 1` hidden.
pub fn publish_phs(period: &Period, tally: &PhsTally, threshold: u64) -> PhsRow {
    let mut d = Disclosure::new(threshold);
    let sum = |b: &Bands| b.iter().sum::<u64>();

    let all_total = "seen.all_clinicians.total";
    let _ = d.count(all_total, sum(&tally.seen_all));
    let all_clinicians = bands_of(&mut d, "seen.all_clinicians", all_total, &tally.seen_all);
    let all_clinicians_excl_paused = bands_of(
        &mut d,
        "seen.all_clinicians_excl_paused",
        all_total,
        &tally.seen_all_excl_paused,
    );
    let cl_total = "seen.consultant_led.total";
    let _ = d.subset(
        cl_total,
        sum(&tally.seen_consultant_led),
        sum(&tally.seen_all),
        all_total,
    );
    let consultant_led = subset_bands(
        &mut d,
        "seen.consultant_led",
        cl_total,
        &tally.seen_consultant_led,
        &tally.seen_all,
    );
    let consultant_led_excl_paused = subset_bands(
        &mut d,
        "seen.consultant_led_excl_paused",
        cl_total,
        &tally.seen_consultant_led_excl_paused,
        &tally.seen_all_excl_paused,
    );

    let waiting_total = "still_waiting.bands.total";
    let _ = d.count(waiting_total, sum(&tally.waiting));
    let bands = bands_of(&mut d, "still_waiting.bands", waiting_total, &tally.waiting);
    let bands_excl_paused = bands_of(
        &mut d,
        "still_waiting.bands_excl_paused",
        waiting_total,
        &tally.waiting_excl_paused,
    );
    let places: Vec<(String, u64)> = [
        "still_waiting.awaiting_vetting",
        "still_waiting.awaiting_information",
        "still_waiting.awaiting_first_appointment",
    ]
    .iter()
    .zip(tally.waiting_places)
    .map(|(f, n)| ((*f).to_owned(), n))
    .collect();
    let places = d.parts(waiting_total, &places);

    let mut decision_to_first_appointment = Vec::new();
    for (clinic, values) in &tally.decision_to_appointment {
        let field = format!("decision_to_first_appointment.{clinic}");
        let seen = d.count(&format!("{field}.seen"), values.len() as u64);
        let mut sorted = values.clone();
        sorted.sort_unstable();
        let from = [format!("{field}.seen")];
        let from: Vec<&str> = from.iter().map(String::as_str).collect();
        let median_days = d.derived(
            &format!("{field}.median_days"),
            quantile(&sorted, 0.5),
            &from,
        );
        let p90_days = d.derived(&format!("{field}.p90_days"), quantile(&sorted, 0.9), &from);
        decision_to_first_appointment.push(DecisionToAppointment {
            clinic_type: clinic.clone(),
            seen,
            median_days,
            p90_days,
        });
    }

    PhsRow {
        period: period.label.clone(),
        period_first: period.first,
        period_last: period.last,
        seen: SeenWaits {
            consultant_led,
            consultant_led_excl_paused,
            all_clinicians,
            all_clinicians_excl_paused,
        },
        still_waiting: StillWaiting {
            bands,
            bands_excl_paused,
            awaiting_vetting: places.first().copied().flatten(),
            awaiting_information: places.get(1).copied().flatten(),
            awaiting_first_appointment: places.get(2).copied().flatten(),
        },
        decision_to_first_appointment,
        suppressed: d.suppressed,
    }
}

impl PhsRow {
    /// The row's values as CSV cells, `(column, field in `suppressed`, value)`.
    pub fn cells(&self) -> Vec<(String, String, Option<String>)> {
        let n = |v: Option<u64>| v.map(|v| v.to_string());
        let x = |v: Option<f64>| v.map(|v| v.to_string());
        let mut out = Vec::new();
        let mut bands = |prefix: &str, b: &BandCounts| {
            for (name, v) in [
                ("total", b.total),
                ("weeks_0_12", b.weeks_0_12),
                ("weeks_13_24", b.weeks_13_24),
                ("weeks_25_51", b.weeks_25_51),
                ("weeks_52_plus", b.weeks_52_plus),
            ] {
                let field = format!("{prefix}.{name}");
                out.push((field.replace('.', "_"), field, n(v)));
            }
        };
        bands("seen.consultant_led", &self.seen.consultant_led);
        bands(
            "seen.consultant_led_excl_paused",
            &self.seen.consultant_led_excl_paused,
        );
        bands("seen.all_clinicians", &self.seen.all_clinicians);
        bands(
            "seen.all_clinicians_excl_paused",
            &self.seen.all_clinicians_excl_paused,
        );
        bands("still_waiting.bands", &self.still_waiting.bands);
        bands(
            "still_waiting.bands_excl_paused",
            &self.still_waiting.bands_excl_paused,
        );
        // The excluding-paused totals repeat the totals; their hidden
        // state is the total's.
        for (column, field) in [
            (
                "seen_consultant_led_excl_paused_total",
                "seen.consultant_led.total",
            ),
            (
                "seen_all_clinicians_excl_paused_total",
                "seen.all_clinicians.total",
            ),
            (
                "still_waiting_bands_excl_paused_total",
                "still_waiting.bands.total",
            ),
        ] {
            if let Some(cell) = out.iter_mut().find(|c| c.0 == column) {
                cell.1 = field.to_owned();
            }
        }
        for (name, v) in [
            ("awaiting_vetting", self.still_waiting.awaiting_vetting),
            (
                "awaiting_information",
                self.still_waiting.awaiting_information,
            ),
            (
                "awaiting_first_appointment",
                self.still_waiting.awaiting_first_appointment,
            ),
        ] {
            let field = format!("still_waiting.{name}");
            out.push((field.replace('.', "_"), field, n(v)));
        }
        for t in &self.decision_to_first_appointment {
            let prefix = format!("decision_to_first_appointment.{}", t.clinic_type);
            for (name, v) in [
                ("seen", n(t.seen)),
                ("median_days", x(t.median_days)),
                ("p90_days", x(t.p90_days)),
            ] {
                let field = format!("{prefix}.{name}");
                out.push((field.replace('.', "_"), field, v));
            }
        }
        out
    }
}
