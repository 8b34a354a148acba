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

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource as _, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

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

    /// The form control whose `<label>` reads `label`: the element the
    /// label's `for` names, or else the control inside the label.
    pub async fn labelled(&self, label: &str) -> Element {
        // Wait for the page to have a body before reading its labels.
        self.find(Locator::Css("body"), "the page body").await;
        let labels = self.all(Locator::Css("label")).await;
        let mut seen = Vec::new();
        for candidate in labels {
            let text = normalise(&candidate.text().await.unwrap_or_default());
            if text != normalise(label) {
                seen.push(text);
                continue;
            }
            let target = match candidate.attr("for").await.ok().flatten() {
                Some(id) => self.client.find(Locator::Id(&id)).await,
                None => {
                    candidate
                        .find(Locator::Css("input, textarea, select"))
                        .await
                }
            };
            return match target {
                Ok(control) => control,
                Err(e) => panic!(
                    "{}",
                    self.failure(&format!(
                        "the label {label:?} names no control on the page: {e}"
                    ))
                    .await
                ),
            };
        }
        panic!(
            "{}",
            self.failure(&format!(
                "no field labelled {label:?}; the labels on the page are {seen:?}"
            ))
            .await
        )
    }

    /// Replaces the text in the field labelled `label` with `value`.
    pub async fn fill_labelled(&self, label: &str, value: &str) {
        let field = self.labelled(label).await;
        let typed = async {
            field.clear().await?;
            field.send_keys(value).await
        };
        if let Err(e) = typed.await {
            panic!(
                "{}",
                self.failure(&format!(
                    "could not type into the field labelled {label:?}: {e}"
                ))
                .await
            );
        }
    }

    /// Chooses the option reading `option` in the list labelled `label`.
    pub async fn select_labelled(&self, label: &str, option: &str) {
        let list = self.labelled(label).await;
        let options = list
            .find_all(Locator::Css("option"))
            .await
            .unwrap_or_default();
        let mut seen = Vec::new();
        for candidate in options {
            let text = normalise(&candidate.text().await.unwrap_or_default());
            if text == normalise(option) {
                if let Err(e) = candidate.click().await {
                    panic!(
                        "{}",
                        self.failure(&format!("could not choose {option:?} in {label:?}: {e}"))
                            .await
                    );
                }
                return;
            }
            seen.push(text);
        }
        panic!(
            "{}",
            self.failure(&format!(
                "the list labelled {label:?} has no option {option:?}; it has {seen:?}"
            ))
            .await
        )
    }

    /// Ticks the checkbox or radio button labelled `label` (once: a box
    /// already ticked stays ticked).
    pub async fn check_labelled(&self, label: &str) {
        let control = self.labelled(label).await;
        if control.is_selected().await.unwrap_or(false) {
            return;
        }
        if let Err(e) = control.click().await {
            panic!(
                "{}",
                self.failure(&format!("could not tick {label:?}: {e}"))
                    .await
            );
        }
    }

    /// Presses the button that reads `text` (a `<button>` or an
    /// `<input type="submit">`), and waits for any page it leads to.
    pub async fn press_button(&self, text: &str) {
        self.find(Locator::Css("body"), "the page body").await;
        let buttons = self
            .all(Locator::Css(
                "button, input[type=submit], input[type=button], input[type=reset]",
            ))
            .await;
        let mut seen = Vec::new();
        for button in buttons {
            let name = accessible_name(&self.client, &button).await;
            if name == normalise(text) {
                let next = self.next_page_after(&button).await;
                if let Err(e) = button.click().await {
                    panic!(
                        "{}",
                        self.failure(&format!("could not press the button {text:?}: {e}"))
                            .await
                    );
                }
                self.wait_for(next, &format!("pressing {text:?}")).await;
                return;
            }
            seen.push(name);
        }
        panic!(
            "{}",
            self.failure(&format!(
                "no button reads {text:?}; the buttons on the page are {seen:?}"
            ))
            .await
        )
    }

    /// Follows the link that reads `text`.
    pub async fn click_link(&self, text: &str) {
        self.find(Locator::Css("body"), "the page body").await;
        let links = self.all(Locator::Css("a[href]")).await;
        let mut seen = Vec::new();
        for link in links {
            let name = accessible_name(&self.client, &link).await;
            if name == normalise(text) {
                let next = self.next_page_after(&link).await;
                if let Err(e) = link.click().await {
                    panic!(
                        "{}",
                        self.failure(&format!("could not follow the link {text:?}: {e}"))
                            .await
                    );
                }
                self.wait_for(next, &format!("following {text:?}")).await;
                return;
            }
            seen.push(name);
        }
        panic!(
            "{}",
            self.failure(&format!(
                "no link reads {text:?}; the links on the page are {seen:?}"
            ))
            .await
        )
    }

    /// Presses Tab until the focused control is named `name` (its label,
    /// text, value or `aria-label`), as a keyboard user would, and returns
    /// how many presses it took. Panics, listing the controls the focus
    /// passed through, if `name` is not reached within 60 presses.
    pub async fn tab_to(&self, name: &str) -> usize {
        let mut visited = Vec::new();
        for presses in 1..=MAX_TABS {
            self.press(Key::Tab).await;
            let focused = match self.client.active_element().await {
                Ok(element) => accessible_name(&self.client, &element).await,
                Err(_) => String::new(),
            };
            if focused == normalise(name) {
                return presses;
            }
            if visited.last() != Some(&focused) {
                visited.push(focused);
            }
        }
        panic!(
            "{}",
            self.failure(&format!(
                "{name:?} was not reached with the Tab key; the focus went through {visited:?}"
            ))
            .await
        )
    }

    /// Presses Enter on whatever has the focus (submits a form from its
    /// button, follows a focused link), and waits for any page it leads to.
    pub async fn press_enter(&self) {
        let next = match self.client.active_element().await {
            Ok(focused) => self.next_page_after(&focused).await,
            Err(_) => None,
        };
        self.press(Key::Enter).await;
        self.wait_for(next, "pressing Enter").await;
    }

    /// Presses and releases one key on the keyboard.
    pub async fn press(&self, key: Key) {
        let keys = KeyActions::new("keyboard".to_owned())
            .then(KeyAction::Down { value: key.into() })
            .then(KeyAction::Up { value: key.into() });
        if let Err(e) = self.client.perform_actions(keys).await {
            panic!(
                "{}",
                self.failure(&format!("could not press {key:?}: {e}")).await
            );
        }
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

    /// When activating `control` will load another page, the current page's
    /// root element, to watch for the moment it is replaced.
    async fn next_page_after(&self, control: &Element) -> Option<NextPage> {
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
    async fn wait_for(&self, next: Option<NextPage>, action: &str) {
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

    async fn find(&self, locator: Locator<'_>, what: &str) -> Element {
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

    async fn all(&self, locator: Locator<'_>) -> Vec<Element> {
        self.client.find_all(locator).await.unwrap_or_default()
    }

    /// A failure message with the page's address and, where it could be
    /// taken, a screenshot to look at.
    async fn failure(&self, message: &str) -> String {
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

/// The page that shows before a click expected to load the next one.
struct NextPage {
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

/// The name a person (or a screen reader) would give the control.
async fn accessible_name(client: &Client, element: &Element) -> String {
    if let Some(aria) = element.attr("aria-label").await.ok().flatten() {
        return normalise(&aria);
    }
    let tag = element.tag_name().await.unwrap_or_default().to_lowercase();
    let kind = element
        .attr("type")
        .await
        .ok()
        .flatten()
        .unwrap_or_default()
        .to_lowercase();
    if tag == "input" && matches!(kind.as_str(), "submit" | "button" | "reset") {
        return normalise(
            &element
                .prop("value")
                .await
                .ok()
                .flatten()
                .unwrap_or_default(),
        );
    }
    if matches!(tag.as_str(), "input" | "textarea" | "select") {
        if let Some(id) = element.attr("id").await.ok().flatten() {
            let selector = format!("label[for=\"{}\"]", id.replace('"', "\\\""));
            if let Ok(label) = client.find(Locator::Css(&selector)).await {
                return normalise(&label.text().await.unwrap_or_default());
            }
        }
        // A control inside its label.
        return match element.find(Locator::XPath("ancestor::label")).await {
            Ok(label) => normalise(&label.text().await.unwrap_or_default()),
            Err(_) => String::new(),
        };
    }
    normalise(&element.text().await.unwrap_or_default())
}

fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The path of a browser tool from `variable`, else its Debian location.
fn tool(variable: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(variable)
        .filter(|value| !value.is_empty())
        .map_or_else(|| PathBuf::from(default), PathBuf::from);
    assert!(
        path.is_file(),
        "{} not found (set {variable}, or run `make test` or scripts/browser.sh, which install \
         Debian's chromium and chromium-driver)",
        path.display()
    );
    path
}

/// A running chromedriver, leader of a process group that also holds the
/// Chromium it starts.
struct Driver {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Driver {
    // The watchdog is left running on purpose: it reaps the process group if
    // the test binary dies without dropping the driver.
    #[allow(clippy::zombie_processes)]
    async fn spawn(chromedriver: &Path) -> Driver {
        let dir = tempfile::tempdir().expect("a temporary folder for the browser profile");
        let port = crate::free_port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .arg(format!(
                "--log-path={}",
                dir.path().join("chromedriver.log").display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", chromedriver.display()));
        // Kill the group when the test binary or chromedriver goes, however.
        // The watchdog joins the group: a Ctrl-C or a timeout that signals the
        // test binary's group leaves it running to clean up, and dropping the
        // driver kills it along with the rest.
        let group = i32::try_from(child.id()).expect("a process id fits in an i32");
        let watchdog = format!(
            "while kill -0 {parent} 2>/dev/null && kill -0 {group} 2>/dev/null; do sleep 0.5; done; \
             kill -KILL -{group} 2>/dev/null",
            parent = std::process::id(),
        );
        Command::new("sh")
            .arg("-c")
            .arg(watchdog)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(group)
            .spawn()
            .expect("the browser watchdog starts");
        let mut driver = Driver { child, port, dir };
        driver.wait_until_ready().await;
        driver
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn wait_until_ready(&mut self) {
        let status = format!("{}/status", self.url());
        let started = Instant::now();
        loop {
            if let Ok(Some(exit)) = self.child.try_wait() {
                panic!("chromedriver exited at start ({exit})\n{}", self.log_tail());
            }
            let ready = match reqwest::get(&status).await {
                Ok(response) => response
                    .json::<serde_json::Value>()
                    .await
                    .is_ok_and(|body| body["value"]["ready"] == true),
                Err(_) => false,
            };
            if ready {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not answer on port {} within 20 s\n{}",
                self.port,
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log_tail(&self) -> String {
        let log =
            std::fs::read_to_string(self.dir.path().join("chromedriver.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(20)..].join("\n");
        format!("chromedriver's log ends:\n{tail}")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The negative id names the whole group: chromedriver and Chromium.
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!("kill -KILL -{}", self.child.id()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
    }
}
