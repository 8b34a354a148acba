use super::*;

fn needs(codes: &[&str], language: Option<&str>) -> Needs {
    let codes: Vec<String> = codes.iter().map(|c| (*c).to_owned()).collect();
    Needs::from_intake(&codes, Some("Polish"), language)
}

/// What Pathway ships: every English template in both formats, and Gaelic
/// for the decisions in the standard format only.
fn shipped(name: &str) -> bool {
    matches!(
        name,
        "patient/accept"
            | "patient/accept.easy_read"
            | "patient/accept.large_print"
            | "gd/patient/accept"
            | "referrer/decision"
    )
}

#[test]
fn the_variant_follows_language_then_format_and_falls_back() {
    use ChannelKind::{Email, Letter, Sms};
    let base = "patient/accept";
    let table: &[(&[&str], Option<&str>, ChannelKind, &str)] = &[
        (&[], None, Letter, "patient/accept"),
        (&[], Some("en"), Email, "patient/accept"),
        (&["large_print"], None, Letter, "patient/accept.large_print"),
        // Large print is a letter's layout: a screen enlarges its own text.
        (&["large_print"], None, Sms, "patient/accept"),
        (&["large_print"], None, Email, "patient/accept"),
        (&["easy_read"], None, Sms, "patient/accept.easy_read"),
        (&["easy_read"], None, Email, "patient/accept.easy_read"),
        (&["easy_read"], None, Letter, "patient/accept.easy_read"),
        // Easy read documents are set large: it wins over large print.
        (
            &["large_print", "easy_read"],
            None,
            Letter,
            "patient/accept.easy_read",
        ),
        (&[], Some("gd"), Email, "gd/patient/accept"),
        (&[], Some("GD"), Sms, "gd/patient/accept"),
        // No Gaelic easy read: the language is kept before the format.
        (&["easy_read"], Some("gd"), Sms, "gd/patient/accept"),
        (&["large_print"], Some("gd"), Letter, "gd/patient/accept"),
        // No Polish at all: the format still applies.
        (&["easy_read"], Some("pl"), Sms, "patient/accept.easy_read"),
        (&[], Some("pl"), Letter, "patient/accept"),
        // Needs that do not change the wording.
        (
            &["interpreter", "british_sign_language", "wheelchair_access"],
            None,
            Letter,
            "patient/accept",
        ),
    ];
    for (codes, language, channel, expected) in table {
        let chosen = choose(
            base,
            Recipient::Patient,
            *channel,
            &needs(codes, *language),
            shipped,
        );
        assert_eq!(chosen, *expected, "{codes:?} {language:?} {channel:?}");
    }
}

#[test]
fn every_candidate_is_tried_best_first() {
    assert_eq!(
        candidates(
            "patient/decline",
            Recipient::Patient,
            ChannelKind::Letter,
            &needs(&["large_print"], Some("gd")),
        ),
        [
            "gd/patient/decline.large_print",
            "gd/patient/decline",
            "patient/decline.large_print",
            "patient/decline",
        ]
    );
}

#[test]
fn a_board_variant_is_chosen_where_pathway_ships_none() {
    let board = |name: &str| shipped(name) || name == "gd/patient/accept.easy_read";
    assert_eq!(
        choose(
            "patient/accept",
            Recipient::Patient,
            ChannelKind::Sms,
            &needs(&["easy_read"], Some("gd")),
            board,
        ),
        "gd/patient/accept.easy_read"
    );
}

#[test]
fn only_the_patient_is_written_to_in_a_variant() {
    for recipient in [Recipient::Referrer, Recipient::ReceivingService] {
        assert_eq!(
            choose(
                "referrer/decision",
                recipient,
                ChannelKind::Email,
                &needs(&["easy_read"], Some("gd")),
                |_| true,
            ),
            "referrer/decision"
        );
    }
}

#[test]
fn an_interpreter_is_needed_only_with_its_language() {
    let codes = vec!["interpreter".to_owned()];
    assert_eq!(
        Needs::from_intake(&codes, Some(" Polish "), None).interpreter,
        Some("Polish".to_owned())
    );
    assert_eq!(
        Needs::from_intake(&codes, Some(" "), None).interpreter,
        None
    );
    assert_eq!(
        Needs::from_intake(&[], Some("Polish"), None).interpreter,
        None
    );
}

#[test]
fn a_variant_name_is_read_back_to_its_base() {
    for (name, base) in [
        ("patient/accept", Some("patient/accept")),
        ("patient/accept.easy_read", Some("patient/accept")),
        ("gd/patient/accept", Some("patient/accept")),
        ("gd/patient/accept.large_print", Some("patient/accept")),
        ("patient/accept.braille", None),
        ("en/patient/accept", None),
        ("GD/patient/accept", None),
        ("gd/referrer/decision", None),
        ("referrer/decision.easy_read", None),
        ("referrer/decision", Some("referrer/decision")),
        ("patient/unknown", None),
    ] {
        assert_eq!(base_of(name), base, "{name}");
    }
}
