//! Valid referrals for tests, each for a patient of its own.

use std::sync::atomic::{AtomicU32, Ordering};

use pathway_intake::domain::modulus_11_check_digit;
use serde_json::{Value, json};

/// A valid CHI number (modulus-11 check digit) for a birth date (DDMMYY),
/// sex and a two-digit serial.
pub fn chi_for(ddmmyy: &str, male: bool, serial: u32) -> String {
    let sex_digits: [u32; 5] = if male {
        [1, 3, 5, 7, 9]
    } else {
        [0, 2, 4, 6, 8]
    };
    for sex_digit in sex_digits {
        let first_nine = format!("{ddmmyy}{:02}{sex_digit}", serial % 100);
        let digits: Vec<u32> = first_nine.chars().filter_map(|c| c.to_digit(10)).collect();
        if let Some(check) = modulus_11_check_digit(&digits) {
            return format!("{first_nine}{check}");
        }
    }
    unreachable!("at most one of five sex digits gives the unusable check digit 10")
}

static NEXT: AtomicU32 = AtomicU32::new(1);

/// A complete, valid referral for `board`, for a new patient each call
/// (unique for two million calls).
pub fn valid_referral(board: &str) -> Value {
    let serial = NEXT.fetch_add(1, Ordering::SeqCst);
    let rest = serial / 100;
    let (day, month, year) = (
        rest % 28 + 1,
        (rest / 28) % 12 + 1,
        1940 + (rest / 336) % 60,
    );
    let ddmmyy = format!("{day:02}{month:02}{:02}", year % 100);
    json!({
        "board": board,
        "patient": {
            "chi": chi_for(&ddmmyy, false, serial),
            "given_name": "Morag",
            "family_name": format!("MacLeod{serial}"),
            "date_of_birth": format!("{year}-{month:02}-{day:02}"),
            "sex": "female",
            "postcode": "IV2 3UJ",
            "contact": {
                "preferred": "sms",
                "mobile": "07700 900123",
                "email": "morag.macleod@example.org",
                "address": {"lines": ["12 Culduthel Road", "Inverness"], "postcode": "IV2 4AG"}
            },
            "accessibility_needs": ["large_print"]
        },
        "referrer": {
            "practice_code": "55005",
            "clinician_name": "Dr Ann Smith",
            "reply_channel": "email",
            "reply_address": "ann.smith@practice.example.org"
        },
        "clinical": {
            "pain_duration_months": 18,
            "pain_sites": ["lower_back", "leg"],
            "pain_intensity": 7,
            "impact": {"function": "severe", "sleep": "moderate", "mood": "moderate"},
            "red_flags": [],
            "current_treatments": ["naproxen 500 mg twice daily"],
            "previous_treatments": ["physiotherapy 2024", "amitriptyline (stopped: drowsiness)"],
            "question": "Would she benefit from the pain management programme?"
        },
        "consent_to_remote_pathway": true
    })
}

/// Set a JSON field by a dotted path (creating objects on the way).
pub fn set(body: &mut Value, path: &str, value: Value) {
    let mut cursor = body;
    let parts: Vec<&str> = path.split('.').collect();
    for part in &parts[..parts.len() - 1] {
        cursor = &mut cursor[*part];
    }
    cursor[parts[parts.len() - 1]] = value;
}

/// Remove a JSON field by a dotted path.
pub fn remove(body: &mut Value, path: &str) {
    let mut cursor = body;
    let parts: Vec<&str> = path.split('.').collect();
    for part in &parts[..parts.len() - 1] {
        cursor = &mut cursor[*part];
    }
    if let Some(object) = cursor.as_object_mut() {
        object.remove(parts[parts.len() - 1]);
    }
}
