//! The dashboard in a real headless Chromium, at a desktop's width (1280 x
//! 800) and a phone's (390 x 844): the page never scrolls sideways, every
//! table fits or scrolls inside a labelled region of its own, the before
//! and after chart comes before the detailed tables with its numbers beside
//! it, a hidden number is drawn as no bar, and the keyboard reaches the
//! filter form.

use pathway_common::auth::Role;
use pathway_tests::analytics::TestApp;
use pathway_tests::backends;
use pathway_tests::browser::Browser;
use serde_json::Value;

use super::BOARD;
use super::history::{history, publish_history};

/// What the page looks like at the present width, measured in the browser.
const MEASURE: &str = r#"
const width = window.innerWidth;
const cells = row => [...row.cells].map(c => c.textContent.trim());
const tables = [...document.querySelectorAll('table')].map(table => {
  const region = table.closest('[role=region]');
  const box = table.getBoundingClientRect();
  const fits = box.left >= 0 && box.right <= width;
  let scrolls = false;
  if (region) {
    const style = getComputedStyle(region);
    const edge = region.getBoundingClientRect();
    scrolls = ['auto', 'scroll'].includes(style.overflowX)
      && region.tabIndex === 0
      && (region.getAttribute('aria-label') || '').length > 0
      && edge.left >= 0 && edge.right <= width;
  }
  return { caption: table.caption ? table.caption.textContent : '', fits, scrolls };
});
const lead = document.querySelector('#before-after');
const chart = lead.querySelector('svg');
const detail = [...document.querySelectorAll('caption')]
  .find(c => c.textContent.endsWith('by period'));
const chartBox = chart.getBoundingClientRect();
return {
  width,
  scrollWidth: document.documentElement.scrollWidth,
  tables,
  chartTop: chartBox.top,
  chartRight: chartBox.right,
  chartWidth: chartBox.width,
  detailTop: detail.getBoundingClientRect().top,
  chartText: [...lead.querySelectorAll('svg')].map(s => s.textContent),
  chartBars: [...lead.querySelectorAll('svg')].map(s => s.querySelectorAll('rect').length),
  numbers: [...lead.querySelectorAll('tbody tr')].map(cells),
};
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_fits_a_desktop_and_a_phone() {
    // The page reads the same application as the API, which runs on both
    // databases elsewhere; one is enough to prove the page.
    let backend = backends().await.remove(0);
    let mut app = TestApp::spawn(&backend).await;
    let events = publish_history(&app, &history()).await;
    app.wait_until_caught_up(events).await;
    let token = app.token(Role::Evaluator, &[BOARD, "lothian"]);

    let browser = Browser::start().await;
    browser.goto(&format!("{}/dashboard", app.base)).await;
    browser.fill_labelled("Development token", &token).await;
    browser.press_button("Sign in").await;
    // By week, a year: the widest detailed tables and charts there are.
    let page = format!(
        "{}/dashboard?boards=highland,lothian&from=2025-07-01&to=2026-06-30&by=week",
        app.base
    );

    for (width, height) in [(1280, 800), (390, 844)] {
        browser.set_viewport(width, height).await;
        browser.goto(&page).await;
        let seen = browser
            .client()
            .execute(MEASURE, vec![])
            .await
            .expect("the browser measures the page");
        let at = format!("at {width} px: {seen:#}");
        let number = |v: &Value| v.as_f64().expect("a number");
        assert_eq!(number(&seen["width"]), f64::from(width), "{at}");
        assert!(
            number(&seen["scrollWidth"]) <= number(&seen["width"]),
            "the page scrolls sideways {at}"
        );
        let tables = seen["tables"].as_array().expect("the tables");
        assert!(tables.len() >= 5, "{at}");
        for table in tables {
            assert!(
                table["fits"] == true || table["scrolls"] == true,
                "{} neither fits nor scrolls in a region {at}",
                table["caption"]
            );
        }
        // The chart leads, inside the page, above the detailed tables.
        assert!(
            number(&seen["chartTop"]) < number(&seen["detailTop"]),
            "{at}"
        );
        assert!(
            number(&seen["chartRight"]) <= number(&seen["width"]),
            "{at}"
        );
        // As wide as the phone allows.
        assert!(number(&seen["chartWidth"]) > 300.0, "{at}");
        // Its numbers beside it: highland's ten referrals before adoption and
        // forty after; lothian's three are too few and shown as `*`.
        let rows: Vec<Vec<String>> =
            serde_json::from_value(seen["numbers"].clone()).expect("rows of cells");
        let row = |period: &str, phase: &str| {
            rows.iter()
                .filter(|r| r[0] == period && r[1] == phase)
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(row("2026-Q1", "before")[0][2], "10", "{at}");
        let after = &row("2026-Q2", "after")[0];
        assert_eq!(after[2], "40", "{at}");
        let lothian = &row("2026-Q2", "before")[0];
        assert_eq!(lothian[2], "*", "{at}");
        // The chart writes the same medians as the table, and draws a bar
        // for a shown median only.
        let charts: Vec<String> =
            serde_json::from_value(seen["chartText"].clone()).expect("the charts' text");
        let bars: Vec<u64> =
            serde_json::from_value(seen["chartBars"].clone()).expect("the charts' bars");
        assert_eq!(charts.len(), 2, "one chart a board {at}");
        assert!(charts[0].contains(&after[4]), "{at}");
        assert!(charts[1].contains("2026-Q2 before: *"), "{at}");
        assert_eq!(
            bars[1], 0,
            "lothian's hidden median is drawn as no bar {at}"
        );

        // The keyboard alone reaches the filter form and uses it.
        browser.tab_to("Boards").await;
        browser.tab_to("Show").await;
        browser.press_enter().await;
        assert!(
            browser.text().await.contains("Before and after adoption"),
            "{at}"
        );
    }
    browser.close().await;
    app.stop().await;
}
