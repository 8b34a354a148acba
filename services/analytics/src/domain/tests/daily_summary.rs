//! Unit tests of `daily_summary.rs`: one summer day, Tuesday 14 July 2026
//! (BST, UTC+1), with referrals either side of its midnights.

use super::*;
use crate::domain::fact::Pause;
use crate::domain::metrics::SettingsVersion;
use chrono::TimeZone;
use pathway_proto::BoardCode;
use pathway_proto::calendar::WorkingCalendar;

fn utc(m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, m, d, h, min, 0)
        .single()
        .expect("test data is valid")
}

fn day14() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 7, 14).expect("a date")
}

fn board() -> BoardContext {
    BoardContext::constant(
        SettingsVersion {
            calendar: WorkingCalendar::new(false, &[]),
            vetting_target_working_days: 5,
        },
        None,
    )
}

fn received(id: &str, at: DateTime<Utc>) -> Fact {
    let mut fact = Fact::new(id, BoardCode::parse("highland").expect("a board"));
    fact.route = Some(Route::Remote);
    fact.received_at = Some(at);
    fact
}

fn pause(asked: DateTime<Utc>, answered: Option<DateTime<Utc>>) -> Pause {
    Pause {
        information_request_id: "q".into(),
        requested_at: asked,
        answered_at: answered,
    }
}

#[test]
fn a_summer_day_counts_from_its_own_midnight_to_the_next() {
    // 00:30 BST on the 14th is 23:30 UTC on the 13th: received on the 14th.
    let at_half_past_midnight = received("a", utc(7, 13, 23, 30));
    // 00:30 BST on the 15th: the next day, and not yet received at the end.
    let next_day = received("b", utc(7, 14, 23, 30));
    // 23:30 BST on the 13th: the day before, still waiting.
    let day_before = received("c", utc(7, 13, 22, 30));
    // Wednesday 1 July: 9 working days by the 14th, over a target of 5.
    let over_target = received("d", utc(7, 1, 9, 0));
    let mut unanswered = received("e", utc(7, 2, 9, 0));
    unanswered.pauses.push(pause(utc(7, 3, 9, 0), None));
    let mut accepted = received("f", utc(7, 6, 9, 0));
    accepted.vetted_at = Some(utc(7, 14, 10, 0));
    accepted.decided_at = Some(utc(7, 14, 10, 0));
    accepted.outcome = Some("accept".into());
    // Decided at 00:15 BST on the 14th.
    let mut opt_in = received("g", utc(7, 8, 9, 0));
    opt_in.vetted_at = Some(utc(7, 13, 23, 15));
    opt_in.decided_at = Some(utc(7, 13, 23, 15));
    opt_in.outcome = Some("patient_opt_in".into());
    // Withdrawn at 23:59 BST on the 14th.
    let mut withdrawn = received("h", utc(7, 9, 9, 0));
    withdrawn.withdrawn_at = Some(utc(7, 14, 22, 59));
    let mut standard = received("i", utc(7, 14, 12, 0));
    standard.route = Some(Route::Standard);
    let mut demo = received("j", utc(7, 14, 12, 0));
    demo.demo = true;
    // Answered at 00:10 BST on the 15th: still waiting when the 14th ended.
    let mut answered_after = received("k", utc(7, 10, 9, 0));
    answered_after
        .pauses
        .push(pause(utc(7, 10, 10, 0), Some(utc(7, 14, 23, 10))));

    let facts = [
        at_half_past_midnight,
        next_day,
        day_before,
        over_target,
        unanswered,
        accepted,
        opt_in,
        withdrawn,
        standard,
        demo,
        answered_after,
    ];
    let got = count(&facts, day14(), &board());

    assert_eq!(
        got,
        DailyCounts {
            day: day14(),
            received: 1,
            routed_standard: 1,
            vetted: 2,
            decided: [("accept".to_owned(), 1), ("patient_opt_in".to_owned(), 1)]
                .into_iter()
                .collect(),
            withdrawn: 1,
            awaiting_vetting: 3,
            over_vetting_target: 1,
            awaiting_information: 2,
            awaiting_opt_in: 1,
        }
    );
}

#[test]
fn a_referral_at_half_past_midnight_bst_is_not_the_day_before() {
    let facts = [received("a", utc(7, 13, 23, 30))];
    let before = NaiveDate::from_ymd_opt(2026, 7, 13).expect("a date");
    let got = count(&facts, before, &board());
    assert_eq!((got.received, got.awaiting_vetting), (0, 0));
}

#[test]
fn the_summary_is_due_from_the_hour_on_scotlands_clock() {
    // 06:59 BST is not yet 07:00; 07:00 BST is 06:00 UTC.
    assert_eq!(due_day(utc(7, 15, 5, 59), 7), None);
    assert_eq!(due_day(utc(7, 15, 6, 0), 7), Some(day14()));
    // In winter Scotland's clock is UTC.
    assert_eq!(due_day(utc(12, 1, 6, 59), 7), None);
    assert_eq!(
        due_day(utc(12, 1, 7, 0), 7),
        NaiveDate::from_ymd_opt(2026, 11, 30)
    );
    // Midnight: the day just ended is due at once.
    assert_eq!(due_day(utc(7, 14, 23, 0), 0), Some(day14()));
}

#[test]
fn the_payload_names_the_day_and_each_outcome() {
    let facts = [{
        let mut f = received("f", utc(7, 6, 9, 0));
        f.vetted_at = Some(utc(7, 14, 10, 0));
        f.decided_at = Some(utc(7, 14, 10, 0));
        f.outcome = Some("decline".into());
        f
    }];
    let payload = count(&facts, day14(), &board()).to_proto();
    assert_eq!(payload.day, "2026-07-14");
    assert_eq!(payload.vetted, 1);
    assert_eq!(
        payload.decided,
        vec![proto::OutcomeCount {
            outcome: "decline".into(),
            count: 1
        }]
    );
}
