//! The HTML dashboard: sign-in by token, the same rows as the API with the
//! same numbers hidden, and errors that link to the field.

use pathway_common::auth::Role;
use pathway_tests::analytics::TestApp;
use pathway_tests::backends;

use super::BOARD;
use super::history::{history, publish_history};

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
    assert_eq!(html.matches("<svg").count(), 2, "two charts for one group");
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
