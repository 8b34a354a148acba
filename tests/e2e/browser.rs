//! The browser harness, against a small vetting-note form served by this
//! test: a person fills labelled fields, saves, and sees what was saved; the
//! same form works from the keyboard alone. If these fail, the clinician UI
//! tests built on the harness cannot be trusted.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Form, State};
use axum::response::{Html, Redirect};
use axum::routing::get;
use pathway_tests::browser::Browser;

#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
struct Note {
    note: String,
    priority: String,
    seen: Option<String>,
}

type Saved = Arc<Mutex<Vec<Note>>>;

const FORM: &str = r#"<!doctype html>
<html lang="en-GB">
<head><meta charset="utf-8"><title>Vetting note</title></head>
<body>
<main>
<h1>Vetting note</h1>
<form method="post" action="/notes">
  <label for="note">Clinical note</label>
  <textarea id="note" name="note" rows="4" required></textarea>
  <label for="priority">Priority</label>
  <select id="priority" name="priority">
    <option value="routine">Routine</option>
    <option value="urgent">Urgent</option>
  </select>
  <label><input type="checkbox" name="seen" value="yes"> Seen by consultant</label>
  <button type="submit">Save note</button>
  <button type="button" tabindex="-1">Delete note</button>
</form>
</main>
</body>
</html>"#;

async fn form() -> Html<&'static str> {
    Html(FORM)
}

async fn save(State(saved): State<Saved>, Form(note): Form<Note>) -> Redirect {
    saved
        .lock()
        .expect("the saved notes are readable")
        .push(note);
    Redirect::to("/notes")
}

async fn list(State(saved): State<Saved>) -> Html<String> {
    let items: String = saved
        .lock()
        .expect("the saved notes are readable")
        .iter()
        .map(|n| format!("<li>{} ({})</li>", escape(&n.note), escape(&n.priority)))
        .collect();
    Html(format!(
        "<!doctype html><html lang=\"en-GB\"><head><meta charset=\"utf-8\"><title>Saved notes</title></head>\
         <body><h1>Saved notes</h1><ul>{items}</ul><a href=\"/\">Write another note</a></body></html>"
    ))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Serves the form on a free port; returns its base URL and what it saved.
async fn serve() -> (String, Saved) {
    let saved = Saved::default();
    let app = Router::new()
        .route("/", get(form))
        .route("/notes", get(list).post(save))
        .with_state(saved.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port for the form");
    let base = format!(
        "http://{}",
        listener.local_addr().expect("the listener has an address")
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, saved)
}

fn saved_notes(saved: &Saved) -> Vec<Note> {
    saved.lock().expect("the saved notes are readable").clone()
}

#[tokio::test]
async fn a_person_fills_labelled_fields_saves_and_sees_the_note() {
    let (base, saved) = serve().await;
    let browser = Browser::start().await;
    browser.goto(&format!("{base}/")).await;
    assert_eq!(browser.title().await, "Vetting note");

    let note = "Refer to O'Neil's pain clinic & review <6 weeks>";
    browser.fill_labelled("Clinical note", note).await;
    browser.select_labelled("Priority", "Urgent").await;
    browser.check_labelled("Seen by consultant").await;
    browser.press_button("Save note").await;

    assert_eq!(
        saved_notes(&saved),
        vec![Note {
            note: note.to_owned(),
            priority: "urgent".to_owned(),
            seen: Some("yes".to_owned()),
        }]
    );
    assert_eq!(browser.current_url().await, format!("{base}/notes"));
    let page = browser.text().await;
    assert!(
        page.contains(&format!("{note} (urgent)")),
        "the saved page shows the note as typed: {page:?}"
    );

    let dir = tempfile::tempdir().expect("a folder for the screenshot");
    let shot = dir.path().join("saved.png");
    browser.screenshot(&shot).await;
    let png = std::fs::read(&shot).expect("the screenshot was written");
    assert!(png.starts_with(b"\x89PNG"), "the screenshot is a PNG");

    browser.click_link("Write another note").await;
    assert_eq!(browser.current_url().await, format!("{base}/"));
    browser.close().await;
}

#[tokio::test]
async fn the_form_is_saved_with_the_keyboard_alone() {
    let (base, saved) = serve().await;
    let browser = Browser::start().await;
    browser.goto(&format!("{base}/")).await;

    assert_eq!(
        browser.tab_to("Clinical note").await,
        1,
        "the note is the first stop"
    );
    browser
        .fill_labelled("Clinical note", "Typed without a mouse")
        .await;
    assert_eq!(
        browser.tab_to("Save note").await,
        3,
        "from the note, Tab passes the priority and the checkbox, then reaches the button"
    );
    browser.press_enter().await;

    assert_eq!(
        saved_notes(&saved),
        vec![Note {
            note: "Typed without a mouse".to_owned(),
            priority: "routine".to_owned(),
            seen: None,
        }]
    );
    assert!(
        browser
            .text()
            .await
            .contains("Typed without a mouse (routine)")
    );
    browser.close().await;
}

#[tokio::test]
async fn a_required_field_left_empty_keeps_the_person_on_the_form() {
    let (base, saved) = serve().await;
    let browser = Browser::start().await;
    browser.goto(&format!("{base}/")).await;
    // The browser refuses to send the form, so there is no next page to wait for.
    browser.press_button("Save note").await;
    assert_eq!(saved_notes(&saved), vec![]);
    assert_eq!(browser.current_url().await, format!("{base}/"));
    browser.close().await;
}

#[tokio::test]
#[should_panic(
    expected = r#"no field labelled "Hospital number"; the labels on the page are ["Clinical note", "Priority", "Seen by consultant"]"#
)]
async fn a_missing_field_fails_naming_the_labels_the_page_has() {
    let (base, _saved) = serve().await;
    let browser = Browser::start().await;
    browser.goto(&format!("{base}/")).await;
    browser.fill_labelled("Hospital number", "H123").await;
}

#[tokio::test]
#[should_panic(expected = r#""Delete note" was not reached with the Tab key"#)]
async fn a_button_taken_out_of_the_tab_order_is_caught() {
    let (base, _saved) = serve().await;
    let browser = Browser::start().await;
    browser.goto(&format!("{base}/")).await;
    browser.tab_to("Delete note").await;
}
