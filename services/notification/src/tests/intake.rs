//! Unit tests of `intake.rs`.

use super::*;

#[test]
fn reads_the_referral_as_intake_stores_it() {
    let document: Document = serde_json::from_value(serde_json::json!({
        "patient": {
            "chi": "1204670021", "given_name": "Morag", "family_name": "MacLeod",
            "postcode": "IV2 3UJ",
            "contact": {"preferred": "email", "mobile": "07700 900123", "email": "m@example.org",
                        "address": {"lines": ["12 Culduthel Road"], "postcode": "IV2 4AG"}}
        },
        "referrer": {"practice_code": "55005", "clinician_name": "Dr Ann Smith",
                     "reply": {"channel": "webhook", "address": "https://gp.example.org/in"}}
    }))
    .expect("readable");
    let contacts = contacts(document);
    assert_eq!(contacts.preferred, Some(ChannelKind::Email));
    assert_eq!(
        contacts.reply,
        Some((ChannelKind::Webhook, "https://gp.example.org/in".into()))
    );
    assert_eq!(
        contacts.postcode.map(Pii::into_inner).as_deref(),
        Some("IV2 4AG")
    );
}
