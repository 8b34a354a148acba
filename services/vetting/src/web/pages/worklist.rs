//! A board's worklist, filtered by status and by claimant, a page at a time
//! with a link to the next.

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

use super::{Session, display_name, form_token, problem_page, render, short};
use crate::application::Worklist;
use crate::application::worklist_view::WorklistFilter;
use crate::domain::status::Status;
use crate::domain::{in_words, when};
use crate::web::AppState;
use crate::web::types::{parse_board, parse_page, parse_statuses};

#[derive(Template)]
#[template(path = "worklist.html")]
struct WorklistPage {
    signed_in_as: Option<String>,
    csrf: String,
    list: Worklist,
    boards: Vec<String>,
    board_name: String,
    status_options: Vec<(String, String)>,
    status_filter: String,
    mine: bool,
    /// Whether this page is a later one (a link back to the first is shown).
    later_page: bool,
    /// The next page's address, when there is one.
    next_page: Option<String>,
    /// The first page's address with the same filters.
    first_page: String,
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
    /// Referrals a page, as for the API.
    limit: Option<String>,
    /// The next page's cursor (`next_after` of the page before).
    after: Option<String>,
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
    let limit = form.limit.filter(|l| !l.is_empty());
    let after = form.after.filter(|a| !a.is_empty());
    let asked = parse_board(&board).and_then(|code| {
        let statuses = parse_statuses(status)?;
        let page = parse_page(limit.as_deref(), after.as_deref())?;
        Ok((code, WorklistFilter { statuses, mine }, page))
    });
    let list = match asked {
        Ok((code, filter, page)) => state
            .vetting
            .worklist(&caller, code, &filter, &page)
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
            let filters = Filters {
                board: &board,
                status: &status_filter,
                mine,
                limit: limit.as_deref(),
            };
            let first_page = filters.address(None);
            let next_page = list
                .next_after
                .as_deref()
                .map(|next| filters.address(Some(next)));
            render(
                &WorklistPage {
                    later_page: after.is_some(),
                    next_page,
                    first_page,
                    signed_in_as: Some(display_name(&caller)),
                    csrf: form_token(&caller),
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

/// What the worklist page was asked to show, for its links to other pages.
struct Filters<'a> {
    board: &'a str,
    status: &'a str,
    mine: bool,
    limit: Option<&'a str>,
}

impl Filters<'_> {
    /// The worklist page's address with these filters, from `after` on.
    fn address(&self, after: Option<&str>) -> String {
        let mut query = vec![("board", self.board), ("status", self.status)];
        if self.mine {
            query.push(("mine", "true"));
        }
        if let Some(limit) = self.limit {
            query.push(("limit", limit));
        }
        if let Some(after) = after {
            query.push(("after", after));
        }
        let query: Vec<String> = query
            .into_iter()
            .map(|(name, value)| format!("{name}={}", encoded(value)))
            .collect();
        format!("/worklist?{}", query.join("&"))
    }
}
/// `value` fit for a query string: all but the unreserved characters escaped.
fn encoded(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
