//! The header: title at the top left, and a legend that says what each mark
//! means (one entry per line that is not faded, `N others` for those that
//! are, the best value, the non-finite count); and the footnote under the plot.
//!
//! The legend sits beside the title when it fits and wraps below it when it
//! does not, so the header's height is only known after laying it out; it is
//! drawn first and the plot gets what is left.

use super::fail;
use super::marks::{draw_best_ring, draw_triangle, Edge};
use super::prepare::Prepared;
use super::style::{clean, faint, font, line_color, px, FADED, FADED_ALPHA, INK, MUTED};
use super::ticks::format_tick;
use super::{ChartSpec, HEIGHT, SVG_UNITS, WIDTH};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Font sizes and the legend's row height, in logical pixels.
const TITLE_SIZE: f64 = 17.0;
const LEGEND_SIZE: f64 = 12.5;
pub(super) const LEGEND_ROW: f64 = 19.0;

/// What a legend entry shows in front of its label.
enum Swatch {
    /// A line's colour, with a dot when the line has dots.
    Line(RGBColor, bool),
    Best,
    NonFinite,
}

/// `best 1.154 @ 1k`: the value to four significant digits, where as a tick would say it.
fn best_label((x, y): (f64, f64)) -> String {
    format!("best {} @ {}", format_tick(y, 0.0), format_tick(x, 0.0))
}

fn legend_entries(spec: &ChartSpec, data: &Prepared) -> Vec<(Swatch, String)> {
    let mut entries: Vec<(Swatch, String)> = spec
        .lines
        .iter()
        .zip(&data.lines)
        .filter_map(|(l, prepared)| {
            let label = clean(&l.label, 40);
            let label = if l.points.is_empty() {
                format!("{label} (no data)")
            } else {
                label
            };
            let color = line_color(prepared.color?);
            Some((Swatch::Line(color, prepared.dots), label))
        })
        .collect();
    match data.faded_count {
        0 => {}
        1 => entries.push((
            Swatch::Line(faint(FADED, FADED_ALPHA), false),
            "1 other".into(),
        )),
        n => entries.push((
            Swatch::Line(faint(FADED, FADED_ALPHA), false),
            format!("{n} others"),
        )),
    }
    if let Some(best) = data.best_value {
        let label = match spec.best_label.is_empty() {
            true => best_label(best),
            false => clean(&spec.best_label, 40),
        };
        entries.push((Swatch::Best, label));
    }
    if data.nonfinite_count > 0 {
        entries.push((
            Swatch::NonFinite,
            format!("non-finite ({})", data.nonfinite_count),
        ));
    }
    entries
}

/// The footnote at the bottom left, level with the x axis description:
/// smoothing and reduction, which the reader cannot see for themselves.
pub(super) fn draw_footnote<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
    s: f64,
) -> Result<(), String> {
    if text.is_empty() {
        return Ok(());
    }
    let height = root.dim_in_pixel().1 as f64;
    let style = font(11.0 * s, MUTED).pos(Pos::new(HPos::Left, VPos::Center));
    let at = ((14.0 * s) as i32, (height - 19.0 * s) as i32);
    root.draw_text(&clean(text, 80), &style, at).map_err(fail)
}

/// Where the header's pieces go, in device pixels.
struct HeaderLayout {
    title: String,
    /// Each legend entry with the centre-left point of its swatch.
    entries: Vec<(Swatch, String, (f64, f64))>,
    /// Legend rows under the title; 0 when the legend sits beside it.
    rows: usize,
    height: f64,
}

/// Title at top left and legend beside it, or wrapped below it in rows when
/// they do not fit.
fn layout_header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    spec: &ChartSpec,
    data: &Prepared,
    s: f64,
) -> Result<HeaderLayout, String> {
    let (width, pad) = (root.dim_in_pixel().0 as f64, 14.0 * s);
    let title = clean(&spec.title, 90);
    let measure = |text: &str, size: f64| {
        root.estimate_text_size(text, &font(size * s, INK))
            .map(|(w, _)| w as f64)
            .map_err(fail)
    };
    let title_w = measure(&title, TITLE_SIZE)?;
    let (title_row, legend_row, swatch, gap) = (24.0 * s, LEGEND_ROW * s, 22.0 * s, 16.0 * s);
    let entries = legend_entries(spec, data);
    let mut widths = Vec::with_capacity(entries.len());
    for (_, label) in &entries {
        widths.push(swatch + measure(label, LEGEND_SIZE)?);
    }
    let total = widths.iter().sum::<f64>() + gap * widths.len().saturating_sub(1) as f64;
    let beside = title_w + 3.0 * gap + total <= width - 2.0 * pad;
    // Beside the title the legend hugs the right edge; wrapped rows start under the title.
    let (mut x, mut y) = match beside {
        true => (width - pad - total, pad + title_row / 2.0),
        false => (pad, pad + title_row + legend_row / 2.0),
    };
    let mut placed = Vec::with_capacity(entries.len());
    for ((kind, label), w) in entries.into_iter().zip(&widths) {
        if !beside && x > pad && x + w > width - pad {
            (x, y) = (pad, y + legend_row);
        }
        placed.push((kind, label, (x, y)));
        x += w + gap;
    }
    let rows = match beside || placed.is_empty() {
        true => 0,
        false => ((y - (pad + title_row + legend_row / 2.0)) / legend_row).round() as usize + 1,
    };
    let bottom = pad + title_row + rows as f64 * legend_row;
    Ok(HeaderLayout {
        title,
        entries: placed,
        rows,
        height: (bottom + 6.0 * s).round(),
    })
}

/// Draw the header; returns its height.
pub(super) fn draw_header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    spec: &ChartSpec,
    data: &Prepared,
    s: f64,
) -> Result<u32, String> {
    let layout = layout_header(root, spec, data, s)?;
    let (pad, title_row) = (14.0 * s, 24.0 * s);
    let title_style = font(TITLE_SIZE * s, INK).pos(Pos::new(HPos::Left, VPos::Center));
    let legend_style = font(LEGEND_SIZE * s, INK).pos(Pos::new(HPos::Left, VPos::Center));
    let title_at = (pad as i32, (pad + title_row / 2.0) as i32);
    root.draw_text(&layout.title, &title_style, title_at)
        .map_err(fail)?;
    for (kind, label, (x, y)) in &layout.entries {
        draw_swatch(root, kind, (*x, *y), s)?;
        root.draw_text(label, &legend_style, ((x + 22.0 * s) as i32, *y as i32))
            .map_err(fail)?;
    }
    Ok(layout.height as u32)
}

/// How many legend rows go under the title (0 when the legend fits beside
/// it), laid out on a scratch SVG canvas of the chart's width: the canvas is
/// made taller by the rows past the first, so many runs never squash the plot.
pub(super) fn legend_rows(spec: &ChartSpec, data: &Prepared) -> Result<usize, String> {
    let mut scratch = String::new();
    let size = (WIDTH * SVG_UNITS, HEIGHT * SVG_UNITS);
    let root = super::svg::SvgWriter::new(&mut scratch, size).into_drawing_area();
    Ok(layout_header(&root, spec, data, SVG_UNITS as f64)?.rows)
}

fn draw_swatch<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    kind: &Swatch,
    (x, y): (f64, f64),
    s: f64,
) -> Result<(), String> {
    let c = ((x + 8.0 * s) as i32, y as i32);
    match kind {
        Swatch::Line(color, markers) => {
            // A bar rather than a path, so the SVG holds polylines for data only.
            let bar = [
                (x as i32, c.1 - s as i32),
                ((x + 16.0 * s) as i32, c.1 + s as i32),
            ];
            root.draw(&Rectangle::new(bar, color.filled()))
                .map_err(fail)?;
            if *markers {
                root.draw(&Circle::new(c, px(3.0 * s), color.filled()))
                    .map_err(fail)?;
            }
            Ok(())
        }
        Swatch::Best => draw_best_ring(root, c, 5.0, s),
        Swatch::NonFinite => draw_triangle(root, c, Edge::Top, s),
    }
}

#[cfg(test)]
mod tests {
    use super::super::render_svg;
    use super::super::test_support::{line, spec};
    use super::*;

    #[test]
    fn best_label_reads_like_the_axes() {
        assert_eq!(best_label((1000.0, 1.15432)), "best 1.154 @ 1k");
        assert_eq!(best_label((12_345.0, 0.00012)), "best 1.2e-4 @ 12.35k");
        assert_eq!(best_label((0.0, 87.25)), "best 87.25 @ 0");
    }

    #[test]
    fn best_point_has_a_legend_entry_and_none_has_not() {
        let points = vec![(0.0, 3.0), (1000.0, 1.15432), (2000.0, 1.3)];
        let mut s = spec(vec![line("val", points, true)]);
        assert!(!render_svg(&s).unwrap().contains("best"));
        s.best = Some((1000.0, 1.15432));
        assert!(render_svg(&s).unwrap().contains("\nbest 1.154 @ 1k\n"));
        // Outside the axes the value is still named, though no ring can show it.
        s.best = Some((1e6, 0.5));
        assert!(render_svg(&s).unwrap().contains("\nbest 0.5 @ 1M\n"));
        s.best = Some((1000.0, f64::NAN));
        assert!(!render_svg(&s).unwrap().contains("best"));
    }
}
