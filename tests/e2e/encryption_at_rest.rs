//! Encryption at rest, read as someone holding the database would: the raw
//! bytes of the SQLite file (and its write-ahead log), every PostgreSQL
//! table cast to text. Referrals posted through intake's API, and the
//! messages notification sent to the local sink about them, leave no CHI
//! number, name, date of birth or contact detail there, while the API and
//! the sink still show them; a clinician's question, advice and rationale
//! leave none of their words in vetting's, while its pages and its
//! request/reply endpoint still give them.

use std::time::Duration;

use pathway_common::auth::Role;
use pathway_notification::startup::Workers;
use pathway_notification::store::delivery::Status;
use pathway_proto::v1 as proto;
use pathway_tests::intake::TestApp as IntakeApp;
use pathway_tests::notification::{NotifyGateway, TestApp, WebhookReceiver, decision_recorded};
use pathway_tests::referrals::{chi_for, set, valid_referral};
use pathway_tests::vetting::VettingApp;
use pathway_tests::{Backend, backends, eventually};
use prost::Message;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Statement,
};
use serde_json::{Value, json};

/// One patient's identifiers, none of which a raw scan may find.
struct Patient {
    chi: String,
    given: String,
    family: String,
    born: String,
}

impl Patient {
    fn new(n: u32) -> Self {
        Self {
            chi: chi_for("230761", false, 40 + n),
            given: format!("Ishbelora{}", ["Ann", "Beth", "Cait"][n as usize % 3]),
            family: format!("Strathnaver{n}"),
            born: "1961-07-23".to_owned(),
        }
    }

    fn referral(&self) -> Value {
        let mut body = valid_referral("highland");
        set(&mut body, "patient.chi", json!(self.chi));
        set(&mut body, "patient.given_name", json!(self.given));
        set(&mut body, "patient.family_name", json!(self.family));
        set(&mut body, "patient.date_of_birth", json!(self.born));
        set(&mut body, "patient.contact.mobile", json!("07700 900461"));
        set(
            &mut body,
            "patient.contact.email",
            json!("ishbelora.strathnaver@example.org"),
        );
        body
    }

    /// What must not be in the database in the clear.
    fn identifiers(&self) -> Vec<String> {
        vec![
            self.chi.clone(),
            self.given.clone(),
            self.family.clone(),
            self.born.clone(),
            "07700900461".to_owned(),
            "07700 900461".to_owned(),
            "ishbelora.strathnaver@example.org".to_owned(),
            "Culduthel".to_owned(),
        ]
    }
}

/// Everything the database holds, as the disk or a dump has it: the SQLite
/// file and its write-ahead log byte for byte; every PostgreSQL table, row
/// by row, cast to text.
pub(crate) async fn raw(backend: &Backend, url: &str, db: &DatabaseConnection) -> String {
    match backend {
        Backend::Sqlite => {
            let path = url
                .strip_prefix("sqlite://")
                .expect("a SQLite URL")
                .split('?')
                .next()
                .unwrap_or_default()
                .to_owned();
            let mut bytes = Vec::new();
            for suffix in ["", "-wal"] {
                if let Ok(mut more) = std::fs::read(format!("{path}{suffix}")) {
                    bytes.append(&mut more);
                }
            }
            assert!(!bytes.is_empty(), "the database file {path} is there");
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Backend::Postgres(_) => {
            let backend = db.get_database_backend();
            let tables = db
                .query_all_raw(Statement::from_string(
                    backend,
                    "SELECT table_name FROM information_schema.tables \
                     WHERE table_schema = current_schema()",
                ))
                .await
                .expect("the tables");
            let mut text = String::new();
            for table in tables {
                let name: String = table.try_get("", "table_name").expect("a name");
                let rows = db
                    .query_all_raw(Statement::from_string(
                        backend,
                        format!("SELECT CAST(t AS TEXT) AS row FROM \"{name}\" t"),
                    ))
                    .await
                    .expect("the rows");
                for row in rows {
                    let row: String = row.try_get("", "row").expect("a row");
                    text.push_str(&row);
                    text.push('\n');
                }
            }
            text
        }
    }
}

fn assert_none_in(raw: &str, patients: &[Patient], what: &str) {
    for patient in patients {
        for identifier in patient.identifiers() {
            assert!(
                !raw.contains(&identifier),
                "{what} holds {identifier:?} in the clear"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn referrals_and_their_messages_leave_no_identifier_in_the_databases() {
    for backend in backends().await {
        let intake = IntakeApp::spawn(&backend).await;
        intake.enable_board("highland").await;
        let gateway = NotifyGateway::start().await;
        let receiver = WebhookReceiver::start().await;
        // Every message to the local sink, as the embedded default sends.
        let mut app = TestApp::spawn_with(
            &backend,
            &intake,
            &gateway,
            &receiver,
            Workers::default(),
            |settings| {
                settings.board_defaults = pathway_notification::settings::BoardChannels::default();
            },
        )
        .await;

        let patients: Vec<Patient> = (0..3).map(Patient::new).collect();
        let mut ids = Vec::new();
        for patient in &patients {
            ids.push(intake.refer(&patient.referral()).await);
        }
        // The API reads them back whole.
        let token = intake.token(Role::Referrer, &["highland"]);
        for (patient, id) in patients.iter().zip(&ids) {
            let response = intake.get_referral(&token, id).await;
            assert_eq!(response.status(), 200);
            let read: Value = response.json().await.expect("JSON");
            assert_eq!(read["referral"]["patient"]["chi"], patient.chi.as_str());
            assert_eq!(
                read["referral"]["patient"]["family_name"],
                patient.family.as_str()
            );
        }

        // A decision for the first: the patient's SMS and the GP's webhook
        // go to the sink, and say who the patient is there.
        let outcome = proto::Outcome {
            kind: proto::OutcomeKind::Accept as i32,
            priority: proto::Priority::Routine as i32,
            mode: proto::AppointmentMode::Video as i32,
            ..proto::Outcome::default()
        };
        app.send(&decision_recorded("highland", &ids[0], outcome))
            .await;
        let rows = app.wait_until_settled(&ids[0], 2).await;
        assert!(rows.iter().all(|r| r.status == Status::Sent), "{rows:?}");
        let folder = app.settings.sink.dir.join("highland").join(&ids[0]);
        let sent: String = std::fs::read_dir(&folder)
            .expect("the sink's folder")
            .filter_map(|e| e.ok())
            .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
            .collect();
        assert!(sent.contains(&patients[0].given), "the message names them");

        // The rows read back in the clear through the service.
        let patient_row = rows
            .iter()
            .find(|r| r.recipient == "patient")
            .expect("to the patient");
        let listed: Value = app
            .http
            .get(format!("{}/v1/referrals/{}/deliveries", app.base, ids[0]))
            .bearer_auth(app.token(Role::BoardAdmin, &["highland"]))
            .send()
            .await
            .expect("notification answers")
            .json()
            .await
            .expect("JSON");
        assert!(
            listed.to_string().contains(&patient_row.id),
            "the deliveries are listed: {listed}"
        );

        let intake_raw = raw(&backend, &intake.settings.database.url, &intake.db).await;
        // The scan reads the right place: the referrals' ids are there.
        assert!(ids.iter().all(|id| intake_raw.contains(id.as_str())));
        assert!(intake_raw.contains("pathway-enc-v1:highland:1:"));
        assert_none_in(
            &intake_raw,
            &patients,
            &format!("intake's {} database", backend.name()),
        );
        let notification_raw = raw(&backend, &app.settings.database.url, &app.db).await;
        assert!(notification_raw.contains(&patient_row.id));
        assert_none_in(
            &notification_raw,
            &patients,
            &format!("notification's {} database", backend.name()),
        );

        app.stop().await;
        let mut intake = intake;
        intake.stop().await;
    }
}

/// A clinician's words, none of which a raw scan of vetting's database may
/// find.
const QUESTION: &str = "Has Mrs Quillfeather-Ross had imaging since the fall?";
const ADVICE: &str = "Quillfeather-Ross should walk twice daily, gently.";
const RATIONALE: &str = "Quillfeather-Ross: mechanical pain, no red flags.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clinicians_words_leave_nothing_in_vettings_database_and_read_back_by_request() {
    for backend in backends().await {
        let intake = IntakeApp::spawn(&backend).await;
        intake.enable_board("highland").await;
        let vetting = VettingApp::spawn(&intake, &backend).await;

        let id = intake.refer(&valid_referral("highland")).await;
        let dr = intake.token_for("dr-a", Role::Clinician, &["highland"]);
        vetting
            .wait_for_status("highland", &id, "awaiting_vetting")
            .await;
        let claim = format!("/v1/referrals/{id}/claim");
        assert_eq!(vetting.post_empty(&claim, &dr).await.status(), 200);
        let asked = vetting
            .post(
                &format!("/v1/referrals/{id}/information-requests"),
                &dr,
                &json!({ "question": QUESTION }),
            )
            .await;
        assert_eq!(asked.status(), 201);
        let referrer = intake.token(Role::Referrer, &["highland"]);
        let answered = eventually(Duration::from_secs(15), || async {
            let response = intake
                .referral_action(
                    &referrer,
                    &id,
                    "information",
                    &json!({"answer": "An X-ray in April."}),
                )
                .await;
            (response.status() == 200).then_some(())
        })
        .await;
        assert!(answered.is_some(), "the referrer answers");
        vetting
            .wait_for_status("highland", &id, "awaiting_vetting")
            .await;
        assert_eq!(vetting.post_empty(&claim, &dr).await.status(), 200);
        let recorded = vetting
            .post(
                &format!("/v1/referrals/{id}/outcome"),
                &dr,
                &json!({"outcome": "advice_to_referrer", "advice": ADVICE, "rationale": RATIONALE}),
            )
            .await;
        assert_eq!(recorded.status(), 201, "{:?}", recorded.text().await);

        // The clinician's page shows the words, read from the columns.
        let detail: Value = vetting
            .get(&format!("/v1/referrals/{id}"), &dr)
            .await
            .json()
            .await
            .expect("JSON");
        assert_eq!(detail["information_requests"][0]["question"], QUESTION);
        assert_eq!(detail["outcomes"][0]["outcome"]["advice"], ADVICE);
        assert_eq!(detail["outcomes"][0]["outcome"]["rationale"], RATIONALE);

        // Nothing of them in the raw database, where the referral is.
        let vetting_raw = raw(&backend, &vetting.settings.database.url, &vetting.db).await;
        assert!(
            vetting_raw.contains(id.as_str()),
            "the scan reads vetting's rows"
        );
        assert!(vetting_raw.contains("pathway-enc-v1:highland:1:"));
        for words in [QUESTION, ADVICE, RATIONALE, "Quillfeather"] {
            assert!(
                !vetting_raw.contains(words),
                "vetting's {} database holds {words:?} in the clear",
                backend.name()
            );
        }

        // A service of the board reads them back by request.
        let ids: Vec<String> = pathway_vetting::store::clinical_text::Entity::find()
            .filter(pathway_vetting::store::clinical_text::Column::ReferralId.eq(id.as_str()))
            .all(&vetting.db)
            .await
            .expect("vetting's texts")
            .into_iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(ids.len(), 3, "the question, the advice and the rationale");
        let service = intake.token_for("svc-check", Role::Service, &["highland"]);
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Authorization", format!("Bearer {service}").as_str());
        let request = proto::ClinicalTextRequest {
            text_ids: ids,
            purpose: "an end-to-end test".into(),
        };
        let reply = intake
            .nats
            .request_with_headers(
                pathway_proto::rpc::CLINICAL_TEXT,
                headers,
                request.encode_to_vec().into(),
            )
            .await
            .expect("vetting replies");
        let reply = proto::ClinicalTextReply::decode(reply.payload).expect("a reply");
        let Some(proto::clinical_text_reply::Result::Texts(texts)) = reply.result else {
            panic!("no texts: {reply:?}");
        };
        let mut words: Vec<String> = texts.texts.into_iter().map(|t| t.text).collect();
        words.sort();
        let mut expected = vec![ADVICE.to_owned(), QUESTION.to_owned(), RATIONALE.to_owned()];
        expected.sort();
        assert_eq!(words, expected);

        let mut vetting = vetting;
        vetting.stop().await;
        let mut intake = intake;
        intake.stop().await;
    }
}
