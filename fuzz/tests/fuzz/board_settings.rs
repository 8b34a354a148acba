//! A board's settings document (`pathway_proto::board`): generated documents,
//! mostly within the rules, as JSON with a character damaged now and then,
//! and any bytes at all. Reading and checking never panic; a document with no
//! problems keeps the rules, and written out and read back it is the same
//! document with no problems.

use std::collections::BTreeMap;

use bolero::check;
use chrono::NaiveDate;
use pathway_fuzz::Draw;
use pathway_proto::board::{
    BoardSettings, EmailGateway, MessageGateway, NOTIFICATION_TEMPLATES, NotificationSettings,
    OUTCOME_CODES, Partner, PriorityTargets, ReferrerChannel, Retention, TEMPLATE_FIELDS,
    TEMPLATE_MAX_OUTPUT_BYTES, WebhookGateway, render_template, template_base,
    template_environment,
};

/// Pieces a template is put together from: fields, loops, conditions,
/// filters, and broken or unknown pieces.
const TEMPLATE_PIECES: [&str; 22] = [
    "Dear {{ patient_name }},\n",
    "{{ outcome_label }}",
    "{{ board_name|upper }}",
    "{% if priority %}{{ priority }}{% endif %}",
    "{% if correction %}Corrected: {% endif %}",
    "{% for i in range(",
    "50",
    "100000",
    ") %}",
    "{% endfor %}",
    "{{ i }}",
    "{{ ",
    " }}",
    "{% ",
    " %}",
    "{{ unknown_field }}",
    "{{ reason|default('none') }}",
    "{{ advice * 1000 }}",
    "{{ question|length }}",
    "{# a note #}",
    "text ",
    "{{ dict(a=1)['b'] }}",
];

fn template(draw: &mut Draw) -> String {
    let pieces = draw.below(10);
    let mut source = String::from("Subject line\n");
    for _ in 0..pieces {
        if draw.chance(16) {
            source.push_str(&draw.text(6));
        } else {
            source.push_str(draw.pick(&TEMPLATE_PIECES));
        }
    }
    source
}

fn settings(draw: &mut Draw) -> BoardSettings {
    let mut days = [draw.range(1, 365), draw.range(1, 365), draw.range(1, 365)];
    if !draw.chance(32) {
        days.sort_unstable();
    }
    let [urgent, soon, routine] = days.map(|d| u32::try_from(d).unwrap_or(0));
    let count = |draw: &mut Draw, max: usize| draw.below(max + 1);
    let outcome = |draw: &mut Draw| {
        if draw.chance(8) {
            draw.text(8)
        } else {
            draw.pick(&OUTCOME_CODES).to_owned()
        }
    };
    let disabled = (0..count(draw, 3)).map(|_| outcome(draw)).collect();
    let labels = (0..count(draw, 3))
        .map(|_| {
            (
                outcome(draw),
                draw.pick(&["Physio", " ", "Pain clinic"]).to_owned(),
            )
        })
        .collect();
    let partners = (0..count(draw, 3))
        .map(|_| {
            let code = draw.pick(&["pain-association-scotland", "local-group-2", "Bad Code"]);
            Partner {
                code: draw.mangle(code),
                name: draw
                    .pick(&["Pain Association Scotland", "", "Local group"])
                    .into(),
            }
        })
        .collect();
    let notification = draw.chance(192).then(|| NotificationSettings {
        messages: draw.pick(&[MessageGateway::Sink, MessageGateway::Notify]),
        email: draw.pick(&[
            None,
            Some(EmailGateway::Sink),
            Some(EmailGateway::Notify),
            Some(EmailGateway::Smtp),
        ]),
        webhooks: draw.pick(&[WebhookGateway::Sink, WebhookGateway::Http]),
        referrer_channel: draw.pick(&[ReferrerChannel::Webhook, ReferrerChannel::Email]),
        gp_webhook_url: draw
            .chance(128)
            .then(|| draw.mangle("https://gp.example.org/hook")),
        receiving_services: (0..count(draw, 2))
            .map(|_| {
                (
                    draw.mangle("pain_management_programme"),
                    draw.mangle("https://pmp.example.org/in"),
                )
            })
            .collect(),
        templates: (0..count(draw, 3))
            .map(|_| {
                let name = draw.pick(&NOTIFICATION_TEMPLATES);
                (draw.mangle(name), template(draw))
            })
            .collect(),
        notify_account: draw.chance(64).then(|| draw.mangle("highland-notify")),
        smtp_server: draw.chance(64).then(|| draw.mangle("nhs_relay")),
        // Usually the hosts the URLs above name, so that a section can pass.
        allowed_hosts: (0..count(draw, 3))
            .map(|_| {
                let host = draw.pick(&[
                    "gp.example.org",
                    "pmp.example.org",
                    "*.example.org",
                    "127.0.0.1",
                ]);
                draw.mangle(host)
            })
            .collect(),
        allow_private_addresses: draw.chance(32),
        standard_route: None,
        paediatric_route: None,
        tell_patient_of_withdrawal: draw.pick(&[None, Some(true), Some(false)]),
        daily_summary: draw.chance(64).then(|| pathway_proto::board::DailySummary {
            email: draw.mangle("pain.manager@nhs.scot"),
            hour: draw.pick(&[None, Some(7), Some(24)]),
        }),
        tell_patient_of_decline: draw.pick(&[None, Some(true), Some(false)]),
        tell_patient_of_redirect: draw.pick(&[None, Some(true), Some(false)]),
    });
    BoardSettings {
        vetting_target_working_days: u32::try_from(draw.around(1, 100)).unwrap_or(0),
        claim_lease_minutes: u32::try_from(draw.around(5, 480)).unwrap_or(0),
        information_request_reminder_working_days: u32::try_from(draw.around(1, 30)).unwrap_or(0),
        scottish_bank_holidays: draw.chance(200),
        extra_holidays: (0..count(draw, 2))
            .map(|_| {
                NaiveDate::from_ymd_opt(2026, 1, 1).expect("a date")
                    + chrono::Days::new(u64::try_from(draw.below(365)).unwrap_or(0))
            })
            .collect(),
        disabled_outcomes: disabled,
        outcome_labels: labels,
        partners,
        priority_target_days: PriorityTargets {
            urgent,
            soon,
            routine,
        },
        opt_in_window_days: u32::try_from(draw.around(1, 90)).unwrap_or(0),
        opt_in_reminder_days: u32::try_from(draw.around(0, 90)).unwrap_or(0),
        notification,
        patient_information: None,
        retention: Retention {
            referral_years: u32::try_from(draw.around(1, 30)).unwrap_or(0),
            clinical_text_years: u32::try_from(draw.around(1, 30)).unwrap_or(0),
            delivery_days: u32::try_from(draw.around(30, 3650)).unwrap_or(0),
            audit_years: u32::try_from(draw.around(1, 30)).unwrap_or(0),
        },
    }
}

/// What a document with no problems must be.
fn assert_keeps_the_rules(settings: &BoardSettings) {
    assert!((1..=100).contains(&settings.vetting_target_working_days));
    assert!((5..=480).contains(&settings.claim_lease_minutes));
    assert!((1..=30).contains(&settings.information_request_reminder_working_days));
    assert!((1..=90).contains(&settings.opt_in_window_days));
    assert!(settings.opt_in_reminder_days <= 90);
    let kept = settings.retention;
    assert!((1..=30).contains(&kept.referral_years));
    assert!((1..=kept.referral_years).contains(&kept.clinical_text_years));
    assert!((30..=3650).contains(&kept.delivery_days));
    assert!((1..=30).contains(&kept.audit_years));
    assert!(OUTCOME_CODES.iter().any(|code| settings.offers(code)));
    let t = settings.priority_target_days;
    assert!(1 <= t.urgent && t.urgent <= t.soon && t.soon <= t.routine && t.routine <= 365);
    for (i, partner) in settings.partners.iter().enumerate() {
        assert_eq!(
            settings.partner(&partner.code),
            Some(partner),
            "partner codes are unique"
        );
        assert!(!partner.name.trim().is_empty(), "partner {i}");
    }
    for code in settings.outcome_labels.keys() {
        assert!(OUTCOME_CODES.contains(&code.as_str()));
    }
    let Some(notification) = &settings.notification else {
        return;
    };
    let env = template_environment();
    let fields: BTreeMap<&str, &str> = TEMPLATE_FIELDS.iter().map(|f| (*f, "example")).collect();
    for (name, source) in &notification.templates {
        assert!(template_base(name).is_some(), "{name}");
        let template = env
            .template_from_str(source)
            .expect("an accepted template parses");
        // Any fields at all: the rendering stays within its limits or says why.
        if let Ok(text) = render_template(&template, &fields) {
            assert!(text.len() <= TEMPLATE_MAX_OUTPUT_BYTES);
        }
    }
}

/// Read `json` as a settings document and check what comes of it.
fn check_document(json: &[u8]) {
    let Ok(settings) = serde_json::from_slice::<BoardSettings>(json) else {
        return;
    };
    let problems = settings.problems();
    for (field, reason) in &problems {
        assert!(
            !field.is_empty() && !reason.trim().is_empty(),
            "{field}: {reason}"
        );
    }
    if problems.is_empty() {
        assert_keeps_the_rules(&settings);
        let written = serde_json::to_string(&settings).expect("settings serialise");
        let back: BoardSettings = serde_json::from_str(&written).expect("and read back");
        assert_eq!(back, settings);
        assert!(back.problems().is_empty());
    }
}

#[test]
fn board_settings_with_no_problems_keep_the_rules_and_round_trip() {
    let accepted = std::sync::atomic::AtomicUsize::new(0);
    check!().with_iterations(10_000).for_each(|bytes: &[u8]| {
        let mut draw = Draw::new(bytes);
        let settings = settings(&mut draw);
        if settings.problems().is_empty() {
            accepted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        let json = serde_json::to_string(&settings).expect("settings serialise");
        let json = if draw.chance(64) {
            draw.mangle(&json)
        } else {
            json
        };
        check_document(json.as_bytes());
    });
    assert!(
        accepted.into_inner() > 0,
        "no generated document had no problems"
    );
}

#[test]
fn any_bytes_as_a_board_settings_document_never_panic() {
    check!()
        .with_iterations(50_000)
        .for_each(|bytes: &[u8]| check_document(bytes));
}
