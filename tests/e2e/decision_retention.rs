//! Retention in decision: a finished referral's decisions and opt-in
//! windows go once the board's `retention.referral_years` have passed since
//! its last change; a referral whose opt-in window is still open, or whose
//! patient opted in (back with vetting), stays however old; the sweep is
//! audited. Driven by the instant the sweep is given.

use std::time::Duration;

use chrono::{Months, TimeDelta, Utc};
use pathway_common::auth::Role;
use pathway_proto::v1::{self as proto, Event, Payload};
use pathway_tests::decision::{TestApp, accept, new_referral, outcome, vetting_completed};
use pathway_tests::{backends, eventually};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_referrals_decisions_go_after_the_boards_years_and_a_pending_one_stays() {
    for backend in backends().await {
        let mut app = TestApp::spawn(&backend).await;
        let accepted = new_referral();
        let waiting = new_referral();
        let opted_in = new_referral();
        app.send(&vetting_completed(
            "highland",
            &accepted,
            accept(proto::Priority::Routine),
            false,
        ))
        .await;
        for referral in [&waiting, &opted_in] {
            app.send(&vetting_completed(
                "highland",
                referral,
                outcome(proto::OutcomeKind::PatientOptIn),
                false,
            ))
            .await;
        }
        app.wait_for_decisions(&accepted, 1).await;
        app.wait_for_decisions(&waiting, 1).await;
        let opting = app.wait_for_decisions(&opted_in, 1).await[0].1.clone();
        let opted = Event::new(
            "highland",
            Some(uuid::Uuid::parse_str(&opted_in).expect("uuid")),
            "patient",
            Utc::now(),
            Payload::ReferralOptedIn(proto::ReferralOptedIn {
                decision_id: opting.decision_id.clone(),
            }),
        );
        app.send(&opted).await;
        let clinician = app.token(Role::Clinician, &["highland"]);
        eventually(Duration::from_secs(10), || async {
            let view: serde_json::Value = app
                .get_decision(Some(&clinician), &opted_in)
                .await
                .json()
                .await
                .ok()?;
            (view["current"]["opt_in"]["status"] == "opted_in").then_some(())
        })
        .await
        .expect("the opt-in resolves the window");

        // Words kept in decisions as they were before the text left the
        // stream.
        use pathway_decision::store::decision;
        decision::Entity::update_many()
            .col_expr(decision::Column::Rationale, Expr::value("Legacy words."))
            .filter(decision::Column::ReferralId.is_in([accepted.clone(), waiting.clone()]))
            .exec(&app.db)
            .await
            .expect("legacy words");

        let now = Utc::now();
        let eight_years = now + Months::new(96);
        let purged = app
            .app
            .sweep_retention(eight_years - TimeDelta::days(2))
            .await
            .expect("a sweep");
        assert!(purged.is_empty(), "{}: {purged:?}", backend.name());

        let purged = app
            .app
            .sweep_retention(eight_years + TimeDelta::days(2))
            .await
            .expect("a sweep");
        let referrals: Vec<_> = purged
            .iter()
            .filter(|p| p.what == "finished referrals' decisions and opt-in windows")
            .collect();
        assert_eq!(referrals.len(), 1, "{purged:?}");
        assert_eq!(referrals[0].rows, 1, "only the accepted referral");
        assert!(
            purged.iter().any(
                |p| p.what == "clinicians' words in decisions of finished referrals" && p.rows == 1
            ),
            "the accepted referral's words went first: {purged:?}"
        );
        assert_eq!(
            app.decision_rows(&waiting).await[0].rationale,
            "Legacy words.",
            "a pending referral keeps its words"
        );
        assert!(app.decision_rows(&accepted).await.is_empty());
        assert_eq!(
            app.decision_rows(&waiting).await.len(),
            1,
            "its window is open"
        );
        assert_eq!(
            app.decision_rows(&opted_in).await.len(),
            1,
            "back with vetting for a new decision"
        );
        let windows = pathway_decision::store::opt_in_window::Entity::find()
            .filter(
                pathway_decision::store::opt_in_window::Column::ReferralId
                    .is_in([waiting.clone(), opted_in.clone()]),
            )
            .all(&app.db)
            .await
            .expect("the windows");
        assert_eq!(windows.len(), 2, "the pending referrals keep their windows");

        let audited = pathway_common::audit::entity::Entity::find()
            .filter(pathway_common::audit::entity::Column::Action.eq("retention.purge"))
            .all(&app.db)
            .await
            .expect("the audit trail");
        assert!(
            audited
                .iter()
                .any(|row| row.purpose.as_deref().is_some_and(|p| {
                    p.starts_with(
                "retention: 1 finished referrals' decisions and opt-in windows last changed before "
            )
                })),
            "{audited:?}"
        );
        let again = app
            .app
            .sweep_retention(eight_years + TimeDelta::days(2))
            .await
            .expect("a sweep");
        assert!(
            again
                .iter()
                .all(|p| p.what == pathway_common::retention::AUDIT_ROWS),
            "{again:?}"
        );
        app.stop().await;
    }
}
