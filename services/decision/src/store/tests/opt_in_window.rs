//! Unit tests of `opt_in_window.rs`: the stored text is what it always was.

use super::*;
use sea_orm::ActiveEnum;

#[test]
fn resolutions_are_stored_as_they_always_were() {
    assert_eq!(Resolution::OptedIn.to_value(), "opted_in");
    assert_eq!(Resolution::Lapsed.to_value(), "opt_in_window_passed");
    assert_eq!(Resolution::Superseded.to_value(), "superseded");
    for text in ["opted_in", "opt_in_window_passed", "superseded"] {
        let stored = Resolution::try_from_value(&text.to_owned()).expect("a known resolution");
        assert_eq!(stored.to_value(), text);
    }
    assert!(Resolution::try_from_value(&"open".to_owned()).is_err());
}

#[test]
fn a_window_reads_back_in_the_state_it_was_ended_in() {
    let mut window = Model {
        decision_id: "d-1".into(),
        referral_id: "r-1".into(),
        board: "highland".into(),
        deadline: chrono::Utc::now(),
        resolved_at: None,
        resolution: None,
        remind_at: None,
        reminded_at: None,
    };
    assert_eq!(window.state(), WindowState::Open);
    for state in WindowState::ALL {
        window.resolution = Resolution::of(state);
        assert_eq!(window.state(), state);
        assert_eq!(
            window.resolution.map(|r| r.to_value()),
            state.is_terminal().then(|| state.as_str().to_owned()),
            "the stored text is the state's name"
        );
    }
}

#[test]
fn the_resolution_column_stays_nullable_text() {
    use sea_orm::{DbBackend, Schema};
    for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
        let statement = backend.build(&Schema::new(backend).create_table_from_entity(Entity));
        // As when the column was an `Option<String>`: no database enum type.
        assert!(
            statement.sql.contains(r#""resolution" varchar,"#),
            "{}",
            statement.sql
        );
    }
}
