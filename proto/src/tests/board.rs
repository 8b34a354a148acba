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
fn the_opt_in_reminder_is_a_week_by_default_and_at_most_90_days() {
    let old: BoardSettings = serde_json::from_str("{}").expect("reads");
    assert_eq!(old.opt_in_reminder_days, 7);
    for (days, fields) in [
        (0, vec![]),
        (90, vec![]),
        (91, vec!["opt_in_reminder_days"]),
    ] {
        let settings = BoardSettings {
            opt_in_reminder_days: days,
            ..BoardSettings::default()
        };
        let found: Vec<String> = settings.problems().into_iter().map(|(f, _)| f).collect();
        assert_eq!(found, fields, "{days} days");
    }
}

#[test]
fn the_information_request_reminder_is_five_working_days_by_default_and_1_to_30() {
    let old: BoardSettings = serde_json::from_str("{}").expect("reads");
    assert_eq!(old.information_request_reminder_working_days, 5);
    for (days, fields) in [
        (0, vec!["information_request_reminder_working_days"]),
        (1, vec![]),
        (30, vec![]),
        (31, vec!["information_request_reminder_working_days"]),
    ] {
        let settings = BoardSettings {
            information_request_reminder_working_days: days,
            ..BoardSettings::default()
        };
        let found: Vec<String> = settings.problems().into_iter().map(|(f, _)| f).collect();
        assert_eq!(found, fields, "{days} working days");
    }
}

#[test]
fn a_notification_section_reads_and_its_problems_name_the_field() {
    let settings: BoardSettings = serde_json::from_str(
        r#"{"notification": {
            "messages": "notify", "email": "smtp", "referrer_channel": "email",
            "gp_webhook_url": "https://gp.example.org/pathway",
            "receiving_services": {"pain-association-scotland": "https://pas.example.org/in"},
            "allowed_hosts": ["gp.example.org", "pas.example.org"],
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
                ("gd/referrer/decision", "Co-dhùnadh\nA charaid"),
                ("patient/accept.braille", "Subject\nBody"),
                (
                    "gd/patient/physiotherapy.easy_read",
                    "Fiosaiteiripe\nA charaid",
                ),
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
    // Only a patient's message has versions, in a known format.
    assert!(field("notification.templates.gd/referrer/decision").contains("unknown template"));
    assert!(field("notification.templates.patient/accept.braille").contains("unknown template"));
    assert!(field("notification.templates.patient/decline").contains("does not parse"));
    assert!(field("notification.templates.patient/accept").contains("chi_number"));
    assert!(field("notification.templates.referrer/decision").contains("characters"));
    assert_eq!(problems.len(), 7, "{problems:?}");
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
fn the_patient_is_told_of_a_decline_and_a_redirect_unless_a_board_says_not() {
    let read = |section: &str| {
        serde_json::from_str::<BoardSettings>(&format!(r#"{{"notification": {section}}}"#))
    };
    let unset = read("{}").expect("reads").notification.expect("a section");
    assert_eq!(unset.tell_patient_of_decline, None);
    assert_eq!(unset.tell_patient_of_redirect, None);
    let quiet = read(r#"{"tell_patient_of_decline": false, "tell_patient_of_redirect": false}"#)
        .expect("reads");
    assert!(quiet.problems().is_empty(), "{:?}", quiet.problems());
    let written = serde_json::to_value(&quiet).expect("writes");
    assert_eq!(written["notification"]["tell_patient_of_decline"], false);
    assert_eq!(written["notification"]["tell_patient_of_redirect"], false);
    for field in ["tell_patient_of_decline", "tell_patient_of_redirect"] {
        let error = read(&format!(r#"{{"{field}": "no"}}"#)).expect_err("a yes/no");
        assert!(error.to_string().contains("invalid type"), "{error}");
    }
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

#[test]
fn every_webhook_url_must_be_on_the_allow_list_over_https_to_a_public_address() {
    let section = |value: serde_json::Value| {
        serde_json::from_value::<BoardSettings>(serde_json::json!({ "notification": value }))
            .expect("reads")
    };
    let problems = |value: serde_json::Value| section(value).problems();
    // Each URL, with the board's allow-list and allowance: the field's
    // problem, or none.
    let cases: &[(&str, &[&str], bool, Option<&str>)] = &[
        (
            "https://gp.highland.example/in",
            &["gp.highland.example"],
            false,
            None,
        ),
        (
            "https://GP.Highland.Example./in",
            &["gp.highland.example"],
            false,
            None,
        ),
        ("https://gp.nhs.scot/in", &["*.nhs.scot"], false, None),
        ("https://a.b.nhs.scot/in", &["*.nhs.scot"], false, None),
        (
            "https://nhs.scot/in",
            &["*.nhs.scot"],
            false,
            Some("not on the board's allowed hosts"),
        ),
        (
            "https://evilnhs.scot/in",
            &["*.nhs.scot"],
            false,
            Some("not on the board's allowed hosts"),
        ),
        (
            "https://gp.highland.example/in",
            &[],
            false,
            Some("not on the board's allowed hosts"),
        ),
        (
            "https://other.example/in",
            &["gp.highland.example"],
            false,
            Some("other.example is not on"),
        ),
        (
            "http://gp.highland.example/in",
            &["gp.highland.example"],
            false,
            Some("must be https"),
        ),
        (
            "http://gp.highland.example/in",
            &["gp.highland.example"],
            true,
            Some("must be https"),
        ),
        (
            "ftp://gp.highland.example/in",
            &["gp.highland.example"],
            false,
            Some("https:// URL"),
        ),
        (
            "gp.highland.example",
            &["gp.highland.example"],
            false,
            Some("https:// URL"),
        ),
        (
            "https://user:pw@gp.highland.example/in",
            &["gp.highland.example"],
            false,
            Some("credentials"),
        ),
        (
            "https://127.0.0.1/in",
            &["127.0.0.1"],
            false,
            Some("127.0.0.1 is a loopback address"),
        ),
        (
            "https://10.1.2.3/in",
            &["10.1.2.3"],
            false,
            Some("private (RFC 1918)"),
        ),
        (
            "https://169.254.169.254/in",
            &["169.254.169.254"],
            false,
            Some("link-local"),
        ),
        (
            "https://[::1]/in",
            &["::1"],
            false,
            Some("::1 is a loopback address"),
        ),
        (
            "https://[fe80::1]/in",
            &["fe80::1"],
            false,
            Some("link-local"),
        ),
        (
            "http://localhost:8080/in",
            &["localhost"],
            false,
            Some("loopback"),
        ),
        ("https://10.1.2.3/in", &["10.1.2.3"], true, None),
        ("http://127.0.0.1:9000/in", &["127.0.0.1"], true, None),
        (
            "http://10.1.2.3/in",
            &["10.1.2.3"],
            true,
            Some("must be https"),
        ),
        (
            "https://10.1.2.3/in",
            &[],
            true,
            Some("not on the board's allowed hosts"),
        ),
    ];
    for (url, allowed, private, expected) in cases {
        for field in ["gp_webhook_url", "receiving_services"] {
            let value = if field == "gp_webhook_url" {
                serde_json::json!({"gp_webhook_url": url, "allowed_hosts": allowed, "allow_private_addresses": private})
            } else {
                serde_json::json!({"receiving_services": {"pain_management_programme": url}, "allowed_hosts": allowed, "allow_private_addresses": private})
            };
            let found = problems(value);
            match expected {
                None => assert!(found.is_empty(), "{url} {allowed:?}: {found:?}"),
                Some(reason) => {
                    assert_eq!(found.len(), 1, "{url} {allowed:?}: {found:?}");
                    let name = if field == "gp_webhook_url" {
                        "notification.gp_webhook_url"
                    } else {
                        "notification.receiving_services.pain_management_programme"
                    };
                    assert_eq!(found[0].0, name, "{url}");
                    assert!(
                        found[0].1.contains(reason),
                        "{url} {allowed:?}: {:?}",
                        found[0].1
                    );
                }
            }
        }
    }
}

#[test]
fn allow_list_entries_are_host_names_wildcards_over_two_labels_or_addresses() {
    let bad = [
        ("", "1 to 253"),
        ("GP.example", "lower case"),
        ("*.scot", "at least two labels"),
        ("*", "host name"),
        ("gp.*.example", "host name"),
        ("gp..example", "host name"),
        ("-gp.example", "host name"),
        ("gp.example/path", "host name"),
        ("https://gp.example", "host name"),
    ];
    for (pattern, reason) in bad {
        let settings = serde_json::from_value::<BoardSettings>(
            serde_json::json!({"notification": {"allowed_hosts": ["gp.example", pattern]}}),
        )
        .expect("reads");
        let problems = settings.problems();
        assert_eq!(problems.len(), 1, "{pattern:?}: {problems:?}");
        assert_eq!(problems[0].0, "notification.allowed_hosts[1]");
        assert!(problems[0].1.contains(reason), "{pattern:?}: {problems:?}");
    }
    for good in [
        "gp.example",
        "*.nhs.scot",
        "10.0.0.7",
        "::1",
        "pain_management_programme.invalid",
    ] {
        assert!(crate::board::host_pattern_problem(good).is_none(), "{good}");
    }
}

#[test]
fn production_refuses_the_file_sink_and_plain_http_in_a_board_s_own_settings() {
    let settings = serde_json::from_value::<BoardSettings>(serde_json::json!({"notification": {
        "messages": "sink", "email": "sink", "webhooks": "sink",
        "gp_webhook_url": "http://127.0.0.1:9000/gp",
        "receiving_services": {"residential_programme": "https://rp.example/in"},
        "allowed_hosts": ["127.0.0.1", "rp.example"],
        "allow_private_addresses": true
    }}))
    .expect("reads");
    assert!(settings.problems().is_empty(), "{:?}", settings.problems());
    let fields: Vec<String> = settings
        .production_problems()
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    assert_eq!(
        fields,
        [
            "notification.messages",
            "notification.email",
            "notification.webhooks",
            "notification.gp_webhook_url",
        ]
    );
    assert!(BoardSettings::default().production_problems().is_empty());
}
