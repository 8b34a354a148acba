//! Unit tests of `board_code.rs`.

use super::*;

#[test]
fn every_board_round_trips() {
    assert_eq!(BoardCode::all().count(), 14);
    for board in BoardCode::all() {
        assert_eq!(BoardCode::parse(board.code()), Ok(board));
    }
    assert!(BoardCode::parse("Highland").is_err());
    assert!(BoardCode::parse("nhs-highland").is_err());
}
