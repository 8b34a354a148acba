//! Events arriving late or again undo nothing newer.

use std::time::Duration;

use pathway_proto::v1::{self as proto, Payload};
use pathway_tests::referrals::valid_referral;
use pathway_tests::{backends, eventually};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use super::{Stack, accept};

#[tokio::test]
async fn late_events_leave_a_vetted_referral_vetted() {
    for backend in backends().await {
        let stack = Stack::start(&backend).await;
        let dr = stack.clinician("dr-a");
        let id = stack.referral(valid_referral("highland")).await;
        assert_eq!(stack.claim(&dr, &id).await.status(), 200);
        assert_eq!(stack.outcome(&dr, &id, &accept()).await.status(), 201);
        stack.wait_for_event(&id, ("vetting", "completed")).await;

        // Events that raced the outcome and arrive after it: a withdrawal the
        // referrer sent while the referral was being vetted, an answer to a
        // question nobody is waiting on, and the referral published again
        // (a republish carries a new event id, so only the handler can tell).
        let referral = uuid::Uuid::parse_str(&id).expect("a UUID");
        let at = chrono::Utc::now();
        let withdrawn = proto::Event::new(
            "highland",
            Some(referral),
            "dr-referrer",
            at,
            Payload::ReferralWithdrawn(proto::ReferralWithdrawn {
                previous_status: "in_vetting".into(),
                reason_code: "patient_request".into(),
            }),
        );
        let answered = proto::Event::new(
            "highland",
            Some(referral),
            "dr-referrer",
            at,
            Payload::ReferralInfoProvided(proto::ReferralInfoProvided {
                information_request_id: uuid::Uuid::now_v7().to_string(),
            }),
        );
        let mut received = stack.wait_for_event(&id, ("referral", "received")).await;
        received.event_id = uuid::Uuid::now_v7().to_string();
        let late = [withdrawn, answered, received];
        for event in &late {
            stack.publish(event).await;
        }
        let handled = eventually(Duration::from_secs(10), || async {
            let seen = pathway_common::inbox::entity::Entity::find()
                .all(&stack.vetting.db)
                .await
                .ok()?;
            late.iter()
                .all(|e| seen.iter().any(|row| row.event_id == e.event_id))
                .then_some(())
        })
        .await;
        assert!(handled.is_some(), "vetting never handled the late events");

        let row = stack.vetting.wait_for_referral("highland", &id).await;
        assert_eq!(row["status"], "vetted", "{}", backend.name());
        assert_eq!(row["answer_received"], false);
        let detail: Value = stack
            .vetting
            .get(&format!("/v1/referrals/{id}"), &dr)
            .await
            .json()
            .await
            .expect("JSON");
        assert_eq!(detail["allowed_actions"], json!(["correct_outcome"]));
        // Acknowledged without effect, not dead-lettered.
        let dead = pathway_common::inbox::dead_letter::Entity::find()
            .count(&stack.vetting.db)
            .await
            .expect("count dead letters");
        assert_eq!(dead, 0);
    }
}

/// A board's settings changed twice, and the older change redelivered after
/// the newer one was kept: the newer settings stand.
#[tokio::test]
async fn an_older_settings_change_redelivered_late_does_not_undo_a_newer_one() {
    use pathway_proto::board::BoardSettings;
    use pathway_vetting::store::board_settings;

    for backend in backends().await {
        let stack = Stack::start(&backend).await;
        let settings_changed = |at: chrono::DateTime<chrono::Utc>, days: u32| {
            let settings = BoardSettings {
                vetting_target_working_days: days,
                ..BoardSettings::default()
            };
            proto::Event::new(
                "highland",
                None,
                "highland-admin",
                at,
                Payload::BoardSettingsChanged(proto::BoardSettingsChanged {
                    vetting_target_working_days: days,
                    changed_by: "highland-admin".into(),
                    settings_json: serde_json::to_string(&settings).expect("JSON"),
                    effective_date: String::new(),
                }),
            )
        };
        let now = chrono::Utc::now();
        let older = settings_changed(now - chrono::Duration::minutes(5), 5);
        let newer = settings_changed(now, 20);

        stack.publish(&newer).await;
        let kept = eventually(Duration::from_secs(10), || async {
            board_settings::Entity::find_by_id("highland".to_owned())
                .one(&stack.vetting.db)
                .await
                .ok()?
                .filter(|row| row.event_id == newer.event_id)
        })
        .await
        .expect("vetting keeps the newer settings");

        stack.publish(&older).await;
        let handled = eventually(Duration::from_secs(10), || async {
            pathway_common::inbox::entity::Entity::find()
                .all(&stack.vetting.db)
                .await
                .ok()?
                .iter()
                .any(|row| row.event_id == older.event_id)
                .then_some(())
        })
        .await;
        assert!(handled.is_some(), "vetting never handled the older change");

        let row = board_settings::Entity::find_by_id("highland".to_owned())
            .one(&stack.vetting.db)
            .await
            .expect("read the board's settings")
            .expect("a row for highland");
        assert_eq!(row, kept, "{}", backend.name());
        let highland = pathway_proto::BoardCode::parse("highland").expect("a board");
        let settings = board_settings::of_board(&stack.vetting.db, highland)
            .await
            .expect("readable settings");
        assert_eq!(settings.vetting_target_working_days, 20);
        // Acknowledged without effect, not dead-lettered.
        let dead = pathway_common::inbox::dead_letter::Entity::find()
            .count(&stack.vetting.db)
            .await
            .expect("count dead letters");
        assert_eq!(dead, 0);
    }
}
