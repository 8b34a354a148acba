//! `pathway board`: switched on and off, listed, settings shown and replaced.

use pathway_tests::Backend;
use pathway_tests::cli::{Platform, file};
use pathway_tests::intake::TestApp as IntakeApp;
use serde_json::json;

use super::{json_of, pathway, scottish, table};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn board_commands_switch_list_and_replace_settings() {
    let p = Platform::start(&Backend::Sqlite).await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let since = (pathway_proto::days::today() - chrono::Duration::days(30)).to_string();

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
    let changed_at = scottish(stored["changed_at"].as_str().expect("changed_at"));
    assert_eq!(
        notes[0],
        format!(
            "highland: settings stored by cli-board-admin at {changed_at}, in force from {}",
            stored["effective_from"].as_str().expect("effective_from")
        )
    );
    assert!(
        notes[1].starts_with(&format!(
            "  {changed_at}  from {}  by ",
            stored["effective_from"].as_str().expect("effective_from")
        )),
        "{notes:?}"
    );
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

    // From a later Scottish day: stored, not yet in force; never before today.
    let today = pathway_proto::days::today();
    let later = today + chrono::Days::new(7);
    let out = pathway(
        &p,
        &format!("board settings highland --file {good} --from {later}"),
    )
    .await;
    assert_eq!(
        out.ok(),
        format!(
            "NHS Highland: settings stored (vetting target 7 working days), in force from \
             {later} (a Scottish day) for every service\nsee them with: pathway board settings highland\n"
        )
    );
    let earlier = today - chrono::Days::new(1);
    let ran = pathway(
        &p,
        &format!("board settings highland --file {good} --from {earlier}"),
    )
    .await;
    ran.refused(
        &format!("nothing was changed; correct {good} and run this again: intake answered 422"),
        &["\n  - effective_from: "],
    );
    p.stop().await;
}
