//! Intake's rules, free of I/O: boards, CHI numbers, postcodes, what a valid
//! referral is, the de-identified attributes that leave intake, and the
//! referral's status machine.

mod board;
mod chi;
pub mod referral;
mod status;

use std::fmt;

use chrono::{Datelike, NaiveDate};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

pub use board::{BOARDS, BoardCode};
pub use chi::{ChiError, ChiNumber, luhn_check_digit, modulus_11_check_digit};
pub use status::{IllegalTransition, Status, Transition};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
    NotKnown,
}

impl Sex {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "male" => Some(Sex::Male),
            "female" => Some(Sex::Female),
            "not_known" => Some(Sex::NotKnown),
            _ => None,
        }
    }

    pub fn to_proto(self) -> pathway_proto::v1::Sex {
        match self {
            Sex::Male => pathway_proto::v1::Sex::Male,
            Sex::Female => pathway_proto::v1::Sex::Female,
            Sex::NotKnown => pathway_proto::v1::Sex::NotKnown,
        }
    }
}

/// A UK postcode, normalised to upper case with one space (`IV2 3UJ`).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Postcode(String);

impl Postcode {
    pub fn parse(text: &str) -> Option<Self> {
        let compact: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if !(5..=7).contains(&compact.len()) || !compact.is_ascii() {
            return None;
        }
        let (outward, inward) = compact.split_at(compact.len() - 3);
        let inward_ok = {
            let b = inward.as_bytes();
            b[0].is_ascii_digit() && b[1].is_ascii_alphabetic() && b[2].is_ascii_alphabetic()
        };
        let outward_ok = {
            let b = outward.as_bytes();
            (2..=4).contains(&b.len())
                && b[0].is_ascii_alphabetic()
                && b.iter().all(u8::is_ascii_alphanumeric)
                && b.iter().any(u8::is_ascii_digit)
        };
        (inward_ok && outward_ok).then(|| Self(format!("{outward} {inward}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Postcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Postcode(***)")
    }
}

impl TryFrom<String> for Postcode {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value).ok_or_else(|| format!("{value:?} is not a UK postcode"))
    }
}

impl From<Postcode> for String {
    fn from(value: Postcode) -> Self {
        value.0
    }
}

/// Age bands analytics reports in.
pub fn age_band(date_of_birth: NaiveDate, on: NaiveDate) -> &'static str {
    let mut age = on.year() - date_of_birth.year();
    if (on.month(), on.day()) < (date_of_birth.month(), date_of_birth.day()) {
        age -= 1;
    }
    match age {
        i32::MIN..=-1 => "unknown",
        0..=15 => "0-15",
        16..=24 => "16-24",
        25..=34 => "25-34",
        35..=44 => "35-44",
        45..=54 => "45-54",
        55..=64 => "55-64",
        65..=74 => "65-74",
        75..=84 => "75-84",
        _ => "85+",
    }
}

/// The keyed pseudonym of a patient: HMAC-SHA256 of the CHI number under the
/// board-independent pseudonym key. Stable for one key, so analytics can spot
/// re-referrals; useless without the key, which never leaves intake.
pub fn patient_pseudonym(key: &[u8], chi: &ChiNumber) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| {
        // HMAC takes keys of any length; this arm cannot be reached.
        <Hmac<Sha256> as Mac>::new_from_slice(&[0u8; 32]).expect("a 32-byte key is valid")
    });
    mac.update(b"chi:");
    mac.update(chi.expose().as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
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
        let a = patient_pseudonym(b"key one", &chi);
        assert_eq!(a, patient_pseudonym(b"key one", &chi));
        assert_ne!(a, patient_pseudonym(b"key two", &chi));
        assert!(!a.contains("0101011237"));
        assert_eq!(a.len(), 64);
    }
}
