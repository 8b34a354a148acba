//! The clinician web pages in a real headless Chromium, driven over
//! WebDriver: sign in with a development token, find the referral on the
//! worklist, claim it with the keyboard, see a field's error next to it, and
//! record an outcome that reaches the stream.

use std::time::Duration;

use pathway_common::auth::Role;
use pathway_proto::v1::{self as proto, Payload};
use pathway_tests::browser::Browser;
use pathway_tests::intake::TestApp;
use pathway_tests::referrals::{set, valid_referral};
use pathway_tests::vetting::{VettingApp, token_with_key};
use pathway_tests::{backends, eventually};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clinician_vets_a_referral_in_the_browser() {
    // The pages read the same application as the API, which runs on both
    // databases elsewhere; one database is enough to prove the pages.
    let backend = backends().await.remove(0);
    let intake = TestApp::spawn(&backend).await;
    intake.enable_board("highland").await;
    let vetting = VettingApp::spawn(&intake, &backend).await;
    let plain = intake.refer(&valid_referral("highland")).await;
    let mut flagged_body = valid_referral("highland");
    set(
        &mut flagged_body,
        "clinical.red_flags",
        json!(["saddle_anaesthesia"]),
    );
    let flagged = intake.refer(&flagged_body).await;
    vetting.wait_for_referral("highland", &plain).await;
    vetting.wait_for_referral("highland", &flagged).await;
    let token = token_with_key(
        &vetting.app.platform.auth,
        "jane-doe",
        Role::Clinician,
        &["highland"],
    );
    let short = |id: &str| id.rsplit('-').next().unwrap_or(id)[..8].to_owned();

    let browser = Browser::start().await;
    // Not signed in: the sign-in page.
    browser.goto(&format!("{}/", vetting.base)).await;
    assert!(browser.current_url().await.ends_with("/sign-in"));
    browser.press_button("Sign in").await;
    assert!(browser.text().await.contains("enter your token"));
    browser.fill_labelled("Development token", &token).await;
    browser.press_button("Sign in").await;

    // The worklist: the red-flag referral first.
    let page = browser.text().await;
    assert!(page.contains("Referrals waiting for vetting"), "{page}");
    assert!(page.contains("Signed in as Dr jane-doe"));
    let flagged_at = page
        .find(&short(&flagged))
        .expect("the red-flag referral is listed");
    let plain_at = page
        .find(&short(&plain))
        .expect("the other referral is listed");
    assert!(flagged_at < plain_at, "red flags first");
    assert!(page.contains("Saddle anaesthesia"));
    // The shared stylesheet is served and applied: the NHS blue header.
    let header_colour = browser
        .client()
        .execute(
            "return getComputedStyle(document.querySelector('header')).backgroundColor",
            vec![],
        )
        .await
        .expect("the browser runs the query");
    assert_eq!(header_colour, json!("rgb(0, 94, 184)"));

    // Open the referral and claim it with the keyboard alone.
    browser
        .click_link(&format!("Referral {}", short(&plain)))
        .await;
    let page = browser.text().await;
    assert!(page.contains("MacLeod"), "the patient's name is shown");
    browser.tab_to("Claim this referral").await;
    browser.press_enter().await;
    let page = eventually(Duration::from_secs(10), || async {
        let text = browser.text().await;
        text.contains("You have claimed this referral.")
            .then_some(text)
    })
    .await
    .expect("the claim is confirmed");
    assert!(page.contains("Claimed by you until"));

    // An accept without its priority and mode: the errors sit by the fields.
    browser
        .select_labelled("Outcome", "Accept to the specialist pain clinic")
        .await;
    browser
        .fill_labelled("Rationale", "Needs assessment in the clinic.")
        .await;
    browser.press_button("Record the outcome").await;
    let page = browser.text().await;
    assert!(page.contains("There is a problem"), "{page}");
    assert!(page.contains("Error: required for accept: urgent, soon or routine"));
    assert!(page.contains("Error: required for accept: face_to_face, video or telephone"));
    // What was typed is kept.
    assert_eq!(
        browser
            .labelled("Rationale")
            .await
            .prop("value")
            .await
            .expect("the rationale's value")
            .as_deref(),
        Some("Needs assessment in the clinic.")
    );

    browser
        .select_labelled("Priority (accept only)", "Routine")
        .await;
    browser
        .select_labelled("Appointment mode (accept only)", "Video")
        .await;
    browser.press_button("Record the outcome").await;
    let page = browser.text().await;
    assert!(page.contains("The outcome is recorded."), "{page}");
    assert!(page.contains("Accept to the specialist pain clinic"));

    // The outcome reached the stream, by this clinician.
    let completed = eventually(Duration::from_secs(10), || async {
        intake
            .stream_events()
            .await
            .into_iter()
            .map(|e| e.event)
            .find(|e| e.referral_id == plain && e.kind() == Some(("vetting", "completed")))
    })
    .await
    .expect("vetting.completed on the stream");
    assert_eq!(completed.actor, "jane-doe");
    let Some(Payload::VettingCompleted(done)) = completed.payload else {
        panic!("not a vetting.completed");
    };
    let outcome = done.outcome.expect("an outcome");
    assert_eq!(outcome.kind, proto::OutcomeKind::Accept as i32);
    assert_eq!(outcome.priority, proto::Priority::Routine as i32);
    assert_eq!(outcome.mode, proto::AppointmentMode::Video as i32);
    assert_eq!(
        vetting.text(&done.rationale_text_id).await.as_deref(),
        Some("Needs assessment in the clinic."),
        "the rationale stays in vetting, under the id the event carries"
    );

    browser.press_button("Sign out").await;
    assert!(browser.current_url().await.ends_with("/sign-in"));
    browser.goto(&format!("{}/worklist", vetting.base)).await;
    assert!(browser.current_url().await.contains("/sign-in"));
    browser.close().await;
}
