//! The page for whoever opens intake in a browser.

use axum::extract::State;
use axum::response::Html;
use pathway_common::http::ApiError;

use super::types::BoardView;
use crate::application::Intake;

/// A plain page for whoever opens intake in a browser: which boards are on
/// the pathway, and where the API and the operational endpoints are. Board
/// status is not personal data; nothing about referrals is shown here.
pub(super) async fn home(State(intake): State<Intake>) -> Result<Html<String>, ApiError> {
    let boards: Vec<BoardView> = intake
        .boards(chrono::Utc::now())
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    let rows: String = boards
        .iter()
        .map(|b| {
            format!(
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                escape(&b.name),
                escape(&b.code),
                if b.pathway_enabled {
                    "<strong>on</strong>"
                } else {
                    "off"
                },
                b.since
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "never switched on".into())
            )
        })
        .collect();
    Ok(Html(format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pathway intake</title>
<style>
body {{ font-family: Arial, sans-serif; margin: 2rem auto; max-width: 56rem; color: #212b32; line-height: 1.5; padding: 0 1rem; }}
header {{ background: #005eb8; color: #fff; padding: 1rem 1.5rem; margin: 0 -1rem 1.5rem; }}
h1 {{ margin: 0; font-size: 1.6rem; }} table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; padding: .5rem; border-bottom: 1px solid #d8dde0; }}
.visually-hidden {{ position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }}
a {{ color: #005eb8; }} a:focus {{ background: #ffeb3b; color: #212b32; outline: 3px solid #212b32; }}
</style></head>
<body><header><h1>Pathway intake</h1><p>Referrals to the chronic pain service, and each board's switch onto the remote pathway.</p></header>
<main>
<h2>Boards</h2>
<table><caption class="visually-hidden">Whether each board's referrals go onto the remote pathway today</caption>
<thead><tr><th scope="col">Board</th><th scope="col">Code</th><th scope="col">Remote pathway</th><th scope="col">Since</th></tr></thead>
<tbody>{rows}</tbody></table>
<h2>For systems and operators</h2>
<ul>
<li><a href="/openapi.json">API description (OpenAPI 3)</a>: every call needs a bearer token</li>
<li><a href="/healthz">Alive</a>, <a href="/readyz">ready</a> (database and NATS), <a href="/metrics">metrics</a> (Prometheus)</li>
</ul>
</main></body></html>"#
    )))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
