use chrono::{Datelike, NaiveDate};
use pathway_proto::v1::Payload;
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::events;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a date")
}

#[test]
fn a_seed_gives_the_same_history() {
    let (since, today) = (date(2026, 1, 1), date(2026, 4, 1));
    let one = events(&mut StdRng::seed_from_u64(3), "highland", since, today);
    let two = events(&mut StdRng::seed_from_u64(3), "highland", since, today);
    let other = events(&mut StdRng::seed_from_u64(4), "highland", since, today);
    assert_eq!(one, two);
    assert_ne!(one.1, other.1);
}

#[test]
fn every_event_is_demo_data_on_the_board_between_switch_on_and_today() {
    let (since, today) = (date(2025, 6, 1), date(2026, 6, 1));
    let (referrals, history) = events(&mut StdRng::seed_from_u64(9), "fife", since, today);
    assert!(
        referrals > 200,
        "a year of a board's referrals: {referrals}"
    );
    let start = pathway_proto::days::start_of(since);
    let end = pathway_proto::days::start_of(today);
    for event in &history {
        assert!(event.demo, "{event:?}");
        assert_eq!(event.board, "fife");
        assert!(!event.referral_id.is_empty());
        let at = event.occurred_at().expect("a time");
        assert!(start <= at && at < end, "{at} outside {since}..{today}");
    }
    let received: Vec<_> = history
        .iter()
        .filter_map(|e| match &e.payload {
            Some(Payload::ReferralReceived(r)) => Some((e, r)),
            _ => None,
        })
        .collect();
    assert_eq!(received.len(), referrals);
    for (event, r) in &received {
        let day = pathway_proto::days::day_of(event.occurred_at().expect("a time"));
        assert!(
            day.weekday().number_from_monday() <= 5,
            "{day} is a working day"
        );
        let patient = r.patient.as_ref().expect("attributes");
        assert_eq!(patient.patient_pseudonym.len(), 64);
    }
    let ids: std::collections::BTreeSet<_> = history.iter().map(|e| &e.event_id).collect();
    assert_eq!(ids.len(), history.len(), "event ids are unique");
    let count = |kind: (&str, &str)| history.iter().filter(|e| e.kind() == Some(kind)).count();
    assert!(count(("vetting", "completed")) > referrals * 9 / 10);
    assert_eq!(
        count(("decision", "recorded")),
        count(("vetting", "completed"))
    );
    assert!(count(("vetting", "info_requested")) > 0);
    assert!(count(("referral", "info_provided")) > 0);
    assert!(count(("notification", "sent")) > 0);
    assert!(count(("appointment", "booked")) > referrals / 3);
    assert!(count(("appointment", "attended")) > 0);
}

#[test]
fn vetting_gets_quicker_over_the_first_year() {
    let (since, today) = (date(2025, 1, 6), date(2026, 1, 5));
    let (_, history) = events(&mut StdRng::seed_from_u64(5), "lothian", since, today);
    let mut received = std::collections::HashMap::new();
    let mut early = Vec::new();
    let mut late = Vec::new();
    for event in &history {
        let at = event.occurred_at().expect("a time");
        match event.kind() {
            Some(("referral", "received")) => {
                received.insert(event.referral_id.clone(), at);
            }
            Some(("vetting", "claimed")) => {
                let from = received[&event.referral_id];
                let hours = (at - from).num_hours();
                if from < pathway_proto::days::start_of(date(2025, 3, 1)) {
                    early.push(hours);
                } else if from >= pathway_proto::days::start_of(date(2025, 10, 1)) {
                    late.push(hours);
                }
            }
            _ => {}
        }
    }
    let mean = |v: &[i64]| v.iter().sum::<i64>() as f64 / v.len().max(1) as f64;
    assert!(
        mean(&late) < mean(&early) * 0.7,
        "early {} h, late {} h",
        mean(&early),
        mean(&late)
    );
}
