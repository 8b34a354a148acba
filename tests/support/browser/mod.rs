//! A real headless Chromium, driven through chromedriver, for tests of the
//! clinician web UI.
//!
//! Each [`Browser`] runs its own chromedriver on a free port with a fresh
//! Chromium profile, so tests in one binary never share cookies or a session.
//! `make test` installs Debian's `chromium` and `chromium-driver` through
//! `scripts/browser.sh` and passes their paths in `CHROMEDRIVER` and
//! `CHROMIUM`.
//!
//! The helpers act the way a clinician does: fields are found by the text of
//! their `<label>`, buttons and links by their text, and [`Browser::tab_to`]
//! reaches a control with the Tab key alone. When one of them cannot do what
//! it was asked, it panics with what the page offered instead and the path of
//! a screenshot.
//!
//! chromedriver runs in a process group of its own, together with the
//! Chromium it starts: dropping the [`Browser`] kills the group, and a
//! watchdog kills it too if the test binary dies first.
//!
//! The parts: `driver` runs chromedriver (and so Chromium) as a process group
//! of its own; `forms` finds and fills fields, presses buttons and follows
//! links; `accessibility` names controls the way a screen reader does and
//! moves the focus with the keyboard; `page_load` waits for the page a click
//! leads to; `failure` finds elements and reports what went wrong with the
//! page's address and a screenshot. This file holds [`Browser`] itself:
//! starting, navigating, reading the page, screenshots and closing.

mod accessibility;
mod axe;
mod driver;
mod failure;
mod forms;
mod page_load;

use std::path::Path;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

use driver::{Driver, tool};

/// How long a helper waits for an element to appear (a page still loading).
const FIND_WITHIN: Duration = Duration::from_secs(5);
/// How long a page may take to load.
const PAGE_LOAD: Duration = Duration::from_secs(30);
/// How long a failure report waits for the page's address and a screenshot.
const REPORT_WITHIN: Duration = Duration::from_secs(5);
/// How many Tab presses [`Browser::tab_to`] tries before it gives up.
const MAX_TABS: usize = 60;

/// A headless Chromium session of its own. Call [`Browser::close`] at the end
/// of a test to quit Chromium cleanly; dropping it kills the processes.
pub struct Browser {
    client: Client,
    // Held for its `Drop`, which stops chromedriver and Chromium.
    _driver: Driver,
}

impl Browser {
    /// Starts chromedriver on a free port and opens a headless Chromium
    /// session (1280x900, British English).
    pub async fn start() -> Browser {
        let chromedriver = tool("CHROMEDRIVER", "/usr/bin/chromedriver");
        let chromium = tool("CHROMIUM", "/usr/bin/chromium");
        let driver = Driver::spawn(&chromedriver).await;
        let profile = driver.dir.path().join("profile");
        let capabilities = serde_json::json!({
            "browserName": "chrome",
            // A page that has not loaded in 30 s is a failure, not a wait of
            // WebDriver's default five minutes.
            "timeouts": { "pageLoad": PAGE_LOAD.as_millis() as u64 },
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--window-size=1280,900",
                    "--lang=en-GB",
                    "--no-first-run",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("the capabilities above are a JSON object")
        };
        // Plain HTTP: chromedriver listens on loopback only.
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url())
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "chromedriver could not start Chromium ({}): {e}\n{}",
                    chromium.display(),
                    driver.log_tail()
                )
            });
        Browser {
            client,
            _driver: driver,
        }
    }

    /// The WebDriver client, for anything the helpers do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) {
        if let Err(e) = self.client.goto(url).await {
            panic!(
                "{}",
                self.failure(&format!("could not open {url}: {e}")).await
            );
        }
    }

    /// Makes the page's viewport `width` x `height` CSS pixels (a phone's
    /// 390 x 844, say): the window is sized, then grown by whatever its
    /// frame takes, and the page asked what it got.
    pub async fn set_viewport(&self, width: u32, height: u32) {
        let inner = |client: Client| async move {
            let size = client
                .execute("return [window.innerWidth, window.innerHeight]", vec![])
                .await
                .expect("the browser reports its viewport");
            let at = |i: usize| size[i].as_u64().expect("a size in pixels") as u32;
            (at(0), at(1))
        };
        let client = self.client.clone();
        client
            .set_window_size(width, height)
            .await
            .expect("the browser sizes its window");
        let (w, h) = inner(client.clone()).await;
        if (w, h) != (width, height) {
            client
                .set_window_size(
                    width + width.saturating_sub(w),
                    height + height.saturating_sub(h),
                )
                .await
                .expect("the browser sizes its window");
        }
        let got = inner(client).await;
        assert_eq!(got, (width, height), "the viewport asked for");
    }

    /// The address of the page now shown.
    pub async fn current_url(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("the browser reports its current address")
            .to_string()
    }

    /// The text of the page as a person sees it (the body's rendered text).
    pub async fn text(&self) -> String {
        self.find(Locator::Css("body"), "the page body")
            .await
            .text()
            .await
            .expect("the browser reports the page's text")
    }

    /// The page's `<title>`.
    pub async fn title(&self) -> String {
        self.client
            .title()
            .await
            .expect("the browser reports the page's title")
    }

    /// Saves a PNG of the visible page to `path`.
    pub async fn screenshot(&self, path: impl AsRef<Path>) {
        let path = path.as_ref();
        let png = self
            .client
            .screenshot()
            .await
            .expect("the browser takes a screenshot");
        std::fs::write(path, png)
            .unwrap_or_else(|e| panic!("could not write a screenshot to {}: {e}", path.display()));
    }

    /// Ends the session (Chromium quits) and stops chromedriver.
    pub async fn close(self) {
        // Errors are of no interest here: dropping the driver kills whatever
        // is left of the processes.
        let _ = self.client.clone().close().await;
    }
}
