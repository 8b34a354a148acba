//! Unit tests of `chain.rs`.

use super::*;

fn link(id: &str, supersedes: Option<&str>, sequence: i32) -> ChainLink {
    ChainLink {
        id: id.into(),
        supersedes: supersedes.map(Into::into),
        sequence,
        reopened: false,
    }
}

#[test]
fn the_first_outcome_starts_the_chain() {
    assert_eq!(
        place(&[], false),
        Ok(Placement {
            supersedes: None,
            sequence: 1
        })
    );
    assert_eq!(
        place(&[], true),
        Ok(Placement {
            supersedes: None,
            sequence: 1
        })
    );
}

#[test]
fn a_second_outcome_must_be_a_correction() {
    let existing = [link("a", None, 1)];
    assert_eq!(
        place(&existing, false),
        Err(ChainError::AlreadyDecided {
            current: "a".into()
        })
    );
    assert_eq!(
        place(&existing, true),
        Ok(Placement {
            supersedes: Some("a".into()),
            sequence: 2
        })
    );
}

#[test]
fn after_an_opt_in_the_next_outcome_follows_without_a_correction() {
    let existing = [ChainLink {
        reopened: true,
        ..link("a", None, 1)
    }];
    assert_eq!(
        place(&existing, false),
        Ok(Placement {
            supersedes: Some("a".into()),
            sequence: 2
        })
    );
}

#[test]
fn the_chain_reads_newest_first_whatever_the_order_stored() {
    let links = [
        link("b", Some("a"), 2),
        link("c", Some("b"), 3),
        link("a", None, 1),
    ];
    let ids: Vec<&str> = chain_of(&links).iter().map(|l| l.id.as_str()).collect();
    assert_eq!(ids, ["c", "b", "a"]);
    assert_eq!(
        place(&links, true),
        Ok(Placement {
            supersedes: Some("c".into()),
            sequence: 4
        })
    );
}
