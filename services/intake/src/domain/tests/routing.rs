//! Given a board and a patient's date of birth, when a referral is received
//! on a Scottish day, then it goes to the pathway, the standard route or the
//! paediatric service.

use chrono::NaiveDate;

use super::*;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a date")
}

#[test]
fn a_child_goes_to_the_paediatric_service_on_or_off_the_pathway() {
    let received = day(2026, 3, 10);
    // Sixteen tomorrow: still fifteen on the day of receipt.
    let fifteen = day(2010, 3, 11);
    for on_pathway in [true, false] {
        let routing = Routing::decide(on_pathway, fifteen, received, Some(16));
        assert_eq!(routing, Routing::Paediatric);
        assert_eq!(routing.status(), Status::RoutedStandard);
        assert_eq!(routing.route(), Route::Paediatric);
        assert_eq!(routing.reason(), Some("paediatric_patient"));
    }
}

#[test]
fn sixteen_on_the_day_of_receipt_is_an_adult() {
    let received = day(2026, 3, 10);
    let sixteen_today = day(2010, 3, 10);
    assert_eq!(
        Routing::decide(true, sixteen_today, received, Some(16)),
        Routing::Pathway
    );
    assert_eq!(
        Routing::decide(false, sixteen_today, received, Some(16)),
        Routing::Standard
    );
}

#[test]
fn without_a_paediatric_service_a_child_follows_the_board() {
    let received = day(2026, 3, 10);
    let nine = day(2017, 1, 1);
    assert_eq!(
        Routing::decide(true, nine, received, None),
        Routing::Pathway
    );
    let standard = Routing::decide(false, nine, received, None);
    assert_eq!(standard, Routing::Standard);
    assert_eq!(standard.route(), Route::Standard);
    assert_eq!(standard.reason(), Some("board_not_on_pathway"));
}

#[test]
fn the_board_sets_the_threshold() {
    let received = day(2026, 3, 10);
    let seventeen = day(2008, 6, 1);
    assert_eq!(
        Routing::decide(true, seventeen, received, Some(18)),
        Routing::Paediatric
    );
    assert_eq!(
        Routing::decide(true, seventeen, received, Some(16)),
        Routing::Pathway
    );
    let pathway = Routing::decide(true, seventeen, received, None);
    assert_eq!(pathway.status(), Status::AwaitingVetting);
    assert_eq!(pathway.route(), Route::RemotePathway);
    assert_eq!(pathway.reason(), None);
}

#[test]
fn a_leap_day_birthday_comes_on_the_first_of_march() {
    let born = day(2012, 2, 29);
    assert_eq!(age_on(born, day(2028, 2, 28)), 15);
    assert_eq!(age_on(born, day(2028, 2, 29)), 16);
    assert_eq!(age_on(born, day(2027, 2, 28)), 14);
    assert_eq!(age_on(born, day(2027, 3, 1)), 15);
}
