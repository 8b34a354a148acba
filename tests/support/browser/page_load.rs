//! Waiting for the next page: whether activating a control loads another
//! page, and waiting until the old page's root has been replaced, so a test
//! never asks the server about a form the browser has not yet sent.

use std::time::{Duration, Instant};

use fantoccini::Locator;
use fantoccini::elements::Element;

use super::{Browser, PAGE_LOAD};

impl Browser {
    /// When activating `control` will load another page, the current page's
    /// root element, to watch for the moment it is replaced.
    pub(super) async fn next_page_after(&self, control: &Element) -> Option<NextPage> {
        if !leads_to_a_page(control).await {
            return None;
        }
        self.client
            .find(Locator::Css("html"))
            .await
            .ok()
            .map(|root| NextPage { old_root: root })
    }

    /// Waits until the page has been replaced. WebDriver's click returns
    /// once the browser has taken the click, which can be before the form has
    /// even been sent; a test that then asks the server what it received
    /// needs the next page to have arrived.
    pub(super) async fn wait_for(&self, next: Option<NextPage>, action: &str) {
        let Some(NextPage { old_root }) = next else {
            return;
        };
        let started = Instant::now();
        // The old root answers until a new document has replaced it.
        while old_root.tag_name().await.is_ok() {
            if started.elapsed() > PAGE_LOAD {
                panic!(
                    "{}",
                    self.failure(&format!(
                        "{action} led to no new page within {} s",
                        PAGE_LOAD.as_secs()
                    ))
                    .await
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The page that shows before a click expected to load the next one.
pub(super) struct NextPage {
    old_root: Element,
}

/// Whether activating `control` loads another page: a link away from this
/// page, or a submit button whose form the browser will send (it refuses
/// while a field is invalid, a required one left empty say).
async fn leads_to_a_page(control: &Element) -> bool {
    let tag = control.tag_name().await.unwrap_or_default().to_lowercase();
    let kind = control
        .attr("type")
        .await
        .ok()
        .flatten()
        .unwrap_or_default()
        .to_lowercase();
    let submits = match tag.as_str() {
        "a" => {
            return control
                .attr("href")
                .await
                .ok()
                .flatten()
                .is_some_and(|href| !href.starts_with('#') && !href.starts_with("javascript:"));
        }
        "button" => kind.is_empty() || kind == "submit",
        "input" => kind == "submit",
        _ => false,
    };
    if !submits {
        return false;
    }
    let Ok(form) = control.find(Locator::XPath("ancestor::form")).await else {
        return false;
    };
    let unchecked = form.attr("novalidate").await.ok().flatten().is_some()
        || control
            .attr("formnovalidate")
            .await
            .ok()
            .flatten()
            .is_some();
    unchecked
        || form
            .find_all(Locator::Css(":invalid"))
            .await
            .map_or(true, |invalid| invalid.is_empty())
}
