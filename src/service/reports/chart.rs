//! Charts drawn on the server as SVG: black, grey and white only (they print on a
//! black-and-white printer as they show), with the numbers written in the chart so nothing
//! depends on colour. Every text in a chart is ours (labels, numbers), escaped anyway.

use std::fmt::Write as _;

/// One series: its name and a value per column.
pub struct Series<'a> {
    pub name: &'a str,
    pub values: &'a [u64],
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A round top for the axis at or above `max`: 1, 2 or 5 times a power of ten.
fn nice_top(max: u64) -> u64 {
    let mut p = 1u64;
    while p.saturating_mul(10) <= max {
        p *= 10;
    }
    [1, 2, 5, 10]
        .into_iter()
        .map(|m| m * p)
        .find(|t| *t >= max)
        .unwrap_or(max)
}

/// Columns of `bars` (grey) with `line` (black, dots) over them; `labels` under every
/// `label_every`-th column. Scales to the width it is given by the page (viewBox).
pub fn bars_and_line(title: &str, labels: &[String], bars: Series, line: Series) -> String {
    let n = labels.len().max(1);
    let (w, h, left, bottom, top) = (720.0, 220.0, 40.0, 30.0, 28.0);
    let plot_w = w - left - 10.0;
    let plot_h = h - bottom - top;
    let max = bars
        .values
        .iter()
        .chain(line.values)
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let top_value = nice_top(max);
    let y = |v: u64| top + plot_h - (v as f64 / top_value as f64) * plot_h;
    let col = plot_w / n as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{t}" xmlns="http://www.w3.org/2000/svg" font-size="11" font-family="sans-serif">"#,
        t = esc(title)
    );
    let _ = write!(s, r#"<title>{}</title>"#, esc(title));
    // Axis lines and three grid lines with their values.
    for i in 0..=2u64 {
        let v = top_value * i / 2;
        let yy = y(v);
        let _ = write!(
            s,
            r##"<line x1="{left}" y1="{yy:.1}" x2="{x2}" y2="{yy:.1}" stroke="#bbb" stroke-width="0.5"/><text x="{tx}" y="{ty:.1}" text-anchor="end">{v}</text>"##,
            x2 = w - 10.0,
            tx = left - 4.0,
            ty = yy + 4.0
        );
    }
    for (i, v) in bars.values.iter().enumerate() {
        let x = left + col * i as f64 + col * 0.15;
        let yy = y(*v);
        let _ = write!(
            s,
            r##"<rect x="{x:.1}" y="{yy:.1}" width="{bw:.1}" height="{bh:.1}" fill="#c8c8c8" stroke="#555" stroke-width="0.5"><title>{l}：{v}</title></rect>"##,
            bw = col * 0.7,
            bh = (top + plot_h - yy).max(0.0),
            l = esc(labels.get(i).map(String::as_str).unwrap_or(""))
        );
    }
    let points: Vec<String> = line
        .values
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{:.1},{:.1}", left + col * (i as f64 + 0.5), y(*v)))
        .collect();
    let _ = write!(
        s,
        r##"<polyline points="{}" fill="none" stroke="#000" stroke-width="1.5"/>"##,
        points.join(" ")
    );
    for p in &points {
        let (px, py) = p.split_once(',').unwrap_or(("0", "0"));
        let _ = write!(s, r##"<circle cx="{px}" cy="{py}" r="2" fill="#000"/>"##);
    }
    let every = n.div_ceil(10).max(1);
    for (i, l) in labels
        .iter()
        .enumerate()
        .filter(|(i, _)| i % every == 0 || *i == n - 1)
    {
        let _ = write!(
            s,
            r#"<text x="{x:.1}" y="{yy}" text-anchor="middle">{l}</text>"#,
            x = left + col * (i as f64 + 0.5),
            yy = h - bottom + 14.0,
            l = esc(l)
        );
    }
    // The legend, in words and shapes.
    let _ = write!(
        s,
        r##"<rect x="{left}" y="6" width="12" height="10" fill="#c8c8c8" stroke="#555" stroke-width="0.5"/><text x="{a}" y="15">{bn}（柱）</text><line x1="{b}" y1="11" x2="{c}" y2="11" stroke="#000" stroke-width="1.5"/><text x="{d}" y="15">{ln}（线）</text></svg>"##,
        a = left + 16.0,
        bn = esc(bars.name),
        b = left + 130.0,
        c = left + 150.0,
        d = left + 154.0,
        ln = esc(line.name)
    );
    s
}

/// Horizontal bars, one a row, with the count written at the end of each (largest first as
/// given); for a breakdown by channel, kind, town or unit.
pub fn hbars(title: &str, rows: &[(String, u64)]) -> String {
    let n = rows.len().max(1);
    let (w, row_h, left) = (520.0, 18.0, 150.0);
    let h = row_h * n as f64 + 10.0;
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1) as f64;
    let bar_w = w - left - 60.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart hbars" viewBox="0 0 {w} {h}" role="img" aria-label="{t}" xmlns="http://www.w3.org/2000/svg" font-size="11" font-family="sans-serif"><title>{t}</title>"#,
        t = esc(title)
    );
    for (i, (label, v)) in rows.iter().enumerate() {
        let y = 5.0 + row_h * i as f64;
        let len = (*v as f64 / max) * bar_w;
        let label: String = label.chars().take(12).collect();
        let _ = write!(
            s,
            r##"<text x="{lx}" y="{ty:.1}" text-anchor="end">{l}</text><rect x="{left}" y="{y:.1}" width="{len:.1}" height="{bh:.1}" fill="#c8c8c8" stroke="#555" stroke-width="0.5"/><text x="{vx:.1}" y="{ty:.1}">{v}</text>"##,
            lx = left - 6.0,
            ty = y + row_h * 0.65,
            l = esc(&label),
            bh = row_h * 0.7,
            vx = left + len + 4.0
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_is_svg_with_every_column_and_escaped_text() {
        let labels: Vec<String> = (1..=30).map(|d| format!("11-{d:02}")).collect();
        let bars: Vec<u64> = (0..30).collect();
        let line: Vec<u64> = (0..30).map(|i| i / 2).collect();
        let svg = bars_and_line(
            "近 30 天 <受理>",
            &labels,
            Series {
                name: "受理",
                values: &bars,
            },
            Series {
                name: "办结",
                values: &line,
            },
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(
            svg.matches("<rect").count(),
            31,
            "30 columns and the legend"
        );
        assert!(svg.contains("&lt;受理&gt;") && !svg.contains("<受理>"));
        assert!(!svg.contains("NaN"));
        let empty = bars_and_line(
            "空",
            &[],
            Series {
                name: "a",
                values: &[],
            },
            Series {
                name: "b",
                values: &[],
            },
        );
        assert!(empty.ends_with("</svg>") && !empty.contains("NaN"));
        assert_eq!(
            [1, 3, 10, 11, 47, 100, 501].map(nice_top),
            [1, 5, 10, 20, 50, 100, 1000]
        );
    }
}
