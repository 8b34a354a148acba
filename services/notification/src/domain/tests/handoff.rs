//! Unit tests of `handoff.rs`: given a board's routes and a referral, when it
//! is handed on, then the route is sent it and the referrer told, or the
//! forward fails at once naming the setting the board lacks.

use pathway_common::pii::Pii;
use pathway_proto::board::NotificationSettings;

use super::*;

fn contacts() -> Contacts {
    Contacts {
        patient_given_name: Pii::new("Morag".into()),
        patient_family_name: Pii::new("MacLeod".into()),
        preferred: Some(ChannelKind::Sms),
        mobile: Some(Pii::new("07700 900123".into())),
        email: None,
        address_lines: Pii::new(Vec::new()),
        postcode: None,
        referrer_name: "Dr Ann Smith".into(),
        practice_code: "55005".into(),
        reply: Some((ChannelKind::Email, "ann@practice.example.org".into())),
        opt_in: None,
        texts: Default::default(),
        needs: Default::default(),
    }
}

fn referral() -> Pii<serde_json::Value> {
    Pii::new(serde_json::json!({"patient": {"chi": "0101011234"}}))
}

/// A board whose settings name both routes.
fn board_with_routes() -> BoardChannels {
    let section: NotificationSettings = serde_json::from_value(serde_json::json!({
        "gp_webhook_url": "https://gp.nhs.scot/in",
        "allowed_hosts": ["*.nhs.scot"],
        "standard_route": {"name": "Highland MSK service", "url": "https://msk.nhs.scot/in"},
        "paediatric_route": {"name": "Children's pain service", "url": "https://rhc.nhs.scot/in"},
    }))
    .expect("a notification section");
    let mut board = BoardChannels::from(&section);
    board
        .receiving_services
        .extend(HandoffRoutes::from(&section).urls());
    board
}

#[test]
fn a_referral_routed_away_at_receipt_goes_to_the_matching_route() {
    let board = board_with_routes();
    for (reason, code, url) in [
        (
            "board_not_on_pathway",
            "standard_route",
            "https://msk.nhs.scot/in",
        ),
        ("", "standard_route", "https://msk.nhs.scot/in"),
        (
            "paediatric_patient",
            "paediatric_route",
            "https://rhc.nhs.scot/in",
        ),
    ] {
        let handoff = Handoff::routed(reason, referral());
        let planned = plan(&handoff, &contacts(), &board);
        assert_eq!(planned.len(), 3, "{reason}");
        let route = &planned[0];
        assert_eq!(route.recipient, Recipient::ReceivingService);
        assert_eq!(route.channel, ChannelKind::Webhook);
        assert_eq!(route.template, "receiving_service/handoff");
        assert_eq!(route.receiving_service.as_deref(), Some(code));
        assert_eq!(route.address, Ok(Address::Webhook(url.into())));
        let referrer = &planned[1];
        assert_eq!(referrer.recipient, Recipient::Referrer);
        assert_eq!(referrer.template, "referrer/handoff");
        assert_eq!(
            referrer.address,
            Ok(Address::Webhook("https://gp.nhs.scot/in".into()))
        );
        assert_eq!(planned[2].template, "referrer/handoff_failed");
        assert_eq!(planned[2].address, referrer.address);
    }
}

#[test]
fn the_referrer_hears_passed_on_only_once_the_route_has_it() {
    assert_eq!(
        notice_once_ended(true),
        ("referrer/handoff", "referrer/handoff_failed")
    );
    assert_eq!(
        notice_once_ended(false),
        ("referrer/handoff_failed", "referrer/handoff")
    );
}

#[test]
fn a_redirect_goes_to_the_standard_route() {
    let handoff = Handoff::redirect("decision-1", referral());
    assert_eq!(handoff.route, RouteTo::Standard);
    assert_eq!(handoff.reason, "redirect");
    let planned = plan(&handoff, &contacts(), &board_with_routes());
    assert_eq!(
        planned[0].address,
        Ok(Address::Webhook("https://msk.nhs.scot/in".into()))
    );
}

#[test]
fn without_a_route_the_referrer_is_still_told_and_the_forward_names_the_setting() {
    let board = BoardChannels {
        gp_webhook_url: Some("https://gp.example.org/hook".into()),
        ..BoardChannels::default()
    };
    for (handoff, setting) in [
        (
            Handoff::routed("board_not_on_pathway", referral()),
            "notification.standard_route",
        ),
        (
            Handoff::routed("paediatric_patient", referral()),
            "notification.paediatric_route",
        ),
    ] {
        let planned = plan(&handoff, &contacts(), &board);
        let reason = planned[0].address.clone().expect_err("nowhere to go");
        assert!(reason.contains(setting), "{reason}");
        assert!(planned[1].address.is_ok(), "the referrer is told");
    }
}

#[test]
fn the_referrer_hears_on_the_boards_channel() {
    let board = BoardChannels {
        referrer_channel: ReferrerChannel::Email,
        ..board_with_routes()
    };
    let planned = plan(
        &Handoff::routed("board_not_on_pathway", referral()),
        &contacts(),
        &board,
    );
    assert_eq!(planned[1].channel, ChannelKind::Email);
    assert_eq!(
        planned[1].address,
        Ok(Address::Email(Pii::new("ann@practice.example.org".into())))
    );
}

#[test]
fn routes_are_read_from_the_settings_with_their_names() {
    let section: NotificationSettings = serde_json::from_value(serde_json::json!({
        "paediatric_route": {"name": "RHC", "under_age": 18, "url": "https://rhc.nhs.scot/in"},
    }))
    .expect("a section");
    let routes = HandoffRoutes::from(&section);
    assert!(routes.get(RouteTo::Standard).is_none());
    assert_eq!(
        routes.get(RouteTo::Paediatric).map(|r| r.name.as_str()),
        Some("RHC")
    );
    assert_eq!(
        routes.urls().into_iter().collect::<Vec<_>>(),
        [(
            "paediatric_route".to_owned(),
            "https://rhc.nhs.scot/in".to_owned()
        )]
    );
}
