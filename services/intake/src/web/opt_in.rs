//! The patient's opt-in pages: plain HTML, no JavaScript, no sign-in.
//!
//! - `GET /opt-in/{token}`: the board's information and the "I want to be
//!   seen" button, or why the link cannot be used;
//! - `POST /opt-in/{token}`: the patient opts in;
//! - `GET /opt-in` and `POST /opt-in`: the short code from a letter, which
//!   leads to the link's page (303).
//!
//! The link is the credential: the form posts back to the link itself and
//! sets no cookie, so another site can forge the post only by knowing the
//! link, which would let it open the page anyway (no CSRF token is needed,
//! `docs/decisions/0023-patient-opt-in-link.md`). A link that is not ours
//! gets the same page as one never given out, naming no referral. Every
//! refusal is a 4xx page; the database not answering is a 503 page.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use pathway_proto::BoardCode;
use serde::Deserialize;

use crate::application::referrals::{CodeOutcome, OptInPage};
use crate::application::{Error, Intake};

/// What a page shows when the board set no information of its own.
const DEFAULT_INFORMATION: &str = "Many people live well with long-term pain by learning ways to manage it day to day: pacing activities, keeping active, sleeping well and looking after your mood.\n\nNHS inform has information on living with chronic pain at www.nhsinform.scot, and Pain Association Scotland runs free self-management groups across Scotland (www.painassociation.co.uk, 0800 783 6059).\n\nYour GP practice and community pharmacy can also help you review your medicines.";

/// Whose pages these are when the board is not known.
const NO_BOARD: &str = "Scotland";

#[derive(Template)]
#[template(path = "opt_in/open.html")]
struct OpenTemplate {
    board_name: &'static str,
    last_day: String,
    information: Vec<String>,
}

#[derive(Template)]
#[template(path = "opt_in/message.html")]
struct MessageTemplate {
    board_name: &'static str,
    title: &'static str,
    paragraphs: Vec<String>,
    offer_code: bool,
}

#[derive(Template)]
#[template(path = "opt_in/code.html")]
struct CodeTemplate {
    board_name: &'static str,
    problem: Option<&'static str>,
    typed: String,
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
}

/// `GET /opt-in/{token}`.
pub(super) async fn show(State(intake): State<Intake>, Path(token): Path<String>) -> Response {
    match intake.opt_in_page(&token, Utc::now()).await {
        Ok(page) => page_for(page),
        Err(error) => failure(error),
    }
}

/// `POST /opt-in/{token}`.
pub(super) async fn opt_in(State(intake): State<Intake>, Path(token): Path<String>) -> Response {
    match intake.opt_in(&token, Utc::now()).await {
        Ok(page) => page_for(page),
        Err(error) => failure(error),
    }
}

/// `GET /opt-in`.
pub(super) async fn code_form() -> Response {
    render(
        StatusCode::OK,
        &CodeTemplate {
            board_name: NO_BOARD,
            problem: None,
            typed: String::new(),
        },
    )
}

/// `POST /opt-in`: the code's page, or the form again with the problem.
pub(super) async fn enter_code(State(intake): State<Intake>, body: Bytes) -> Response {
    let typed = serde_urlencoded::from_bytes::<CodeForm>(&body)
        .map(|form| form.code)
        .unwrap_or_default();
    // Echo back no more than a code's worth.
    let echoed: String = typed.chars().take(20).collect();
    match intake.opt_in_code(&typed).await {
        Ok(CodeOutcome::Link(url)) => Redirect::to(&url).into_response(),
        Ok(CodeOutcome::Problem(problem)) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &CodeTemplate {
                board_name: NO_BOARD,
                problem: Some(problem),
                typed: echoed,
            },
        ),
        Err(error) => failure(error),
    }
}

fn page_for(page: OptInPage) -> Response {
    let message = |board: Option<BoardCode>, status, title, paragraphs: &[&str], offer_code| {
        render(
            status,
            &MessageTemplate {
                board_name: board.map_or(NO_BOARD, BoardCode::name),
                title,
                paragraphs: paragraphs.iter().map(|p| (*p).to_owned()).collect(),
                offer_code,
            },
        )
    };
    match page {
        OptInPage::Open {
            board,
            last_day,
            information,
        } => render(
            StatusCode::OK,
            &OpenTemplate {
                board_name: board.name(),
                last_day: last_day.format("%-d %B %Y").to_string(),
                information: information
                    .as_deref()
                    .unwrap_or(DEFAULT_INFORMATION)
                    .split("\n\n")
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect(),
            },
        ),
        OptInPage::OptedIn { board } => message(
            Some(board),
            StatusCode::OK,
            "Thank you: we will be in touch",
            &[
                "You have told us you want to be seen. Your referral is back with the pain service, who will contact you about what happens next.",
                "You do not need to do anything else.",
            ],
            false,
        ),
        OptInPage::AlreadyOptedIn { board } => message(
            Some(board),
            StatusCode::CONFLICT,
            "You have already told us",
            &[
                "You have already told us you want to be seen, so this link cannot be used again. Your referral is with the pain service, who will contact you.",
                "If you have a question about your referral, contact your GP practice.",
            ],
            false,
        ),
        OptInPage::Expired { board } => message(
            Some(board),
            StatusCode::GONE,
            "This link has expired",
            &[
                "The time to tell us you want to be seen has passed, so this link no longer works.",
                "If you still want help with your pain, contact your GP practice: they can refer you again.",
            ],
            false,
        ),
        OptInPage::NotWaiting { board } => message(
            Some(board),
            StatusCode::CONFLICT,
            "We cannot take your answer online",
            &[
                "Your referral is no longer waiting for your answer, so this link cannot be used. You may have had a newer message from us.",
                "If you want to be seen, contact your GP practice.",
            ],
            false,
        ),
        OptInPage::Unknown => message(
            None,
            StatusCode::NOT_FOUND,
            "We cannot find this link",
            &[
                "Check that you copied the whole link from your message. If it still does not work, contact your GP practice.",
            ],
            true,
        ),
    }
}

/// The page for our own failure: a 503 when the database may come back,
/// else a 500 with the cause in the log.
fn failure(error: Error) -> Response {
    let status = match &error {
        Error::Unavailable(cause) => {
            tracing::warn!(
                error = format!("{cause:#}"),
                "opt-in page: the database did not answer"
            );
            StatusCode::SERVICE_UNAVAILABLE
        }
        other => {
            tracing::error!(error = format!("{other:#}"), "opt-in page failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    let mut response = render(
        status,
        &MessageTemplate {
            board_name: NO_BOARD,
            title: "Sorry, there is a problem with this page",
            paragraphs: vec![
                "Try again in a few minutes. Your link still works until it expires.".into(),
            ],
            offer_code: false,
        },
    );
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
    }
    response
}

fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => {
            let mut response = (status, Html(html)).into_response();
            // The link is a credential: keep it out of shared caches and
            // other sites' Referer headers.
            let headers = response.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            response
        }
        Err(error) => {
            tracing::error!(%error, "an opt-in page did not render");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}
