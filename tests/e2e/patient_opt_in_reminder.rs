//! The reminder before a patient's opt-in window closes, and the messages
//! at its end. Two referrals are vetted `patient_opt_in`; one patient opts
//! in from the link in their message. Decision's sweep, run at times the
//! test chooses, reminds only the other patient, once, with the same link
//! and code; at the close that referral is closed at intake and the GP and
//! the patient each get one message. Sweeping again, or from two decision
//! instances at once, sends nothing twice.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use pathway_common::auth::Role;
use pathway_notification::store::delivery;
use pathway_proto::v1::{self as proto, Payload};
use pathway_tests::referrals::valid_referral;
use pathway_tests::scale_out::another;
use pathway_tests::vetting::token_with_key;
use pathway_tests::{backends, eventually};
use serde_json::{Value, json};

use crate::patient_opt_in::{OptInPathway, PAGE_URL};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_patient_is_reminded_once_and_both_are_told_at_the_close() {
    // Every part is bound, so that none stops before the test ends.
    let OptInPathway {
        intake,
        vetting,
        decision,
        gateway: _gateway,
        receiver: _receiver,
        notification,
    } = OptInPathway::start().await;
    let dr = token_with_key(
        &vetting.app.platform.auth,
        "dr-mackay",
        Role::Clinician,
        &["highland"],
    );

    let opts_in = intake.refer(&valid_referral("highland")).await;
    let lapses = intake.refer(&valid_referral("highland")).await;
    let mut first_messages = HashMap::new();
    for id in [&opts_in, &lapses] {
        vetting.wait_for_referral("highland", id).await;
        let claimed = vetting
            .post_empty(&format!("/v1/referrals/{id}/claim"), &dr)
            .await;
        assert_eq!(claimed.status(), 200);
        let recorded = vetting
            .post(
                &format!("/v1/referrals/{id}/outcome"),
                &dr,
                &json!({
                    "outcome": "patient_opt_in",
                    "rationale": "Neck pain; self-management first, and she can opt in."
                }),
            )
            .await;
        assert_eq!(recorded.status(), 201);
        let rows = notification.wait_until_settled(id, 2).await;
        let patient = only(&rows, "patient/patient_opt_in");
        first_messages.insert(id.clone(), patient.body.clone());
    }

    // One patient opts in from their link.
    let link = link_in(&first_messages[&opts_in]);
    let path = link.strip_prefix(PAGE_URL).expect("the public address");
    let posted = reqwest::Client::new()
        .post(format!("{}{path}", intake.base))
        .send()
        .await
        .expect("the opt-in page answers");
    assert_eq!(posted.status(), 200);
    vetting
        .wait_for_status("highland", &opts_in, "awaiting_vetting")
        .await;
    let clinician = decision.token(Role::Clinician, &["highland"]);
    eventually(Duration::from_secs(10), || async {
        let view: Value = decision
            .get_decision(Some(&clinician), &opts_in)
            .await
            .json()
            .await
            .ok()?;
        (view["current"]["opt_in"]["status"] == "opted_in").then_some(())
    })
    .await
    .expect("decision learns of the opt-in");

    // Nothing is due on the day of the decision; eight days on (the
    // default 7-day reminder of a 14-day window), the other patient is
    // reminded, once however often the sweep runs.
    let now = Utc::now();
    assert_eq!(
        decision
            .app
            .remind_opt_in_windows(now)
            .await
            .expect("sweep"),
        0
    );
    let reminder_day = now + TimeDelta::days(8);
    assert_eq!(
        decision
            .app
            .remind_opt_in_windows(reminder_day)
            .await
            .expect("sweep"),
        1
    );
    assert_eq!(
        decision
            .app
            .remind_opt_in_windows(reminder_day + TimeDelta::days(1))
            .await
            .expect("sweep"),
        0
    );
    let rows = notification.wait_until_settled(&lapses, 3).await;
    let reminder = only(&rows, "patient/opt_in_reminder");
    assert_eq!(reminder.recipient, "patient");
    assert_eq!(
        link_in(&reminder.body),
        link_in(&first_messages[&lapses]),
        "the reminder carries the same link: {}",
        reminder.body
    );
    assert!(
        reminder.body.contains(&code_in(&first_messages[&lapses])),
        "and the same code: {}",
        reminder.body
    );

    // At the close: the referral that lapsed is closed, once.
    let after = now + TimeDelta::days(15);
    assert_eq!(
        decision
            .app
            .close_lapsed_opt_in_windows(after)
            .await
            .expect("sweep"),
        1
    );
    assert_eq!(
        decision
            .app
            .close_lapsed_opt_in_windows(after)
            .await
            .expect("sweep"),
        0
    );
    assert_eq!(
        decision
            .app
            .remind_opt_in_windows(after)
            .await
            .expect("sweep"),
        0,
        "no reminder after the close"
    );
    let rows = notification.wait_until_settled(&lapses, 5).await;
    let to_patient = only(&rows, "patient/opt_in_closed");
    assert_eq!(to_patient.recipient, "patient");
    assert!(to_patient.body.contains("closed"), "{}", to_patient.body);
    let to_gp = only(&rows, "referrer/opt_in_closed");
    assert_eq!(to_gp.recipient, "referrer");
    assert!(to_gp.body.contains(&lapses), "{}", to_gp.body);
    let referrer = intake.token(Role::Referrer, &["highland"]);
    let status = eventually(Duration::from_secs(10), || async {
        let referral: Value = intake
            .get_referral(&referrer, &lapses)
            .await
            .json()
            .await
            .ok()?;
        (referral["status"] == "closed").then_some(())
    })
    .await;
    assert!(status.is_some(), "intake reads the referral as closed");

    // Nothing more for either referral, however long we wait.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(notification.deliveries(&lapses).await.len(), 5);
    let opted = notification.deliveries(&opts_in).await;
    assert_eq!(
        opted.len(),
        2,
        "the patient who opted in is neither reminded nor closed: {:?}",
        opted.iter().map(|r| &r.template).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_decisions_sweeping_at_once_remind_each_window_once() {
    for backend in backends().await {
        let first = pathway_tests::decision::TestApp::spawn(&backend).await;
        let second = another(&*first, first_workers()).await;
        let ids: Vec<String> = (0..20)
            .map(|_| pathway_tests::decision::new_referral())
            .collect();
        for id in &ids {
            first
                .send(&pathway_tests::decision::vetting_completed(
                    "highland",
                    id,
                    pathway_tests::decision::outcome(proto::OutcomeKind::PatientOptIn),
                    false,
                ))
                .await;
        }
        for id in &ids {
            first.wait_for_decisions(id, 1).await;
        }
        let due = Utc::now() + TimeDelta::days(10);
        let mut reminded = 0;
        for _ in 0..3 {
            let (a, b) = tokio::join!(
                first.app.remind_opt_in_windows(due),
                second.app.remind_opt_in_windows(due)
            );
            reminded += a.expect("sweep a") + b.expect("sweep b");
        }
        assert_eq!(reminded, ids.len(), "{}: each window once", backend.name());
        // A restarted instance finds nothing left to remind.
        let third = another(&*first, first_workers()).await;
        assert_eq!(
            third.app.remind_opt_in_windows(due).await.expect("sweep"),
            0
        );
        let counts = eventually(Duration::from_secs(10), || async {
            let mut counts: HashMap<String, usize> = HashMap::new();
            for event in first.stream_events().await {
                if let Some(Payload::DecisionOptInReminderDue(_)) = &event.event.payload {
                    *counts.entry(event.event.referral_id.clone()).or_default() += 1;
                }
            }
            (counts.values().sum::<usize>() >= ids.len()).then_some(counts)
        })
        .await
        .expect("the reminders reach the stream");
        tokio::time::sleep(Duration::from_millis(500)).await;
        for id in &ids {
            assert_eq!(
                counts.get(id),
                Some(&1),
                "{}: one reminder for {id}",
                backend.name()
            );
        }
        assert_eq!(counts.len(), ids.len());
    }
}

/// The workers of a test decision instance: no sweep of its own.
fn first_workers() -> pathway_common::startup::Workers {
    pathway_tests::decision::test_workers()
}

/// The one delivery made with `template`.
fn only<'a>(rows: &'a [delivery::Model], template: &str) -> &'a delivery::Model {
    let found: Vec<_> = rows.iter().filter(|r| r.template == template).collect();
    assert_eq!(
        found.len(),
        1,
        "one {template}: {:?}",
        rows.iter().map(|r| &r.template).collect::<Vec<_>>()
    );
    found[0]
}

/// The opt-in link a message carries.
fn link_in(message: &str) -> String {
    let start = message
        .find(&format!("{PAGE_URL}/opt-in/"))
        .unwrap_or_else(|| panic!("no link in {message}"));
    message[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect()
}

/// The short code a message carries.
fn code_in(message: &str) -> String {
    let at = message
        .find("enter code ")
        .unwrap_or_else(|| panic!("no code in {message}"))
        + "enter code ".len();
    message[at..at + 11].to_owned()
}
