//! Given a patient's date of birth and the day their referral was received,
//! then it is a child's record (kept until the year after the 26th birthday) or
//! an adult's.

use chrono::NaiveDate;

use super::*;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a date")
}

#[test]
fn a_patient_under_18_at_receipt_is_kept_until_the_year_after_their_26th_birthday() {
    let received = day(2026, 3, 10);
    // Eighteen tomorrow: still seventeen on the day of receipt.
    let seventeen = day(2008, 3, 11);
    assert_eq!(KeepUntil::of(seventeen, received), KeepUntil::Year(2035));
    let nine = day(2016, 12, 31);
    assert_eq!(KeepUntil::of(nine, received), KeepUntil::Year(2043));
    // Eighteen that very day: an adult.
    assert_eq!(KeepUntil::of(day(2008, 3, 10), received), KeepUntil::Adult);
    assert_eq!(KeepUntil::of(day(1961, 7, 23), received), KeepUntil::Adult);
}

#[test]
fn a_childs_referral_may_go_from_the_first_day_of_its_year_an_adults_any_day() {
    let rule = KeepUntil::Year(2034);
    assert!(!rule.allows_on(day(2033, 12, 31)));
    assert!(rule.allows_on(day(2034, 1, 1)));
    assert!(KeepUntil::Adult.allows_on(day(2026, 1, 1)));
    assert_eq!(rule.stored(), 2034);
    assert_eq!(KeepUntil::Adult.stored(), 0);
}
