//! The CHI number: Scotland's ten-digit patient identifier.
//!
//! Digits 1-6 are the date of birth (DDMMYY), digit 9 is odd for male and even
//! for female, digit 10 is a check digit: modulus 11 for numbers issued before
//! Scotland's 2025-26 change, modulus 10 (Luhn) for numbers issued since.
//! Either check is accepted, as Public Health Scotland's `phsmethods` does.

use std::fmt;

use chrono::NaiveDate;
use pathway_common::pii::Pii;
use serde::{Deserialize, Serialize};

use super::Sex;

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChiNumber(Pii<String>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChiError {
    #[error("must be exactly 10 digits")]
    NotTenDigits,
    #[error("the first six digits must be a real date of birth (DDMMYY)")]
    NotADate,
    #[error(
        "the check digit is wrong (neither modulus 11 nor modulus 10 holds): check the number for a typing error"
    )]
    CheckDigit,
}

impl ChiNumber {
    pub fn parse(text: &str) -> Result<Self, ChiError> {
        let digits: Vec<u32> = text.chars().filter_map(|c| c.to_digit(10)).collect();
        if text.len() != 10 || digits.len() != 10 {
            return Err(ChiError::NotTenDigits);
        }
        if birth_dates(&digits).is_empty() {
            return Err(ChiError::NotADate);
        }
        if !(modulus_11_holds(&digits) || modulus_10_holds(&digits)) {
            return Err(ChiError::CheckDigit);
        }
        Ok(Self(Pii::new(text.to_owned())))
    }

    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    fn digits(&self) -> Vec<u32> {
        self.expose()
            .chars()
            .filter_map(|c| c.to_digit(10))
            .collect()
    }

    /// Whether the ninth digit agrees with `sex` (unknown sex always agrees).
    pub fn agrees_with_sex(&self, sex: Sex) -> bool {
        let odd = self.digits()[8] % 2 == 1;
        match sex {
            Sex::Male => odd,
            Sex::Female => !odd,
            Sex::NotKnown => true,
        }
    }

    /// Whether the first six digits are `date` (DDMMYY).
    pub fn agrees_with_birth_date(&self, date: NaiveDate) -> bool {
        birth_dates(&self.digits()).contains(&date)
    }
}

impl fmt::Debug for ChiNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChiNumber(***)")
    }
}

/// The dates DDMMYY can stand for, in the 1900s and the 2000s.
fn birth_dates(d: &[u32]) -> Vec<NaiveDate> {
    let day = d[0] * 10 + d[1];
    let month = d[2] * 10 + d[3];
    let year = i32::try_from(d[4] * 10 + d[5]).unwrap_or(0);
    [1900, 2000]
        .into_iter()
        .filter_map(|century| NaiveDate::from_ymd_opt(century + year, month, day))
        .collect()
}

/// Weights 10..2 over the first nine digits; the check digit is
/// `11 - sum mod 11` (11 becomes 0; 10 is never issued).
pub fn modulus_11_check_digit(first_nine: &[u32]) -> Option<u32> {
    let sum: u32 = first_nine
        .iter()
        .zip((2..=10).rev())
        .map(|(digit, weight)| digit * weight)
        .sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        check => Some(check),
    }
}

fn modulus_11_holds(d: &[u32]) -> bool {
    modulus_11_check_digit(&d[..9]) == Some(d[9])
}

/// Luhn over all ten digits.
pub fn luhn_check_digit(first_nine: &[u32]) -> u32 {
    let sum: u32 = first_nine
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &digit)| {
            if i % 2 == 0 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

fn modulus_10_holds(d: &[u32]) -> bool {
    luhn_check_digit(&d[..9]) == d[9]
}

#[cfg(test)]
#[path = "tests/chi.rs"]
mod tests;
