//! `pathway dead-letters`: a real dead letter (the decision service refusing
//! a second outcome not marked as a correction) listed from one service and
//! from all five, and shown.

use pathway_proto::v1 as proto;
use pathway_tests::Backend;
use pathway_tests::cli::Platform;
use pathway_tests::decision::{accept, new_referral, outcome, vetting_completed};

use super::{json_of, pathway, scottish, table};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_listed_and_shown() {
    let p = Platform::start(&Backend::Sqlite).await;
    let empty = pathway(&p, "dead-letters list --service decision")
        .await
        .ok();
    assert_eq!(empty.trim(), "no dead letters", "{empty}");

    let referral = new_referral();
    let vetted = vetting_completed(
        "highland",
        &referral,
        accept(proto::Priority::Routine),
        false,
    );
    p.decision.send(&vetted).await;
    p.decision.wait_for_decisions(&referral, 1).await;
    let decline = proto::Outcome {
        reason_text_id: uuid::Uuid::now_v7().to_string(),
        rejection_reason: "02".into(),
        ..outcome(proto::OutcomeKind::Decline)
    };
    p.decision
        .send(&vetting_completed("highland", &referral, decline, false))
        .await;
    let dead = p.decision.wait_for_dead_letters(1).await;
    let id = dead[0].id.as_str();

    let listed = pathway(&p, "dead-letters list --service decision")
        .await
        .ok();
    let lines = table(&listed);
    assert_eq!(lines.len(), 2, "a heading and the dead letter:\n{listed}");
    assert_eq!(
        lines[0][..4],
        ["service", "dead", "letter", "dead"],
        "{listed}"
    );
    assert_eq!(lines[1][..2], ["decision", id], "{listed}");
    let dead_at = lines[1][2].to_owned();
    assert_eq!(
        lines[1][3..6],
        ["decision", "vetting.completed", "highland"],
        "{listed}"
    );
    assert!(listed.contains("already decided"), "the reason: {listed}");

    // Every service: the decision service's is among them.
    let everywhere = pathway(&p, "dead-letters list").await.ok();
    assert!(
        table(&everywhere)
            .iter()
            .any(|row| row.len() > 1 && row[0] == "decision" && row[1] == id),
        "{everywhere}"
    );
    let json = json_of(
        &pathway(&p, "dead-letters list --service decision --json")
            .await
            .ok(),
    );
    assert_eq!(json["dead_letters"][0]["id"], id, "{json}");
    assert_eq!(json["dead_letters"][0]["service"], "decision", "{json}");
    assert!(json["dead_letters"][0].get("payload").is_none(), "{json}");
    // The table shows the time on Scotland's clock, to the second.
    let utc = json["dead_letters"][0]["dead_at"]
        .as_str()
        .expect("dead_at");
    assert_eq!(dead_at, scottish(utc), "{listed}");

    // Shown, found without saying where.
    let shown = pathway(&p, &format!("dead-letters show {id}")).await.ok();
    for expected in [
        id,
        "decision",
        "vetting.completed",
        "highland",
        referral.as_str(),
        "already decided",
        "pathway.v1.highland.vetting.completed",
    ] {
        assert!(shown.contains(expected), "no {expected}:\n{shown}");
    }
    let json = json_of(
        &pathway(
            &p,
            &format!("dead-letters show {id} --service decision --json"),
        )
        .await
        .ok(),
    );
    assert_eq!(json["referral_id"], referral.as_str(), "{json}");
    assert_eq!(json["event_type"], "vetting.completed", "{json}");

    // Not in intake, nor anywhere for an unknown id.
    pathway(&p, &format!("dead-letters show {id} --service intake"))
        .await
        .refused("no dead letter", &[id, "intake"]);
    let unknown = uuid::Uuid::now_v7().to_string();
    pathway(&p, &format!("dead-letters show {unknown}"))
        .await
        .refused("no dead letter", &[&unknown, "any service"]);

    // Every service documents both.
    for base in [
        &p.intake.base,
        &p.vetting.base,
        &p.decision.base,
        &p.notification.base,
        &p.analytics.base,
    ] {
        let (status, openapi) = p.get(&format!("{base}/openapi.json"), "").await;
        assert_eq!(status, 200, "{base}");
        assert!(openapi.contains("/v1/dead-letters/{id}"), "{base}");
        assert!(openapi.contains("/v1/dead-letters/{id}/replay"), "{base}");
        assert!(openapi.contains("/v1/dead-letters/replay"), "{base}");
    }
    p.stop().await;
}

/// `pathway dead-letters replay`: one by id (found without saying where),
/// refused the second time, and `--all` for what is left. The decision
/// service still refuses the second outcome, so each replay is dead-lettered
/// again as a new dead letter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_replayed_one_or_all() {
    let p = Platform::start(&Backend::Sqlite).await;
    let referral = new_referral();
    p.decision
        .send(&vetting_completed(
            "highland",
            &referral,
            accept(proto::Priority::Routine),
            false,
        ))
        .await;
    p.decision.wait_for_decisions(&referral, 1).await;
    let decline = proto::Outcome {
        reason_text_id: uuid::Uuid::now_v7().to_string(),
        rejection_reason: "02".into(),
        ..outcome(proto::OutcomeKind::Decline)
    };
    let declined = vetting_completed("highland", &referral, decline, false);
    p.decision.send(&declined).await;
    let dead = p.decision.wait_for_dead_letters(1).await;
    let id = dead[0].id.clone();

    let replayed = pathway(&p, &format!("dead-letters replay {id}")).await.ok();
    for expected in [
        "replayed",
        id.as_str(),
        "decision",
        declined.event_id.as_str(),
        "vetting.completed",
    ] {
        assert!(replayed.contains(expected), "no {expected}:\n{replayed}");
    }
    // Still refused by the consumer: a new dead letter, not a duplicate.
    let rows = p.decision.wait_for_dead_letters(2).await;
    let again = rows
        .iter()
        .find(|r| r.id != id)
        .expect("dead-lettered again")
        .id
        .clone();
    assert_eq!(p.decision.decisions_recorded(&referral).await.len(), 1);

    pathway(&p, &format!("dead-letters replay {id} --service decision"))
        .await
        .refused("", &["already replayed"]);
    let unknown = uuid::Uuid::now_v7().to_string();
    pathway(&p, &format!("dead-letters replay {unknown}"))
        .await
        .refused("no dead letter", &[&unknown, "any service"]);

    let all = pathway(
        &p,
        "dead-letters replay --all --service decision --consumer decision --json",
    )
    .await
    .ok();
    let json = json_of(&all);
    assert_eq!(json["replayed"][0]["id"], again.as_str(), "{json}");
    assert_eq!(json["replayed"][0]["service"], "decision", "{json}");
    assert_eq!(json["replayed"].as_array().map(Vec::len), Some(1), "{json}");
    p.decision.wait_for_dead_letters(3).await;
    let none = pathway(&p, "dead-letters replay --all --consumer nobody")
        .await
        .ok();
    assert!(none.contains("0 replayed, 0 skipped"), "{none}");
    p.stop().await;
}
