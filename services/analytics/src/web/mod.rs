//! Analytics on the web: the metrics API (JSON and CSV), the baseline
//! import, rebuilds, the OpenAPI document, and the dashboard pages. The
//! router holds the service's own routes only; the scaffold adds health,
//! metrics, the JSON 404 and the authenticator.
//!
//! - [`metrics`]: `GET /v1/metrics`, the query string read into a query; [`csv`]: the CSV form.
//! - [`phs`]: `GET /v1/waits` (and `.csv`), waits to first appointment as Public Health Scotland counts them.
//! - [`practices`]: `GET /v1/practices` (and `.csv`), feedback to referrers per GP practice of a board.
//! - [`publication`]: `GET /v1/publications/{quarter}`, the fixed quarterly tables.
//! - [`baseline`]: `POST /v1/baseline`.
//! - [`rebuild`]: `POST` and `GET /v1/rebuild`.
//! - [`pages`]: sign-in and the dashboard.
//! - [`error`]: where the application's errors become HTTP answers.

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::{Json, Router};
use pathway_common::http::dead_letters::{
    self, DeadLetterPage, DeadLetterView, ReplayReport, SkippedReplay,
};
use pathway_common::http::{BearerAuth, CommonAnswers, ErrorBody, FieldError};
use utoipa::OpenApi;

use crate::application::Analytics;
use crate::application::baseline::ImportReport;
use crate::application::metrics::MetricsReport;
use crate::application::phs::PhsReport;
use crate::application::practices::PracticesReport;
use crate::application::publication::Publication;
use crate::application::rebuild::RebuildStatus;
use crate::domain::metrics::{MetricsRow, Split};
use crate::domain::period::Granularity;
use crate::domain::phs_row::{BandCounts, DecisionToAppointment, PhsRow, SeenWaits, StillWaiting};
use crate::domain::practices::PracticeRow;
use crate::domain::publication::{PublicationRow, PublicationTable};
use crate::domain::rebuild::RebuildState;

mod baseline;
mod csv;
mod error;
mod metrics;
mod pages;
mod phs;
mod practices;
mod publication;
mod rebuild;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub analytics: Analytics,
    /// Mark the dashboard's session cookie `Secure` (behind HTTPS).
    pub secure_cookies: bool,
}

const DESCRIPTION: &str = "The evaluators' numbers for the remote vetting pathway, from de-identified facts about each referral. Every call needs `Authorization: Bearer <token>` with the role `evaluator` or `board_admin`, for the boards asked for.

**Definitions.** Each metric is counted in the period of its own event (Scottish days, Europe/London): *received* by the day of receipt (`received_remote` on the remote pathway, `received_standard` routed to the standard route because the board was not on the pathway); everything about vetting by the day the first vetting outcome was recorded (a later correction changes the outcome counted, not the day). *Wait* runs from the day of receipt to the day of vetting: in working days, the board's working days (weekdays that are not Scottish bank holidays, unless the board counts none, nor the board's own non-working days), each day judged by the board's settings in force on that day, after the day of receipt up to and including the day of vetting; in calendar days, the days between. The clock pauses from the day information is requested from the referrer to the day it is answered (or to vetting, if never answered); overlapping pauses count once; `_excl_paused` waits have that paused time taken off. Median and 90th centile interpolate linearly between the nearest ranks (a spreadsheet's MEDIAN and PERCENTILE.INC). *Vetted within target*: wait in working days, paused time taken off, at most the board's `vetting_target_working_days` in force on the day of receipt. Board settings are effective-dated (each change in force from its Scottish effective day, the defaults before the first), so a later change never re-judges an earlier wait. *Information-request rate*: vetted referrals with at least one request, over vetted. *Information turnaround*: working days from a request to its answer (each day by the calendar in force on it), counted by the day of the answer. *Outcome mix*: vetted referrals by current outcome. *Managed without a specialist appointment*: outcomes advice_to_referrer, self_management (with or without a third-sector partner) and physiotherapy, as configured, over vetted. *Notification failed*: vetted referrals with at least one notification that failed for good. *Withdrawn*: by the day of withdrawal. *Re-referral*: of the referrals vetted in the period with advice to the referrer or self-management whose 6 (12) months after vetting have passed by today, the share whose patient (by the keyed pseudonym) was referred again, to any of the boards asked for, within 6 (12) months after vetting. *Waits by priority* (`split=priority`): the same rows grouped by an accepted referral's priority, `none` for other outcomes. *Before/after adoption* (`split=adoption`): per board, referrals received before, or on and after, the first effective date on which the board switched the pathway on.

**Disclosure control.** A count from 1 to `suppression_threshold - 1` is never shown, nor anything a reader could work it out from: a median, centile or share over it, a total one of whose parts is hidden, a subset whose complement is small (vetted minus vetted within target), and, when only one outcome is hidden, the next smallest outcome too. Hidden values are `null` in JSON and named in the row's `suppressed`; `*` in CSV. Zeros are shown. 

**Waits to first appointment** (`/v1/waits`), as Public Health Scotland's quarterly *Chronic pain waiting times* publication counts them (decision record 0016), in Scottish days (Europe/London). *Weeks waited* are completed weeks, `floor(days / 7)`, days running from the day the referral was received to the day of the first appointment attended (for a patient still waiting, to the census day); bands: 12 weeks or less (0–90 days), 13–24 (91–174), 25–51 (175–363), 52 or more (364 and over). *Seen*: referrals (either route) whose first appointment was attended in the period, counted by the day of that appointment; `consultant_led` is clinic type `pain_clinic`, `all_clinicians` every clinic type (the most appropriate clinician: pain clinic, pain psychology, physiotherapy, pain management programme). *Still waiting*: remote-pathway referrals received by the period's last day and, by the end of that day, neither seen, withdrawn nor closed, and not decided for an outcome that needs no appointment (advice to referrer, self-management, redirect, decline, patient opt-in); by weeks waited so far and by where they are: `awaiting_vetting`, `awaiting_information` (a question to the referrer open that day) and `awaiting_first_appointment` (decided for a clinic or treatment, not yet seen). A fact keeps only its current outcome, so a past census judges a referral by the outcome it has now. *Paused time*: days waiting on the referrer's information, from the day of the question to the day of the answer (or of vetting, if never answered, or of the census while open), overlaps counted once; `_excl_paused` bands take it off before the weeks are counted. *Decision to first appointment*: days from the day of the first decision to the day of the first appointment attended, of the patients seen in the period, by clinic type, median and 90th centile as above. Every count goes through the same disclosure control; a consultant-led band is hidden as well when the other clinicians' count in that band is small.

**Feedback to referrers** (`/v1/practices`, one board): per referring GP practice, the referrals received on the remote pathway in the range (by the Scottish day of receipt), each counted once under what is known of it today: `decided` (by current outcome, in `outcomes`), `withdrawn` before any outcome, or `awaiting` one, so `received = decided + withdrawn + awaiting` and `decided` is the sum of `outcomes`; `advice_to_referrer_share` is `outcomes.advice_to_referrer / decided`. Referrals that named no practice are the row `unknown`; the board's totals are `board_total` (`all` in CSV), for comparison. Disclosure control runs over the whole table as for publications: every count from 1 to `suppression_threshold - 1` is hidden, then, while a row sum or a column (the board's total and its practices) has exactly one hidden cell, the smallest non-zero cell still shown in it is hidden too; a share is hidden with either of its counts. The range is free, so these figures are management information.

**Management information and official tables.** `/v1/metrics` and `/v1/waits` answer any boards and any date range: they are management information, for a board's own use in running its service, not official statistics. Two overlapping ranges could be differenced to work out a count that each hides, so their figures are not for publication. **Publications** (`/v1/publications/{quarter}`, evaluators of every board) are the fixed tables: a calendar quarter in Scottish days, once it is over, nothing else; one row per board and a Scotland total; `seen_consultant_led` and `seen_all_clinicians` (patients seen in the quarter by weeks waited, as for `/v1/waits`, and their total), `still_waiting` (still waiting at the end of the quarter's last day, by weeks waited so far, and their total), `referrals` (received on the remote pathway and the standard route, and in total, by the day of receipt; vetted, by the day of the first vetting outcome, and those vetted by current outcome, `other_outcome` for any other). Disclosure control runs over the whole set at once: every count from 1 to `suppression_threshold - 1` is hidden, then, for as long as any relation between cells has exactly one hidden cell, the smallest non-zero cell still shown in it is hidden too. The relations are each row's total and its parts, each column's Scotland total and its boards, and, cell by cell, all clinicians = consultant-led + other clinicians (the last published nowhere, but known to anyone who subtracts). When it stops, no relation has one unknown left, so no hidden cell can be worked out by differencing published cells. Hidden cells are `null` and named in the row's `suppressed` (`*` in `pathway publish`'s CSV files). Zeros are shown.";

#[derive(OpenApi)]
#[openapi(
    info(title = "Pathway analytics", description = DESCRIPTION, version = "1"),
    paths(
        dead_letters::list_dead_letters, dead_letters::get_dead_letter, dead_letters::replay_dead_letter, dead_letters::replay_dead_letters,
        metrics::get_metrics,
        metrics::get_metrics_csv,
        phs::get_waits,
        phs::get_waits_csv,
        practices::get_practices,
        practices::get_practices_csv,
        publication::get_publication,
        baseline::import_baseline,
        rebuild::start_rebuild,
        rebuild::rebuild_status
    ),
    components(schemas(DeadLetterPage, DeadLetterView, ReplayReport, SkippedReplay, MetricsReport, ImportReport, MetricsRow, PhsReport, PhsRow, PracticesReport, PracticeRow, SeenWaits, StillWaiting, BandCounts, DecisionToAppointment, Publication, PublicationTable, PublicationRow, Granularity, Split, RebuildStatus, RebuildState, ErrorBody, FieldError)),
    modifiers(&BearerAuth, &CommonAnswers),
    security(("bearer" = []))
)]
pub struct ApiDoc;

/// The service's own routes, with its state applied.
pub fn routes(analytics: Analytics, secure_cookies: bool) -> Router {
    Router::new()
        .route("/v1/metrics", get(metrics::get_metrics))
        .route("/v1/metrics.csv", get(metrics::get_metrics_csv))
        .route("/v1/waits", get(phs::get_waits))
        .route("/v1/waits.csv", get(phs::get_waits_csv))
        .route("/v1/practices", get(practices::get_practices))
        .route("/v1/practices.csv", get(practices::get_practices_csv))
        .route(
            "/v1/publications/{quarter}",
            get(publication::get_publication),
        )
        .route(
            "/v1/baseline",
            post(baseline::import_baseline).layer(DefaultBodyLimit::max(64 * 1024 * 1024)),
        )
        .route(
            "/v1/rebuild",
            post(rebuild::start_rebuild).get(rebuild::rebuild_status),
        )
        .route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .merge(pages::routes())
        .with_state(AppState {
            analytics: analytics.clone(),
            secure_cookies,
        })
        .merge(pages::sign_in(&analytics, secure_cookies))
}

/// A CSV body answered as a download named `filename`.
fn csv_attachment(filename: &str, body: String) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse as _;
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}
