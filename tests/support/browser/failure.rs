//! Finding elements, and failing well: waiting a little for an element to
//! appear, and a failure message with the page's address and a screenshot.

use std::sync::atomic::{AtomicUsize, Ordering};

use fantoccini::Locator;
use fantoccini::elements::Element;

use super::{Browser, FIND_WITHIN, REPORT_WITHIN};

impl Browser {
    pub(super) async fn find(&self, locator: Locator<'_>, what: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(FIND_WITHIN)
            .for_element(locator)
            .await
        {
            Ok(element) => element,
            Err(e) => panic!(
                "{}",
                self.failure(&format!("{what} did not appear: {e}")).await
            ),
        }
    }

    pub(super) async fn all(&self, locator: Locator<'_>) -> Vec<Element> {
        self.client.find_all(locator).await.unwrap_or_default()
    }

    /// A failure message with the page's address and, where it could be
    /// taken, a screenshot to look at.
    pub(super) async fn failure(&self, message: &str) -> String {
        static SHOTS: AtomicUsize = AtomicUsize::new(0);
        // A browser that no longer answers must not hold the report back.
        let url = match tokio::time::timeout(REPORT_WITHIN, self.client.current_url()).await {
            Ok(Ok(url)) => url.to_string(),
            _ => "an unknown page".to_owned(),
        };
        let dir = std::env::temp_dir().join("pathway-browser");
        let path = dir.join(format!(
            "failure-{}-{}.png",
            std::process::id(),
            SHOTS.fetch_add(1, Ordering::SeqCst)
        ));
        let written = match tokio::time::timeout(REPORT_WITHIN, self.client.screenshot()).await {
            Ok(Ok(png)) => std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, png)),
            Ok(Err(e)) => Err(std::io::Error::other(e)),
            Err(_) => Err(std::io::Error::other("the browser did not answer")),
        };
        let shot = match written {
            Ok(()) => format!("screenshot: {}", path.display()),
            Err(e) => format!("no screenshot could be taken: {e}"),
        };
        format!("{message}\n  on {url}\n  {shot}")
    }
}
