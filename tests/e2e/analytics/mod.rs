//! Analytics, black-box: the real service against a real nats-server and
//! real databases (SQLite always, PostgreSQL when one answers). A generated
//! history of events is published onto the stream by hand; every expected
//! number is worked out here from first principles — Scottish days from the
//! summer-time rule, days walked one by one against Scotland's bank holidays
//! written out by hand, centiles from the spreadsheet definition — never by
//! calling the service's code.
//!
//! One module per topic: `calendar` and `history` generate the events and
//! the working days by hand, `expected` works out what each month should
//! show and checks disclosure control; the tests are in `monthly` (metrics
//! and CSV), `midnight` (years of referrals around midnight, summer and
//! winter, by month and quarter), `splits` (before/after adoption, by sex and priority), `access`
//! (bad parameters and who may see metrics), `rebuild`, `snapshot` (rebuilds
//! from a snapshot of the facts once the stream let old events go), `dashboard` (and `dashboard_browser`, the page at a desktop's
//! and a phone's width),
//! `baseline`, `csv_cells` (no CSV cell a spreadsheet could run),
//! `re_referral` and `phs` (waits to first appointment as Public Health
//! Scotland counts them, with their own generated history), `publication`
//! (the fixed quarterly tables, suppressed as one set, over four boards) and
//! `practices` (feedback to referrers per GP practice, with its own referrals).

mod access;
mod baseline;
mod calendar;
pub(crate) mod csv_cells;
mod dashboard;
mod dashboard_browser;
mod expected;
mod history;
mod midnight;
mod monthly;
mod phs;
mod practices;
pub(crate) mod publication;
mod re_referral;
mod rebuild;
mod snapshot;
mod splits;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use serde_json::Value;

const BOARD: &str = "highland";
const TARGET: u32 = 5;
/// The board's own non-working day, beside the bank holidays.
const LOCAL_HOLIDAY: (u32, u32) = (4, 20);

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).expect("a 2026 date")
}

fn at(date: NaiveDate, hour: u32) -> DateTime<Utc> {
    Utc.from_utc_datetime(&date.and_hms_opt(hour, 0, 0).expect("an hour"))
}

/// The Scottish day of `instant`, from the rule in law rather than a time
/// zone database: British Summer Time (UTC+1) runs from 01:00 UTC on the
/// last Sunday of March to 01:00 UTC on the last Sunday of October; GMT
/// (UTC) the rest of the year.
fn scottish_day(instant: DateTime<Utc>) -> NaiveDate {
    let year = instant.year();
    let last_sunday = |month: u32| {
        let mut d =
            NaiveDate::from_ymd_opt(year, month, 31).expect("March and October have 31 days");
        while d.weekday() != Weekday::Sun {
            d = d.pred_opt().expect("a day before");
        }
        Utc.from_utc_datetime(&d.and_hms_opt(1, 0, 0).expect("01:00"))
    };
    let summer = last_sunday(3) <= instant && instant < last_sunday(10);
    if summer {
        (instant + Duration::hours(1)).date_naive()
    } else {
        instant.date_naive()
    }
}

async fn json(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 200);
    response.json().await.expect("a JSON answer")
}
