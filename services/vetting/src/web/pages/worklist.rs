//! A board's worklist, filtered by status and by claimant.

use std::borrow::Borrow;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use pathway_common::auth::Caller;
use pathway_common::http::ApiError;
use pathway_proto::BoardCode;
use serde::Deserialize;

use super::{Session, display_name, problem_page, render, short};
use crate::application::Worklist;
use crate::application::worklist_view::WorklistFilter;
use crate::domain::status::Status;
use crate::domain::{in_words, when};
use crate::web::AppState;
use crate::web::types::{parse_board, parse_statuses};

#[derive(Template)]
#[template(path = "worklist.html")]
struct WorklistPage {
    signed_in_as: Option<String>,
    list: Worklist,
    boards: Vec<String>,
    board_name: String,
    status_options: Vec<(String, String)>,
    status_filter: String,
    mine: bool,
}

impl WorklistPage {
    fn short(&self, id: impl AsRef<str>) -> String {
        short(id.as_ref())
    }
    fn words(&self, code: impl AsRef<str>) -> String {
        in_words(code.as_ref())
    }
    /// The Scottish day.
    fn date<T: Borrow<DateTime<Utc>>>(&self, at: &T) -> String {
        when::date(*at.borrow())
    }
}

#[derive(Deserialize, Default)]
pub(super) struct WorklistForm {
    board: Option<String>,
    status: Option<String>,
    mine: Option<String>,
}

fn boards_of(caller: &Caller) -> Vec<String> {
    if caller.boards.contains("*") {
        BoardCode::all().map(|b| b.code().to_owned()).collect()
    } else {
        caller.boards.iter().cloned().collect()
    }
}

pub(super) async fn page(
    State(state): State<AppState>,
    Session(caller): Session,
    Query(form): Query<WorklistForm>,
) -> Response {
    let boards = boards_of(&caller);
    let board = form
        .board
        .filter(|b| !b.is_empty())
        .or_else(|| boards.first().cloned())
        .unwrap_or_default();
    let status_filter = form
        .status
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "waiting".into());
    let mine = form.mine.is_some_and(|m| m == "true");
    let status = (status_filter != "waiting").then_some(status_filter.as_str());
    let asked = parse_board(&board).and_then(|code| {
        let statuses = parse_statuses(status)?;
        Ok((code, WorklistFilter { statuses, mine }))
    });
    let list = match asked {
        Ok((code, filter)) => state
            .vetting
            .worklist(&caller, code, &filter)
            .await
            .map_err(ApiError::from),
        Err(error) => Err(error),
    };
    match list {
        Ok(list) => {
            let mut status_options =
                vec![("waiting".to_owned(), "Waiting (not yet vetted)".to_owned())];
            status_options.extend(
                Status::ALL
                    .iter()
                    .map(|s| (s.as_str().to_owned(), in_words(s.as_str()))),
            );
            render(
                &WorklistPage {
                    signed_in_as: Some(display_name(&caller)),
                    board_name: in_words(&board),
                    list,
                    boards,
                    status_options,
                    status_filter,
                    mine,
                },
                StatusCode::OK,
            )
        }
        Err(error) => problem_page(&caller, &error, "/worklist", "Back to your worklist"),
    }
}
