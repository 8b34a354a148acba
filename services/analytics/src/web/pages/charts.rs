//! Bar charts as SVG, drawn on the server.

use std::fmt::Write as _;

/// One period's bar: stacked parts (a `None` part draws nothing).
pub(super) struct Bar {
    pub(super) label: String,
    pub(super) parts: Vec<(Option<f64>, &'static str)>,
    pub(super) hidden: bool,
}

/// A bar chart as an SVG element, one bar per period, with each bar's value
/// written above it (`*` when suppressed) so the chart reads without colour.
pub(super) fn bar_chart(title: &str, bars: &[Bar]) -> String {
    const HEIGHT: f64 = 180.0;
    const TOP: f64 = 20.0;
    const BOTTOM: f64 = 40.0;
    const STEP: f64 = 48.0;
    let width = (bars.len() as f64 * STEP + 40.0).max(320.0);
    let total = |b: &Bar| b.parts.iter().filter_map(|p| p.0).sum::<f64>();
    let max = bars.iter().map(total).fold(0.0, f64::max).max(1.0);
    let scale = (HEIGHT - TOP - BOTTOM) / max;
    let baseline = HEIGHT - BOTTOM;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg class="chart" role="img" viewBox="0 0 {width} {HEIGHT}" width="{width}" height="{HEIGHT}"><title>{}</title><line x1="20" y1="{baseline}" x2="{}" y2="{baseline}" stroke="#4c6272"/>"##,
        escape(title),
        width - 10.0
    );
    for (i, bar) in bars.iter().enumerate() {
        let x = 30.0 + i as f64 * STEP;
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
        let shown = if bar.hidden {
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
        };
        let _ = write!(
            svg,
            r#"<text x="{}" y="{:.1}" text-anchor="middle">{}</text><text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            x + 16.0,
            y - 4.0,
            escape(&shown),
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
