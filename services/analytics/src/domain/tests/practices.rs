//! Unit tests of `practices.rs`.

use chrono::{DateTime, TimeZone, Utc};

use super::*;

fn highland() -> BoardCode {
    BoardCode::parse("highland").expect("a board")
}

fn date(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).expect("a date")
}

fn at(m: u32, d: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, m, d, hour, 0, 0)
        .single()
        .expect("an instant")
}

fn referral(practice: &str, received: DateTime<Utc>, outcome: Option<&str>) -> Fact {
    let mut fact = Fact::new(&format!("r-{practice}-{received}"), highland());
    fact.route = Some(Route::Remote);
    fact.received_at = Some(received);
    fact.practice_code = practice.to_owned();
    fact.outcome = outcome.map(str::to_owned);
    fact
}

fn april() -> Practices {
    Practices::new(highland(), date(4, 1), date(4, 30))
}

#[test]
fn each_referral_counts_once_under_its_practice_by_what_became_of_it() {
    let mut p = april();
    p.add(&referral("55501", at(4, 2, 9), Some("accept")));
    p.add(&referral("55501", at(4, 3, 9), Some("advice_to_referrer")));
    p.add(&referral("55501", at(4, 4, 9), None));
    let mut withdrawn = referral("55501", at(4, 5, 9), None);
    withdrawn.withdrawn_at = Some(at(4, 6, 9));
    p.add(&withdrawn);
    p.add(&referral("", at(4, 7, 9), Some("decline")));
    let tally = &p.tallies["55501"];
    assert_eq!(tally.received, 4);
    assert_eq!(tally.decided(), 2);
    assert_eq!(tally.withdrawn, 1);
    assert_eq!(tally.awaiting, 1);
    assert_eq!(p.tallies[UNKNOWN_PRACTICE].outcomes[8], 1, "decline");
    let total = p.board_total();
    assert_eq!(total.received, 5);
    assert_eq!(total.decided(), 3);
}

#[test]
fn the_range_is_of_scottish_days_and_only_the_boards_remote_referrals_count() {
    let mut p = april();
    // 23:30 UTC on 31 March is 00:30 on 1 April in Scotland (BST).
    p.add(&referral(
        "55501",
        at(3, 31, 23) + chrono::Duration::minutes(30),
        None,
    ));
    // 23:30 UTC on 30 April is 1 May in Scotland.
    p.add(&referral(
        "55501",
        at(4, 30, 23) + chrono::Duration::minutes(30),
        None,
    ));
    let mut standard = referral("55501", at(4, 10, 9), None);
    standard.route = Some(Route::Standard);
    p.add(&standard);
    let mut elsewhere = referral("55501", at(4, 10, 9), None);
    elsewhere.board = BoardCode::parse("lothian").expect("a board");
    p.add(&elsewhere);
    assert_eq!(p.tallies["55501"].received, 1);
}

fn many(p: &mut Practices, practice: &str, outcome: Option<&str>, n: usize) {
    for i in 0..n {
        let mut fact = referral(practice, at(4, 10, 9), outcome);
        fact.referral_id = format!("{practice}-{outcome:?}-{i}");
        p.add(&fact);
    }
}

#[test]
fn large_counts_are_shown_with_the_share_returned_with_advice() {
    let mut p = april();
    many(&mut p, "55501", Some("advice_to_referrer"), 10);
    many(&mut p, "55501", Some("accept"), 30);
    many(&mut p, "55502", Some("accept"), 20);
    let (rows, board) = publish(&p, 5);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].practice, "55501");
    assert_eq!(rows[0].received, Some(40));
    assert_eq!(rows[0].outcomes["advice_to_referrer"], Some(10));
    assert_eq!(rows[0].outcomes["decline"], Some(0), "zeros are shown");
    assert_eq!(rows[0].advice_to_referrer_share, Some(0.25));
    assert_eq!(rows[1].advice_to_referrer_share, Some(0.0));
    assert!(rows[0].suppressed.is_empty());
    assert_eq!(board.practice, BOARD_TOTAL);
    assert_eq!(board.received, Some(60));
    assert_eq!(board.advice_to_referrer_share, Some(10.0 / 60.0));
}

#[test]
fn a_small_practice_cannot_be_had_from_the_board_total() {
    let mut p = april();
    many(&mut p, "55501", Some("accept"), 40);
    many(&mut p, "55502", Some("accept"), 25);
    many(&mut p, "55503", Some("accept"), 3);
    let (rows, board) = publish(&p, 5);
    let row = |code: &str| rows.iter().find(|r| r.practice == code).expect("a row");
    assert_eq!(row("55503").received, None);
    assert_eq!(row("55503").outcomes["accept"], None);
    assert!(
        row("55503")
            .suppressed
            .contains(&"advice_to_referrer_share".to_owned())
    );
    // The board's total is shown, so another practice is hidden with it:
    // the smallest, 55502.
    assert_eq!(board.received, Some(68));
    assert_eq!(row("55502").received, None);
    assert_eq!(row("55501").received, Some(40));
    // No column and no row leaves exactly one cell to work out.
    let shown_received: u64 = rows.iter().filter_map(|r| r.received).sum();
    let hidden = rows.iter().filter(|r| r.received.is_none()).count();
    assert!(hidden != 1 && board.received.expect("shown") - shown_received == 28);
}

#[test]
fn no_relation_is_left_with_one_unknown() {
    // Many shapes of small and large practices: after suppression, every
    // row sum and every column has zero or at least two hidden cells.
    for seed in 0..60u64 {
        let mut p = april();
        for practice in 0..(2 + seed % 5) {
            let code = format!("{:05}", 55500 + practice);
            for (k, outcome) in [
                Some("accept"),
                Some("advice_to_referrer"),
                Some("decline"),
                None,
            ]
            .into_iter()
            .enumerate()
            {
                let n = ((seed * 7 + practice * 13 + k as u64 * 5) % 11) as usize;
                many(&mut p, &code, outcome, n);
            }
        }
        let (rows, board) = publish(&p, 5);
        let mut all = rows.clone();
        all.push(board.clone());
        for r in &all {
            let cells = |names: &[Option<u64>]| names.iter().filter(|c| c.is_none()).count();
            let row_sum = [r.received, r.decided, r.withdrawn, r.awaiting];
            assert_ne!(cells(&row_sum), 1, "seed {seed}: {r:?}");
            let mut decided = vec![r.decided];
            decided.extend(r.outcomes.values().copied());
            assert_ne!(cells(&decided), 1, "seed {seed}: {r:?}");
            for value in [r.received, r.decided, r.withdrawn, r.awaiting]
                .into_iter()
                .chain(r.outcomes.values().copied())
                .flatten()
            {
                assert!(value == 0 || value >= 5, "seed {seed}: small {value} shown");
            }
        }
        let column = |get: &dyn Fn(&PracticeRow) -> Option<u64>| {
            all.iter().filter(|r| get(r).is_none()).count()
        };
        assert_ne!(column(&|r| r.received), 1, "seed {seed}");
        assert_ne!(column(&|r| r.awaiting), 1, "seed {seed}");
        for code in OUTCOME_CODES {
            assert_ne!(column(&|r| r.outcomes[code]), 1, "seed {seed} {code}");
        }
    }
}

#[test]
fn the_practice_code_comes_from_the_referral_event() {
    use pathway_proto::v1::{self as proto, Event, Payload};
    let id = uuid::Uuid::now_v7();
    let mut fact = Fact::new(&id.to_string(), highland());
    for payload in [
        Payload::ReferralReceived(proto::ReferralReceived {
            practice_code: " 55501 ".into(),
            ..Default::default()
        }),
        Payload::ReferralRoutedStandard(proto::ReferralRoutedStandard {
            practice_code: "55502".into(),
            ..Default::default()
        }),
    ] {
        let event = Event::new("highland", Some(id), "test", at(4, 2, 9), payload);
        fact.apply(&event).expect("the event applies");
        assert!(fact.practice_code.starts_with("5550"));
        assert_eq!(fact.practice_code.trim(), fact.practice_code);
    }
}
