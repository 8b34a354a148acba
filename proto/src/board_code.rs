//! Scotland's 14 territorial health boards, known by code: every service
//! parses a board once at its edge and passes a [`BoardCode`] inside.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "highland")]
pub struct BoardCode(usize);

/// `(code, name)` of every territorial board.
pub const BOARDS: [(&str, &str); 14] = [
    ("ayrshire-arran", "NHS Ayrshire and Arran"),
    ("borders", "NHS Borders"),
    ("dumfries-galloway", "NHS Dumfries and Galloway"),
    ("fife", "NHS Fife"),
    ("forth-valley", "NHS Forth Valley"),
    ("grampian", "NHS Grampian"),
    ("greater-glasgow-clyde", "NHS Greater Glasgow and Clyde"),
    ("highland", "NHS Highland"),
    ("lanarkshire", "NHS Lanarkshire"),
    ("lothian", "NHS Lothian"),
    ("orkney", "NHS Orkney"),
    ("shetland", "NHS Shetland"),
    ("tayside", "NHS Tayside"),
    ("western-isles", "NHS Western Isles"),
];

impl BoardCode {
    pub fn parse(code: &str) -> Result<Self, String> {
        BOARDS
            .iter()
            .position(|(c, _)| *c == code)
            .map(Self)
            .ok_or_else(|| {
                format!("unknown board {code:?}: use one of the 14 territorial board codes (GET /v1/boards lists them)")
            })
    }

    pub fn all() -> impl Iterator<Item = BoardCode> {
        (0..BOARDS.len()).map(Self)
    }

    pub fn code(self) -> &'static str {
        BOARDS[self.0].0
    }

    pub fn name(self) -> &'static str {
        BOARDS[self.0].1
    }

    /// Its place in [`BOARDS`], 0 to 13: stable, for sets of boards kept as bits.
    pub fn index(self) -> usize {
        self.0
    }
}

impl fmt::Display for BoardCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl TryFrom<String> for BoardCode {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<BoardCode> for String {
    fn from(value: BoardCode) -> Self {
        value.code().to_owned()
    }
}

#[cfg(test)]
#[path = "tests/board_code.rs"]
mod tests;
