//! Retention: a referral last changed before its board's
//! `retention.referral_years` goes whole, with its history, and the
//! patient's duplicate lock with it; one changed later stays; the sweep is
//! audited and finds nothing the second time. Driven with a clock moved
//! forward.

use chrono::{Months, TimeDelta, Utc};
use pathway_common::auth::Role;
use pathway_tests::backends;
use pathway_tests::intake::TestApp;
use pathway_tests::referrals::valid_referral;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use super::referral_rows;

#[tokio::test]
async fn a_referral_goes_whole_after_the_boards_years_and_the_patient_may_be_referred_again() {
    for backend in backends().await {
        let mut app = TestApp::spawn(&backend).await;
        app.enable_board("highland").await;
        let now = Utc::now();
        let body = valid_referral("highland");
        let old = app.refer(&body).await;
        // Another patient's referral, received three years on.
        let later = app
            .refer_at(&valid_referral("highland"), now + Months::new(36))
            .await
            .id
            .to_string();
        assert_eq!(referral_rows(&app).await, 2, "{}", backend.name());

        // A day short of the default eight years, nothing goes.
        let eight_years = now + Months::new(96);
        let purged = app
            .app
            .sweep_retention(eight_years - TimeDelta::days(2))
            .await
            .expect("a sweep");
        assert!(purged.is_empty(), "{}: {purged:?}", backend.name());
        assert_eq!(referral_rows(&app).await, 2);

        // Past them, the first referral goes whole and the later one stays.
        let purged = app
            .app
            .sweep_retention(eight_years + TimeDelta::days(2))
            .await
            .expect("a sweep");
        let referrals: Vec<_> = purged
            .iter()
            .filter(|p| p.what != pathway_common::retention::AUDIT_ROWS)
            .collect();
        assert_eq!(referrals.len(), 1, "{purged:?}");
        assert_eq!(referrals[0].rows, 1);
        assert_eq!(referrals[0].board.code(), "highland");
        // Its audit rows (received, read) were as old: they went too.
        assert!(
            purged
                .iter()
                .any(|p| p.what == pathway_common::retention::AUDIT_ROWS && p.rows > 0),
            "{purged:?}"
        );
        let reader = app.token(Role::Referrer, &["highland"]);
        assert_eq!(app.get_referral(&reader, &old).await.status(), 404);
        assert_eq!(referral_rows(&app).await, 1);
        let history = pathway_intake::store::history::Entity::find()
            .filter(pathway_intake::store::history::Column::ReferralId.eq(old.as_str()))
            .count(&app.db)
            .await
            .expect("the history");
        assert_eq!(history, 0, "its history went with it");
        let kept = pathway_intake::store::referral::Entity::find_by_id(later.clone())
            .one(&app.db)
            .await
            .expect("read");
        assert!(kept.is_some(), "the later referral stays");

        // The sweep left its audit rows; a second finds no referral.
        let audited = pathway_common::audit::entity::Entity::find()
            .filter(pathway_common::audit::entity::Column::Action.eq("retention.purge"))
            .all(&app.db)
            .await
            .expect("the audit trail");
        assert_eq!(audited.len(), 2, "{audited:?}");
        assert!(
            audited
                .iter()
                .any(|row| row.purpose.as_deref().is_some_and(|p| p.starts_with(
                    "retention: 1 referrals with everything held of them last changed before "
                ))),
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
            "no referral is left to go, only the first sweep's own audit rows: {again:?}"
        );

        // The duplicate rule's lock went too: the patient may be referred again.
        let response = app
            .post_referral(&app.token(Role::Referrer, &["highland"]), &body)
            .await;
        assert_eq!(response.status(), 201);
        app.stop().await;
    }
}

/// A child's referral (under 18 when it was received) stays past the
/// board's period until the year after the patient's 26th birthday begins; an
/// adult's received the same day goes. Only the year is stored beside the
/// referral, and a referral stored before the column gets it at start.
#[tokio::test]
async fn a_childs_referral_is_kept_until_the_year_after_their_26th_birthday() {
    use chrono::Datelike;
    use pathway_intake::store::referral;
    use pathway_tests::referrals::set;
    use sea_orm::sea_query::Expr;

    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        app.enable_board("highland").await;
        let now = Utc::now();
        let born = now.date_naive() - Months::new(12 * 10);
        let mut child = valid_referral("highland");
        set(
            &mut child,
            "patient.date_of_birth",
            serde_json::json!(born.format("%Y-%m-%d").to_string()),
        );
        set(
            &mut child,
            "patient.chi",
            serde_json::json!(pathway_tests::referrals::chi_for(
                &born.format("%d%m%y").to_string(),
                false,
                7
            )),
        );
        let child = app.refer(&child).await;
        let adult = app.refer(&valid_referral("highland")).await;
        let kept_into = born.year() + 27;
        assert_eq!(
            year_of(&app, &child).await,
            Some(kept_into),
            "{}",
            backend.name()
        );
        assert_eq!(
            year_of(&app, &adult).await,
            Some(0),
            "an adult's: its period alone"
        );

        // A referral stored before the column gets its year at start.
        referral::Entity::update_many()
            .col_expr(
                referral::Column::KeepUntilYear,
                Expr::value(Option::<i32>::None),
            )
            .exec(&app.db)
            .await
            .expect("forget the years");
        let mut app = app
            .restart(pathway_intake::startup::Workers::default())
            .await;
        assert_eq!(year_of(&app, &child).await, Some(kept_into));
        assert_eq!(year_of(&app, &adult).await, Some(0));

        // Past the board's eight years, the adult's goes, the child's stays.
        let purged = app
            .app
            .sweep_retention(now + Months::new(96) + TimeDelta::days(2))
            .await
            .expect("a sweep");
        assert!(
            purged
                .iter()
                .any(|p| p.rows == 1 && p.what.starts_with("referrals")),
            "{purged:?}"
        );
        assert_eq!(referral_rows(&app).await, 1, "the child's stays");
        assert_eq!(year_of(&app, &child).await, Some(kept_into));

        // The last day of the year of their 26th birthday, still kept.
        let new_year = chrono::NaiveDate::from_ymd_opt(kept_into, 1, 1).expect("a day");
        let eve = pathway_proto::days::start_of(new_year) - TimeDelta::hours(1);
        app.app.sweep_retention(eve).await.expect("a sweep");
        assert_eq!(referral_rows(&app).await, 1);
        // From its first day, it goes.
        let purged = app
            .app
            .sweep_retention(pathway_proto::days::start_of(new_year) + TimeDelta::hours(1))
            .await
            .expect("a sweep");
        assert!(
            purged
                .iter()
                .any(|p| p.rows == 1 && p.what.starts_with("referrals")),
            "{purged:?}"
        );
        assert_eq!(referral_rows(&app).await, 0);
        app.stop().await;
    }
}

/// The `keep_until_year` stored beside referral `id`.
async fn year_of(app: &TestApp, id: &str) -> Option<i32> {
    pathway_intake::store::referral::Entity::find_by_id(id.to_owned())
        .one(&app.db)
        .await
        .expect("read")
        .expect("kept")
        .keep_until_year
}
