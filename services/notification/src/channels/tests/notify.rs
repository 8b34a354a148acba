//! Unit tests of `notify.rs`.

use super::split_api_key;

#[test]
fn an_api_key_gives_its_service_id_and_secret() {
    let key = "pathway_highland-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0";
    let (service, secret) = split_api_key(key).expect("a valid key");
    assert_eq!(service, "26785a09-ab16-4eb0-8407-a37497a57506");
    assert_eq!(secret, "3d844edf-8d35-48ac-975b-e847b4f122b0");
    assert!(split_api_key("too-short").is_err());
}
