//! Bar charts as SVG, drawn on the server. Every chart carries its numbers
//! twice for people who cannot see it: written beside each bar, and in the
//! `<desc>` a screen reader reads out. A suppressed figure is drawn as no
//! bar at all and written `*`, never as a value.

use std::fmt::Write as _;

/// One period's bar: stacked parts (a `None` part draws nothing).
pub(super) struct Bar {
    pub(super) label: String,
    pub(super) parts: Vec<(Option<f64>, &'static str)>,
    pub(super) hidden: bool,
}

/// A figure as a chart shows it: its value (`None` draws no bar) and its
/// text (`*` when suppressed, `–` when there is nothing to count).
pub(super) struct Figure {
    pub(super) value: Option<f64>,
    pub(super) text: String,
}

impl Figure {
    /// A figure from a value and whether disclosure control hid it; `fmt`
    /// writes a value that is shown.
    pub(super) fn new(value: Option<f64>, hidden: bool, fmt: impl Fn(f64) -> String) -> Self {
        match value {
            Some(v) => Self {
                value: Some(v),
                text: fmt(v),
            },
            None if hidden => Self {
                value: None,
                text: "*".into(),
            },
            None => Self {
                value: None,
                text: "–".into(),
            },
        }
    }
}

/// One row of a horizontal bar chart.
pub(super) struct Row {
    pub(super) label: String,
    pub(super) figure: Figure,
    /// The bar's CSS class, for its colour (the label says the same in words).
    pub(super) class: &'static str,
}

/// A horizontal bar chart, one row per figure, the label on the left and
/// the number at the bar's end. Narrow enough to read on a phone: it scales
/// down with its container rather than running off the page.
pub(super) fn row_chart(id: &str, title: &str, unit: &str, rows: &[Row]) -> String {
    const WIDTH: f64 = 360.0;
    const LABEL: f64 = 124.0;
    const NUMBER: f64 = 44.0;
    const STEP: f64 = 26.0;
    const TOP: f64 = 8.0;
    let height = rows.len() as f64 * STEP + TOP * 2.0;
    let max = rows
        .iter()
        .filter_map(|r| r.figure.value)
        .fold(0.0, f64::max)
        .max(1.0);
    let scale = (WIDTH - LABEL - NUMBER) / max;
    let desc = rows
        .iter()
        .map(|r| format!("{}: {}", r.label, r.figure.text))
        .collect::<Vec<_>>()
        .join("; ");
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg class="chart row-chart" role="img" aria-labelledby="{id}-title {id}-desc" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}"><title id="{id}-title">{}</title><desc id="{id}-desc">{}{}. * marks a number too small to show.</desc><line x1="{LABEL}" y1="{TOP}" x2="{LABEL}" y2="{}" stroke="#4c6272"/>"##,
        escape(title),
        escape(unit),
        escape(&desc),
        height - TOP,
    );
    for (i, row) in rows.iter().enumerate() {
        let y = TOP + i as f64 * STEP;
        let w = row.figure.value.map_or(0.0, |v| v * scale);
        if row.figure.value.is_some() {
            let _ = write!(
                svg,
                r#"<rect class="{}" x="{LABEL}" y="{:.1}" width="{w:.1}" height="{:.1}"/>"#,
                row.class,
                y + 3.0,
                STEP - 8.0
            );
        }
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text><text class="value" x="{:.1}" y="{:.1}">{}</text>"#,
            LABEL - 6.0,
            y + 17.0,
            escape(&row.label),
            LABEL + w + 4.0,
            y + 17.0,
            escape(&row.figure.text)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A bar chart as an SVG element, one bar per period, with each bar's value
/// written above it (`*` when suppressed) so the chart reads without colour.
pub(super) fn bar_chart(title: &str, bars: &[Bar]) -> String {
    const HEIGHT: f64 = 180.0;
    const TOP: f64 = 20.0;
    const BOTTOM: f64 = 40.0;
    // Wide enough that the longest label (`2026-W14`) clears the next.
    let longest = bars
        .iter()
        .map(|b| b.label.chars().count())
        .max()
        .unwrap_or(0);
    let step = (longest as f64 * 7.5 + 10.0).max(48.0);
    let width = (bars.len() as f64 * step + 40.0).max(320.0);
    let total = |b: &Bar| b.parts.iter().filter_map(|p| p.0).sum::<f64>();
    let max = bars.iter().map(total).fold(0.0, f64::max).max(1.0);
    let scale = (HEIGHT - TOP - BOTTOM) / max;
    let baseline = HEIGHT - BOTTOM;
    let shown = |bar: &Bar| {
        if bar.hidden {
            "*".to_owned()
        } else if bar.parts.iter().all(|p| p.0.is_none()) {
            "–".to_owned()
        } else {
            let t = total(bar);
            if t.fract() == 0.0 {
                format!("{t:.0}")
            } else {
                format!("{t:.1}")
            }
        }
    };
    let desc = bars
        .iter()
        .map(|b| format!("{}: {}", b.label, shown(b)))
        .collect::<Vec<_>>()
        .join("; ");
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg class="chart" role="img" viewBox="0 0 {width} {HEIGHT}" width="{width}" height="{HEIGHT}"><title>{}</title><desc>{}</desc><line x1="20" y1="{baseline}" x2="{}" y2="{baseline}" stroke="#4c6272"/>"##,
        escape(title),
        escape(&desc),
        width - 10.0
    );
    for (i, bar) in bars.iter().enumerate() {
        let x = 30.0 + i as f64 * step;
        let mut y = baseline;
        for (value, class) in &bar.parts {
            if let Some(v) = value {
                let h = v * scale;
                y -= h;
                let _ = write!(
                    svg,
                    r#"<rect class="{class}" x="{x}" y="{y:.1}" width="32" height="{h:.1}"/>"#
                );
            }
        }
        let _ = write!(
            svg,
            r#"<text x="{}" y="{:.1}" text-anchor="middle">{}</text><text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            x + 16.0,
            y - 4.0,
            escape(&shown(bar)),
            x + 16.0,
            baseline + 16.0,
            escape(&bar.label)
        );
    }
    svg.push_str("</svg>");
    svg
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
#[path = "tests/charts.rs"]
mod tests;
