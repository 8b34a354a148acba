//! Where a referral goes at receipt, decided once, on the Scottish day it
//! was received: a patient younger than the board's paediatric age goes to
//! the board's paediatric service (when the board has one), whether or not
//! the board is on the pathway; otherwise a board on the pathway takes the
//! referral onto it, and a board not on it leaves it to its standard route.
//! Only the first is vetted here; the others are handed on by notification.

use chrono::{Datelike, NaiveDate};
use pathway_proto::board::handoff::{REASON_BOARD_NOT_ON_PATHWAY, REASON_PAEDIATRIC};

use super::Status;
use super::referral::Route;

/// Where a received referral goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Routing {
    /// Onto the remote pathway: vetted here.
    Pathway,
    /// The board is not on the pathway: handed to its standard route.
    Standard,
    /// The patient is a child: handed to the board's paediatric service.
    Paediatric,
}

impl Routing {
    /// The rule: `paediatric_under_age` is the board's threshold when it has
    /// a paediatric service, `None` when it has none.
    pub fn decide(
        on_pathway: bool,
        date_of_birth: NaiveDate,
        received_on: NaiveDate,
        paediatric_under_age: Option<u32>,
    ) -> Self {
        let child = paediatric_under_age
            .is_some_and(|under| i64::from(age_on(date_of_birth, received_on)) < i64::from(under));
        match (child, on_pathway) {
            (true, _) => Routing::Paediatric,
            (false, true) => Routing::Pathway,
            (false, false) => Routing::Standard,
        }
    }

    /// The referral's status at receipt.
    pub fn status(self) -> Status {
        match self {
            Routing::Pathway => Status::AwaitingVetting,
            Routing::Standard | Routing::Paediatric => Status::RoutedStandard,
        }
    }

    pub fn route(self) -> Route {
        match self {
            Routing::Pathway => Route::RemotePathway,
            Routing::Standard => Route::Standard,
            Routing::Paediatric => Route::Paediatric,
        }
    }

    /// The `referral.routed_standard` reason; `None` for the pathway.
    pub fn reason(self) -> Option<&'static str> {
        match self {
            Routing::Pathway => None,
            Routing::Standard => Some(REASON_BOARD_NOT_ON_PATHWAY),
            Routing::Paediatric => Some(REASON_PAEDIATRIC),
        }
    }
}

/// Whole years of age on `on`: one more on each birthday (a birthday on 29
/// February counts from 1 March in other years).
pub fn age_on(date_of_birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - date_of_birth.year();
    if (on.month(), on.day()) < (date_of_birth.month(), date_of_birth.day()) {
        age -= 1;
    }
    age
}

#[cfg(test)]
#[path = "tests/routing.rs"]
mod tests;
