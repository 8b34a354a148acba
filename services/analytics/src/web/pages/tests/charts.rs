use super::*;

fn row(label: &str, value: Option<f64>, hidden: bool) -> Row {
    Row {
        label: label.to_owned(),
        figure: Figure::new(value, hidden, |v| format!("{v:.1}")),
        class: "bar-after",
    }
}

#[test]
fn a_hidden_figure_is_written_as_a_star_and_drawn_as_no_bar() {
    let svg = row_chart(
        "c",
        "Waits",
        "Working days: ",
        &[
            row("2026-Q1 before", None, true),
            row("2026-Q2 after", Some(4.0), false),
        ],
    );
    assert_eq!(svg.matches("<rect").count(), 1, "{svg}");
    assert!(svg.contains(">*</text>"), "{svg}");
    assert!(svg.contains(">4.0</text>"), "{svg}");
    assert!(
        svg.contains("<desc id=\"c-desc\">Working days: 2026-Q1 before: *; 2026-Q2 after: 4.0."),
        "{svg}"
    );
}

#[test]
fn nothing_to_count_is_a_dash_not_a_zero() {
    let svg = row_chart("c", "Waits", "", &[row("2026-Q1 before", None, false)]);
    assert!(!svg.contains("<rect"), "{svg}");
    assert!(svg.contains(">–</text>"), "{svg}");
}

#[test]
fn text_is_escaped() {
    let svg = row_chart("c", "A <b> & \"c\"", "", &[row("x<y", Some(1.0), false)]);
    assert!(svg.contains("A &lt;b&gt; &amp; &quot;c&quot;"), "{svg}");
    assert!(svg.contains("x&lt;y"), "{svg}");
    assert!(!svg.contains("<b>"));
}

#[test]
fn a_suppressed_bar_in_a_period_chart_is_a_star() {
    let svg = bar_chart(
        "Received",
        &[
            Bar {
                label: "2026-02".into(),
                parts: vec![(None, "bar-standard")],
                hidden: true,
            },
            Bar {
                label: "2026-03".into(),
                parts: vec![(Some(7.0), "bar-standard")],
                hidden: false,
            },
        ],
    );
    assert_eq!(svg.matches("<rect").count(), 1, "{svg}");
    assert!(svg.contains("<desc>2026-02: *; 2026-03: 7</desc>"), "{svg}");
}
