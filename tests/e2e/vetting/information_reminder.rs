//! An information request unanswered after the board's
//! `information_request_reminder_working_days` (5 by default): overdue on
//! the fifth working day after the question and not before, with Christmas,
//! the Boxing Day and 2 January substitutes and the weekends not counted;
//! one `vetting.info_request_overdue` however often the sweep runs; the
//! worklist row, the referral and the clinician's pages show it overdue.

use std::time::Duration;

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc, Weekday};
use pathway_common::auth::Role;
use pathway_proto::BoardCode;
use pathway_proto::calendar::WorkingCalendar;
use pathway_proto::v1::Payload;
use pathway_tests::referrals::valid_referral;
use pathway_tests::{backends, eventually};
use pathway_vetting::domain::status::Status;
use pathway_vetting::store::{board_settings, worklist};
use serde_json::{Value, json};

use super::Stack;

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("an RFC 3339 instant")
        .with_timezone(&Utc)
}

impl Stack {
    /// Move vetting's clock to `at`.
    fn set_clock(&self, at: DateTime<Utc>) {
        let clock = &self.vetting.clock;
        clock.advance(at - clock.now());
    }

    async fn sweep_overdue(&self) -> usize {
        self.vetting
            .app
            .mark_overdue_information_requests()
            .await
            .expect("the sweep runs")
    }
}

#[tokio::test]
async fn an_unanswered_question_is_overdue_after_five_working_days_once() {
    for backend in backends().await {
        let mut stack = Stack::start(&backend).await;
        let id = stack.referral(valid_referral("highland")).await;
        let dr = stack.clinician("dr-a");
        // Asked on Wednesday 23 December 2026, Scottish time (GMT).
        stack.set_clock(utc("2026-12-23T10:00:00Z"));
        assert_eq!(stack.claim(&dr, &id).await.status(), 200);
        let asked = stack
            .vetting
            .post(
                &format!("/v1/referrals/{id}/information-requests"),
                &dr,
                &json!({"question": "Any imaging of the lumbar spine?"}),
            )
            .await;
        assert_eq!(asked.status(), 201);
        let requested = stack
            .wait_for_event(&id, ("vetting", "info_requested"))
            .await;
        let Some(Payload::VettingInfoRequested(requested)) = requested.payload else {
            panic!("not an information request");
        };

        // Working days after the 23rd: Thursday 24th, then Christmas
        // (Friday), Boxing Day's substitute (Monday 28th), Tuesday 29th,
        // Wednesday 30th, Thursday 31st, New Year's Day (Friday) and the
        // 2nd's substitute (Monday 4 January 2027), Tuesday 5th. Counting
        // weekdays alone it would be overdue on the 30th; counting bank
        // holidays, on the 31st: it is neither.
        for not_yet in [
            "2026-12-24T16:00:00Z",
            "2026-12-30T16:00:00Z",
            "2026-12-31T16:00:00Z",
            "2027-01-04T23:30:00Z",
        ] {
            stack.set_clock(utc(not_yet));
            assert_eq!(stack.sweep_overdue().await, 0, "not overdue at {not_yet}");
        }
        let row = stack
            .vetting
            .wait_for_status("highland", &id, "info_requested")
            .await;
        assert_eq!(row["information_overdue"], false);

        // Tuesday 5 January 2027: five working days have passed.
        stack.set_clock(utc("2027-01-05T09:00:00Z"));
        // Two instances sweeping at once mark it once between them.
        let (one, other) = tokio::join!(stack.sweep_overdue(), stack.sweep_overdue());
        assert_eq!(one + other, 1, "{}", backend.name());
        // Swept again, and again: nothing more.
        assert_eq!(stack.sweep_overdue().await, 0);
        stack.set_clock(utc("2027-01-12T09:00:00Z"));
        assert_eq!(stack.sweep_overdue().await, 0);

        let event = stack
            .wait_for_event(&id, ("vetting", "info_request_overdue"))
            .await;
        let Some(Payload::VettingInfoRequestOverdue(overdue)) = event.payload else {
            panic!("not an overdue information request");
        };
        assert_eq!(
            overdue.information_request_id,
            requested.information_request_id
        );
        assert_eq!(overdue.question_text_id, requested.question_text_id);
        assert_eq!(overdue.working_days, 5);
        assert_eq!(event.actor, "system");
        assert_eq!(
            stack
                .events(&id, ("vetting", "info_request_overdue"))
                .await
                .len(),
            1,
            "one event, however often swept"
        );
        assert!(stack.audit(&id).await.contains(&(
            "referral.information_request_overdue".into(),
            "system".into()
        )));

        // The worklist row and the referral say so, in JSON and on the pages.
        let row = stack
            .vetting
            .wait_for_status("highland", &id, "info_requested")
            .await;
        assert_eq!(row["information_overdue"], true);
        assert_eq!(row["clock_paused"], true);
        let detail: Value = stack
            .vetting
            .get(&format!("/v1/referrals/{id}"), &dr)
            .await
            .json()
            .await
            .expect("JSON");
        assert_eq!(detail["information_overdue"], true, "{detail}");
        let request = &detail["information_requests"][0];
        // Found at the sweep, by vetting's clock (which runs on meanwhile).
        let found = request["overdue_at"]
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
            .expect("overdue_at is set");
        assert!(
            (found - utc("2027-01-05T09:00:00Z")).num_seconds().abs() < 60,
            "{request}"
        );
        let page = |path: String| {
            let stack = &stack;
            let dr = &dr;
            async move {
                stack
                    .vetting
                    .http
                    .get(format!("{}{path}", stack.vetting.base))
                    .bearer_auth(dr)
                    .send()
                    .await
                    .expect("the page answers")
                    .text()
                    .await
                    .expect("HTML")
            }
        };
        let worklist = page("/worklist".into()).await;
        assert!(worklist.contains("information overdue"), "{worklist}");
        let referral = page(format!("/referrals/{id}")).await;
        assert!(referral.contains("Overdue"), "{referral}");
        assert!(referral.contains("the referrer was reminded"), "{referral}");
        stack.vetting.stop().await;
        stack.intake.stop().await;
    }
}

#[tokio::test]
async fn a_board_sets_how_many_working_days_and_a_withdrawn_referral_is_not_chased() {
    for backend in backends().await {
        let mut stack = Stack::start(&backend).await;
        let admin = stack.intake.token(Role::BoardAdmin, &["highland"]);
        let saved = stack
            .intake
            .put_board_settings(
                &admin,
                "highland",
                &json!({"information_request_reminder_working_days": 2}).to_string(),
            )
            .await;
        assert_eq!(saved.status(), 200);
        let highland = BoardCode::parse("highland").expect("a board");
        eventually(Duration::from_secs(15), || async {
            board_settings::of_board(&stack.vetting.db, highland)
                .await
                .ok()
                .filter(|s| s.information_request_reminder_working_days == 2)
        })
        .await
        .expect("vetting keeps the board's setting");

        let asked = stack.referral(valid_referral("highland")).await;
        let withdrawn = stack.referral(valid_referral("highland")).await;
        let dr = stack.clinician("dr-a");
        // Asked at noon on a Friday at least a week ahead, once the
        // board's change is in force; noon UTC is the same day in Scotland
        // in summer and in winter.
        let mut friday = Utc::now().date_naive() + Days::new(7);
        while friday.weekday() != Weekday::Fri {
            friday = friday + Days::new(1);
        }
        let noon = |day: NaiveDate| day.and_hms_opt(12, 0, 0).expect("noon").and_utc();
        let due = WorkingCalendar::default().add_working_days(friday, 2);
        stack.set_clock(noon(friday));
        for id in [&asked, &withdrawn] {
            assert_eq!(stack.claim(&dr, id).await.status(), 200);
            let response = stack
                .vetting
                .post(
                    &format!("/v1/referrals/{id}/information-requests"),
                    &dr,
                    &json!({"question": "Current medication?"}),
                )
                .await;
            assert_eq!(response.status(), 201);
        }
        let referrer = stack.intake.token(Role::Referrer, &["highland"]);
        // The referrer can withdraw once intake has heard of the question.
        stack
            .wait_for_event(&withdrawn, ("vetting", "info_requested"))
            .await;
        let response = eventually(Duration::from_secs(10), || async {
            let response = stack
                .intake
                .referral_action(
                    &referrer,
                    &withdrawn,
                    "withdraw",
                    &json!({"reason_code": "sent_in_error"}),
                )
                .await;
            (response.status() == 200).then_some(())
        })
        .await;
        assert!(response.is_some(), "the referrer withdraws");
        eventually(Duration::from_secs(10), || async {
            worklist::find(&stack.vetting.db, &withdrawn)
                .await
                .ok()
                .flatten()
                .filter(|row| row.status() == Status::Withdrawn)
        })
        .await
        .expect("vetting hears of the withdrawal");

        // The day before the second working day after: not yet.
        stack.set_clock(noon(due - Days::new(1)));
        assert_eq!(stack.sweep_overdue().await, 0);
        stack.set_clock(noon(due));
        assert_eq!(stack.sweep_overdue().await, 1, "only the open one");
        stack
            .wait_for_event(&asked, ("vetting", "info_request_overdue"))
            .await;
        assert!(
            stack
                .events(&withdrawn, ("vetting", "info_request_overdue"))
                .await
                .is_empty()
        );
        stack.vetting.stop().await;
        stack.intake.stop().await;
    }
}
