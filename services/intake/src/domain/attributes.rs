//! The de-identified attributes that leave intake in place of the patient:
//! an age band and a keyed pseudonym (the area attributes come from the
//! board's postcode lookup).

use chrono::{Datelike, NaiveDate};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::ChiNumber;

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
pub fn patient_pseudonym(
    key: &[u8],
    chi: &ChiNumber,
) -> Result<String, hmac::digest::InvalidLength> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)?;
    mac.update(b"chi:");
    mac.update(chi.expose().as_bytes());
    Ok(hex::encode(mac.finalize().into_bytes()))
}
