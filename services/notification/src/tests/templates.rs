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
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.add_template("bad", "Hello {{ chi_number }}")
        .expect("parses");
    let templates = Templates { env };
    assert!(templates.render("bad", &sample(true)).is_err());
}

#[test]
fn names_read_as_people_say_them() {
    assert_eq!(board_name("highland"), "Highland");
    assert_eq!(
        board_name("greater-glasgow-clyde"),
        "Greater Glasgow and Clyde"
    );
    assert_eq!(
        service_name("pain-association-scotland"),
        "Pain Association Scotland"
    );
}
