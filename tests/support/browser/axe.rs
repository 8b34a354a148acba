//! The automated accessibility check: axe-core run inside the page.
//!
//! `make test` installs axe-core through `scripts/axe-core.sh` and passes the
//! path of its `axe.min.js` in `AXE_CORE`; without it, the copy that script
//! leaves in `.tools/` is used. With neither, a test fails when `CI=true`
//! and otherwise skips the check, saying why.

use std::path::PathBuf;

use super::Browser;

/// Where axe-core is, if anywhere.
fn axe_core() -> Option<PathBuf> {
    let installed = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../.tools/axe-core/node_modules/axe-core/axe.min.js");
    let path = std::env::var_os("AXE_CORE")
        .filter(|value| !value.is_empty())
        .map_or(installed, PathBuf::from);
    if path.is_file() {
        return Some(path);
    }
    let why = format!(
        "axe-core not found at {} (set AXE_CORE, or run `make test` or scripts/axe-core.sh, which install it)",
        path.display()
    );
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{why}: the accessibility check cannot be skipped in CI"
    );
    eprintln!("skipping the accessibility check: {why}");
    None
}

impl Browser {
    /// Runs axe-core on the page as it is and panics, listing each rule
    /// broken and where, unless it finds no violations.
    pub async fn assert_accessible(&self) {
        let Some(path) = axe_core() else {
            return;
        };
        let source = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        self.client
            .execute(&format!("{source}\nreturn true;"), vec![])
            .await
            .expect("axe-core loads into the page");
        let found = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document).then(
                   r => done(r.violations.map(v => v.id + ' (' + v.help + '): ' +
                     v.nodes.map(n => n.target.join(' ')).join(', '))),
                   e => done(['axe-core failed: ' + e]));",
                vec![],
            )
            .await
            .expect("axe-core runs");
        let violations: Vec<String> = serde_json::from_value(found).unwrap_or_default();
        if !violations.is_empty() {
            panic!(
                "{}",
                self.failure(&format!(
                    "axe-core found accessibility violations:\n{}",
                    violations.join("\n")
                ))
                .await
            );
        }
    }
}
