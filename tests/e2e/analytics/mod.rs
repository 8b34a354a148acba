//! Analytics, black-box: the real service against a real nats-server and
//! real databases (SQLite always, PostgreSQL when one answers). A generated
//! history of events is published onto the stream by hand; every expected
//! number is worked out here from first principles — days walked one by one
//! against Scotland's 2026 bank holidays written out by hand, centiles from
//! the spreadsheet definition — never by calling the service's code.
//!
//! One module per topic: `calendar` and `history` generate the events and
//! the working days by hand, `expected` works out what each month should
//! show and checks disclosure control; the tests are in `monthly` (metrics
//! and CSV), `splits` (before/after adoption, by sex and priority), `access`
//! (bad parameters and who may see metrics), `rebuild`, `dashboard`,
//! `baseline` and `re_referral`.

mod access;
mod baseline;
mod calendar;
mod dashboard;
mod expected;
mod history;
mod monthly;
mod re_referral;
mod rebuild;
mod splits;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
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

async fn json(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 200);
    response.json().await.expect("a JSON answer")
}
