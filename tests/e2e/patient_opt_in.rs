//! The patient's opt-in page in a real headless Chromium: a clinician vets a
//! referral as `patient_opt_in`, the patient's message lands in the local
//! sink with a link and a short code, the patient opens the link on a
//! phone-sized screen, presses "I want to be seen" with the keyboard, and
//! the referral is back on the vetting worklist. A reused link, an expired
//! one, one that is not ours and a mistyped code each get their own helpful
//! page, and axe-core finds no violations on any page.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use fantoccini::key::Key;
use pathway_common::auth::Role;
use pathway_intake::domain::opt_in::{OptInKey, OptInToken};
use pathway_notification::settings::MessageGateway;
use pathway_tests::browser::Browser;
use pathway_tests::intake::TestApp;
use pathway_tests::notification::{NotifyGateway, WebhookReceiver};
use pathway_tests::referrals::valid_referral;
use pathway_tests::vetting::{VettingApp, token_with_key};
use pathway_tests::{backends, eventually};
use serde_json::json;

/// The public address the links name; the test opens the same paths on
/// intake's own port.
pub(crate) const PAGE_URL: &str = "https://patients.pathway.test";

/// Intake (its links naming [`PAGE_URL`]), vetting, decision and
/// notification with the patient's messages going to the local sink, on
/// the first database the tests have, with Highland on the pathway.
pub(crate) struct OptInPathway {
    pub intake: TestApp,
    pub vetting: VettingApp,
    pub decision: pathway_tests::decision::TestApp,
    pub gateway: NotifyGateway,
    pub receiver: WebhookReceiver,
    pub notification: pathway_tests::notification::TestApp,
}

impl OptInPathway {
    pub(crate) async fn start() -> Self {
        let backend = backends().await.remove(0);
        let intake = TestApp::spawn_adjusted(&backend, Default::default(), |s| {
            s.patient_page_url = PAGE_URL.into();
        })
        .await;
        intake.enable_board("highland").await;
        let vetting = VettingApp::spawn(&intake, &backend).await;
        let decision = pathway_tests::decision::TestApp::spawn_beside(&backend, &intake).await;
        let gateway = NotifyGateway::start().await;
        let receiver = WebhookReceiver::start().await;
        let notification = pathway_tests::notification::TestApp::spawn_with(
            &backend,
            &intake,
            &gateway,
            &receiver,
            Default::default(),
            |s| s.board_defaults.messages = MessageGateway::Sink,
        )
        .await;
        Self {
            intake,
            vetting,
            decision,
            gateway,
            receiver,
            notification,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_opts_in_from_the_link_in_their_message() {
    // Every part is bound, so that none stops before the test ends.
    let OptInPathway {
        intake,
        vetting,
        decision: _decision,
        gateway: _gateway,
        receiver: _receiver,
        notification,
    } = OptInPathway::start().await;
    let sink = notification.settings.sink.dir.clone();
    let dr = token_with_key(
        &vetting.app.platform.auth,
        "dr-mackay",
        Role::Clinician,
        &["highland"],
    );

    let first = intake.refer(&valid_referral("highland")).await;
    let second = intake.refer(&valid_referral("highland")).await;
    let mut messages = Vec::new();
    for id in [&first, &second] {
        vetting.wait_for_referral("highland", id).await;
        let claimed = vetting
            .post_empty(&format!("/v1/referrals/{id}/claim"), &dr)
            .await;
        assert_eq!(claimed.status(), 200);
        let recorded = vetting
            .post(
                &format!("/v1/referrals/{id}/outcome"),
                &dr,
                &json!({
                    "outcome": "patient_opt_in",
                    "rationale": "Six months of neck pain; self-management first, and she can opt in."
                }),
            )
            .await;
        assert_eq!(
            recorded.status(),
            201,
            "{}",
            recorded.text().await.unwrap_or_default()
        );
        messages.push(message_in_sink(&sink, id).await);
    }
    let (link, _) = link_and_code(&messages[0]);
    let (second_link, second_code) = link_and_code(&messages[1]);
    let path = link
        .strip_prefix(PAGE_URL)
        .expect("the link names the public address");

    let browser = Browser::start().await;
    browser.set_viewport(390, 844).await;

    // The link: the board's information and the button, reached and
    // pressed with the keyboard alone.
    browser.goto(&format!("{}{path}", intake.base)).await;
    let page = browser.text().await;
    assert!(page.contains("Tell us if you want to be seen"), "{page}");
    assert!(page.contains("NHS Highland"), "{page}");
    assert!(
        page.contains("Pain Association Scotland"),
        "the default help text: {page}"
    );
    assert!(!page.contains("MacLeod"), "the page names nobody");
    browser.assert_accessible().await;
    browser.tab_to("I want to be seen").await;
    browser.press(Key::Enter).await;
    let page = eventually(Duration::from_secs(10), || async {
        let page = browser.text().await;
        page.contains("Thank you").then_some(page)
    })
    .await
    .expect("the thank-you page");
    assert!(page.contains("back with the pain service"), "{page}");
    browser.assert_accessible().await;

    // Back on the worklist.
    vetting
        .wait_for_status("highland", &first, "awaiting_vetting")
        .await;

    // The same link again: already used.
    browser.goto(&format!("{}{path}", intake.base)).await;
    assert!(browser.text().await.contains("You have already told us"));
    browser.assert_accessible().await;

    // A link that is not ours says nothing about any referral.
    browser
        .goto(&format!("{}/opt-in/not-a-real-link", intake.base))
        .await;
    let page = browser.text().await;
    assert!(page.contains("We cannot find this link"), "{page}");
    browser.assert_accessible().await;

    // The code from a letter, mistyped and then right, leads to the
    // second referral's page.
    browser.goto(&format!("{}/opt-in", intake.base)).await;
    browser.assert_accessible().await;
    browser
        .fill_labelled("Code from your letter", "ABCDE")
        .await;
    browser.press_button("Continue").await;
    let page = browser.text().await;
    assert!(page.contains("There is a problem"), "{page}");
    assert!(page.contains("10 letters and numbers"), "{page}");
    browser.assert_accessible().await;
    browser
        .fill_labelled("Code from your letter", &second_code.to_lowercase())
        .await;
    browser.press_button("Continue").await;
    assert!(
        browser.current_url().await.ends_with(
            second_link
                .strip_prefix(PAGE_URL)
                .expect("the link names the public address")
        )
    );
    assert!(browser.text().await.contains("I want to be seen"));

    // The second link, as it will read once its window has closed.
    let key = std::fs::read_to_string(intake.settings.opt_in_key_file.clone())
        .expect("intake's opt-in key");
    let key = OptInKey::new(&hex::decode(key.trim()).expect("hex")).expect("a key");
    let token = second_link.rsplit('/').next().expect("a token");
    let issued = OptInToken::verify(&key, token).expect("intake signed it");
    let expired = OptInToken {
        closes_at: Utc::now() - TimeDelta::minutes(1),
        ..issued
    };
    browser
        .goto(&format!("{}/opt-in/{}", intake.base, expired.sign(&key)))
        .await;
    let page = browser.text().await;
    assert!(page.contains("This link has expired"), "{page}");
    assert!(page.contains("contact your GP practice"), "{page}");
    browser.assert_accessible().await;
    browser.close().await;
}

/// The patient's message about `referral` in the local sink.
async fn message_in_sink(sink: &Path, referral: &str) -> String {
    let folder: PathBuf = sink.join("highland").join(referral);
    eventually(Duration::from_secs(20), || async {
        let entries = std::fs::read_dir(&folder).ok()?;
        entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().ends_with(".sms.txt"))
            .find_map(|p| std::fs::read_to_string(p).ok())
    })
    .await
    .unwrap_or_else(|| panic!("no message for the patient in {}", folder.display()))
}

/// The link and the short code a message carries.
fn link_and_code(message: &str) -> (String, String) {
    let start = message
        .find(&format!("{PAGE_URL}/opt-in/"))
        .unwrap_or_else(|| panic!("no link in {message}"));
    let link: String = message[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    let code_at = message
        .find("enter code ")
        .unwrap_or_else(|| panic!("no code in {message}"))
        + "enter code ".len();
    (link, message[code_at..code_at + 11].to_owned())
}
