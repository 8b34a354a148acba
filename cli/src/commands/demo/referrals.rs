//! The demo's invented patients and their referrals: names from common
//! Scottish names, valid CHI numbers, postcodes from the sample lookup, and
//! the clinical mix a chronic pain service sees: mostly back and widespread
//! pain of a year or more, moderate to severe intensity, and a red flag on
//! about one in twelve.

use pathway_intake::domain::modulus_11_check_digit;
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use serde_json::{Value, json};

const GIVEN_FEMALE: &[&str] = &[
    "Morag", "Eilidh", "Fiona", "Isla", "Catriona", "Mairi", "Kirsty", "Anne", "Margaret", "Shona",
];
const GIVEN_MALE: &[&str] = &[
    "Angus", "Callum", "Euan", "Iain", "Hamish", "Fraser", "Duncan", "Alasdair", "James", "Ross",
];
const FAMILY: &[&str] = &[
    "MacLeod",
    "MacDonald",
    "Campbell",
    "Stewart",
    "Robertson",
    "Fraser",
    "Mackenzie",
    "Ross",
    "Sutherland",
    "Munro",
    "Grant",
    "Reid",
];
const SITES: &[&str] = &[
    "lower_back",
    "neck",
    "shoulder",
    "knee",
    "hip",
    "widespread",
    "leg",
    "upper_back",
    "pelvis",
    "head",
];
const LEVELS: &[&str] = &["none", "mild", "moderate", "severe"];
const RED_FLAGS: &[&str] = &[
    "unexplained_weight_loss",
    "history_of_cancer",
    "new_neurological_deficit",
    "non_mechanical_night_pain",
];
const TREATMENTS: &[&str] = &[
    "paracetamol",
    "naproxen",
    "amitriptyline 10 mg",
    "gabapentin",
    "physiotherapy",
    "TENS",
    "codeine",
    "pregabalin",
];
const QUESTIONS: &[&str] = &[
    "Would the pain management programme help?",
    "Please advise on medication: current regime not helping.",
    "Is a specialist assessment needed, or can this be managed in primary care?",
    "Would pain psychology be appropriate? Low mood and poor sleep.",
];

fn postcodes_for(board: &str) -> &'static [&'static str] {
    match board {
        "highland" => &["IV2 3UJ", "IV2 4AG", "IV27 4NZ", "PH33 6SY", "KW1 4YT"],
        "grampian" => &["AB10 1XG"],
        "lothian" => &["EH1 1YZ", "EH10 5HF"],
        "fife" => &["KY1 1XX"],
        "greater-glasgow-clyde" => &["G12 8QQ", "G40 1AA"],
        "tayside" => &["DD1 4HN"],
        _ => &["EH1 1YZ"],
    }
}

fn chi(rng: &mut StdRng, ddmmyy: &str, male: bool) -> String {
    loop {
        let serial: u32 = rng.random_range(0..100);
        let sex_digit: u32 = rng.random_range(0..5) * 2 + u32::from(male);
        let first_nine = format!("{ddmmyy}{serial:02}{sex_digit}");
        let digits: Vec<u32> = first_nine.chars().filter_map(|c| c.to_digit(10)).collect();
        if let Some(check) = modulus_11_check_digit(&digits) {
            return format!("{first_nine}{check}");
        }
    }
}

/// One invented referral for `board`.
pub fn referral(rng: &mut StdRng, board: &str) -> Value {
    let male = rng.random_bool(0.4);
    let year = rng.random_range(1940..2004);
    let month = rng.random_range(1..=12u32);
    let day = rng.random_range(1..=28u32);
    let ddmmyy = format!("{day:02}{month:02}{:02}", year % 100);
    let given = if male { GIVEN_MALE } else { GIVEN_FEMALE }
        .choose(rng)
        .copied()
        .unwrap_or("Alex");
    let family = FAMILY.choose(rng).copied().unwrap_or("Smith");
    let postcode = postcodes_for(board)
        .choose(rng)
        .copied()
        .unwrap_or("EH1 1YZ");
    let preferred = *["sms", "sms", "email", "letter"]
        .choose(rng)
        .unwrap_or(&"sms");
    let mut sites: Vec<&str> = SITES.to_vec();
    sites.shuffle(rng);
    sites.truncate(rng.random_range(1..=3));
    let red_flags: Vec<&str> = if rng.random_bool(1.0 / 12.0) {
        vec![
            RED_FLAGS
                .choose(rng)
                .copied()
                .unwrap_or("history_of_cancer"),
        ]
    } else {
        Vec::new()
    };
    let mut treatments: Vec<&str> = TREATMENTS.to_vec();
    treatments.shuffle(rng);
    let level = |rng: &mut StdRng| LEVELS[rng.random_range(1..4)];
    json!({
        "board": board,
        "patient": {
            "chi": chi(rng, &ddmmyy, male),
            "given_name": given,
            "family_name": family,
            "date_of_birth": format!("{year}-{month:02}-{day:02}"),
            "sex": if male { "male" } else { "female" },
            "postcode": postcode,
            "contact": {
                "preferred": preferred,
                "mobile": format!("07700 9{:05}", rng.random_range(0..100_000)),
                "email": format!("{}.{}@example.org", given.to_lowercase(), family.to_lowercase()),
                "address": {"lines": [format!("{} High Street", rng.random_range(1..200))], "postcode": postcode}
            },
            "accessibility_needs": if rng.random_bool(0.1) { json!(["large_print"]) } else { json!([]) }
        },
        "referrer": {
            "practice_code": format!("{}", rng.random_range(10_000..90_000)),
            "clinician_name": format!("Dr {}", FAMILY.choose(rng).copied().unwrap_or("Smith")),
            "reply_channel": "email",
            "reply_address": "referrals@practice.example.org"
        },
        "clinical": {
            "pain_duration_months": rng.random_range(3..120),
            "pain_sites": sites,
            "pain_intensity": rng.random_range(3..=10),
            "impact": {"function": level(rng), "sleep": level(rng), "mood": level(rng)},
            "red_flags": red_flags,
            "current_treatments": treatments[..2],
            "previous_treatments": treatments[2..4],
            "question": QUESTIONS.choose(rng).copied().unwrap_or(QUESTIONS[0])
        },
        "consent_to_remote_pathway": true
    })
}
