//! Unit tests of `phs.rs` and `phs_row.rs`.

use super::*;
use crate::domain::period::Granularity;
use crate::domain::phs_row::publish_phs;
use chrono::{Duration, TimeZone};
use pathway_proto::BoardCode;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a date")
}

/// Noon on Scotland's clock of `d` (11:00 UTC in summer).
fn noon(d: NaiveDate) -> DateTime<Utc> {
    days::start_of(d) + Duration::hours(12)
}

fn fact(received: DateTime<Utc>) -> Fact {
    let mut f = Fact::new("r", BoardCode::parse("highland").expect("a board"));
    f.route = Some(Route::Remote);
    f.received_at = Some(received);
    f
}

#[test]
fn weeks_waited_are_completed_weeks() {
    for (days, weeks) in [
        (0, 0),
        (6, 0),
        (7, 1),
        (83, 11),
        (84, 12),
        (90, 12),
        (91, 13),
    ] {
        assert_eq!(weeks_waited(days), weeks, "{days} days");
    }
}

#[test]
fn band_edges_follow_completed_weeks() {
    // 12 weeks or less: up to 90 days (12 weeks and 6 days).
    for (days, band) in [
        (0, Band::UpTo12),
        (83, Band::UpTo12),
        (84, Band::UpTo12),
        (90, Band::UpTo12),
        (91, Band::From13To24),
        (168, Band::From13To24),
        (169, Band::From13To24),
        (174, Band::From13To24),
        (175, Band::From25To51),
        (357, Band::From25To51),
        (358, Band::From25To51),
        (363, Band::From25To51),
        (364, Band::From52),
        (365, Band::From52),
        (10_000, Band::From52),
    ] {
        assert_eq!(Band::of_days(days), band, "{days} days");
    }
}

#[test]
fn a_wait_is_counted_in_scottish_days() {
    // Received 00:30 BST on 1 July (23:30 UTC on 30 June), seen 90 days
    // later in Scotland: 12 weeks, not 13 as UTC days would make it.
    let received = Utc
        .with_ymd_and_hms(2026, 6, 30, 23, 30, 0)
        .single()
        .expect("an instant");
    let mut f = fact(received);
    f.first_appointment.attended_at = Some(noon(day(2026, 9, 29)));
    f.first_appointment.clinic_type = Some("pain_clinic".into());
    let s = seen(&f).expect("seen");
    assert_eq!(s.days, 90);
    assert_eq!(Band::of_days(s.days), Band::UpTo12);
}

#[test]
fn the_census_on_a_periods_last_day_counts_what_happened_that_day() {
    let last = day(2026, 3, 31);
    let received = noon(day(2025, 12, 31));
    // Still waiting for vetting at the end of 31 March: 90 days.
    let f = fact(received);
    let w = waiting(&f, last).expect("waiting");
    assert_eq!((w.place, w.days), (Place::AwaitingVetting, 90));
    // Received on the last day itself: waiting, 0 days.
    assert_eq!(waiting(&fact(noon(last)), last).map(|w| w.days), Some(0));
    // Received 00:30 BST on 1 April (23:30 UTC on 31 March): not yet.
    let late = Utc
        .with_ymd_and_hms(2026, 3, 31, 23, 30, 0)
        .single()
        .expect("an instant");
    assert_eq!(waiting(&fact(late), last), None);
    // Seen at 23:30 BST on the last day: no longer waiting that night.
    let mut seen_late = fact(received);
    seen_late.first_appointment.attended_at = Some(
        Utc.with_ymd_and_hms(2026, 3, 31, 22, 30, 0)
            .single()
            .expect("an instant"),
    );
    assert_eq!(waiting(&seen_late, last), None);
    // Seen the next day: still waiting on the last.
    let mut seen_next = fact(received);
    seen_next.first_appointment.attended_at = Some(noon(day(2026, 4, 1)));
    assert!(waiting(&seen_next, last).is_some());
    // Accepted on the last day: awaiting the first appointment.
    let mut accepted = fact(received);
    accepted.vetted_at = Some(noon(last));
    accepted.outcome = Some("accept".into());
    assert_eq!(
        waiting(&accepted, last).map(|w| w.place),
        Some(Place::AwaitingFirstAppointment)
    );
    // Returned with advice, declined, withdrawn or closed: not waiting.
    for outcome in [
        "advice_to_referrer",
        "decline",
        "self_management",
        "redirect",
    ] {
        let mut f = accepted.clone();
        f.outcome = Some(outcome.into());
        assert_eq!(waiting(&f, last), None, "{outcome}");
    }
    let mut withdrawn = fact(received);
    withdrawn.withdrawn_at = Some(noon(last));
    assert_eq!(waiting(&withdrawn, last), None);
    let mut closed = accepted.clone();
    closed.closed_at = Some(noon(last));
    assert_eq!(waiting(&closed, last), None);
    // Standard-route referrals are not in the census.
    let mut standard = fact(received);
    standard.route = Some(Route::Standard);
    assert_eq!(waiting(&standard, last), None);
}

#[test]
fn an_open_question_is_awaiting_information_and_paused() {
    let last = day(2026, 3, 31);
    let mut f = fact(noon(day(2026, 1, 1)));
    f.pauses.push(Pause {
        information_request_id: "q".into(),
        requested_at: noon(day(2026, 3, 1)),
        answered_at: Some(noon(day(2026, 4, 2))),
    });
    let w = waiting(&f, last).expect("waiting");
    assert_eq!(w.place, Place::AwaitingInformation);
    assert_eq!(w.days, 89);
    assert_eq!(w.days_excl_paused, 89 - 30);
    // Answered on the last day: back to awaiting vetting.
    f.pauses[0].answered_at = Some(noon(last));
    assert_eq!(
        waiting(&f, last).map(|w| w.place),
        Some(Place::AwaitingVetting)
    );
}

#[test]
fn decision_to_first_appointment_by_clinic_type_and_suppression() {
    let mut waits = PhsWaits::new(day(2026, 1, 1), day(2026, 3, 31), Granularity::Quarter);
    for i in 0..12u32 {
        let mut f = fact(noon(day(2026, 1, 1)));
        f.vetted_at = Some(noon(day(2026, 1, 10)));
        f.decided_at = f.vetted_at;
        f.outcome = Some("accept".into());
        f.first_appointment.attended_at =
            Some(noon(day(2026, 1, 10) + Duration::days(i64::from(i) * 3)));
        f.first_appointment.clinic_type = Some(
            if i < 10 {
                "pain_clinic"
            } else {
                "physiotherapy"
            }
            .into(),
        );
        waits.add(&f);
    }
    let tally = &waits.tallies[0];
    assert_eq!(tally.seen_all, [12, 0, 0, 0]);
    assert_eq!(tally.seen_consultant_led, [10, 0, 0, 0]);
    let row = publish_phs(&waits.periods[0], tally, 5);
    // 10 consultant-led out of 12: the other 2 could be worked out.
    assert_eq!(row.seen.all_clinicians.total, Some(12));
    assert_eq!(row.seen.consultant_led.total, None);
    let clinic = |c: &str| {
        row.decision_to_first_appointment
            .iter()
            .find(|t| t.clinic_type == c)
            .cloned()
            .expect("a clinic type")
    };
    let pain = clinic("pain_clinic");
    assert_eq!(pain.seen, Some(10));
    // 0, 3, …, 27 days: median 13.5, 90th centile 24.3.
    assert_eq!(pain.median_days, Some(13.5));
    assert!((pain.p90_days.expect("shown") - 24.3).abs() < 1e-9);
    let physio = clinic("physiotherapy");
    assert_eq!((physio.seen, physio.median_days), (None, None));
    assert!(
        row.suppressed
            .contains(&"decision_to_first_appointment.physiotherapy.median_days".to_owned())
    );
    assert_eq!(clinic("pain_psychology").seen, Some(0));
}
