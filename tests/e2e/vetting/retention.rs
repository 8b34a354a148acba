//! Retention in vetting: by the board's settings in force on the day of the
//! sweep, a finished referral's clinical free text goes after
//! `retention.clinical_text_years` (its outcome stays, without the words),
//! the referral whole after `retention.referral_years`; a referral still
//! open stays however old, and each sweep is audited. Driven by the instant
//! the sweep is given.

use std::time::Duration;

use chrono::{Months, TimeDelta, Utc};
use pathway_common::auth::Role;
use pathway_tests::backends;
use pathway_tests::referrals::valid_referral;
use pathway_vetting::store::{clinical_text, outcome, worklist};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use super::{Stack, accept};

async fn texts_of(stack: &Stack, id: &str) -> u64 {
    clinical_text::Entity::find()
        .filter(clinical_text::Column::ReferralId.eq(id))
        .count(&stack.vetting.db)
        .await
        .expect("count texts")
}

async fn on_worklist(stack: &Stack, id: &str) -> bool {
    worklist::Entity::find_by_id(id.to_owned())
        .one(&stack.vetting.db)
        .await
        .expect("read the worklist")
        .is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_referral_loses_its_words_then_goes_and_an_open_one_stays() {
    for backend in backends().await {
        let mut stack = Stack::start(&backend).await;
        // Highland keeps clinicians' words 2 years, referrals 8.
        let admin = stack.intake.token(Role::BoardAdmin, &["highland"]);
        let retention = json!({"referral_years": 8, "clinical_text_years": 2});
        let wanted: pathway_proto::board::Retention =
            serde_json::from_value(retention.clone()).expect("a retention section");
        let response = stack
            .intake
            .put_board_settings(
                &admin,
                "highland",
                &json!({ "retention": retention }).to_string(),
            )
            .await;
        assert_eq!(response.status(), 200);
        pathway_tests::eventually(Duration::from_secs(15), || async {
            pathway_common::board_settings::of_board(
                &stack.vetting.db,
                pathway_proto::BoardCode::parse("highland").expect("a board"),
            )
            .await
            .ok()
            .filter(|settings| settings.retention == wanted)
        })
        .await
        .expect("vetting keeps the board's retention");

        let dr = stack.clinician("dr-a");
        // Vetted: finished.
        let vetted = stack.referral(valid_referral("highland")).await;
        assert_eq!(stack.claim(&dr, &vetted).await.status(), 200);
        let recorded = stack.outcome(&dr, &vetted, &accept()).await;
        assert_eq!(recorded.status(), 201);
        // Waiting for the referrer's answer: open.
        let asking = stack.referral(valid_referral("highland")).await;
        assert_eq!(stack.claim(&dr, &asking).await.status(), 200);
        let asked = stack
            .vetting
            .post(
                &format!("/v1/referrals/{asking}/information-requests"),
                &dr,
                &json!({"question": "Any imaging since March?"}),
            )
            .await;
        assert_eq!(asked.status(), 201);
        assert_eq!(texts_of(&stack, &vetted).await, 1, "the rationale");
        assert_eq!(texts_of(&stack, &asking).await, 1, "the question");

        let now = Utc::now();
        let vetting = &stack.vetting.app;
        // A day short of 2 years, nothing goes.
        let purged = vetting
            .sweep_retention(now + Months::new(24) - TimeDelta::days(2))
            .await
            .expect("a sweep");
        assert!(purged.is_empty(), "{}: {purged:?}", backend.name());

        // Past them, the finished referral's words go; its outcome stays.
        let purged = vetting
            .sweep_retention(now + Months::new(24) + TimeDelta::days(2))
            .await
            .expect("a sweep");
        assert_eq!(purged.len(), 1, "{purged:?}");
        assert_eq!(purged[0].what, "clinicians' texts of finished referrals");
        assert_eq!(texts_of(&stack, &vetted).await, 0);
        assert_eq!(
            texts_of(&stack, &asking).await,
            1,
            "an open one keeps its words"
        );
        let outcomes = outcome::of_referral(&stack.vetting.db, &vetting.cipher, &vetted)
            .await
            .expect("the outcomes");
        assert_eq!(outcomes.len(), 1);
        let body: serde_json::Value = serde_json::from_str(&outcomes[0].body).expect("JSON");
        assert_eq!(body["outcome"], "accept");
        assert!(body.get("rationale").is_none(), "{body}");
        assert!(on_worklist(&stack, &vetted).await);

        // Past 8 years, the finished referral goes whole; the open one stays.
        let purged = vetting
            .sweep_retention(now + Months::new(96) + TimeDelta::days(2))
            .await
            .expect("a sweep");
        assert!(
            purged.iter().any(
                |p| p.what == "finished referrals with everything held of them" && p.rows == 1
            ),
            "{purged:?}"
        );
        assert!(!on_worklist(&stack, &vetted).await);
        assert_eq!(stack.outcome_rows().await, 0);
        assert!(on_worklist(&stack, &asking).await, "never an open referral");
        assert_eq!(texts_of(&stack, &asking).await, 1);

        // The sweep left its audit rows (the earlier sweeps' went with the
        // audit rows past 8 years).
        let audited = pathway_common::audit::entity::Entity::find()
            .filter(pathway_common::audit::entity::Column::Action.eq("retention.purge"))
            .all(&stack.vetting.db)
            .await
            .expect("the audit trail");
        assert!(
            audited.iter().any(|row| row.purpose.as_deref().is_some_and(|p| p
                .starts_with("retention: 1 finished referrals with everything held of them last changed before "))),
            "{audited:?}"
        );
        let again = vetting
            .sweep_retention(now + Months::new(96) + TimeDelta::days(2))
            .await
            .expect("a sweep");
        assert!(
            again
                .iter()
                .all(|p| p.what == pathway_common::retention::AUDIT_ROWS),
            "nothing left to go but the first sweep's own audit rows: {again:?}"
        );
        stack.vetting.stop().await;
        stack.intake.stop().await;
    }
}
