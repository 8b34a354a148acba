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
        opt_in: None,
        texts: Default::default(),
        needs: Default::default(),
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
fn a_reminder_of_a_question_goes_to_the_referrer_only_with_its_own_template() {
    let cause = Cause::InformationRequest {
        reminder: true,
        request_id: "r".into(),
        question: "Any imaging?".into(),
    };
    let planned = plan(
        &cause,
        &contacts(ChannelKind::Sms),
        &BoardChannels::default(),
    );
    assert_eq!(planned.len(), 1);
    assert_eq!(planned[0].recipient, Recipient::Referrer);
    assert_eq!(planned[0].template, "referrer/info_request_reminder");
    assert_eq!(cause.name(), "information_request_reminder");
}

#[test]
fn a_question_goes_to_the_referrer_only_and_by_e_mail_when_the_board_says_so() {
    let board = BoardChannels {
        referrer_channel: ReferrerChannel::Email,
        ..BoardChannels::default()
    };
    let cause = Cause::InformationRequest {
        reminder: false,
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

/// A patient opt-in whose window closes at `deadline` (RFC 3339).
fn opt_in_closing(deadline: &str) -> proto::DecisionRecorded {
    let at = chrono::DateTime::parse_from_rfc3339(deadline)
        .expect("an RFC 3339 instant")
        .with_timezone(&Utc);
    proto::DecisionRecorded {
        decision_id: "0190f7a0-0000-7000-8000-000000000001".into(),
        outcome: Some(proto::Outcome {
            kind: proto::OutcomeKind::PatientOptIn.into(),
            ..proto::Outcome::default()
        }),
        opt_in_deadline: Some(proto::timestamp(at)),
        ..proto::DecisionRecorded::default()
    }
}

#[test]
fn the_opt_in_deadline_a_patient_reads_is_a_scottish_day() {
    // Windows closing at 00:30 on Scotland's clock on both sides of each
    // clock change (forward on Sunday 29 March 2026 at 01:00 GMT, back on
    // Sunday 25 October 2026 at 02:00 BST), and across the new year.
    for (deadline, day) in [
        ("2026-03-29T00:30:00Z", "29 March 2026"),
        ("2026-03-29T23:30:00Z", "30 March 2026"),
        ("2026-10-24T23:30:00Z", "25 October 2026"),
        ("2026-10-26T00:30:00Z", "26 October 2026"),
        ("2026-12-31T23:30:00Z", "31 December 2026"),
        ("2027-01-01T00:30:00Z", "1 January 2027"),
        // A window that closes as a Scottish day ends was last open that
        // day: summer midnight is 23:00 UTC, winter midnight 00:00 UTC.
        ("2026-07-20T23:00:00Z", "20 July 2026"),
        ("2027-01-01T00:00:00Z", "31 December 2026"),
    ] {
        let facts = DecisionFacts::from_event(&opt_in_closing(deadline)).expect("usable");
        assert_eq!(facts.outcome, "patient_opt_in");
        assert_eq!(facts.opt_in_deadline.as_deref(), Some(day), "{deadline}");
    }
}

#[test]
fn the_last_day_before_a_deadline_is_the_scottish_day_it_closes_on() {
    let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).expect("a date");
    assert_eq!(
        last_day_before(days::end_of(day(2026, 3, 29))),
        day(2026, 3, 29)
    );
    assert_eq!(
        last_day_before(days::end_of(day(2026, 10, 25))),
        day(2026, 10, 25)
    );
    assert_eq!(
        last_day_before(days::start_of(day(2026, 3, 30)) + chrono::TimeDelta::minutes(30)),
        day(2026, 3, 30)
    );
}

#[test]
fn a_reminder_goes_to_the_patient_only_and_the_close_to_both() {
    let due = proto::DecisionOptInReminderDue {
        decision_id: "d-1".into(),
        closes_at: Some(proto::timestamp(
            chrono::DateTime::parse_from_rfc3339("2026-03-15T10:00:00Z")
                .expect("a time")
                .to_utc(),
        )),
    };
    let reminder = Cause::reminder(&due).expect("a reminder");
    let Cause::OptInReminder {
        opt_in_deadline, ..
    } = &reminder
    else {
        panic!("{reminder:?}");
    };
    assert_eq!(opt_in_deadline, "15 March 2026");
    let planned = plan(&reminder, &contacts(ChannelKind::Sms), &board());
    assert_eq!(planned.len(), 1);
    assert_eq!(planned[0].recipient, Recipient::Patient);
    assert_eq!(planned[0].template, "patient/opt_in_reminder");

    let planned = plan(&Cause::OptInClosed, &contacts(ChannelKind::Email), &board());
    let to: Vec<_> = planned
        .iter()
        .map(|p| (p.recipient, p.channel, p.template.as_str()))
        .collect();
    assert_eq!(
        to,
        [
            (
                Recipient::Referrer,
                ChannelKind::Webhook,
                "referrer/opt_in_closed"
            ),
            (
                Recipient::Patient,
                ChannelKind::Email,
                "patient/opt_in_closed"
            ),
        ]
    );

    let missing = proto::DecisionOptInReminderDue {
        decision_id: " ".into(),
        closes_at: None,
    };
    assert_eq!(
        Cause::reminder(&missing).map(|c| c.name()),
        Err("decision_id: missing".to_owned())
    );
}

#[test]
fn a_board_may_keep_a_decline_or_a_redirect_from_the_patient() {
    let recipients = |outcome: &str, board: &BoardChannels| -> Vec<Recipient> {
        plan(&decided(outcome), &contacts(ChannelKind::Sms), board)
            .into_iter()
            .map(|p| p.recipient)
            .collect()
    };
    // Unset, the patient is told. A redirect's referrer hears once, from
    // its hand-off, which says the decision and where the referral went.
    assert_eq!(
        recipients("decline", &board()),
        [Recipient::Referrer, Recipient::Patient]
    );
    assert_eq!(recipients("redirect", &board()), [Recipient::Patient]);
    let quiet = BoardChannels {
        tell_patient_of_decline: Some(false),
        tell_patient_of_redirect: Some(false),
        ..board()
    };
    assert_eq!(recipients("decline", &quiet), [Recipient::Referrer]);
    assert!(recipients("redirect", &quiet).is_empty());
    // Only those two: every other outcome still tells the patient.
    assert_eq!(
        recipients("accept", &quiet),
        [Recipient::Referrer, Recipient::Patient]
    );
    let decline_only = BoardChannels {
        tell_patient_of_decline: Some(false),
        ..board()
    };
    assert_eq!(recipients("redirect", &decline_only), [Recipient::Patient]);
}
