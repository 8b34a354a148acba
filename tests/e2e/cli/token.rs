//! `pathway token`: a token the services accept.

use pathway_common::auth::Role;
use pathway_tests::Backend;
use pathway_tests::cli::{Platform, file};
use pathway_tests::intake::TestApp as IntakeApp;

use super::pathway;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_prints_a_token_the_services_accept() {
    let p = Platform::start(&Backend::Sqlite).await;
    let line = "token --role clinician --board highland --name \"Dr Jane Doe\" --minutes 5";
    let out = pathway(&p, line).await.ok();
    let token = out.strip_suffix('\n').expect("a line");
    assert!(!token.contains('\n'), "one line: {out}");
    let claims = p
        .authenticator()
        .verify(token)
        .await
        .expect("a valid token");
    assert_eq!(claims.sub, "dr-jane-doe");
    assert_eq!(claims.name.as_deref(), Some("Dr Jane Doe"));
    assert_eq!(
        (claims.role, claims.boards),
        (Role::Clinician, vec!["highland".to_owned()])
    );
    assert!((claims.exp - claims.iat - 300).abs() <= 1, "five minutes");
    // The services take it: a clinician of highland reads its settings.
    let url = format!("{}/v1/boards/highland/settings", p.intake.base);
    assert_eq!(p.get(&url, token).await.0, 200);

    // A token given with --token is the one sent; the refusal says what the
    // command needs, and nothing changes.
    let dir = tempfile::tempdir().expect("a temporary folder");
    let document = IntakeApp::example_board_settings().to_string();
    let settings = file(&dir, "highland.json", &document);
    let line = format!("--token {token} board settings highland --file {settings}");
    let needs = [
        "intake answered 403",
        "\nthis needs a board_admin token for this board",
    ];
    pathway(&p, &line)
        .await
        .refused("nothing was changed", &needs);
    assert_eq!(p.board_settings("highland").await["defaults"], true);
    let line = "--key-file /nonexistent/jwt.key token --role referrer --board fife";
    let ran = pathway(&p, line).await;
    ran.refused("no local signing key at /nonexistent/jwt.key", &[]);
    p.stop().await;
}
