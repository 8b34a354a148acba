//! The CLI, black-box: every `pathway` command run in-process (the library's
//! `run`, its output captured) against the whole platform, each service the
//! real `Application` on a real nats-server. Each test checks the effect in
//! the services, read back through their APIs, and what the command printed;
//! and a refusal or two, with every field the service named.
//!
//! SQLite only: the CLI speaks HTTP, and the services' own tests run each
//! database.

use std::time::Duration;

use clap::Parser as _;
use pathway_common::auth::Role;
use pathway_notification::store::delivery::Status;
use pathway_proto::v1 as proto;
use pathway_tests::Backend;
use pathway_tests::cli::{Platform, Ran, file, words};
use pathway_tests::intake::TestApp as IntakeApp;
use pathway_tests::notification::{Answer, decision_recorded};
use pathway_tests::referrals::{set, valid_referral};
use serde_json::{Value, json};

/// Run `pathway <line>` against `platform` (words split as a shell would).
async fn pathway(platform: &Platform, line: &str) -> Ran {
    let words = words(line);
    let mut argv = vec!["pathway".to_owned()];
    argv.extend(platform.cli_flags(&words));
    argv.extend(words);
    let cli = pathway_cli::Cli::try_parse_from(&argv)
        .unwrap_or_else(|e| panic!("`pathway {line}` does not parse: {e}"));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let result = pathway_cli::run(cli, &mut out, &mut err).await;
    Ran {
        command: line.to_owned(),
        out: String::from_utf8(out).expect("UTF-8 output"),
        err: String::from_utf8(err).expect("UTF-8 notes"),
        error: result.err().map(|e| format!("{e:#}")),
    }
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

/// Each line of `text`, split into words.
fn table(text: &str) -> Vec<Vec<&str>> {
    text.lines()
        .map(|l| l.split_whitespace().collect())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn board_commands_switch_list_and_replace_settings() {
    let p = Platform::start(&Backend::Sqlite).await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let since = (chrono::Utc::now().date_naive() - chrono::Duration::days(30)).to_string();

    let out = pathway(&p, &format!("board enable highland --from {since}")).await;
    let expected = format!("NHS Highland: remote pathway on from {since} (now on)\n");
    assert_eq!(out.ok(), expected);
    let out = pathway(&p, "board enable fife").await.ok();
    assert_eq!(out, "NHS Fife: remote pathway on from today (now on)\n");
    let out = pathway(&p, "board disable fife --reason paused").await.ok();
    assert_eq!(out, "NHS Fife: remote pathway off from today (now off)\n");
    let highland = p.board("highland").await;
    assert_eq!(highland["pathway_enabled"], true);
    assert_eq!(highland["since"], since.as_str());
    let fife = p.board("fife").await;
    assert_eq!(fife["pathway_enabled"], false);
    assert_eq!(fife["changes"][1]["reason"], "paused", "{fife}");
    assert_eq!(fife["changes"][1]["changed_by"], "cli-board-admin");

    // The list: a heading, the 14 boards, the switches just made.
    let listed = pathway(&p, "board list").await.ok();
    let rows = table(&listed);
    assert_eq!(rows.len(), 15, "{listed}");
    assert_eq!(rows[0], ["code", "name", "pathway", "since"]);
    let row = |code: &str| rows.iter().find(|r| r[0] == code).cloned();
    let highland = ["highland", "NHS", "Highland", "on", since.as_str()];
    assert_eq!(row("highland"), Some(highland.to_vec()), "{listed}");
    assert_eq!(row("fife").map(|r| r[3]), Some("off"), "{listed}");

    // A bad date is intake's refusal, naming the field.
    let fields = ["\n  - effective_date: "];
    let ran = pathway(&p, "board enable orkney --from \"next tuesday\"").await;
    ran.refused("intake answered 422", &fields);
    assert_eq!(p.board("orkney").await["pathway_enabled"], false);

    // Settings: the defaults alone on stdout, a note on stderr.
    let ran = pathway(&p, "board settings highland").await;
    let note = "highland uses the defaults: it has never stored settings of its own\n";
    assert_eq!(ran.err, note);
    let shown = json_of(&ran.ok());
    assert_eq!(shown, p.board_settings("highland").await["settings"]);

    // A document from a file, in force at once, then its history.
    let mut document = IntakeApp::example_board_settings();
    document["vetting_target_working_days"] = json!(7);
    let good = file(&dir, "highland.json", &document.to_string());
    let out = pathway(&p, &format!("board settings highland --file {good}")).await;
    assert_eq!(
        out.ok(),
        "NHS Highland: settings stored (vetting target 7 working days), in force now for \
         every service\nsee them with: pathway board settings highland\n"
    );
    let stored = p.board_settings("highland").await;
    assert_eq!(stored["settings"], document);
    assert_eq!(stored["changed_by"], "cli-board-admin");
    let ran = pathway(&p, "board settings highland --history").await;
    let notes: Vec<String> = ran.err.lines().map(str::to_owned).collect();
    assert_eq!(json_of(&ran.ok()), document);
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes[0].starts_with("highland: settings stored by cli-board-admin at "));
    assert!(notes[1].contains(" by cli-board-admin "), "{notes:?}");
    assert!(
        notes[1].ends_with("vetting target 7 working days"),
        "{notes:?}"
    );

    // Refusals name every field, the file and the board; nothing changes.
    let mut broken = IntakeApp::example_board_settings();
    broken["vetting_target_working_days"] = json!(0);
    broken["opt_in_window_days"] = json!(365);
    let bad = file(&dir, "broken.json", &broken.to_string());
    let start =
        format!("nothing was changed; correct {bad} and run this again: intake answered 422");
    let fields = [
        "\n  - vetting_target_working_days: ",
        "\n  - opt_in_window_days: ",
    ];
    let ran = pathway(&p, &format!("board settings highland --file {bad}")).await;
    ran.refused(&start, &fields);
    let cut = file(&dir, "cut.json", "{\"vetting");
    let ran = pathway(&p, &format!("board settings highland --file {cut}")).await;
    ran.refused(&format!("{cut} is not JSON"), &[]);
    let error = pathway(&p, "board settings atlantis")
        .await
        .refused("", &[]);
    assert!(
        error.ends_with(" (atlantis)"),
        "a hint for that board: {error}"
    );
    let stored = p.board_settings("highland").await;
    assert_eq!(stored["settings"], document);
    assert_eq!(stored["changes"].as_array().map(Vec::len), Some(1));
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referral_sent_with_refer_is_followed_by_status_to_its_decision() {
    let p = Platform::start(&Backend::Sqlite).await;
    p.intake.enable_board("highland").await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let body = valid_referral("highland");
    let referral = file(&dir, "referral.json", &body.to_string());

    let refer = format!("refer {referral} --idempotency-key gp-42");
    let out = pathway(&p, &refer).await.ok();
    let id = out.split(' ').nth(1).expect("the referral's id").to_owned();
    assert_eq!(
        out,
        format!(
            "referral {id} received for highland: awaiting_vetting (route: remote_pathway)\n\
             follow it with: pathway status {id}\n"
        )
    );
    let stored = p.referral("highland", &id).await;
    assert_eq!(stored["referral"]["patient"]["chi"], body["patient"]["chi"]);
    // The same key again: the first answer, not a second referral.
    assert_eq!(pathway(&p, &refer).await.ok(), out);
    assert_eq!(p.referral_count().await, 1);

    let out = pathway(&p, &format!("status {id}")).await.ok();
    let received = stored["received_at"].as_str().expect("when");
    let head = format!(
        "referral   {id}\nboard      highland\nstatus     awaiting_vetting\n\
         route      remote_pathway\nreceived   {received}\nhistory:\n"
    );
    assert!(out.starts_with(&head), "{out}");
    assert!(out.contains(" referral.received "), "{out}");
    assert!(out.ends_with("\ndecision:  none yet\n"), "{out}");

    // Accepted in vetting, recorded by the decision service: status shows it.
    let outcome = json!({"outcome": "accept", "priority": "soon", "mode": "telephone",
        "rationale": "Persistent pain despite physiotherapy: the clinic should see her."});
    p.vet("highland", &id, "dr-mackay", &outcome).await;
    let decision = p.wait_for_decision("highland", &id).await;
    let current = &decision["current"];
    let text = |v: &Value| v.as_str().expect("a text").to_owned();
    let (by, at) = (text(&current["clinician"]), text(&current["decided_at"]));
    let out = pathway(&p, &format!("status {id}")).await.ok();
    for line in [
        "decision:".to_owned(),
        format!(
            "  outcome     {}",
            current["outcome"]["label"].as_str().unwrap_or("accept")
        ),
        "  priority    soon, telephone".to_owned(),
        format!("  by          {by} at {at}"),
        format!("  rationale   {}", text(&outcome["rationale"])),
    ] {
        assert!(out.lines().any(|l| l == line), "no `{line}` in\n{out}");
    }
    let printed = json_of(&pathway(&p, &format!("status {id} --json")).await.ok());
    assert_eq!(printed["id"], id.as_str());
    assert_eq!(printed["decision"]["current"]["outcome"]["code"], "accept");

    // Refusals: a bad CHI is named and nothing stored; a file not there; an
    // unknown referral.
    let mut bad = valid_referral("highland");
    set(&mut bad, "patient.chi", json!("0101011234"));
    let bad = file(&dir, "bad.json", &bad.to_string());
    let ran = pathway(&p, &format!("refer {bad}")).await;
    ran.refused("intake answered 422", &["\n  - patient.chi: "]);
    assert_eq!(p.referral_count().await, 1, "nothing stored");
    let missing = dir.path().join("missing.json").display().to_string();
    let ran = pathway(&p, &format!("refer {missing}")).await;
    ran.refused(&format!("cannot read {missing}"), &[]);
    let unknown = uuid::Uuid::now_v7();
    let ran = pathway(&p, &format!("status {unknown}")).await;
    ran.refused("intake answered 404", &[]);
    p.stop().await;
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_are_listed_shown_and_a_failed_one_retried() {
    let p = Platform::start(&Backend::Sqlite).await;
    p.intake.enable_board("highland").await;
    // The gateway refuses the patient's SMS once: a refusal is not retried.
    p.gateway.script(&[Answer::Status(400)]);
    let referral = p.intake.refer(&valid_referral("highland")).await;
    let accept = proto::Outcome {
        kind: proto::OutcomeKind::Accept as i32,
        priority: proto::Priority::Routine as i32,
        mode: proto::AppointmentMode::Video as i32,
        ..proto::Outcome::default()
    };
    let decided = decision_recorded("highland", &referral, accept);
    p.notification.send(&decided).await;
    let rows = p.notification.wait_until_settled(&referral, 2).await;
    let sms = rows
        .iter()
        .find(|r| r.recipient == "patient")
        .expect("an SMS");
    assert_eq!(sms.status, Status::Failed);

    let line = "deliveries list --status failed --board highland";
    let listed = pathway(&p, line).await.ok();
    let lines = table(&listed);
    assert_eq!(lines.len(), 2, "a heading and the failed SMS:\n{listed}");
    assert_eq!(lines[0][..2], ["delivery", "referral"], "{listed}");
    let expected = [
        sms.id.as_str(),
        referral.as_str(),
        "patient",
        "sms",
        "failed",
        "1",
    ];
    assert_eq!(lines[1][..6], expected, "{listed}");
    assert!(
        lines[1][6..].iter().any(|w| w.contains("400")),
        "the reason: {listed}"
    );

    let shown = pathway(&p, &format!("deliveries show {referral}"))
        .await
        .ok();
    let ids: Vec<&str> = table(&shown)[1..].iter().map(|r| r[0]).collect();
    let mut expected: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    expected.sort_unstable();
    assert_eq!(ids.len(), 2, "the patient's and the GP's:\n{shown}");
    assert!(ids.iter().all(|id| expected.contains(id)), "{shown}");
    let printed = pathway(&p, &format!("deliveries show {referral} --json")).await;
    assert_eq!(
        json_of(&printed.ok())["deliveries"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    let out = pathway(&p, &format!("deliveries retry {}", sms.id))
        .await
        .ok();
    assert!(out.starts_with(&format!("delivery {}: ", sms.id)), "{out}");
    let sent = pathway_tests::eventually(Duration::from_secs(15), || async {
        let rows = p.notification.deliveries(&referral).await;
        rows.into_iter()
            .find(|r| r.id == sms.id && r.status == Status::Sent)
    })
    .await
    .expect("the retried SMS is sent");
    assert_eq!((sent.attempts, p.gateway.taken().len()), (2, 1));
    let out = pathway(&p, "deliveries list --status failed").await.ok();
    assert_eq!(out, "no deliveries\n");

    let ran = pathway(&p, "deliveries list --status lost").await;
    ran.refused("the notification service answered 422", &[]);
    p.stop().await;
}

/// A board's history before the pathway, as its system would export it.
const BASELINE: &str = "reference,received_on,vetted_on,outcome,sex\n\
    H-001,2025-12-01,2025-12-05,accept,female\n\
    H-002,2025-12-22,2026-01-05,physiotherapy,female\n\
    H-003,2025-12-10,2025-12-12,accept,male\n\
    H-004,2025-12-15,2025-12-29,advice_to_referrer,female\n\
    H-005,2025-12-03,2025-12-03,accept,female\n\
    H-006,2025-12-19,2026-01-06,accept,male\n\
    H-007,2025-12-23,2025-12-31,self_management,female\n\
    H-008,2025-12-11,2025-12-30,accept,female\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_baseline_is_imported_metrics_are_printed_and_analytics_rebuilt() {
    let p = Platform::start(&Backend::Sqlite).await;
    let dir = tempfile::tempdir().expect("a temporary folder");

    // One bad row loads nothing, and every problem is named by line and column.
    let bad = "reference,received_on,vetted_on,outcome\nH-001,2025-12-01,2025-12-05,accept\n\
               H-002,2025-12-32,,\nH-003,2025-12-10,2025-12-12,surgery\n";
    let bad = file(&dir, "bad.csv", bad);
    let ran = pathway(&p, &format!("analytics import --board highland {bad}")).await;
    let problems = [
        "\n2 rows rejected, nothing loaded:",
        "\n  - line 3.received_on: ",
        "\n  - line 4.outcome: ",
    ];
    ran.refused(
        &format!("{bad} was not loaded: analytics answered 422"),
        &problems,
    );

    let good = file(&dir, "highland.csv", BASELINE);
    let out = pathway(&p, &format!("analytics import --board highland {good}")).await;
    let loaded = format!("highland: 8 rows loaded from {good} (0 replaced rows loaded before)\n");
    assert_eq!(out.ok(), loaded);

    // The table shows the service's figures, hiding the small ones.
    let query = "boards=highland&from=2025-12-01&to=2026-01-31&by=month";
    let (status, report) = p.analytics(&format!("/v1/metrics?{query}")).await;
    assert_eq!(status, 200, "{report}");
    let report = json_of(&report);
    assert_eq!(report["rows"][0]["received"], 8, "{report}");
    assert_eq!(report["rows"][0]["vetted"], 6, "{report}");
    let metrics = "metrics --board highland --from 2025-12-01 --to 2026-01-31";
    let printed = pathway(&p, metrics).await.ok();
    let lines = table(&printed);
    assert_eq!(
        lines.len(),
        4,
        "heading, December, January, a footnote:\n{printed}"
    );
    assert_eq!(
        lines[0][..4],
        ["period", "board", "group", "received"],
        "{printed}"
    );
    assert_eq!(
        lines[1][..6],
        ["2025-12", "all", "all", "8", "0", "6"],
        "{printed}"
    );
    assert_eq!(
        lines[2][..6],
        ["2026-01", "all", "all", "0", "0", "*"],
        "2 is too few:\n{printed}"
    );
    assert!(
        printed.contains("\ncounts from 1 to 4 are shown as *; "),
        "{printed}"
    );
    let csv = pathway(&p, &format!("{metrics} --csv")).await.ok();
    let (_, expected) = p.analytics(&format!("/v1/metrics.csv?{query}")).await;
    assert_eq!(csv, expected, "the service's CSV as it came");
    let ran = pathway(&p, "metrics --from 2025-12-01 --by fortnight").await;
    ran.refused("analytics answered 400", &["\n  - by: "]);

    // A rebuild reads the whole stream again, and keeps the baseline.
    pathway(&p, "board enable highland").await.ok();
    p.intake.refer(&valid_referral("highland")).await;
    p.analytics.wait_until_caught_up().await;
    let published = p.intake.stream_count().await;
    let out = pathway(&p, "analytics rebuild").await.ok();
    assert_eq!(
        out,
        format!("rebuilt every fact from the stream: {published} messages handled\n")
    );
    let (_, after) = p.analytics(&format!("/v1/metrics?{query}")).await;
    assert_eq!(json_of(&after), report);
    // Only a board admin for every board may rebuild.
    let admin = p.token("admin-ruth", Role::BoardAdmin, &["highland"]);
    let ran = pathway(&p, &format!("--token {admin} analytics rebuild")).await;
    ran.refused("analytics answered 403", &[]);
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_switches_boards_on_imports_baselines_and_vets_referrals() {
    let p = Platform::start(&Backend::Sqlite).await;
    let demo = "demo --referrals 6 --boards highland,orkney --seed 7 --baseline-months 1";
    let out = pathway(&p, &format!("{demo} --vet 1 --concurrency 3"))
        .await
        .ok();
    let today = chrono::Utc::now().date_naive();
    let since = pathway_cli::commands::demo::switch_on_date(0, today).to_string();
    let head = format!(
        "highland: remote pathway on since {since}\n\
         orkney: standard route (not on the pathway)\n"
    );
    assert!(out.starts_with(&head), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    for board in ["highland", "orkney"] {
        let imported = |l: &&str| l.starts_with(board) && l.ends_with(" imported as its baseline");
        assert!(lines.iter().any(imported), "{board}'s baseline:\n{out}");
    }
    assert!(lines.contains(&"sent 6 referrals:"), "{out}");
    // The first number on the line that starts with `start` and ends with `end`.
    let count = |start: &str, end: &str| {
        let line = lines
            .iter()
            .find(|l| l.starts_with(start) && l.ends_with(end));
        let number = line.and_then(|l| l[start.len()..].split_whitespace().next());
        number.and_then(|n| n.parse::<usize>().ok()).unwrap_or(0)
    };
    let remote = count("  ", "  awaiting_vetting");
    let vetted = count("the demo clinician vetted ", " referrals:");
    assert!(remote > 0, "some went to highland's pathway:\n{out}");
    assert_eq!(
        vetted, remote,
        "--vet 1 vets every one on the pathway:\n{out}"
    );
    assert!(out.contains(&format!(
        "{}/dashboard (sign in with `pathway token",
        p.analytics.base
    )));

    // In the services: highland on since then; six referrals; those on the
    // pathway vetted (or asked about); the baselines in analytics.
    let highland = p.board("highland").await;
    assert_eq!(highland["pathway_enabled"], true);
    assert_eq!(highland["since"], since.as_str());
    assert_eq!(p.referral_count().await, 6);
    let clinician = p.token("dr-mackay", Role::Clinician, &["highland"]);
    let done = "?status=vetted,info_requested,closed";
    let worklist = p.vetting.worklist(&clinician, "highland", done).await;
    assert_eq!(
        worklist["referrals"].as_array().map(Vec::len),
        Some(vetted),
        "{worklist}"
    );
    let from = today - chrono::Duration::days(400);
    let query = format!("/v1/metrics?boards=highland,orkney&from={from}&by=quarter");
    let (status, report) = p.analytics(&query).await;
    assert_eq!(status, 200, "{report}");
    let rows = json_of(&report)["rows"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let standard: u64 = rows
        .iter()
        .filter_map(|r| r["received_standard"].as_u64())
        .sum();
    assert!(standard > 0, "the baselines are in analytics: {rows:?}");

    // An unknown board stops the demo before anything is sent.
    let ran = pathway(&p, "demo --boards highland,atlantis").await;
    ran.refused("", &["atlantis"]);
    assert_eq!(p.referral_count().await, 6);
    p.stop().await;
}
