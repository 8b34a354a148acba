//! Unit tests of `publish.rs`: the files' contents from a table as
//! analytics answers it.

use serde_json::json;

use super::*;

fn table() -> Value {
    json!({
        "name": "seen_consultant_led",
        "title": "Patients seen <by weeks> & waited",
        "columns": ["weeks_0_12", "weeks_13_24", "weeks_25_51", "weeks_52_plus", "total"],
        "rows": [
            {"area": "=highland", "cells": [40, null, 10, null, 58], "suppressed": ["weeks_13_24", "weeks_52_plus"]},
            {"area": "scotland", "cells": [80, 20, 0, 5, 105], "suppressed": []},
        ],
    })
}

#[test]
fn the_csv_has_a_line_per_area_stars_where_hidden_and_no_formula() {
    let csv = to_csv(&table()).expect("CSV");
    assert_eq!(
        csv,
        "area,weeks_0_12,weeks_13_24,weeks_25_51,weeks_52_plus,total\n\
         '=highland,40,*,10,*,58\n\
         scotland,80,20,0,5,105\n"
    );
}

#[test]
fn the_chart_draws_shown_figures_to_scale_and_writes_each_beside_its_bar() {
    let env = charts().expect("the template");
    let svg = chart(&env, "2026-Q3", &table()).expect("SVG");
    assert!(
        svg.contains("Patients seen &lt;by weeks&gt; &amp; waited"),
        "{svg}"
    );
    assert!(!svg.contains("<by weeks>"));
    // Four bars in each area, the totals not charted; hidden ones not drawn.
    assert_eq!(svg.matches("<rect x=").count(), 2 + 4);
    assert!(svg.contains(">*</text>"));
    assert!(svg.contains(">40</text>") && svg.contains(">80</text>"));
    assert!(!svg.contains(">58</text>"), "a total is not a bar");
    // Highland's largest figure, 40, is the full width; 10 a quarter of it.
    assert!(svg.contains("width=\"420\" height=\"14\""));
    assert!(svg.contains("width=\"105\" height=\"14\""));
}
