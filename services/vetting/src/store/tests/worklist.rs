//! Unit tests of `worklist.rs`.

use sea_orm::ActiveEnum;

use super::*;

#[test]
fn every_status_is_stored_under_the_text_it_always_had() {
    for status in Status::ALL {
        let stored = StoredStatus::from(status);
        assert_eq!(stored.to_value(), status.as_str());
        assert_eq!(
            StoredStatus::try_from_value(&status.as_str().to_owned()),
            Ok(stored)
        );
        assert_eq!(Status::from(stored), status);
    }
}
