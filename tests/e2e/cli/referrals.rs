//! `pathway refer` and `pathway status`, followed to a decision.

use pathway_tests::Backend;
use pathway_tests::cli::{Platform, file};
use pathway_tests::referrals::{set, valid_referral};
use serde_json::{Value, json};

use super::{json_of, pathway, scottish};

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
    // Shown on Scotland's clock.
    let received = scottish(stored["received_at"].as_str().expect("when"));
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
    let (by, at) = (
        text(&current["clinician"]),
        scottish(&text(&current["decided_at"])),
    );
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
