//! Intake's rules, free of I/O: boards (`pathway_proto::BoardCode`), CHI
//! numbers ([`ChiNumber`]), postcodes, what a valid referral is
//! ([`referral`]), the de-identified attributes that leave intake
//! ([`age_band`], [`patient_pseudonym`]), and the referral's status machine
//! ([`Status`]); first appointments reported by the hospital system
//! ([`appointment`]).

pub mod appointment;
mod attributes;
mod chi;
pub mod fhir;
pub mod opt_in;
pub mod referral;
pub mod retention;
pub mod routing;
mod status;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use attributes::{age_band, patient_pseudonym};
pub use chi::{ChiError, ChiNumber, luhn_check_digit, modulus_11_check_digit};
pub use pathway_proto::{BOARDS, BoardCode};
pub use status::{IllegalTransition, Status, Transition, replay};

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

#[cfg(test)]
#[path = "tests/domain.rs"]
mod tests;
