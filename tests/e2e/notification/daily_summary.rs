//! The board's daily summary: a board that names its service manager in
//! `notification.daily_summary` gets one e-mail of yesterday's counts over
//! a real SMTP server, worked out by a real analytics service from the
//! events on the stream; the sweep's second run the same day sends nothing.

use std::time::Duration;

use chrono::{DateTime, Utc};
use pathway_analytics::startup::Workers as AnalyticsWorkers;
use pathway_common::auth::Role;
use pathway_notification::settings::ReferrerChannel;
use pathway_notification::store::delivery::Status;
use pathway_proto::days;
use pathway_proto::v1::{self as proto, Event, Payload};
use pathway_tests::analytics::TestApp as AnalyticsApp;
use pathway_tests::intake::TestApp as IntakeApp;
use pathway_tests::{backends, eventually};
use serde_json::{Value, json};
use uuid::Uuid;

use super::smtp::setup_smtp;

const MANAGER: &str = "pain.manager@highland.example.org";

fn event(referral: &str, at: DateTime<Utc>, payload: Payload) -> Event {
    Event {
        event_id: Uuid::now_v7().to_string(),
        referral_id: referral.to_owned(),
        board: "highland".into(),
        occurred_at: Some(proto::timestamp(at)),
        actor: "system".into(),
        demo: false,
        payload: Some(payload),
    }
}

fn received(referral: &str, at: DateTime<Utc>) -> Event {
    event(
        referral,
        at,
        Payload::ReferralReceived(proto::ReferralReceived {
            received_at: Some(proto::timestamp(at)),
            ..proto::ReferralReceived::default()
        }),
    )
}

/// `hour`:00 on Scotland's clock on `day`.
fn scottish(day: chrono::NaiveDate, hour: u32) -> DateTime<Utc> {
    use chrono::TimeZone;
    let local = day.and_hms_opt(hour, 0, 0).expect("an hour");
    days::SCOTLAND
        .from_local_datetime(&local)
        .earliest()
        .expect("07:00 exists every day in Scotland")
        .with_timezone(&Utc)
}

fn accept() -> proto::Outcome {
    super::accept()
}

/// Yesterday's history, by Scottish day: three received (one vetted and
/// accepted, one withdrawn), one waiting since long before (past the target
/// of 5 working days), one waiting for the referrer's answer.
fn history(yesterday: chrono::NaiveDate) -> Vec<Event> {
    let start = days::start_of(yesterday);
    let hours = |h: i64| start + chrono::Duration::hours(h);
    let [waiting, accepted, withdrawn, old, asked] =
        std::array::from_fn(|_| Uuid::now_v7().to_string());
    vec![
        received(&waiting, hours(9)),
        received(&accepted, hours(10)),
        event(
            &accepted,
            hours(14),
            Payload::VettingCompleted(proto::VettingCompleted {
                outcome: Some(accept()),
                ..proto::VettingCompleted::default()
            }),
        ),
        event(
            &accepted,
            hours(14),
            Payload::DecisionRecorded(proto::DecisionRecorded {
                decision_id: Uuid::now_v7().to_string(),
                outcome: Some(accept()),
                decided_at: Some(proto::timestamp(hours(14))),
                ..proto::DecisionRecorded::default()
            }),
        ),
        received(&withdrawn, hours(11)),
        event(
            &withdrawn,
            hours(16),
            Payload::ReferralWithdrawn(proto::ReferralWithdrawn {
                previous_status: "awaiting_vetting".into(),
                reason_code: "patient_request".into(),
            }),
        ),
        received(&old, start - chrono::Duration::days(30)),
        received(&asked, start - chrono::Duration::days(3)),
        event(
            &asked,
            start - chrono::Duration::days(2),
            Payload::VettingInfoRequested(proto::VettingInfoRequested {
                information_request_id: Uuid::now_v7().to_string(),
                ..proto::VettingInfoRequested::default()
            }),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_manager_gets_one_summary_of_yesterday_with_its_counts() {
    for backend in backends().await {
        let (s, smtp) = setup_smtp(&backend, ReferrerChannel::Webhook).await;
        let analytics = AnalyticsApp::spawn_beside_with(
            &backend,
            &s.intake,
            AnalyticsWorkers {
                sweeps: false,
                ..AnalyticsWorkers::default()
            },
        )
        .await;

        let admin = s.intake.token(Role::BoardAdmin, &["highland"]);
        let mut document = IntakeApp::example_board_settings();
        document["vetting_target_working_days"] = json!(5);
        document["notification"]["messages"] = json!("notify");
        document["notification"]["email"] = json!("smtp");
        // An address that is not one and an hour past 23: a 422 naming both.
        document["notification"]["daily_summary"] =
            json!({"email": "Manager <manager@nhs.scot>", "hour": 24});
        let response = s
            .intake
            .put_board_settings(&admin, "highland", &document.to_string())
            .await;
        assert_eq!(response.status(), 422);
        let error: Value = response.json().await.expect("JSON");
        let fields: Vec<&str> = error["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .filter_map(|f| f["field"].as_str())
            .collect();
        assert_eq!(
            fields,
            [
                "notification.daily_summary.email",
                "notification.daily_summary.hour"
            ],
            "{error}"
        );

        document["notification"]["daily_summary"] = json!({"email": MANAGER, "hour": 7});
        let response = s
            .intake
            .put_board_settings(&admin, "highland", &document.to_string())
            .await;
        assert_eq!(
            response.status(),
            200,
            "{}",
            response.text().await.unwrap_or_default()
        );
        eventually(Duration::from_secs(15), || async {
            s.app
                .board_notification("highland")
                .await
                .and_then(|row| row.notification_json)
                .filter(|json| json.contains(MANAGER))
        })
        .await
        .expect("notification keeps the board's daily summary setting");

        let today = days::today();
        let yesterday = today.pred_opt().expect("a day before");
        for event in history(yesterday) {
            analytics.send(&event).await;
        }
        // Intake's own board events come first.
        analytics.wait_until_caught_up(9 + 2).await;

        // 06:59 on Scotland's clock: not yet.
        let seven = scottish(today, 7);
        let early = seven - chrono::Duration::minutes(1);
        let analytics = &analytics;
        let sweep = |now| async move {
            analytics
                .app
                .try_daily_summaries(now)
                .await
                .expect("a sweep step")
        };
        assert_eq!(sweep(early).await, 0, "{}: before the hour", backend.name());
        assert_eq!(sweep(seven).await, 1, "{}: at the hour", backend.name());

        let to_manager = || {
            smtp.mails()
                .into_iter()
                .filter(|m| m.recipients == [MANAGER])
                .collect::<Vec<_>>()
        };
        let mails = eventually(Duration::from_secs(30), || async {
            Some(to_manager()).filter(|m| !m.is_empty())
        })
        .await
        .expect("the manager's e-mail");
        assert_eq!(mails.len(), 1);
        let in_words = yesterday.format("%A %-d %B %Y").to_string();
        assert_eq!(
            mails[0].header("Subject"),
            Some(format!(
                "Pain pathway daily summary, NHS Highland: {in_words}"
            ))
        );
        let body = mails[0].body();
        for line in [
            "- received: 3",
            "- vetted: 1",
            "- decided: 1",
            "    - accepted for the pain clinic: 1",
            "- withdrawn: 1",
            "- messages that could not be delivered: 0",
            "- for vetting: 2, of which past the vetting target: 1",
            "- for the referrer's answer to a question: 1",
            "- for the patient to opt in: 0",
        ] {
            assert!(
                body.lines().any(|l| l.trim_end() == line),
                "{line:?} in\n{body}"
            );
        }

        // Later the same day, and on another run of the sweep: nothing more.
        assert_eq!(sweep(seven + chrono::Duration::hours(3)).await, 0);
        assert_eq!(sweep(seven + chrono::Duration::hours(3)).await, 0);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(to_manager().len(), 1, "one summary a day");
        let rows: Vec<_> = s
            .app
            .deliveries("")
            .await
            .into_iter()
            .filter(|r| r.recipient == "service_manager")
            .collect();
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].cause, "daily_summary");

        // Today's summary, due tomorrow, counted by two sweeps at once: one
        // is published. The SMTP server refuses it for good (550); it is on
        // the failed list, and a board admin sends it again.
        smtp.script(&[550]);
        let tomorrow = today.succ_opt().expect("a day after");
        let tomorrow_seven = scottish(tomorrow, 7);
        let (a, b) = tokio::join!(sweep(tomorrow_seven), sweep(tomorrow_seven));
        assert_eq!(
            a + b,
            1,
            "{}: two sweeps at once publish one",
            backend.name()
        );
        let manager_rows = || async {
            s.app
                .deliveries("")
                .await
                .into_iter()
                .filter(|r| r.recipient == "service_manager")
                .collect::<Vec<_>>()
        };
        let failed = eventually(Duration::from_secs(30), || async {
            manager_rows()
                .await
                .into_iter()
                .find(|r| r.status == Status::Failed)
        })
        .await
        .expect("the refused summary fails");
        assert!(
            failed
                .last_error
                .as_deref()
                .unwrap_or_default()
                .contains("550"),
            "{failed:?}"
        );
        let admin = s.app.token(Role::BoardAdmin, &["highland"]);
        let listed: Value = s
            .app
            .get(&admin, "/v1/deliveries?status=failed")
            .await
            .json()
            .await
            .expect("JSON");
        let listed = listed["deliveries"].as_array().expect("a list");
        let summary = listed
            .iter()
            .find(|d| d["id"] == json!(failed.id))
            .expect("the summary on the failed list");
        assert_eq!(summary["recipient"], "service_manager", "{summary}");
        let retried = s
            .app
            .post(&admin, &format!("/v1/deliveries/{}/retry", failed.id))
            .await;
        assert_eq!(retried.status(), 202);
        eventually(Duration::from_secs(30), || async {
            manager_rows()
                .await
                .into_iter()
                .find(|r| r.id == failed.id && r.status == Status::Sent)
        })
        .await
        .expect("sent again");
        let mails = to_manager();
        assert_eq!(mails.len(), 2, "yesterday's and today's");
        let today_in_words = today.format("%A %-d %B %Y").to_string();
        assert!(
            mails[1]
                .header("Subject")
                .is_some_and(|subject| subject.ends_with(&today_in_words)),
            "{:?}",
            mails[1].header("Subject")
        );
        // Messages with no referral put nothing on the stream.
        assert!(s.app.notification_events("").await.is_empty());
        s.stop().await;
    }
}
