//! Unit tests of the demo: every referral it invents and every outcome its
//! clinician records passes the services' own rules, and the boards switch
//! on at the dates the help promises.

use super::clinician::{REMOTE_OUTCOMES, outcome};
use super::referrals::referral;
use super::*;
use pathway_intake::domain::referral::ReferralRequest;

#[test]
fn every_invented_referral_is_valid() {
    let mut rng = StdRng::seed_from_u64(7);
    let today = chrono::Utc::now().date_naive();
    for board in ["highland", "grampian", "lothian", "fife", "orkney"] {
        for _ in 0..200 {
            let body = referral(&mut rng, board);
            let request: ReferralRequest =
                serde_json::from_value(body.clone()).expect("the shape of a referral");
            if let Err(errors) = request.validate(today) {
                panic!("{errors:?} in {body}");
            }
        }
    }
}

#[test]
fn every_outcome_the_demo_clinician_records_is_valid() {
    let settings = pathway_proto::board::BoardSettings::default();
    let mut rng = StdRng::seed_from_u64(9);
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..500 {
        let red_flags: Vec<String> = if i % 7 == 0 {
            vec!["history_of_cancer".into()]
        } else {
            Vec::new()
        };
        let body = outcome(&mut rng, !red_flags.is_empty());
        let request: pathway_vetting::domain::outcome::OutcomeRequest =
            serde_json::from_value(body.clone()).expect("the shape of an outcome");
        if let Err(errors) = request.validate(&settings, &red_flags) {
            panic!("{errors:?} in {body}");
        }
        seen.insert(body["outcome"].as_str().unwrap_or_default().to_owned());
    }
    // The whole mix shows up.
    assert_eq!(seen.len(), REMOTE_OUTCOMES.len(), "{seen:?}");
}

#[test]
fn boards_switch_on_at_different_dates_before_today() {
    let today = NaiveDate::from_ymd_opt(2026, 11, 25).expect("a date");
    let dates: Vec<NaiveDate> = (0..4).map(|i| switch_on_date(i, today)).collect();
    assert_eq!(
        dates,
        ["2025-02-01", "2025-05-01", "2025-08-01", "2025-11-01"]
            .map(|d| d.parse::<NaiveDate>().expect("a date"))
    );
}
