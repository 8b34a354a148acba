//! Unit tests of `templates.rs`.

use super::*;

#[test]
fn every_template_renders_and_fits() {
    let templates = Templates::load().expect("the templates load");
    let mut fields = sample(true);
    fields.outcome = Some("advice_to_referrer".into());
    let rendered = templates
        .render("referrer/decision", &fields)
        .expect("renders");
    assert!(rendered.body.contains("Consider a trial of duloxetine."));
    let patient = templates
        .render("patient/advice_to_referrer", &fields)
        .expect("renders");
    assert!(
        !patient.body.contains("duloxetine"),
        "the patient's message carries no clinical advice"
    );
}

#[test]
fn a_template_naming_an_unknown_field_fails() {
    let mut env = template_environment();
    env.add_template("bad", "Hello {{ chi_number }}")
        .expect("parses");
    let templates = Templates { env };
    assert!(templates.render("bad", &sample(true)).is_err());
}

#[test]
fn names_read_as_people_say_them() {
    let board = |code: &str| BoardCode::parse(code).expect("a board");
    assert_eq!(board_name(board("highland")), "Highland");
    assert_eq!(
        board_name(board("greater-glasgow-clyde")),
        "Greater Glasgow and Clyde"
    );
    // Every board reads as it did when the names were spelt out here.
    for (code, name) in [
        ("ayrshire-arran", "Ayrshire and Arran"),
        ("dumfries-galloway", "Dumfries and Galloway"),
        ("western-isles", "Western Isles"),
        ("forth-valley", "Forth Valley"),
        ("borders", "Borders"),
    ] {
        assert_eq!(board_name(board(code)), name);
    }
    assert_eq!(
        service_name("pain-association-scotland"),
        "Pain Association Scotland"
    );
}

#[test]
fn the_board_settings_document_knows_the_same_templates_and_fields() {
    let names: Vec<&str> = TEMPLATES
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !name.contains('.') && !name.starts_with("gd/"))
        .collect();
    assert_eq!(names, pathway_proto::board::NOTIFICATION_TEMPLATES);
    for (name, _) in TEMPLATES {
        assert!(
            pathway_proto::board::template_base(name).is_some(),
            "a board may replace {name}"
        );
    }
    let fields = serde_json::to_value(sample(true)).expect("fields serialise");
    let mut keys: Vec<&str> = fields
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    let mut known = pathway_proto::board::TEMPLATE_FIELDS;
    known.sort_unstable();
    assert_eq!(keys, known);
}

#[test]
fn a_board_template_replaces_pathways_only_if_it_renders_and_fits() {
    let own = |source: &str| {
        [("patient/accept".to_owned(), source.to_owned())]
            .into_iter()
            .collect::<BTreeMap<_, _>>()
    };
    let templates =
        Templates::with_overrides(&own("Pain clinic\nHello {{ patient_name }}, see you soon."))
            .expect("a good template");
    let rendered = templates
        .render("patient/accept", &sample(true))
        .expect("renders");
    assert_eq!(rendered.subject, "Pain clinic");
    assert_eq!(rendered.body, "Hello Morag, see you soon.");
    assert!(Templates::with_overrides(&own("Subject\n{{ chi_number }}")).is_err());
    assert!(Templates::with_overrides(&own(&format!("Subject\n{}", "x".repeat(500)))).is_err());
    assert!(Templates::with_overrides(&own("Subject\n{{ patient_name | nosuchfilter }}")).is_err());
}

#[test]
fn the_example_board_settings_templates_are_usable() {
    let example: pathway_proto::board::BoardSettings = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/board-settings.json"
    )))
    .expect("examples/board-settings.json reads");
    assert!(example.problems().is_empty(), "{:?}", example.problems());
    let section = example.notification.expect("a notification section");
    assert!(!section.templates.is_empty());
    Templates::with_overrides(&section.templates).expect("every template renders and fits");
}

#[test]
fn a_board_template_within_the_limits_for_the_example_can_run_over_them_at_send() {
    // Quadratic in the advice: fine for the example's short advice, over the
    // fuel limit for a clinician's long one.
    let own = [(
        "referrer/decision".to_owned(),
        "Decision\nDear {{ referrer_name }}\n{% for a in advice or '' %}{% for b in advice %}.{% endfor %}{% endfor %}"
            .to_owned(),
    )]
    .into_iter()
    .collect::<BTreeMap<_, _>>();
    let templates = Templates::with_overrides(&own).expect("renders for the example");
    let mut fields = sample(true);
    fields.advice = Some("Rest. ".repeat(500));
    let error = templates
        .render("referrer/decision", &fields)
        .expect_err("runs over");
    assert!(matches!(error, RenderError::OutOfFuel), "{error}");
    assert!(error.to_string().contains("fuel limit"), "{error}");

    // Output: each field short, the loop's output long.
    let own = [(
        "receiving_service/referral".to_owned(),
        "Referral\nFor {{ patient_name }}\n{% for a in advice or '' %}{{ advice }}{% endfor %}"
            .to_owned(),
    )]
    .into_iter()
    .collect::<BTreeMap<_, _>>();
    let templates = Templates::with_overrides(&own).expect("renders for the example");
    let error = templates
        .render("receiving_service/referral", &fields)
        .expect_err("runs over");
    assert!(matches!(error, RenderError::TooLong), "{error}");
    assert!(error.to_string().contains("output limit"), "{error}");
}

#[test]
fn pathways_own_templates_are_far_within_the_limits() {
    let templates = Templates::load().expect("the templates load");
    for (name, _) in TEMPLATES {
        let template = templates.env.get_template(name).expect("known");
        let captured = template.render_captured(sample(true)).expect("renders");
        let used = captured
            .state()
            .fuel_levels()
            .map_or(0, |(consumed, _)| consumed);
        assert!(
            used > 0 && used * 20 < pathway_proto::board::TEMPLATE_FUEL,
            "{name} takes {used} steps"
        );
    }
}
