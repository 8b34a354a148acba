//! Unit tests of `mod.rs`.

use chrono::NaiveDate;

use super::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

#[test]
fn postcodes() {
    assert_eq!(
        Postcode::parse("iv23uj").map(|p| p.0),
        Some("IV2 3UJ".into())
    );
    assert_eq!(
        Postcode::parse("EH1 1YZ").map(|p| p.0),
        Some("EH1 1YZ".into())
    );
    assert_eq!(
        Postcode::parse("G12 8QQ").map(|p| p.0),
        Some("G12 8QQ".into())
    );
    assert!(Postcode::parse("12345").is_none());
    assert!(Postcode::parse("IV2 3U").is_none());
    assert!(Postcode::parse("").is_none());
    assert!(Postcode::parse("ÉH1 1YZ").is_none());
}

#[test]
fn age_bands_turn_on_the_birthday() {
    assert_eq!(age_band(date(1980, 6, 15), date(2024, 6, 14)), "35-44");
    assert_eq!(age_band(date(1980, 6, 15), date(2024, 6, 15)), "35-44");
    assert_eq!(age_band(date(1979, 6, 15), date(2024, 6, 14)), "35-44");
    assert_eq!(age_band(date(1979, 6, 15), date(2024, 6, 15)), "45-54");
    assert_eq!(age_band(date(1930, 1, 1), date(2024, 1, 1)), "85+");
}

#[test]
fn pseudonyms_are_keyed_and_stable() {
    let chi = ChiNumber::parse("0101011237").expect("valid");
    let a = patient_pseudonym(b"key one", &chi).expect("any key length");
    assert_eq!(Ok(a.clone()), patient_pseudonym(b"key one", &chi));
    assert_ne!(Ok(a.clone()), patient_pseudonym(b"key two", &chi));
    assert!(!a.contains("0101011237"));
    assert_eq!(a.len(), 64);
}

#[test]
fn a_preferred_language_is_an_iso_639_code() {
    use referral::Language;
    for (text, code) in [
        ("gd", Some("gd")),
        ("GD", Some("gd")),
        (" en ", Some("en")),
        ("en-GB", Some("en")),
        ("sco", Some("sco")),
        ("Gàidhlig", None),
        ("Scottish Gaelic", None),
        ("e", None),
        ("", None),
        ("g1", None),
        ("-gd", None),
    ] {
        assert_eq!(
            Language::parse(text).ok().as_ref().map(Language::code),
            code,
            "{text:?}"
        );
    }
}
