//! Unit tests of `re_referrals.rs`.

use super::*;

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().expect("test data is valid")
}

fn day(text: &str) -> NaiveDate {
    text.parse().expect("test data is valid")
}

fn board(code: &str) -> BoardCode {
    BoardCode::parse(code).expect("a board")
}

fn advised(vetted: &str) -> Fact {
    let mut fact = Fact::new("r1", board("highland"));
    fact.received_at = Some(utc("2025-01-06T09:00:00Z"));
    fact.vetted_at = Some(utc(vetted));
    fact.outcome = Some("advice_to_referrer".into());
    fact.attributes.patient_pseudonym = "p1".into();
    fact
}

#[test]
fn the_window_ends_on_the_day_every_instant_of_the_vetting_day_gives() {
    // Every half hour of a year of Scottish days, including both clock
    // changes and the nights that lead onto them six or twelve months on.
    let mut at = utc("2025-03-01T00:00:00Z");
    while at < utc("2026-04-01T00:00:00Z") {
        for months in WINDOWS {
            let end = months_after(at, months).expect("in range");
            assert_eq!(
                Some(days::day_of(end)),
                window_end(days::day_of(at), months),
                "{at} + {months} months"
            );
        }
        at += chrono::TimeDelta::minutes(30);
    }
}

#[test]
fn the_last_followed_day_is_the_last_whose_window_has_ended() {
    for as_of in [
        "2026-02-28",
        "2026-03-31",
        "2026-08-31",
        "2026-03-01",
        "2027-01-01",
    ] {
        let as_of = day(as_of);
        for months in WINDOWS {
            let last = last_followed_day(as_of, months).expect("in range");
            assert!(window_end(last, months).expect("in range") <= as_of);
            let next = last.succ_opt().expect("in range");
            assert!(
                window_end(next, months).expect("in range") > as_of,
                "{as_of}, {months} months: {next} also ended"
            );
        }
    }
    // Windows of 31 August, 30 and 29 August end on the last of February.
    assert_eq!(
        last_followed_day(day("2026-02-28"), 6),
        Some(day("2025-08-31"))
    );
}

#[test]
fn a_referral_counts_the_boards_referred_to_within_each_window() {
    let fact = advised("2025-03-03T10:00:00Z");
    let receipts = [
        // Before the vetting: not a re-referral.
        (board("fife"), utc("2025-03-03T09:00:00Z")),
        // Four months on.
        (board("lothian"), utc("2025-07-01T09:00:00Z")),
        // The last instant of the 6 months (10:00 in Scotland, in summer
        // time), then just after.
        (board("tayside"), utc("2025-09-03T09:00:00Z")),
        (board("orkney"), utc("2025-09-03T09:00:01Z")),
        // Thirteen months on.
        (board("borders"), utc("2026-04-03T10:00:00Z")),
    ];
    let ReReferred([six, twelve]) = followed(&fact, &receipts);
    assert_eq!(six, BoardSet::of([board("lothian"), board("tayside")]));
    assert_eq!(
        twelve,
        BoardSet::of([board("lothian"), board("tayside"), board("orkney")])
    );
    assert!(six.meets(BoardSet::of([board("tayside"), board("fife")])));
    assert!(!six.meets(BoardSet::of([board("orkney"), board("fife")])));
}

#[test]
fn only_a_referral_closed_with_advice_of_a_known_patient_is_followed() {
    let receipts = [(board("fife"), utc("2025-04-01T09:00:00Z"))];
    let mut accepted = advised("2025-03-03T10:00:00Z");
    accepted.outcome = Some("accept".into());
    let mut unknown = advised("2025-03-03T10:00:00Z");
    unknown.attributes.patient_pseudonym.clear();
    for fact in [accepted, unknown] {
        assert_eq!(followed(&fact, &receipts), ReReferred::default());
    }
    assert_ne!(
        followed(&advised("2025-03-03T10:00:00Z"), &receipts),
        ReReferred::default()
    );
}

#[test]
fn a_set_keeps_only_the_bits_of_boards() {
    let all = BoardSet::of(BoardCode::all());
    assert_eq!(BoardSet::from_bits(all.bits()), Some(all));
    assert_eq!(BoardSet::from_bits(1 << 14), None);
}
