//! The page helpers a clinician's hands stand for: the form control a
//! `<label>` names, typing into it, choosing an option, ticking a box,
//! pressing a button by its text and following a link by its text.

use fantoccini::Locator;
use fantoccini::elements::Element;

use super::Browser;
use super::accessibility::{accessible_name, normalise};

impl Browser {
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
}
