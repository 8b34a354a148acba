//! The chromedriver process: found from `CHROMEDRIVER` (or its Debian
//! path), started on a free port as the leader of a process group that also
//! holds the Chromium it starts, watched by a watchdog that kills the group
//! if the test binary dies first, and killed with its group on drop.

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The path of a browser tool from `variable`, else its Debian location.
pub(super) fn tool(variable: &str, default: &str) -> PathBuf {
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
pub(super) struct Driver {
    child: Child,
    port: u16,
    pub(super) dir: tempfile::TempDir,
}

impl Driver {
    // The watchdog is left running on purpose: it reaps the process group if
    // the test binary dies without dropping the driver.
    #[allow(clippy::zombie_processes)]
    pub(super) async fn spawn(chromedriver: &Path) -> Driver {
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

    pub(super) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn wait_until_ready(&mut self) {
        let status = format!("{}/status", self.url());
        // reqwest is built without a TLS provider of its own.
        pathway_common::tls::install_crypto_provider();
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

    pub(super) fn log_tail(&self) -> String {
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
