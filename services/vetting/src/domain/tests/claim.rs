//! Unit tests of `claim.rs`.

use chrono::{Duration, TimeZone, Utc};

use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 4, 10, 0, 0)
        .single()
        .expect("a time")
}

fn held_by(subject: &str, for_minutes: i64) -> Claim<'_> {
    Claim {
        status: Status::InVetting,
        holder: Some(subject),
        holder_name: Some("Dr A"),
        expires_at: Some(now() + Duration::minutes(for_minutes)),
    }
}

const WAITING: Claim<'static> = Claim {
    status: Status::AwaitingVetting,
    holder: None,
    holder_name: None,
    expires_at: None,
};

#[test]
fn a_lease_runs_until_a_time_on_scotlands_clock() {
    // A lease running out at 00:30 on Scotland's clock on both sides of each
    // clock change, and across the new year.
    for (expires, shown) in [
        ("2026-03-29T00:30:00Z", "until 00:30:"),
        ("2026-03-29T23:30:00Z", "until 00:30:"),
        ("2026-10-24T23:30:00Z", "until 00:30:"),
        ("2026-10-26T00:30:00Z", "until 00:30:"),
        ("2026-12-31T23:30:00Z", "until 23:30:"),
        ("2027-01-01T00:30:00Z", "until 00:30:"),
    ] {
        let claim = Claim {
            expires_at: Some(
                DateTime::parse_from_rfc3339(expires)
                    .expect("an instant")
                    .with_timezone(&Utc),
            ),
            ..held_by("dr-a", 10)
        };
        let message = claim.claimed_by_another().to_string();
        assert!(message.contains(shown), "{expires}: {message}");
    }
}

#[test]
fn a_waiting_referral_can_be_claimed_and_a_claim_renewed() {
    assert_eq!(WAITING.claim("dr-a", now()), Ok(Status::InVetting));
    assert_eq!(
        held_by("dr-a", 10).claim("dr-a", now()),
        Ok(Status::InVetting)
    );
}

#[test]
fn another_clinicians_live_claim_stands_until_it_lapses() {
    let refused = held_by("dr-a", 10).claim("dr-b", now());
    let Err(Refusal::ClaimedByAnother {
        holder, claimed_by, ..
    }) = &refused
    else {
        panic!("{refused:?}");
    };
    assert_eq!(holder, "Dr A (dr-a)");
    assert_eq!(claimed_by, "dr-a");
    assert!(
        refused
            .expect_err("refused")
            .to_string()
            .contains("until 10:10:")
    );
    assert_eq!(
        held_by("dr-a", -1).claim("dr-b", now()),
        Ok(Status::InVetting)
    );
}

#[test]
fn only_the_holder_of_a_live_claim_acts() {
    let t = Transition::Released;
    assert_eq!(
        held_by("dr-a", 5).act("dr-a", now(), t),
        Ok(Status::AwaitingVetting)
    );
    assert!(matches!(
        held_by("dr-a", 5).act("dr-b", now(), t),
        Err(Refusal::ClaimedByAnother { .. })
    ));
    assert!(matches!(
        held_by("dr-a", -5).act("dr-a", now(), t),
        Err(Refusal::LeaseLapsed { lapsed_at: Some(_) })
    ));
    assert_eq!(
        held_by("dr-a", -5).act("dr-b", now(), t),
        Err(Refusal::NotClaimed)
    );
    assert_eq!(WAITING.act("dr-a", now(), t), Err(Refusal::NotClaimed));
    let vetted = Claim {
        status: Status::Vetted,
        ..WAITING
    };
    assert_eq!(
        vetted.act("dr-a", now(), Transition::Vetted),
        Err(Refusal::NotClaimable(Status::Vetted))
    );
}

#[test]
fn only_a_vetted_referral_is_corrected() {
    let vetted = Claim {
        status: Status::Vetted,
        ..WAITING
    };
    assert_eq!(vetted.correct(), Ok(Status::Vetted));
    assert_eq!(
        WAITING.correct(),
        Err(Refusal::NothingToCorrect(Status::AwaitingVetting))
    );
}

#[test]
fn a_lapsed_claim_shows_as_waiting() {
    assert_eq!(
        held_by("dr-a", -1).shown_status(now()),
        Status::AwaitingVetting
    );
    assert_eq!(held_by("dr-a", 1).shown_status(now()), Status::InVetting);
}

#[test]
fn the_actions_follow_the_state_and_the_claim() {
    let names = |s, mine| -> Vec<&str> {
        Action::allowed(s, mine)
            .into_iter()
            .map(Action::as_str)
            .collect()
    };
    assert_eq!(names(Status::AwaitingVetting, false), ["claim"]);
    assert_eq!(
        names(Status::InVetting, true),
        ["claim", "release", "request_information", "record_outcome"]
    );
    assert!(names(Status::InVetting, false).is_empty());
    assert_eq!(names(Status::Vetted, false), ["correct_outcome"]);
    assert!(names(Status::Withdrawn, false).is_empty());
}
