//! Unit tests of `chi.rs`.

use super::*;
use proptest::prelude::*;

fn digits(text: &str) -> Vec<u32> {
    text.chars().filter_map(|c| c.to_digit(10)).collect()
}

#[test]
fn known_numbers() {
    // 010101123 -> weights 10..2: 0+9+0+7+0+5+4+6+6 = 37; 37 mod 11 = 4; 11-4 = 7.
    assert!(ChiNumber::parse("0101011237").is_ok());
    assert_eq!(ChiNumber::parse("0101011238"), Err(ChiError::CheckDigit));
    assert_eq!(ChiNumber::parse("3201011237"), Err(ChiError::NotADate));
    assert_eq!(ChiNumber::parse("010101123"), Err(ChiError::NotTenDigits));
    assert_eq!(ChiNumber::parse("01010112a7"), Err(ChiError::NotTenDigits));
    // Luhn: 010101123 -> check digit 2? compute: see luhn_check_digit.
    let luhn = luhn_check_digit(&digits("010101123"));
    assert!(ChiNumber::parse(&format!("010101123{luhn}")).is_ok());
}

#[test]
fn sex_digit_and_birth_date() {
    let chi = ChiNumber::parse("0101011237").expect("valid");
    // Ninth digit 3 is odd: male.
    assert!(chi.agrees_with_sex(Sex::Male));
    assert!(!chi.agrees_with_sex(Sex::Female));
    assert!(chi.agrees_with_birth_date(NaiveDate::from_ymd_opt(1901, 1, 1).expect("date")));
    assert!(chi.agrees_with_birth_date(NaiveDate::from_ymd_opt(2001, 1, 1).expect("date")));
    assert!(!chi.agrees_with_birth_date(NaiveDate::from_ymd_opt(2001, 1, 2).expect("date")));
}

#[test]
fn leap_day_is_a_date_only_in_a_leap_year() {
    // 29/02/00 is a date (2000); 29/02/01 is not (1901 nor 2001).
    let first_nine = digits("290200123");
    let check =
        modulus_11_check_digit(&first_nine).unwrap_or_else(|| luhn_check_digit(&first_nine));
    assert!(ChiNumber::parse(&format!("290200123{check}")).is_ok());
    let first_nine = digits("290201123");
    let check =
        modulus_11_check_digit(&first_nine).unwrap_or_else(|| luhn_check_digit(&first_nine));
    assert_eq!(
        ChiNumber::parse(&format!("290201123{check}")),
        Err(ChiError::NotADate)
    );
}

#[test]
fn debug_masks_the_number() {
    let chi = ChiNumber::parse("0101011237").expect("valid");
    assert!(!format!("{chi:?}").contains("0101011237"));
}

fn first_nine() -> impl Strategy<Value = Vec<u32>> {
    (1u32..=28, 1u32..=12, 0u32..=99, 0u32..=999)
        .prop_map(|(d, m, y, rest)| digits(&format!("{d:02}{m:02}{y:02}{rest:03}")))
}

proptest! {
    #[test]
    fn every_modulus_11_number_is_accepted(nine in first_nine()) {
        if let Some(check) = modulus_11_check_digit(&nine) {
            let text: String = nine.iter().map(|d| char::from_digit(*d, 10).unwrap_or('0')).collect();
            let number = format!("{text}{check}");
            prop_assert!(ChiNumber::parse(&number).is_ok());
        }
    }

    #[test]
    fn every_luhn_number_is_accepted(nine in first_nine()) {
        let text: String = nine.iter().map(|d| char::from_digit(*d, 10).unwrap_or('0')).collect();
        let number = format!("{text}{}", luhn_check_digit(&nine));
        prop_assert!(ChiNumber::parse(&number).is_ok());
    }

    #[test]
    fn modulus_11_catches_every_single_digit_error(nine in first_nine(), position in 0usize..10, delta in 1u32..10) {
        if let Some(check) = modulus_11_check_digit(&nine) {
            let mut number = nine.clone();
            number.push(check);
            number[position] = (number[position] + delta) % 10;
            prop_assert!(!modulus_11_holds(&number));
        }
    }

    #[test]
    fn luhn_catches_every_single_digit_error(nine in first_nine(), position in 0usize..10, delta in 1u32..10) {
        let mut number = nine.clone();
        number.push(luhn_check_digit(&nine));
        number[position] = (number[position] + delta) % 10;
        prop_assert!(!modulus_10_holds(&number));
    }

    #[test]
    fn parse_never_panics(text in "\\PC{0,20}") {
        let _ = ChiNumber::parse(&text);
    }
}
