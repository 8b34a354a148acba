//! A patient's requests about their data, across the services that hold
//! it. After a walk through the pathway (a referral vetted with the
//! clinician's words, its messages sent), no database, read raw, and no
//! event on the stream holds a patient's identifiers or those words in the
//! clear. Then a board admin erases a patient by CHI number, and intake, vetting and
//! notification each remove what they held (a raw read of each database
//! finds none of the patient's identifiers or the clinician's words) while
//! analytics keeps their facts and another patient is untouched; asking
//! again changes nothing. A restriction holds a referral off the worklist
//! and out of every read until lifted. Bad requests get a 4xx naming the
//! field.

use std::time::Duration;

use pathway_common::auth::Role;
use pathway_notification::settings::MessageGateway;
use pathway_tests::intake::TestApp as IntakeApp;
use pathway_tests::notification::{NotifyGateway, WebhookReceiver};
use pathway_tests::referrals::{chi_for, set, valid_referral};
use pathway_tests::vetting::VettingApp;
use pathway_tests::{Backend, backends, eventually};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::encryption_at_rest::raw;

/// The clinician's words about the patient to erase, and about another.
const WORDS: &str = "Quillanbrae-Oystermouth";
const OTHER_WORDS: &str = "Ardgay-Lochcarron";

struct Services {
    intake: IntakeApp,
    vetting: VettingApp,
    decision: pathway_tests::decision::TestApp,
    notification: pathway_tests::notification::TestApp,
    analytics: pathway_tests::analytics::TestApp,
    _gateway: NotifyGateway,
    _receiver: WebhookReceiver,
}

impl Services {
    async fn start(backend: &Backend) -> Self {
        let intake = IntakeApp::spawn(backend).await;
        intake.enable_board("highland").await;
        let vetting = VettingApp::spawn(&intake, backend).await;
        let decision = pathway_tests::decision::TestApp::spawn_beside(backend, &intake).await;
        let analytics = pathway_tests::analytics::TestApp::spawn_beside(backend, &intake).await;
        let gateway = NotifyGateway::start().await;
        let receiver = WebhookReceiver::start().await;
        let notification = pathway_tests::notification::TestApp::spawn_with(
            backend,
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
            notification,
            analytics,
            _gateway: gateway,
            _receiver: receiver,
        }
    }

    fn admin(&self) -> String {
        self.intake.token(Role::BoardAdmin, &["highland"])
    }

    async fn request(&self, token: &str, board: &str, body: &Value) -> reqwest::Response {
        self.intake
            .http
            .post(format!(
                "{}/v1/boards/{board}/patient-requests",
                self.intake.base
            ))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("intake answers")
    }

    async fn act(&self, body: &Value) -> Value {
        let response = self.request(&self.admin(), "highland", body).await;
        assert_eq!(response.status(), 201, "{:?}", response.text().await);
        response.json().await.expect("JSON")
    }

    /// A referral vetted as advice to the referrer in the clinician's
    /// `words`, with its messages sent.
    async fn vet(&self, id: &str, words: &str) {
        let dr = self
            .intake
            .token_for("dr-a", Role::Clinician, &["highland"]);
        self.vetting
            .wait_for_status("highland", id, "awaiting_vetting")
            .await;
        let claim = format!("/v1/referrals/{id}/claim");
        assert_eq!(self.vetting.post_empty(&claim, &dr).await.status(), 200);
        let recorded = self
            .vetting
            .post(
                &format!("/v1/referrals/{id}/outcome"),
                &dr,
                &json!({
                    "outcome": "advice_to_referrer",
                    "advice": format!("{words} advice for the GP"),
                    "rationale": format!("{words} rationale for vetting"),
                }),
            )
            .await;
        assert_eq!(recorded.status(), 201, "{:?}", recorded.text().await);
        self.notification.wait_until_settled(id, 1).await;
    }

    /// Every service's database as the disk (SQLite) or a dump (PostgreSQL)
    /// has it.
    async fn raw_databases(&self, backend: &Backend) -> Vec<(&'static str, String)> {
        vec![
            (
                "intake",
                raw(backend, &self.intake.settings.database.url, &self.intake.db).await,
            ),
            (
                "vetting",
                raw(
                    backend,
                    &self.vetting.settings.database.url,
                    &self.vetting.db,
                )
                .await,
            ),
            (
                "decision",
                raw(
                    backend,
                    &self.decision.settings.database.url,
                    &self.decision.db,
                )
                .await,
            ),
            (
                "notification",
                raw(
                    backend,
                    &self.notification.settings.database.url,
                    &self.notification.db,
                )
                .await,
            ),
            (
                "analytics",
                raw(
                    backend,
                    &self.analytics.settings.database.url,
                    &self.analytics.db,
                )
                .await,
            ),
        ]
    }

    /// Service `base`'s report of erasure `id`, once it has one.
    async fn report(&self, base: &str, id: &str) -> Value {
        let token = self.admin();
        eventually(Duration::from_secs(20), || async {
            let response = self
                .intake
                .http
                .get(format!("{base}/v1/erasures/{id}"))
                .bearer_auth(&token)
                .send()
                .await
                .ok()?;
            (response.status() == 200).then_some(response.json::<Value>().await.ok()?)
        })
        .await
        .unwrap_or_else(|| panic!("{base} never reported erasure {id}"))
    }
}

struct Patient {
    chi: String,
    given: String,
    family: String,
}

impl Patient {
    fn new(n: u32) -> Self {
        Self {
            chi: chi_for("140352", true, 60 + n),
            given: format!("Torquil{}", ["Ewan", "Fergus"][n as usize % 2]),
            family: format!("Achnasheen{n}"),
        }
    }

    fn referral(&self, re_referral: bool) -> Value {
        let mut body = valid_referral("highland");
        set(&mut body, "patient.chi", json!(self.chi));
        set(&mut body, "patient.given_name", json!(self.given));
        set(&mut body, "patient.family_name", json!(self.family));
        set(&mut body, "patient.date_of_birth", json!("1952-03-14"));
        set(&mut body, "patient.sex", json!("male"));
        set(&mut body, "re_referral", json!(re_referral));
        body
    }

    /// The patient's identifiers.
    fn traces(&self) -> Vec<&str> {
        vec![&self.chi, &self.given, &self.family, "1952-03-14"]
    }
}

/// `trace` is nowhere in `raw` (of `what`); the bytes around it otherwise.
fn assert_absent(raw: &str, trace: &str, what: &str) {
    if let Some(at) = raw.find(trace) {
        let start = raw.floor_char_boundary(at.saturating_sub(200));
        let end = raw.ceil_char_boundary((at + 200).min(raw.len()));
        panic!(
            "{what} holds {trace:?} in the clear: …{}…",
            &raw[start..end]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_patient_leaves_no_trace_but_still_counts() {
    for backend in backends().await {
        let services = Services::start(&backend).await;
        let (erased, kept) = (Patient::new(1), Patient::new(2));
        let first = services.intake.refer(&erased.referral(false)).await;
        services.vet(&first, WORDS).await;
        let second = services.intake.refer(&erased.referral(true)).await;
        let other = services.intake.refer(&kept.referral(false)).await;
        services.vet(&other, OTHER_WORDS).await;
        services
            .vetting
            .wait_for_status("highland", &second, "awaiting_vetting")
            .await;

        // At rest and on the stream, nothing in the clear.
        let everything: Vec<&str> =
            [erased.traces(), kept.traces(), vec![WORDS, OTHER_WORDS]].concat();
        for (service, raw) in services.raw_databases(&backend).await {
            for trace in &everything {
                assert_absent(&raw, trace, service);
            }
        }
        for event in services.intake.stream_events().await {
            let raw = String::from_utf8_lossy(&event.raw);
            for trace in &everything {
                assert_absent(&raw, trace, &event.subject);
            }
        }

        let done = services
            .act(&json!({"kind": "erase", "chi": erased.chi, "reason": "SAR 2026/114"}))
            .await;
        assert_eq!(done["referrals"], 2, "{done}");
        let mut covered: Vec<String> =
            serde_json::from_value(done["referral_ids"].clone()).expect("referral ids");
        covered.sort();
        let mut expected = vec![first.clone(), second.clone()];
        expected.sort();
        assert_eq!(covered, expected);
        let erasure = done["id"].as_str().expect("an id").to_owned();

        // Vetting and notification report their part under the same id.
        let vetting = services.report(&services.vetting.base, &erasure).await;
        assert_eq!(vetting["referrals"].as_array().map(Vec::len), Some(2));
        let texts: u64 = vetting["referrals"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| r["removed"]["clinical_texts"].as_u64().unwrap_or(0))
            .sum();
        assert!(texts >= 2, "the rationale and the advice went: {vetting}");
        let notification = services.report(&services.notification.base, &erasure).await;
        let messages: u64 = notification["referrals"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| r["removed"]["messages"].as_u64().unwrap_or(0))
            .sum();
        assert!(messages >= 1, "{notification}");

        // A raw read of every database finds nothing of the patient, nor
        // the clinician's words about them, even encrypted: the rows are
        // gone or empty. The other patient is all there.
        for (service, raw) in services.raw_databases(&backend).await {
            for trace in erased.traces().into_iter().chain([WORDS]) {
                assert_absent(&raw, trace, service);
            }
        }
        // Nor encrypted: the rows are gone or empty.
        for id in [&first, &second] {
            let row = pathway_intake::store::referral::Entity::find_by_id(id.clone())
                .one(&services.intake.db)
                .await
                .expect("intake's row")
                .expect("a skeleton stays");
            assert_eq!(
                (row.document.as_str(), row.patient_pseudonym.as_str()),
                ("", "")
            );
            let texts = pathway_vetting::store::clinical_text::Entity::find()
                .filter(pathway_vetting::store::clinical_text::Column::ReferralId.eq(id.as_str()))
                .count(&services.vetting.db)
                .await
                .expect("vetting's texts");
            assert_eq!(texts, 0, "vetting's texts of {id}");
            for delivery in services.notification.deliveries(id).await {
                assert!(
                    delivery.address.is_empty()
                        && delivery.body.is_empty()
                        && delivery.subject.is_empty(),
                    "{delivery:?}"
                );
            }
        }
        let other_texts = pathway_vetting::store::clinical_text::Entity::find()
            .filter(pathway_vetting::store::clinical_text::Column::ReferralId.eq(other.as_str()))
            .count(&services.vetting.db)
            .await
            .expect("vetting's texts");
        assert!(other_texts >= 2, "the other patient's texts stay");
        let referrer = services.intake.token(Role::Referrer, &["highland"]);
        let read = services.intake.get_referral(&referrer, &other).await;
        assert_eq!(read.status(), 200);
        let read: Value = read.json().await.expect("JSON");
        assert_eq!(read["referral"]["patient"]["chi"], kept.chi.as_str());

        // Nobody reads the erased referrals any more; the one left waiting
        // is off the worklist.
        let gone = services.intake.get_referral(&referrer, &first).await;
        assert_eq!(gone.status(), 410);
        let body: Value = gone.json().await.expect("JSON");
        assert_eq!(body["error"], "erased", "{body}");
        let dr = services
            .intake
            .token_for("dr-a", Role::Clinician, &["highland"]);
        let seen = services
            .vetting
            .get(&format!("/v1/referrals/{second}"), &dr)
            .await;
        assert_eq!(seen.status(), 410);
        let listed = services.vetting.worklist_all(&dr, "highland", "").await;
        assert!(
            listed
                .iter()
                .all(|row| row["referral_id"] != second.as_str()),
            "{listed:?}"
        );

        // Analytics still counts both of the patient's referrals.
        let facts = pathway_analytics::store::fact::Entity::find()
            .count(&services.analytics.db)
            .await
            .expect("facts");
        assert_eq!(facts, 3, "every referral still counts");

        // Asking again changes nothing, and says so.
        let again = services
            .act(&json!({"kind": "erase", "chi": erased.chi, "reason": "SAR 2026/114"}))
            .await;
        assert_eq!(again["referral_ids"], json!([]), "{again}");
        let again = services
            .act(&json!({"kind": "erase", "referral_id": first, "reason": "SAR 2026/114"}))
            .await;
        assert_eq!(again["referrals"], 0, "{again}");
        assert!(
            again["message"]
                .as_str()
                .unwrap_or_default()
                .contains("already erased")
        );

        // Each referral's erasure is in intake's audit trail.
        let audit = pathway_common::audit::entity::Entity::find()
            .all(&services.intake.db)
            .await
            .expect("audit rows");
        for id in [&first, &second] {
            assert!(
                audit.iter().any(|row| row.action == "patient.erase"
                    && row.referral_id.as_deref() == Some(id.as_str())
                    && row.purpose.as_deref() == Some("SAR 2026/114")),
                "no audit row of erasing {id}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restricted_referral_is_held_until_lifted() {
    let backend = backends().await.remove(0);
    let services = Services::start(&backend).await;
    let id = services.intake.refer(&valid_referral("highland")).await;
    let dr = services
        .intake
        .token_for("dr-a", Role::Clinician, &["highland"]);
    services
        .vetting
        .wait_for_status("highland", &id, "awaiting_vetting")
        .await;

    let done = services
        .act(&json!({"kind": "restrict", "referral_id": id, "reason": "objection 12 Nov"}))
        .await;
    assert_eq!(done["referrals"], 1, "{done}");
    let off = eventually(Duration::from_secs(15), || async {
        let rows = services.vetting.worklist_all(&dr, "highland", "").await;
        rows.iter()
            .all(|row| row["referral_id"] != id.as_str())
            .then_some(())
    })
    .await;
    assert!(off.is_some(), "the referral stayed on the worklist");
    let claim = format!("/v1/referrals/{id}/claim");
    let refused = services.vetting.post_empty(&claim, &dr).await;
    assert_eq!(refused.status(), 409);
    let body: Value = refused.json().await.expect("JSON");
    assert_eq!(body["error"], "restricted", "{body}");
    let referrer = services.intake.token(Role::Referrer, &["highland"]);
    let read = services.intake.get_referral(&referrer, &id).await;
    assert_eq!(read.status(), 409);

    // Restricting again does nothing more; lifting lets it back.
    let again = services
        .act(&json!({"kind": "restrict", "referral_id": id, "reason": "objection 12 Nov"}))
        .await;
    assert_eq!(again["referrals"], 0, "{again}");
    let lifted = services
        .act(&json!({"kind": "lift", "referral_id": id, "reason": "objection resolved"}))
        .await;
    assert_eq!(lifted["referrals"], 1, "{lifted}");
    services.vetting.wait_for_referral("highland", &id).await;
    assert_eq!(services.vetting.post_empty(&claim, &dr).await.status(), 200);
    assert_eq!(
        services.intake.get_referral(&referrer, &id).await.status(),
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_patient_request_is_refused_naming_the_field() {
    let backend = backends().await.remove(0);
    let intake = IntakeApp::spawn(&backend).await;
    let admin = intake.token(Role::BoardAdmin, &["highland"]);
    let post = |token: String, board: &'static str, body: Value| {
        let intake = &intake;
        async move {
            intake
                .http
                .post(format!(
                    "{}/v1/boards/{board}/patient-requests",
                    intake.base
                ))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .expect("intake answers")
        }
    };
    let chi = chi_for("140352", true, 61);
    let cases = [
        (json!({"kind": "forget", "chi": chi, "reason": "r"}), "kind"),
        (json!({"kind": "erase", "reason": "r"}), "chi"),
        (
            json!({"kind": "erase", "chi": chi, "referral_id": "0190c5a6-0000-7000-8000-000000000000", "reason": "r"}),
            "chi",
        ),
        (
            json!({"kind": "erase", "chi": "1234567890", "reason": "r"}),
            "chi",
        ),
        (
            json!({"kind": "erase", "referral_id": "not-a-uuid", "reason": "r"}),
            "referral_id",
        ),
        (json!({"kind": "erase", "chi": chi}), "reason"),
        (
            json!({"kind": "erase", "chi": chi, "reason": "x".repeat(501)}),
            "reason",
        ),
    ];
    for (body, field) in cases {
        let response = post(admin.clone(), "highland", body.clone()).await;
        assert_eq!(response.status(), 422, "{body}");
        let answer: Value = response.json().await.expect("JSON");
        assert!(
            answer["fields"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|f| f["field"] == field),
            "{body} → {answer}"
        );
    }
    let body = json!({"kind": "erase", "chi": chi, "reason": "r"});
    let clinician = intake.token(Role::Clinician, &["highland"]);
    assert_eq!(
        post(clinician, "highland", body.clone()).await.status(),
        403
    );
    let other_board = intake.token(Role::BoardAdmin, &["fife"]);
    assert_eq!(
        post(other_board, "highland", body.clone()).await.status(),
        403
    );
    assert_eq!(
        post(admin.clone(), "atlantis", body.clone()).await.status(),
        404
    );
    let unknown = json!({"kind": "erase", "referral_id": "0190c5a6-0000-7000-8000-000000000000", "reason": "r"});
    assert_eq!(post(admin, "highland", unknown).await.status(), 404);
}
