//! The header: title at the top left, and a legend that says what each mark
//! means (one entry per line, the best value, the non-finite count).
//!
//! The legend sits beside the title when it fits and wraps below it when it
//! does not, so the header's height is only known after laying it out; it is
//! drawn first and the plot gets what is left.

use super::fail;
use super::marks::{draw_best_ring, draw_triangle, Edge};
use super::prepare::Prepared;
use super::style::{clean, font, line_color, px, INK};
use super::ticks::format_tick;
use super::ChartSpec;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// What a legend entry shows in front of its label.
enum Swatch {
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
        .enumerate()
        .map(|(i, l)| {
            let label = clean(&l.label, 40);
            let label = if l.points.is_empty() {
                format!("{label} (no data)")
            } else {
                label
            };
            (Swatch::Line(line_color(i), l.markers), label)
        })
        .collect();
    if let Some(best) = data.best {
        entries.push((Swatch::Best, best_label(best)));
    }
    if data.nonfinite_count > 0 {
        entries.push((
            Swatch::NonFinite,
            format!("non-finite ({})", data.nonfinite_count),
        ));
    }
    entries
}

/// Title at top left and legend beside it, or wrapped below it when they do not fit.
/// Returns the header height.
pub(super) fn draw_header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    spec: &ChartSpec,
    data: &Prepared,
    s: f64,
) -> Result<u32, String> {
    let (width, pad) = (root.dim_in_pixel().0 as f64, 14.0 * s);
    let title = clean(&spec.title, 90);
    let title_style = font(17.0 * s, INK).pos(Pos::new(HPos::Left, VPos::Center));
    let legend_style = font(12.5 * s, INK).pos(Pos::new(HPos::Left, VPos::Center));
    let title_w = root
        .estimate_text_size(&title, &title_style)
        .map_err(fail)?
        .0 as f64;
    let (title_row, legend_row, swatch, gap) = (24.0 * s, 19.0 * s, 22.0 * s, 16.0 * s);
    root.draw_text(
        &title,
        &title_style,
        (pad as i32, (pad + title_row / 2.0) as i32),
    )
    .map_err(fail)?;

    let entries = legend_entries(spec, data);
    let mut widths = Vec::with_capacity(entries.len());
    for (_, label) in &entries {
        widths.push(
            swatch
                + root
                    .estimate_text_size(label, &legend_style)
                    .map_err(fail)?
                    .0 as f64,
        );
    }
    let total = widths.iter().sum::<f64>() + gap * widths.len().saturating_sub(1) as f64;
    let beside = title_w + 3.0 * gap + total <= width - 2.0 * pad;
    // Beside the title the legend hugs the right edge; wrapped rows start under the title.
    let (mut x, mut y) = match beside {
        true => (width - pad - total, pad + title_row / 2.0),
        false => (pad, pad + title_row + legend_row / 2.0),
    };
    for ((swatch_kind, label), w) in entries.iter().zip(&widths) {
        if !beside && x > pad && x + w > width - pad {
            (x, y) = (pad, y + legend_row);
        }
        draw_swatch(root, swatch_kind, (x, y), s)?;
        root.draw_text(label, &legend_style, ((x + swatch) as i32, y as i32))
            .map_err(fail)?;
        x += w + gap;
    }
    let bottom = if beside || entries.is_empty() {
        pad + title_row
    } else {
        y + legend_row / 2.0
    };
    Ok((bottom + 6.0 * s).round() as u32)
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
