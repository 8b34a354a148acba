//! The accessibility checks: the name a person or a screen reader would give
//! a control (its `aria-label`, its `<label>`, its text or value), and the
//! keyboard alone — Tab to reach a control by that name, Enter to use it.

use fantoccini::actions::{InputSource as _, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, Locator};

use super::{Browser, MAX_TABS};

impl Browser {
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
}

/// The name a person (or a screen reader) would give the control.
pub(super) async fn accessible_name(client: &Client, element: &Element) -> String {
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

pub(super) fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
