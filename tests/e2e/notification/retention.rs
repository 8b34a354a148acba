//! Retention: a board's messages lose their address and words once its
//! `retention.delivery_days` have passed since they were last tried, by the
//! settings in force on the day of the sweep; the delivery record stays, a
//! failed one can no longer be sent again, and the sweep is audited. Time
//! passes by ageing the rows, or by moving the sweep's clock forward.

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use pathway_common::audit::entity as audit;
use pathway_common::auth::Role;
use pathway_notification::startup::Workers;
use pathway_notification::store::delivery::{self, Status};
use pathway_tests::backends;
use pathway_tests::notification::{Answer, decision_recorded};
use pathway_tests::referrals::valid_referral;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use super::{Setup, accept, patient, setup};

/// Store highland's `retention` section as its board admin, and wait until
/// notification keeps it.
async fn keep_retention(s: &Setup, admin: &str, retention: Value) {
    let wanted: pathway_proto::board::Retention =
        serde_json::from_value(retention.clone()).expect("a retention section");
    let document = json!({ "retention": retention });
    let response = s
        .intake
        .put_board_settings(admin, "highland", &document.to_string())
        .await;
    assert_eq!(response.status(), 200);
    pathway_tests::eventually(Duration::from_secs(15), || async {
        pathway_common::board_settings::of_board(
            &s.app.db,
            pathway_proto::BoardCode::parse("highland").expect("a board"),
        )
        .await
        .ok()
        .filter(|settings| settings.retention == wanted)
    })
    .await
    .expect("notification keeps the board's retention");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_past_the_boards_period_lose_their_address_and_words_and_are_not_sent_again() {
    for backend in backends().await {
        let s = setup(&backend, Workers::default()).await;
        // The board keeps messages' words for 30 days (and sends as this
        // deployment is configured: no `notification` section).
        let admin = s.intake.token(Role::BoardAdmin, &["highland"]);
        keep_retention(&s, &admin, json!({"delivery_days": 30})).await;

        // The patient's SMS is refused by the gateway; the GP's webhook goes.
        s.gateway.script(&[Answer::Status(400)]);
        let referral = s.intake.refer(&valid_referral("highland")).await;
        s.app
            .send(&decision_recorded("highland", &referral, accept()))
            .await;
        let rows = s.app.wait_until_settled(&referral, 2).await;
        let failed = patient(&rows).clone();
        assert_eq!(failed.status, Status::Failed, "{}", backend.name());
        assert!(!failed.body.is_empty() && !failed.address.is_empty());
        assert!(rows.iter().any(|r| r.status == Status::Sent));

        // Time passes: the messages were last tried 29 days ago, then 31.
        let now = Utc::now();
        let age = |days: i64| {
            delivery::Entity::update_many()
                .col_expr(
                    delivery::Column::UpdatedAt,
                    Expr::value(now - TimeDelta::days(days)),
                )
                .filter(delivery::Column::ReferralId.eq(referral.as_str()))
                .exec(&s.app.db)
        };
        age(29).await.expect("aged");
        let rows = s.app.deliveries(&referral).await;
        let purged = s.app.app.sweep_retention(now).await.expect("a sweep");
        assert!(purged.is_empty(), "{}: {purged:?}", backend.name());
        assert_eq!(
            s.app.deliveries(&referral).await,
            rows,
            "29 days: nothing goes"
        );

        // 31 days: both messages keep their record but not their words.
        age(31).await.expect("aged");
        let rows = s.app.deliveries(&referral).await;
        let purged = s.app.app.sweep_retention(now).await.expect("a sweep");
        assert_eq!(purged.len(), 1, "{purged:?}");
        assert_eq!(purged[0].rows, 2);
        assert_eq!(purged[0].board.code(), "highland");
        let after = s.app.deliveries(&referral).await;
        assert_eq!(after.len(), 2);
        for (before, now) in rows.iter().zip(&after) {
            assert_eq!(now.id, before.id);
            assert_eq!(now.status, before.status, "the outcome stays");
            assert_eq!(now.channel, before.channel);
            assert_eq!(now.sent_at, before.sent_at);
            assert!(now.address.is_empty(), "{now:?}");
            assert!(now.subject.is_empty() && now.body.is_empty(), "{now:?}");
            assert_eq!(now.document, None);
        }

        // The sweep left its audit row; a second finds nothing.
        let audited = audit::Entity::find()
            .filter(audit::Column::Action.eq("retention.purge"))
            .all(&s.app.db)
            .await
            .expect("the audit trail");
        assert_eq!(audited.len(), 1, "{audited:?}");
        assert_eq!(audited[0].board.as_deref(), Some("highland"));
        let purpose = audited[0].purpose.clone().unwrap_or_default();
        assert!(
            purpose.starts_with("retention: 2 messages' addresses and words last changed before "),
            "{purpose}"
        );
        let again = s.app.app.sweep_retention(now).await.expect("a sweep");
        assert!(again.is_empty(), "{again:?}");

        // The failed message cannot be sent again: its words are gone.
        let response = s
            .app
            .post(&admin, &format!("/v1/deliveries/{}/retry", failed.id))
            .await;
        assert_eq!(response.status(), 409);
        let body: Value = response.json().await.expect("a JSON error");
        let message = body.to_string();
        assert!(
            message.contains("retention.delivery_days") && message.contains("30 days"),
            "{message}"
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_rows_go_after_the_boards_audit_years_and_other_boards_keep_theirs() {
    for backend in backends().await {
        let s = setup(&backend, Workers::default()).await;
        let old = Utc::now();
        for board in ["highland", "fife"] {
            pathway_common::audit::record(
                &s.app.db,
                pathway_common::audit::AuditEntry {
                    actor: "board_admin-1",
                    actor_role: "board_admin",
                    action: "delivery.retry",
                    referral_id: None,
                    board: Some(board),
                    source: "127.0.0.1",
                    purpose: Some("send a failed delivery again"),
                },
            )
            .await
            .expect("an audit row");
        }
        let admin = s.intake.token(Role::BoardAdmin, &["highland"]);
        keep_retention(
            &s,
            &admin,
            json!({"audit_years": 1, "referral_years": 1, "clinical_text_years": 1}),
        )
        .await;

        let purged = s
            .app
            .app
            .sweep_retention(old + TimeDelta::days(367))
            .await
            .expect("a sweep");
        assert_eq!(purged.len(), 1, "{}: {purged:?}", backend.name());
        assert_eq!(purged[0].what, "audit rows");
        let left: Vec<Option<String>> = audit::Entity::find()
            .filter(audit::Column::Action.eq("delivery.retry"))
            .all(&s.app.db)
            .await
            .expect("the audit trail")
            .into_iter()
            .map(|row| row.board)
            .collect();
        assert_eq!(left, [Some("fife".to_owned())], "fife keeps eight years");
        s.stop().await;
    }
}
