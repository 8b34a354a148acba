//! Unit tests of `smtp.rs`.

use pathway_common::pii::Pii;

use super::*;
use crate::domain::ChannelKind;

fn settings() -> SmtpSettings {
    SmtpSettings {
        host: Some("smtp.example.org".into()),
        from: "NHS Highland pain service <pain.service@highland.example.org>".into(),
        ..SmtpSettings::default()
    }
}

fn message(address: Address) -> Message {
    Message {
        reference: "0190f7a0-0000-7000-8000-000000000001".into(),
        referral_id: "0190f7a0-0000-7000-8000-000000000000".into(),
        board: "highland".into(),
        channel: ChannelKind::Email,
        address,
        subject: "Your referral: physiotherapy".into(),
        body: "Dear Morag, ...".into(),
        document: None,
    }
}

#[test]
fn no_host_no_client_and_half_credentials_are_refused() {
    let none = SmtpClient::from_settings(&SmtpSettings::default()).expect("valid");
    assert!(none.is_none());
    let half = SmtpSettings {
        username: Some("pathway".into()),
        ..settings()
    };
    assert!(SmtpClient::from_settings(&half).is_err());
    let bad_from = SmtpSettings {
        from: "not a mailbox".into(),
        ..settings()
    };
    assert!(SmtpClient::from_settings(&bad_from).is_err());
}

#[test]
fn the_message_id_is_the_delivery_id_on_every_attempt() {
    let client = SmtpClient::from_settings(&settings())
        .expect("valid")
        .expect("a host");
    let email = message(Address::Email(Pii::new("morag.macleod@example.org".into())));
    let text = String::from_utf8(client.email(&email).expect("built").formatted()).expect("text");
    assert!(
        text.contains(
            "Message-ID: <0190f7a0-0000-7000-8000-000000000001@pathway.highland.example.org>"
        ),
        "{text}"
    );
    assert!(text.contains("To: morag.macleod@example.org"), "{text}");
    assert!(
        text.contains("Subject: Your referral: physiotherapy"),
        "{text}"
    );
    let again = String::from_utf8(client.email(&email).expect("built").formatted()).expect("text");
    let id = |t: &str| {
        t.lines()
            .find(|l| l.starts_with("Message-ID"))
            .map(str::to_owned)
    };
    assert_eq!(id(&text), id(&again));
}

#[test]
fn a_bad_address_is_refused_for_good() {
    let client = SmtpClient::from_settings(&settings())
        .expect("valid")
        .expect("a host");
    let bad = message(Address::Email(Pii::new("no at sign".into())));
    assert!(matches!(client.email(&bad), Err(SendError::Permanent(_))));
    let sms = message(Address::Mobile(Pii::new("07700900123".into())));
    assert!(matches!(client.email(&sms), Err(SendError::Permanent(_))));
}
