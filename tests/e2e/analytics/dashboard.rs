//! The HTML dashboard: sign-in by token, the same rows as the API with the
//! same numbers hidden, and errors that link to the field; it opens on the
//! last two years and leads with before and after adoption, where a hidden
//! number is drawn as no bar at all.

use pathway_common::auth::Role;
use pathway_tests::analytics::TestApp;
use pathway_tests::backends;

use super::history::{history, publish_history};
use super::{BOARD, scottish_day};

#[tokio::test]
async fn the_dashboard_draws_the_same_rows_and_hides_the_same_numbers() {
    let cases = history();
    let backend = &backends().await[0];
    let mut app = TestApp::spawn(backend).await;
    let events = publish_history(&app, &cases).await;
    app.wait_until_caught_up(events).await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    let page = format!(
        "{}/dashboard?boards=highland&from=2026-01-01&to=2026-06-30&by=month",
        app.base
    );

    let response = no_redirects.get(&page).send().await.expect("an answer");
    assert!(response.status().is_redirection());
    assert_eq!(response.headers()["location"], "/sign-in");

    // The sign-in form is bound to the page's own cookie (`csrf`).
    let sign_in = no_redirects
        .get(format!("{}/sign-in", app.base))
        .send()
        .await
        .expect("an answer");
    let form_cookie = sign_in.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .split(';')
        .next()
        .expect("a name=value")
        .to_owned();
    let html = sign_in.text().await.expect("HTML");
    let field = r#"name="csrf_token" value=""#;
    let at = html.find(field).expect("the form's token") + field.len();
    let csrf_token = html[at..].split('"').next().expect("a value").to_owned();

    let clinician = app.token(Role::Clinician, &[BOARD]);
    let response = no_redirects
        .post(format!("{}/sign-in", app.base))
        .header("cookie", &form_cookie)
        .header("origin", &app.base)
        .header("content-type", "application/x-www-form-urlencoded")
        // A JWT holds only URL-safe characters.
        .body(format!("token={clinician}&csrf_token={csrf_token}"))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 422);

    let evaluator = app.token(Role::Evaluator, &[BOARD]);
    let response = no_redirects
        .post(format!("{}/sign-in", app.base))
        .header("cookie", &form_cookie)
        .header("origin", &app.base)
        .header("content-type", "application/x-www-form-urlencoded")
        // A JWT holds only URL-safe characters.
        .body(format!("token={evaluator}&csrf_token={csrf_token}"))
        .send()
        .await
        .expect("an answer");
    assert!(response.status().is_redirection());
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .split(';')
        .next()
        .expect("a name=value")
        .to_owned();
    assert!(cookie.starts_with("pathway_analytics_session="));

    let response = no_redirects
        .get(&page)
        .header("cookie", &cookie)
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 200);
    let html = response.text().await.expect("HTML");
    // The lead: before and after adoption by quarter, then the PHS bands,
    // then the detailed tables.
    let before_after = html.find("id=\"before-after\"").expect("before and after");
    let phs = html.find("id=\"phs-bands\"").expect("the PHS bands");
    let detail = html
        .find("<caption>All boards asked for, by period</caption>")
        .expect("the detailed table");
    assert!(before_after < phs && phs < detail, "{html}");
    // January and February's ten standard referrals, received before the
    // switch-on; April and May's 40 remote ones after it.
    assert!(
        html.contains("<tr><th scope=\"row\">2026-Q1</th><td>before</td><td class=\"num\">10</td>"),
        "{html}"
    );
    assert!(
        html.contains("<tr><th scope=\"row\">2026-Q2</th><td>after</td><td class=\"num\">40</td>"),
        "{html}"
    );
    assert!(html.contains("<desc id=\"compare-highland-desc\">"));
    assert!(
        html.contains("2026-Q1 before: –"),
        "nothing vetted before: {html}"
    );
    // January's seven standard referrals are shown, February's three are not.
    assert!(
        html.contains("<th scope=\"row\">2026-01</th><td class=\"num\">7 (0 / 7)</td>"),
        "{html}"
    );
    assert!(
        html.contains("<th scope=\"row\">2026-02</th><td class=\"num\">* (0 / *)</td>"),
        "{html}"
    );
    assert!(!html.contains(">3 (0 / 3)<"));
    assert_eq!(
        html.matches("<table>").count(),
        html.matches("<div class=\"scroll\" role=\"region\" tabindex=\"0\" aria-label=\"")
            .count()
            - 2,
        "every table in a labelled region that scrolls, beside the two charts"
    );

    // Unasked, the page opens on the two years to this month, by Scottish day.
    let today = scottish_day(chrono::Utc::now());
    let first = chrono::NaiveDate::from_ymd_opt(
        chrono::Datelike::year(&today),
        chrono::Datelike::month(&today),
        1,
    )
    .expect("the first of the month")
    .checked_sub_months(chrono::Months::new(23))
    .expect("two years ago");
    let html = no_redirects
        .get(format!("{}/dashboard", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("an answer")
        .text()
        .await
        .expect("HTML");
    assert!(
        html.contains(&format!("name=\"from\" value=\"{first}\"")),
        "{html}"
    );

    // Lothian's three referrals are too few to show: its chart writes `*`
    // and draws no bar, as the API hides the same median.
    let both = app.token(Role::Evaluator, &[BOARD, "lothian"]);
    let api = super::json(
        app.metrics(
            &both,
            "boards=lothian&from=2026-01-01&to=2026-06-30&by=quarter&split=adoption",
        )
        .await,
    )
    .await;
    let q2 = api["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["period"] == "2026-Q2" && r["group"] == "before")
        .expect("lothian's second quarter");
    assert!(q2["wait_working_days_excl_paused_median"].is_null(), "{q2}");
    let html = no_redirects
        .get(format!(
            "{}/dashboard?boards=lothian&from=2026-01-01&to=2026-06-30",
            app.base
        ))
        .bearer_auth(&both)
        .send()
        .await
        .expect("an answer")
        .text()
        .await
        .expect("HTML");
    let at = html
        .find("<svg class=\"chart row-chart\" role=\"img\" aria-labelledby=\"compare-lothian-title")
        .expect("lothian's before and after chart");
    let chart = &html[at..at + html[at..].find("</svg>").expect("the chart's end")];
    assert!(chart.contains("2026-Q2 before: *"), "{chart}");
    assert!(chart.contains(">*</text>"), "{chart}");
    assert!(
        !chart.contains("<rect"),
        "a hidden number is drawn as no bar: {chart}"
    );

    let response = no_redirects
        .get(format!(
            "{}/dashboard?boards=highland&from=2026-01-01&by=fortnight",
            app.base
        ))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 400);
    let html = response.text().await.expect("HTML");
    assert!(
        html.contains("href=\"#by\""),
        "the error links to the field: {html}"
    );
    app.stop().await;
}
