//! `pathway publish`: a quarter's fixed tables written as CSV files, one
//! per table, cell for cell what analytics published (`*` where it hid a
//! count), and a chart per table as SVG with the figures beside the bars;
//! progress on stderr; a period that is not a quarter refused, naming it.

use pathway_tests::Backend;
use pathway_tests::cli::Platform;

use super::{json_of, pathway};
use crate::analytics::publication::{events_of, history};

const TABLES: [&str; 4] = [
    "seen-consultant-led",
    "seen-all-clinicians",
    "still-waiting",
    "referrals",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_writes_each_table_as_csv_and_a_chart_as_svg() {
    let p = Platform::start(&Backend::Sqlite).await;
    // The smaller boards of the generated history: enough small counts.
    for r in history().iter().filter(|r| r.board() != "lothian") {
        for event in events_of(r) {
            p.analytics.send(&event).await;
        }
    }
    p.analytics.wait_until_caught_up().await;
    let (status, published) = p.analytics("/v1/publications/2026-Q3").await;
    assert_eq!(status, 200, "{published}");
    let published = json_of(&published);

    let dir = tempfile::tempdir().expect("a temporary folder");
    let out = dir.path().join("2026-Q3");
    let ran = pathway(
        &p,
        &format!("publish --quarter 2026-Q3 --out {}", out.display()),
    )
    .await;
    let err = ran.err.clone();
    let listed = ran.ok();
    let mut files: Vec<String> = Vec::new();
    for table in TABLES {
        for ext in ["csv", "svg"] {
            files.push(
                out.join(format!("2026-Q3-{table}.{ext}"))
                    .display()
                    .to_string(),
            );
        }
    }
    assert_eq!(listed.lines().collect::<Vec<_>>(), files, "{listed}");
    assert!(
        err.contains("[1/4] seen_consultant_led"),
        "progress on stderr:\n{err}"
    );
    assert!(err.contains("done: 8 files"), "{err}");

    let mut stars = 0;
    for (table, json) in TABLES
        .iter()
        .zip(published["tables"].as_array().expect("tables"))
    {
        let csv = std::fs::read_to_string(out.join(format!("2026-Q3-{table}.csv")))
            .expect("the CSV file");
        let lines: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
        let columns: Vec<&str> = json["columns"]
            .as_array()
            .expect("columns")
            .iter()
            .map(|c| c.as_str().expect("a column"))
            .collect();
        assert_eq!(lines[0][0], "area");
        assert_eq!(lines[0][1..], columns[..], "{table}");
        let rows = json["rows"].as_array().expect("rows");
        assert_eq!(lines.len(), rows.len() + 1, "{table}: a line per area");
        assert_eq!(lines.last().expect("a line")[0], "scotland");
        for (line, row) in lines[1..].iter().zip(rows) {
            assert_eq!(line[0], row["area"]);
            for (cell, value) in line[1..]
                .iter()
                .zip(row["cells"].as_array().expect("cells"))
            {
                match value.as_u64() {
                    Some(n) => assert_eq!(*cell, n.to_string(), "{table}"),
                    None => {
                        assert_eq!(*cell, "*", "{table}");
                        stars += 1;
                    }
                }
            }
        }
        let svg = std::fs::read_to_string(out.join(format!("2026-Q3-{table}.svg")))
            .expect("the SVG file");
        assert!(
            svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
            "{svg}"
        );
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains(json["title"].as_str().expect("a title")));
        // Scotland's first charted figure is written beside its bar.
        let scotland = rows.last().expect("Scotland");
        let first = if *table == "referrals" { 4 } else { 0 };
        let figure = scotland["cells"][first]
            .as_u64()
            .map_or("*".to_owned(), |n| n.to_string());
        assert!(
            svg.contains(&format!(">{figure}</text>")),
            "{table}: {figure}"
        );
    }
    assert!(stars > 0, "some cells suppressed in the files");

    let ran = pathway(
        &p,
        &format!("publish --quarter 2026-07 --out {}", out.display()),
    )
    .await;
    ran.refused("analytics answered 400", &["\n  - quarter: "]);
    let ran = pathway(
        &p,
        &format!("publish --quarter 2026/Q3 --out {}", out.display()),
    )
    .await;
    ran.refused("--quarter \"2026/Q3\" is not a quarter", &[]);
    p.stop().await;
}
