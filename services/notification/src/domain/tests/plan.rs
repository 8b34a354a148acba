//! Unit tests of `plan.rs`.

use super::*;

fn contacts(preferred: ChannelKind) -> Contacts {
    Contacts {
        patient_given_name: Pii::new("Morag".into()),
        patient_family_name: Pii::new("MacLeod".into()),
        preferred: Some(preferred),
        mobile: Some(Pii::new("07700 900123".into())),
        email: Some(Pii::new("morag@example.org".into())),
        address_lines: Pii::new(vec!["12 Culduthel Road".into(), "Inverness".into()]),
        postcode: Some(Pii::new("IV2 4AG".into())),
        referrer_name: "Dr Ann Smith".into(),
        practice_code: "55005".into(),
        reply: Some((ChannelKind::Email, "ann@practice.example.org".into())),
    }
}

fn decided(outcome: &str) -> Cause {
    Cause::Decision(DecisionFacts {
        outcome: outcome.into(),
        ..DecisionFacts::default()
    })
}

fn board() -> BoardChannels {
    BoardChannels {
        gp_webhook_url: Some("https://gp.example.org/hook".into()),
        ..BoardChannels::default()
    }
}

#[test]
fn an_accept_tells_the_referrer_and_the_patient_on_the_channel_they_chose() {
    for (preferred, address) in [
        (
            ChannelKind::Sms,
            Address::Mobile(Pii::new("07700 900123".into())),
        ),
        (
            ChannelKind::Email,
            Address::Email(Pii::new("morag@example.org".into())),
        ),
    ] {
        let planned = plan(&decided("accept"), &contacts(preferred), &board());
        assert_eq!(planned.len(), 2);
        assert_eq!(planned[0].recipient, Recipient::Referrer);
        assert_eq!(planned[0].channel, ChannelKind::Webhook);
        assert_eq!(planned[1].recipient, Recipient::Patient);
        assert_eq!(planned[1].channel, preferred);
        assert_eq!(planned[1].address, Ok(address));
        assert_eq!(planned[1].template, "patient/accept");
    }
}

#[test]
fn onward_outcomes_tell_the_receiving_service() {
    let mut board = board();
    board.receiving_services.clear();
    board.receiving_services.insert(
        "pain-association-scotland".into(),
        "https://pas.example.org/in".into(),
    );
    let cause = Cause::Decision(DecisionFacts {
        outcome: "self_management".into(),
        partner: Some("pain-association-scotland".into()),
        ..DecisionFacts::default()
    });
    let planned = plan(&cause, &contacts(ChannelKind::Sms), &board);
    assert_eq!(planned.len(), 3);
    assert_eq!(planned[2].recipient, Recipient::ReceivingService);
    assert_eq!(
        planned[2].address,
        Ok(Address::Webhook("https://pas.example.org/in".into()))
    );
    // A programme the board has no webhook for is planned, and cannot go.
    let planned = plan(
        &decided("residential_programme"),
        &contacts(ChannelKind::Sms),
        &board,
    );
    assert!(planned[2].address.is_err());
}

#[test]
fn a_question_goes_to_the_referrer_only_and_by_e_mail_when_the_board_says_so() {
    let board = BoardChannels {
        referrer_channel: ReferrerChannel::Email,
        ..BoardChannels::default()
    };
    let cause = Cause::InformationRequest {
        request_id: "r".into(),
        question: "Any imaging?".into(),
    };
    let planned = plan(&cause, &contacts(ChannelKind::Sms), &board);
    assert_eq!(planned.len(), 1);
    assert_eq!(planned[0].channel, ChannelKind::Email);
    assert_eq!(planned[0].template, "referrer/info_requested");
    assert_eq!(
        planned[0].address,
        Ok(Address::Email(Pii::new("ann@practice.example.org".into())))
    );
}

#[test]
fn a_letter_address_survives_the_database() {
    let address = Address::Letter {
        lines: Pii::new(vec!["12 Culduthel Road".into(), "Inverness".into()]),
        postcode: Pii::new("IV2 4AG".into()),
    };
    let stored = address.to_stored();
    assert_eq!(
        Address::from_stored(ChannelKind::Letter, &stored),
        Some(address)
    );
}

#[test]
fn a_retried_delivery_is_addressed_from_the_contacts_as_they_are_now() {
    let mut now = contacts(ChannelKind::Sms);
    now.mobile = Some(Pii::new("07700900999".into()));
    assert_eq!(
        address_for(Recipient::Patient, ChannelKind::Sms, None, &now, &board()),
        Ok(Address::Mobile(Pii::new("07700900999".into())))
    );
    now.mobile = None;
    assert!(address_for(Recipient::Patient, ChannelKind::Sms, None, &now, &board()).is_err());
    match address_for(
        Recipient::Patient,
        ChannelKind::Letter,
        None,
        &now,
        &board(),
    ) {
        Ok(Address::Letter { lines, postcode }) => {
            assert_eq!(
                lines.expose()[0],
                "Morag MacLeod",
                "the name opens a letter"
            );
            assert_eq!(postcode.expose(), "IV2 4AG");
        }
        other => panic!("a letter address, not {other:?}"),
    }
    assert_eq!(
        address_for(
            Recipient::Referrer,
            ChannelKind::Email,
            None,
            &now,
            &board()
        ),
        Ok(Address::Email(Pii::new("ann@practice.example.org".into())))
    );
    assert!(
        address_for(
            Recipient::Patient,
            ChannelKind::Webhook,
            None,
            &now,
            &board()
        )
        .is_err()
    );
}
