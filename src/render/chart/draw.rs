//! The drawing itself, on any plotters backend: header, axes, grid, the lines,
//! and the marks over them, or a framed "no data" when there is nothing to plot.
//!
//! Generic over the backend so the SVG and the PNG come from one routine and
//! look the same (the PNG's backend strokes wide lines itself, see
//! [`super::raster`]). Layers go back to front: grid, non-finite bands, faded
//! lines, faint raw values, solid lines, dots, edge triangles, best ring. Faint
//! colours are mixed with white rather than drawn translucent, so overlapping
//! segments never bead and both formats get the same pixels.

use super::axis::{format_log_tick, YAxis, LOG_TICKS};
use super::legend::{draw_footnote, draw_header};
use super::marks::{draw_best_ring, draw_triangle, Edge};
use super::prepare::{Prepared, PreparedLine};
use super::reduce::is_plottable;
use super::style::{
    clean, faint, font, line_color, px, AXIS, FADED, FADED_ALPHA, GRID, MUTED, NONFINITE_RED,
    RAW_ALPHA,
};
use super::ticks::{format_tick, tick_step};
use super::{fail, ChartSpec};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::collections::BTreeSet;

type Plot<'a, DB> = ChartContext<'a, DB, Cartesian2d<YAxis, YAxis>>;

/// Draw the whole chart at `s` device pixels per logical pixel.
pub(super) fn draw_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    spec: &ChartSpec,
    data: &Prepared,
    s: f64,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(fail)?;
    let header = draw_header(root, spec, data, s)?;
    let (_, body) = root.split_vertically(header);
    if data.has_data {
        draw_plot(root, &body, spec, data, s)?;
        draw_footnote(root, &data.footnote, s)
    } else {
        let (w, h) = body.dim_in_pixel();
        let pad = 14.0 * s;
        let frame = [
            (pad as i32, 0),
            (w as i32 - pad as i32, h as i32 - pad as i32),
        ];
        body.draw(&Rectangle::new(frame, GRID.stroke_width(px(s))))
            .map_err(fail)?;
        let style = font(15.0 * s, MUTED).pos(Pos::new(HPos::Center, VPos::Center));
        body.draw_text(
            "no data",
            &style,
            (w as i32 / 2, (h as i32 - pad as i32) / 2),
        )
        .map_err(fail)
    }
}

/// Axes with tick labels, descriptions and grid, sized so the longest y tick fits.
fn draw_axes<'a, DB: DrawingBackend>(
    body: &'a DrawingArea<DB, Shift>,
    spec: &ChartSpec,
    data: &Prepared,
    s: f64,
) -> Result<Plot<'a, DB>, String> {
    let (n_x, n_y) = (
        if data.x_log { LOG_TICKS } else { 8 },
        if data.y.log { LOG_TICKS } else { 6 },
    );
    let (x_step, y_step) = (
        tick_step(data.x, n_x),
        tick_step((data.y.lo, data.y.hi), n_y),
    );
    // The x axis is the same kind of axis as y: linear, or linear over log10(x).
    let x_axis = YAxis {
        lo: data.x.0,
        hi: data.x.1,
        log: data.x_log,
    };
    let x_fmt = |v: &f64| match data.x_log {
        true => format_log_tick(*v),
        false => format_tick(*v, x_step),
    };
    let y_fmt = |v: &f64| match data.y.log {
        true => format_log_tick(*v),
        false => format_tick(*v, y_step),
    };
    let tick_style = font(12.0 * s, MUTED);
    let desc_style = font(12.5 * s, MUTED);
    let mut y_tick_w = 0u32;
    for v in data.y.ticks(n_y) {
        y_tick_w = y_tick_w.max(
            body.estimate_text_size(&y_fmt(&v), &tick_style)
                .map_err(fail)?
                .0,
        );
    }
    let (x_label, y_label) = (clean(&spec.x_label, 60), clean(&spec.y_label, 40));
    let desc = |label: &str| if label.is_empty() { 0.0 } else { 20.0 * s };
    let mut chart = ChartBuilder::on(body)
        .margin_left(px(14.0 * s))
        .margin_right(px(22.0 * s))
        .margin_top(px(4.0 * s))
        .margin_bottom(px(10.0 * s))
        .x_label_area_size(px(24.0 * s + desc(&x_label)))
        .y_label_area_size(px(y_tick_w as f64 + 12.0 * s + desc(&y_label)))
        .build_cartesian_2d(x_axis, data.y.clone())
        .map_err(fail)?;
    let mut mesh = chart.configure_mesh();
    mesh.x_labels(n_x)
        .y_labels(n_y)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .bold_line_style(GRID.stroke_width(px(s)))
        .light_line_style(TRANSPARENT)
        // Axes and tick marks would be SVG polylines like the data; a drawn baseline replaces them.
        .axis_style(TRANSPARENT)
        .set_all_tick_mark_size(px(4.0 * s))
        .label_style(tick_style)
        .axis_desc_style(desc_style);
    if !x_label.is_empty() {
        mesh.x_desc(x_label);
    }
    if !y_label.is_empty() {
        mesh.y_desc(y_label);
    }
    mesh.draw().map_err(fail)?;
    Ok(chart)
}

fn draw_plot<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    body: &DrawingArea<DB, Shift>,
    spec: &ChartSpec,
    data: &Prepared,
    s: f64,
) -> Result<(), String> {
    let mut chart = draw_axes(body, spec, data, s)?;
    let (cols, rows) = chart.plotting_area().get_pixel_range();
    let baseline = [
        (cols.start, rows.end - 1),
        (cols.end, rows.end - 1 + px(s) as i32),
    ];
    root.draw(&Rectangle::new(baseline, AXIS.filled()))
        .map_err(fail)?;
    // Non-finite points: a faint band across the plot under the curves, markers on the edge above them.
    let column = |x: f64| chart.backend_coord(&(x, data.y.lo)).0;
    for &(first, last) in &data.nonfinite_spans {
        let (a, b) = (
            column(first),
            column(last).max(column(first) + px(s) as i32),
        );
        let alpha = if first == last { 0.25 } else { 0.12 };
        root.draw(&Rectangle::new(
            [(a, rows.start), (b, rows.end)],
            NONFINITE_RED.mix(alpha).filled(),
        ))
        .map_err(fail)?;
    }
    let marks: BTreeSet<(Edge, i32)> = data
        .nonfinite
        .iter()
        .map(|&(x, edge)| (edge, column(x)))
        .collect();
    let ring = data.best_on_plot().map(|p| chart.backend_coord(&p));
    draw_lines(&mut chart, data, s)?;
    // Markers closer than their own width would merge into a bar; the band already shows the run.
    let mut last: Option<(Edge, i32)> = None;
    for (edge, x) in marks {
        if last.is_some_and(|(e, lx)| e == edge && x - lx < (14.0 * s) as i32) {
            continue;
        }
        last = Some((edge, x));
        let y = if edge == Edge::Top {
            rows.start + (6.0 * s) as i32
        } else {
            rows.end - (6.0 * s) as i32
        };
        draw_triangle(root, (x, y), edge, s)?;
    }
    if let Some(c) = ring {
        draw_best_ring(root, c, 7.0, s)?;
    }
    Ok(())
}

/// Every line, in layers: faded ones, then faint raw values, then the solid
/// lines (smoothed, or raw when not smoothed), then dots, so a line's
/// context never covers another line's subject.
fn draw_lines<DB: DrawingBackend>(
    chart: &mut Plot<DB>,
    data: &Prepared,
    s: f64,
) -> Result<(), String> {
    let faded = faint(FADED, FADED_ALPHA);
    for line in data.lines.iter().filter(|l| !l.band.is_empty()) {
        let color = line.color.map_or(FADED, line_color);
        draw_band(chart, &line.band, color.mix(BAND_ALPHA).filled())?;
    }
    for line in data
        .lines
        .iter()
        .filter(|l| l.color.is_none() && !l.scatter)
    {
        let solid = line.smooth.as_ref().unwrap_or(&line.raw);
        draw_path(chart, solid, faded, (px(s), s))?;
    }
    let coloured = || {
        data.lines
            .iter()
            .filter_map(|l| Some((l, line_color(l.color?))))
    };
    for (line, color) in coloured().filter(|(l, _)| l.smooth.is_some() && l.show_raw) {
        draw_path(chart, &line.raw, faint(color, RAW_ALPHA), (px(s), s))?;
    }
    for (line, color) in coloured().filter(|(l, _)| !l.scatter) {
        let (points, width) = solid_of(line, s);
        draw_path(chart, points, color, (width, s))?;
    }
    let on_plot = |p: &&(f64, f64)| is_plottable(**p) && data.y.lo <= p.1 && p.1 <= data.y.hi;
    for (line, color) in coloured().filter(|(l, _)| l.dots) {
        let radius = if line.scatter { 3.5 } else { 2.5 };
        let dots = line.raw.iter().filter(on_plot);
        let dots = dots.map(|&p| Circle::new(p, px(radius * s), color.filled()));
        chart.draw_series(dots).map_err(fail)?;
    }
    Ok(())
}

/// How strongly a band is tinted: enough to see where the seeds spread,
/// faint enough that the lines over it and other bands read through it.
const BAND_ALPHA: f64 = 0.16;

/// A band as filled polygons, one per stretch of finite bounds: along the
/// highs, then back along the lows.
fn draw_band<DB: DrawingBackend>(
    chart: &mut Plot<DB>,
    band: &[(f64, f64, f64)],
    style: ShapeStyle,
) -> Result<(), String> {
    let finite = |b: &&(f64, f64, f64)| b.0.is_finite() && b.1.is_finite() && b.2.is_finite();
    for stretch in band.split(|b| !finite(&b)).filter(|s| s.len() >= 2) {
        let outline: Vec<(f64, f64)> = stretch
            .iter()
            .map(|&(x, _, hi)| (x, hi))
            .chain(stretch.iter().rev().map(|&(x, lo, _)| (x, lo)))
            .collect();
        chart
            .draw_series(std::iter::once(Polygon::new(outline, style)))
            .map_err(fail)?;
    }
    Ok(())
}

/// The line drawn solid and its width: dense curves (smoothed, or raw that
/// is not: a schedule, a memory trace) at 1.5 pixels, sparse ones and marker
/// lines at 2 so they are seen; the faint raw values under a smoothed line
/// stay at 1.
fn solid_of(line: &PreparedLine, s: f64) -> (&[(f64, f64)], u32) {
    match &line.smooth {
        Some(smooth) => (smooth, px(1.5 * s)),
        None if line.dots || line.raw.len() < 300 => (&line.raw, px(2.0 * s)),
        None => (&line.raw, px(1.5 * s)),
    }
}

/// One path per run of finite points; a lone finite point between
/// non-finite ones gets a dot, so it is not lost. A wide path is stroked
/// with round joins by both backends (the PNG's by [`super::raster`]).
fn draw_path<DB: DrawingBackend>(
    chart: &mut Plot<DB>,
    points: &[(f64, f64)],
    color: RGBColor,
    (width, s): (u32, f64),
) -> Result<(), String> {
    for run in points
        .split(|p| !is_plottable(*p))
        .filter(|r| !r.is_empty())
    {
        if run.len() == 1 {
            let dot = Circle::new(run[0], px(1.5 * s).max(width), color.filled());
            chart.draw_series([dot]).map_err(fail)?;
        } else {
            chart
                .draw_series(LineSeries::new(
                    run.iter().copied(),
                    color.stroke_width(width),
                ))
                .map_err(fail)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::style::BEST_RING;
    use super::super::test_support::{line, spec};
    use super::super::{render_png, render_svg};
    use super::*;

    /// Best rings in an SVG: the only hollow circles drawn in their colour.
    fn rings(svg: &str) -> usize {
        let RGBColor(r, g, b) = BEST_RING;
        svg.matches(&format!("fill=\"none\" stroke=\"#{r:02X}{g:02X}{b:02X}\""))
            .count()
    }

    #[test]
    fn non_finite_values_are_marked_and_counted() {
        let points = vec![
            (0.0, 1.0),
            (1.0, f64::NAN),
            (2.0, 2.0),
            (3.0, f64::NEG_INFINITY),
            (4.0, 1.5),
        ];
        let svg = render_svg(&spec(vec![line("train", points, false)])).unwrap();
        assert!(svg.contains("non-finite (2)"));
        assert!(
            svg.matches("<polygon").count() >= 3,
            "two edge markers and the legend swatch"
        );
        let all_nan =
            render_svg(&spec(vec![line("train", vec![(5.0, f64::NAN); 3], true)])).unwrap();
        assert!(all_nan.contains("non-finite (3)") && all_nan.contains("<polygon"));
    }

    #[test]
    fn empty_input_says_no_data() {
        for s in [
            ChartSpec::default(),
            spec(vec![line("train", vec![], false)]),
        ] {
            assert!(render_svg(&s).unwrap().contains("no data"));
            render_png(&s).unwrap();
        }
    }

    #[test]
    fn degenerate_input_does_not_panic() {
        let nasty = [
            vec![(1.0, 1.0)],
            vec![(3.0, 2.0); 50],
            vec![
                (0.0, 1e300),
                (1.0, -1e300),
                (2.0, f64::MAX),
                (3.0, f64::MIN),
            ],
            vec![
                (f64::NAN, 1.0),
                (f64::INFINITY, f64::NAN),
                (1.0, 1e-320),
                (2.0, 2e-320),
            ],
            vec![(-5.0, -1e-9), (-5.0, -1.0000001e-9)],
            vec![(1e18, 1.0), (1e18 + 1e4, 1.0 + 1e-12)],
            // Diverged early: 100k non-finite points are all kept, their markers thinned.
            (0..100_000)
                .map(|i| (i as f64, if i < 10 { 1.0 } else { f64::NAN }))
                .collect(),
        ];
        for points in nasty {
            let s = spec(vec![
                line("x", points.clone(), true),
                line("y", points, false),
            ]);
            render_svg(&s).unwrap();
            render_png(&s).unwrap();
        }
    }

    #[test]
    fn best_point_is_ringed_on_the_plot_and_in_the_legend() {
        let points = vec![(0.0, 3.0), (1000.0, 1.2), (2000.0, 1.4)];
        let mut s = spec(vec![line("val", points, true)]);
        let plain = render_svg(&s).unwrap();
        assert_eq!(rings(&plain), 0, "no best point draws nothing extra");
        s.best = Some((1000.0, 1.2));
        let ringed = render_svg(&s).unwrap();
        assert_eq!(rings(&ringed), 2, "one on the plot, one in the legend");
        // The ring goes on top of everything that was drawn without it.
        assert_eq!(ringed.matches("<polyline").count(), 1);
        assert_eq!(
            ringed.matches("<circle").count(),
            plain.matches("<circle").count() + 4,
            "a halo and a ring, twice"
        );
    }

    #[test]
    fn best_point_off_the_plot_or_non_finite_does_not_panic() {
        let shapes = [
            vec![(0.0, 3.0), (1000.0, 1.2), (2000.0, 1.4)],
            vec![(1.0, 1.0)],
            vec![(5.0, f64::NAN); 3],
            vec![],
        ];
        let bests = [
            (5000.0, 1.2),
            (1000.0, -7.0),
            (f64::MAX, f64::MIN),
            (-1e308, 1e308),
            (f64::NAN, 1.2),
            (1000.0, f64::INFINITY),
            (f64::NEG_INFINITY, f64::NAN),
        ];
        for points in shapes {
            for best in bests {
                let mut s = spec(vec![line("val", points.clone(), true)]);
                s.best = Some(best);
                let svg = render_svg(&s).unwrap();
                render_png(&s).unwrap();
                assert!(rings(&svg) <= 1, "no ring on the plot for {best:?}");
            }
        }
    }
}
