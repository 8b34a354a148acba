//! Unit tests of `board.rs`.

use super::*;

#[test]
fn outcome_codes_and_kinds_map_both_ways() {
    for code in OUTCOME_CODES {
        let kind = outcome_kind(code).expect("every code has a kind");
        assert_eq!(outcome_code(kind), Some(code));
    }
    assert_eq!(outcome_kind("request_information"), None);
    assert_eq!(outcome_code(OutcomeKind::Unspecified), None);
    assert_eq!(outcome_kind("accept"), Some(OutcomeKind::Accept));
    assert_eq!(
        outcome_kind("patient_opt_in"),
        Some(OutcomeKind::PatientOptIn)
    );
}

#[test]
fn defaults_are_valid_and_old_documents_read() {
    assert!(BoardSettings::default().problems().is_empty());
    let old: BoardSettings =
        serde_json::from_str(r#"{"vetting_target_working_days": 15}"#).expect("reads");
    assert_eq!(old.vetting_target_working_days, 15);
    assert_eq!(old.claim_lease_minutes, 30);
}

#[test]
fn problems_name_the_field() {
    let settings = BoardSettings {
        vetting_target_working_days: 0,
        disabled_outcomes: vec!["accept".into(), "teleport".into()],
        priority_target_days: PriorityTargets {
            urgent: 90,
            soon: 30,
            routine: 84,
        },
        ..BoardSettings::default()
    };
    let fields: Vec<String> = settings.problems().into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        fields,
        [
            "vetting_target_working_days",
            "disabled_outcomes[1]",
            "priority_target_days"
        ]
    );
    assert!(!settings.offers("accept"));
    assert!(settings.offers("decline"));
}

#[test]
fn a_notification_section_reads_and_its_problems_name_the_field() {
    let settings: BoardSettings = serde_json::from_str(
        r#"{"notification": {
            "messages": "notify", "email": "smtp", "referrer_channel": "email",
            "gp_webhook_url": "https://gp.example.org/pathway",
            "receiving_services": {"pain-association-scotland": "https://pas.example.org/in"},
            "templates": {"patient/accept": "Your referral\nDear {{ patient_name }}, {% if target_date %}by {{ target_date }}{% endif %}"}
        }}"#,
    )
    .expect("reads");
    assert!(settings.problems().is_empty(), "{:?}", settings.problems());
    let notification = settings.notification.clone().expect("the section");
    assert_eq!(notification.email, Some(EmailGateway::Smtp));
    assert_eq!(notification.referrer_channel, ReferrerChannel::Email);
    let again: BoardSettings =
        serde_json::from_str(&serde_json::to_string(&settings).expect("writes")).expect("reads");
    assert_eq!(again, settings);

    let bad = BoardSettings {
        notification: Some(NotificationSettings {
            gp_webhook_url: Some("gp.example.org".into()),
            templates: [
                ("patient/teleport", "Hi"),
                ("patient/decline", "Subject\n{% if outcome %}unclosed"),
                ("patient/accept", "Subject\nDear {{ chi_number }}"),
                ("referrer/decision", " "),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
            ..NotificationSettings::default()
        }),
        ..BoardSettings::default()
    };
    let problems = bad.problems();
    let field = |name: &str| {
        problems
            .iter()
            .find(|(f, _)| f == name)
            .map(|(_, reason)| reason.clone())
            .unwrap_or_else(|| panic!("no problem for {name}: {problems:?}"))
    };
    assert!(field("notification.gp_webhook_url").contains("URL"));
    assert!(field("notification.templates.patient/teleport").contains("unknown template"));
    assert!(field("notification.templates.patient/decline").contains("does not parse"));
    assert!(field("notification.templates.patient/accept").contains("chi_number"));
    assert!(field("notification.templates.referrer/decision").contains("characters"));
    assert_eq!(problems.len(), 5, "{problems:?}");
}

#[test]
fn a_template_over_the_fuel_or_output_limit_is_refused_with_the_limit() {
    let with = |name: &str, source: &str| NotificationSettings {
        templates: [(name.to_owned(), source.to_owned())].into_iter().collect(),
        ..NotificationSettings::default()
    };
    let problem = |settings: NotificationSettings| {
        let problems = settings.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        problems.into_iter().next().expect("one problem")
    };
    // Loops nested four deep over the example advice's characters: 31^4
    // steps, more than the fuel allows.
    let (field, reason) = problem(with(
        "referrer/decision",
        "Subject\n{% for a in advice or '' %}{% for b in advice %}{% for c in advice %}{% for d in advice %}.{% endfor %}{% endfor %}{% endfor %}{% endfor %}",
    ));
    assert_eq!(field, "notification.templates.referrer/decision");
    assert!(reason.contains("fuel limit"), "{reason}");
    assert!(reason.contains(&TEMPLATE_FUEL.to_string()), "{reason}");
    // Two loops over the reason's characters, each writing a line: over a
    // hundred kilobytes in a few thousand steps.
    let line = "x".repeat(100);
    let (field, reason) = problem(with(
        "receiving_service/referral",
        &format!(
            "Subject\n{{% for a in reason or '' %}}{{% for b in reason %}}{line}{{% endfor %}}{{% endfor %}}"
        ),
    ));
    assert_eq!(field, "notification.templates.receiving_service/referral");
    assert!(reason.contains("output limit"), "{reason}");
    assert!(
        reason.contains(&TEMPLATE_MAX_OUTPUT_BYTES.to_string()),
        "{reason}"
    );
    // A template that names a field's attribute fails at save, not at send.
    let (_, reason) = problem(with("patient/accept", "Subject\n{{ patient_name.nope }}"));
    assert!(reason.contains("does not render"), "{reason}");
    // A loop within the limits is fine.
    let fine = with(
        "referrer/decision",
        "Subject\n{% for a in advice or '' %}{{ a }} {% endfor %}{{ advice or '' }}",
    );
    assert!(fine.problems().is_empty(), "{:?}", fine.problems());
}

#[test]
fn a_template_that_could_build_a_value_without_bound_is_refused_by_its_shape() {
    let problem = |source: &str| {
        let settings = NotificationSettings {
            templates: [("patient/accept".to_owned(), format!("Subject\n{source}"))]
                .into_iter()
                .collect(),
            ..NotificationSettings::default()
        };
        let problems = settings.problems();
        assert_eq!(problems.len(), 1, "{source}: {problems:?}");
        problems.into_iter().next().expect("one problem").1
    };
    // Each of these builds a gigabyte within the fuel limit, or could.
    for (source, named) in [
        (
            "{% set a = patient_name ~ patient_name %}{% set b = a ~ a %}{{ b|length }}",
            "{% set %}",
        ),
        (
            "{% macro d(s, n) %}{% if n %}{{ d(s ~ s, n - 1) }}{% endif %}{% endmacro %}",
            "a macro",
        ),
        (
            "{% for a in [patient_name ~ patient_name] %}{{ a }}{% endfor %}",
            "a list",
        ),
        ("{{ namespace(s=patient_name) }}", "a function call"),
        (
            "{% for i in range(3) %}{{ i }}{% endfor %}",
            "a function call",
        ),
        ("{{ patient_name * 3 }}", "`*`"),
        (
            "{{ patient_name|indent(100000000) }}",
            "the filter `indent`",
        ),
        (
            "{{ patient_name|replace('a', 'aaaa')|replace('a', 'aaaa') }}",
            "`replace`",
        ),
        ("{{ patient_name|replace('a', patient_name) }}", "`replace`"),
        (
            "{% with a = patient_name %}{{ a }}{% endwith %}",
            "{% with %}",
        ),
        ("{% include 'other' %}", "{% include %}"),
    ] {
        let reason = problem(source);
        assert!(reason.contains(named), "{source}: {reason}");
        assert!(reason.contains("line 2"), "{source}: {reason}");
    }
    // What Pathway's own templates use is fine.
    let fine = NotificationSettings {
        templates: [(
            "referrer/decision".to_owned(),
            "Subject\n{% if outcome == 'accept' %}{{ mode | replace('_', ' ') }}{% elif advice is not none %}{{ advice|trim }}{% else %}{{ (reason or '')|upper }}{% endif %}{% for c in practice_code %}{{ loop.index }}{{ c }}{% endfor %}".to_owned(),
        )]
        .into_iter()
        .collect(),
        ..NotificationSettings::default()
    };
    assert!(fine.problems().is_empty(), "{:?}", fine.problems());
}

#[test]
fn rendering_stops_at_each_limit() {
    let env = template_environment();
    let render = |source: &str| {
        let template = env.template_from_str(source).expect("parses");
        render_template(&template, BTreeMap::from([("name", "Morag")]))
    };
    assert_eq!(render("Hello {{ name }}").expect("renders"), "Hello Morag");
    assert!(matches!(
        render("{% for a in range(1000) %}{% for b in range(1000) %}{% endfor %}{% endfor %}"),
        Err(RenderError::OutOfFuel)
    ));
    let just_over = format!("{{{{ 'x' * {} }}}}", TEMPLATE_MAX_OUTPUT_BYTES + 1);
    assert!(matches!(render(&just_over), Err(RenderError::TooLong)));
    let at_limit = format!("{{{{ 'x' * {TEMPLATE_MAX_OUTPUT_BYTES} }}}}");
    assert_eq!(
        render(&at_limit).expect("at the limit").len(),
        TEMPLATE_MAX_OUTPUT_BYTES
    );
    assert!(matches!(
        render("{{ nobody }}"),
        Err(RenderError::Failed(_))
    ));
}

#[test]
fn private_addresses_are_allowed_only_when_a_board_says_so() {
    let read = |section: &str| {
        serde_json::from_str::<BoardSettings>(&format!(r#"{{"notification": {section}}}"#))
    };
    let unset = read("{}").expect("reads").notification.expect("a section");
    assert!(!unset.allow_private_addresses, "off unless set");
    let allowed = read(r#"{"allow_private_addresses": true}"#).expect("reads");
    assert!(allowed.problems().is_empty(), "{:?}", allowed.problems());
    assert!(
        allowed
            .notification
            .as_ref()
            .is_some_and(|n| n.allow_private_addresses)
    );
    let written = serde_json::to_value(&allowed).expect("writes");
    assert_eq!(written["notification"]["allow_private_addresses"], true);
    let error = read(r#"{"allow_private_addresses": "yes"}"#).expect_err("a yes/no");
    assert!(error.to_string().contains("invalid type"), "{error}");
}
