//! Unit tests of `demo.rs`.

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
