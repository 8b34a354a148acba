//! Signing in to the pages (`pathway_common::pages`), shown on the analytics
//! dashboard: on the embedded default a pasted token is kept in a session
//! cookie; with `auth.token_pasting` off, as production requires, there is
//! no sign-in page, a cookie is not believed, and only the token the board's
//! single sign-on proxy sends in the `Authorization` header lets anyone in.

use pathway_analytics::application::Analytics;
use pathway_analytics::settings::Settings;
use pathway_analytics::startup::Workers;
use pathway_common::auth::Role;
use pathway_tests::Backend;
use pathway_tests::running::{Common, Running};

async fn analytics(token_pasting: bool) -> Running<Analytics> {
    let common = Common::alone(&Backend::Sqlite).await;
    let mut auth = common.auth.clone();
    auth.token_pasting = token_pasting;
    let settings = Settings {
        http: common.http,
        database: common.database,
        nats: common.nats,
        auth,
        ..Settings::default()
    };
    Running::start(settings, Workers::default(), common.dir).await
}

/// A client that shows redirects rather than following them. (A JWT is
/// URL-safe, so a form body is `token=<jwt>` as it is.)
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client")
}

/// The `name=value` of the first cookie an answer sets.
fn first_cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a cookie")
        .to_owned()
}

#[tokio::test]
async fn with_token_pasting_on_a_pasted_token_signs_in() {
    let app = analytics(true).await;
    let http = client();
    let page = http
        .get(format!("{}/sign-in", app.base))
        .send()
        .await
        .expect("analytics answers");
    assert_eq!(page.status(), 200);
    // The form is bound to the page's own cookie (see `csrf`).
    let form_cookie = first_cookie(&page);
    let html = page.text().await.expect("HTML");
    let field = r#"name="csrf_token" value=""#;
    let at = html.find(field).expect("the form's token") + field.len();
    let csrf_token = html[at..].split('"').next().expect("a value");
    let token = app.token(Role::Evaluator, &["highland"]);
    let signed_in = http
        .post(format!("{}/sign-in", app.base))
        .header("cookie", &form_cookie)
        .header("origin", &app.base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={token}&csrf_token={csrf_token}"))
        .send()
        .await
        .expect("analytics answers");
    assert_eq!(signed_in.status(), 303);
    let cookie = first_cookie(&signed_in);
    assert!(cookie.starts_with("pathway_analytics_session="), "{cookie}");
    let dashboard = http
        .get(format!("{}/dashboard", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("analytics answers");
    assert_eq!(dashboard.status(), 200);
}

#[tokio::test]
async fn with_token_pasting_off_only_the_single_sign_on_header_lets_anyone_in() {
    let app = analytics(false).await;
    let http = client();
    let token = app.token(Role::Evaluator, &["highland"]);

    for request in [
        http.get(format!("{}/sign-in", app.base)),
        http.post(format!("{}/sign-in", app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={token}")),
    ] {
        let refused = request.send().await.expect("analytics answers");
        assert_eq!(refused.status(), 404);
        assert!(refused.headers().get("set-cookie").is_none());
        let body: serde_json::Value = refused.json().await.expect("JSON");
        assert_eq!(body["error"], "single_sign_on_only", "{body}");
    }

    // A cookie holding a valid token is not believed.
    let cookie_only = http
        .get(format!("{}/dashboard", app.base))
        .header("cookie", format!("pathway_analytics_session={token}"))
        .send()
        .await
        .expect("analytics answers");
    assert_eq!(cookie_only.status(), 401);
    let body: serde_json::Value = cookie_only.json().await.expect("JSON");
    assert_eq!(body["error"], "single_sign_on_only", "{body}");

    // The proxy's header is.
    let through_proxy = http
        .get(format!("{}/dashboard", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .expect("analytics answers");
    assert_eq!(through_proxy.status(), 200);
}
