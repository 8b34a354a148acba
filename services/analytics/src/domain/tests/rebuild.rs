//! Unit tests of `rebuild.rs`.

use proptest::prelude::*;

use super::*;

#[test]
fn a_rebuild_cannot_begin_while_one_is_running() {
    let running = RebuildState::Idle
        .apply(RebuildTransition::Began)
        .expect("an idle service may rebuild");
    assert_eq!(running, RebuildState::Running);
    assert_eq!(
        running.apply(RebuildTransition::Began),
        Err(IllegalTransition {
            from: "running",
            transition: "begun",
        })
    );
}

#[test]
fn only_a_running_rebuild_finishes_or_fails() {
    for from in [RebuildState::Idle, RebuildState::Done, RebuildState::Failed] {
        for transition in [RebuildTransition::Finished, RebuildTransition::Failed] {
            assert!(from.apply(transition).is_err(), "{from:?} {transition:?}");
        }
    }
    assert_eq!(
        RebuildState::Running.apply(RebuildTransition::Finished),
        Ok(RebuildState::Done)
    );
    assert_eq!(
        RebuildState::Running.apply(RebuildTransition::Failed),
        Ok(RebuildState::Failed)
    );
}

fn transition() -> impl Strategy<Value = RebuildTransition> {
    prop::sample::select(RebuildTransition::ALL.to_vec())
}

proptest! {
    /// Whatever happens, the accepted transitions alternate: a rebuild
    /// begins, then ends (done or failed) before the next begins, and a
    /// refused transition leaves the state as it was.
    #[test]
    fn rebuilds_never_overlap(transitions in prop::collection::vec(transition(), 0..40)) {
        let mut state = RebuildState::Idle;
        for transition in transitions {
            match state.apply(transition) {
                Ok(next) => {
                    let began = transition == RebuildTransition::Began;
                    prop_assert_eq!(began, state != RebuildState::Running);
                    prop_assert_eq!(next == RebuildState::Running, began);
                    state = next;
                }
                Err(error) => {
                    prop_assert_eq!(error.from, state.as_str());
                    prop_assert_eq!(error.transition, transition.as_str());
                }
            }
        }
        prop_assert!(RebuildState::ALL.contains(&state));
    }
}
