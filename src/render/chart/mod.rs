//! Line charts: a [`ChartSpec`] in, an SVG string or PNG bytes out, all in memory.
//!
//! One drawing routine serves both backends so the two formats look the same;
//! the PNG is drawn at twice the scale (1280x720) so it stays sharp in markdown
//! and pull requests. Non-finite values are findings, not noise: a line breaks
//! where its value is NaN or infinite and each such point gets a red marker at
//! the plot edge, counted in the legend. Long series are reduced with a
//! min/max-per-bucket pass first so a 10M-step log costs what a 10k-step one
//! does and spikes survive; a reduced chart says so (`2,000 of 1,200,000
//! points`). Noisy lines are smoothed (TensorBoard's debiased EMA, on the full
//! series) and drawn over their faint raw values; values spanning more than two
//! decades get a log axis. Nothing here touches the filesystem: the font is
//! embedded and registered with plotters' `ab_glyph` support.
//!
//! This file is the public face and the order of work; the stages live beside it:
//! [`prepare`] smooths, reduces and measures the spec, [`draw`] lays out the plot,
//! [`legend`] the title, legend and footnote, [`marks`] the glyphs those share,
//! [`raster`] draws the PNG (plotters' bitmap, redone in [`bitmap`], with our
//! own wide lines, from [`stroke`], and text, from [`glyphs`]) on an indexed
//! [`canvas`], which also encodes it; [`svg`] writes the SVG plotters' SVG
//! backend would, faster, and [`encode`] turns it into the document we hand
//! out. Pure
//! helpers with their own tests are [`reduce`], [`smooth`], [`axis`] (log or
//! linear, and its ticks) and [`ticks`]; [`style`] holds the font, palette and
//! pixel arithmetic.

mod axis;
mod bitmap;
mod canvas;
mod draw;
mod encode;
mod glyphs;
mod legend;
mod marks;
mod prepare;
mod raster;
mod reduce;
mod smooth;
mod stroke;
mod style;
mod svg;
#[cfg(test)]
mod test_support;
mod ticks;

pub use axis::{bulk_range, wants_log_scale, LOG_SCALE_DECADES};
pub use reduce::reduce_points;
pub use smooth::{clamp_weight, smooth_ema};
pub use ticks::format_tick;

use plotters::prelude::*;

/// One curve on a chart.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChartLine {
    /// Name shown in the legend.
    pub label: String,
    /// `(x, y)` in drawing order; `y` may be NaN or infinite.
    pub points: Vec<(f64, f64)>,
    /// Also draw a small circle at each point (validation series, sparse evaluations);
    /// ignored past [`MAX_MARKERS`] points, where circles would only thicken the
    /// line, and on a smoothed line, which is no longer the evaluated values.
    pub markers: bool,
    /// Context rather than subject (the other runs of a big comparison): drawn
    /// thin and grey under the rest, left out of the legend and counted in its
    /// `N others` entry.
    pub faded: bool,
    /// A spread around the line, `(x, low, high)` in x order (the min and max
    /// of a few seeds, say), filled in the line's colour under every line. A
    /// line with a band is never smoothed: both are already averages.
    pub band: Vec<(f64, f64, f64)>,
    /// Dots only, no line between them: runs of a sweep, which are points, not a curve.
    pub scatter: bool,
    /// When `points` were thinned from a longer series (a run's digest), that
    /// series' point count and non-finite count, for the footnote and legend.
    pub thinned_from: Option<(usize, usize)>,
}

impl ChartSpec {
    /// Everything the chart shows, added to a cache key: a chart with the
    /// same fingerprint draws the same bytes. (The destructuring makes a new
    /// field a compile error here until it is added.)
    pub fn fingerprint(&self, key: &mut crate::cache::KeyMaker) {
        let ChartSpec {
            title,
            x_label,
            y_label,
            lines,
            best,
            best_label,
            smoothing,
            compares_runs,
            x_log,
        } = self;
        let mut floats = |values: &mut dyn Iterator<Item = f64>| {
            let bytes: Vec<u8> = values.flat_map(|v| v.to_bits().to_le_bytes()).collect();
            key.bytes(&bytes);
        };
        floats(&mut best.iter().flat_map(|&(x, y)| [x, y]));
        floats(&mut std::iter::once(*smoothing));
        for line in lines {
            let ChartLine {
                label: _,
                points,
                markers: _,
                faded: _,
                band,
                scatter: _,
                thinned_from,
            } = line;
            let (all, nonfinite) = thinned_from.unwrap_or((usize::MAX, usize::MAX));
            floats(&mut [all as f64, nonfinite as f64].into_iter());
            floats(&mut points.iter().flat_map(|&(x, y)| [x, y]));
            floats(&mut band.iter().flat_map(|&(x, lo, hi)| [x, lo, hi]));
        }
        key.text(title).text(x_label).text(y_label).text(best_label);
        let flags = [*compares_runs, *x_log, best.is_some()];
        key.number(flags.iter().fold(0, |n, &f| n << 1 | u64::from(f)));
        for line in lines {
            key.text(&line.label);
            let flags = [line.markers, line.faded, line.scatter];
            key.number(flags.iter().fold(0, |n, &f| n << 1 | u64::from(f)));
        }
    }
}

/// Everything one chart shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChartSpec {
    /// Shown at the top left (and as the SVG's `<title>`).
    pub title: String,
    /// Under the x axis, e.g. `step`; empty for none.
    pub x_label: String,
    /// Beside the y axis; empty for none.
    pub y_label: String,
    /// Drawn in order, later on top (faded lines first), coloured by position
    /// among the lines that are not faded (the palette repeats after twelve).
    pub lines: Vec<ChartLine>,
    /// `(x, y)` to ring as the best value (e.g. lowest validation loss), with a
    /// legend entry `best 1.154 @ 1k`. Ignored unless both are finite; outside
    /// the data's range it keeps the legend entry but gets no ring, because the
    /// axes belong to the data. Reduction always keeps this point.
    pub best: Option<(f64, f64)>,
    /// The best point's legend entry when its x alone would not say enough
    /// (`best 1.308 @ step 1.2k` on a wall-time axis); empty for the default.
    pub best_label: String,
    /// TensorBoard's EMA weight, 0 to [`smooth::MAX_WEIGHT`]: 0 draws the raw
    /// values; above it, each line with at least [`MIN_POINTS_TO_SMOOTH`] finite
    /// points (marker lines: more than [`MAX_MARKERS`]) is smoothed over its
    /// whole length and drawn solid over its faint raw values, and the
    /// footnote names the weight.
    pub smoothing: f64,
    /// Each line is a different run (a comparison), which changes three things.
    /// Smoothed lines are drawn without their faint raw values: a dozen raw
    /// lines are a grey haze, and each run's own page shows them. The y axis
    /// fits the bulk of the values ([`axis::bulk_range`]), as TensorBoard's
    /// "ignore outliers" does, so one diverged run does not flatten the others:
    /// lines run off the plot past it and the footnote says `outliers off
    /// scale`. And non-finite stretches are marked on the edge only, because a
    /// band across the plot would say that every run broke.
    pub compares_runs: bool,
    /// Put x on a log10 axis (a learning rate swept over decades); points
    /// with an x of zero or less cannot be placed on it and are left out.
    pub x_log: bool,
}

/// Logical size; the SVG scales from it and the PNG is twice it. A legend of
/// more than one row under the title adds its rows to the height.
const WIDTH: u32 = 640;
const HEIGHT: u32 = 360;
const PNG_SCALE: u32 = 2;
/// SVG user units per logical pixel. Plotters writes integer coordinates, so the
/// SVG is drawn at 2x inside a `scale(0.5)` group: half-pixel precision when a
/// browser blows it up, and the same geometry as the PNG.
const SVG_UNITS: u32 = 2;
/// Points per line after [`reduce_points`]; about two per horizontal pixel of the PNG.
pub const MAX_POINTS: usize = 2000;
/// Marker lines with more points than this are drawn as plain lines.
pub const MAX_MARKERS: usize = 200;
/// Lines with fewer finite points than this are never smoothed: an average
/// of a handful of values mostly lags. Marker lines (evaluations) are smoothed
/// only past [`MAX_MARKERS`] points: each evaluation is worth seeing as it is,
/// and an EMA over twenty of them would move the best one by steps.
pub const MIN_POINTS_TO_SMOOTH: usize = 20;

/// A chart in both formats, and its logical height (taller than [`HEIGHT`]
/// when its legend needs more than one row under the title).
pub struct Rendered {
    pub svg: String,
    pub png: Vec<u8>,
    pub height: u32,
}

/// Render as an SVG document meant to be inlined in HTML: `viewBox="0 0 640 360"`
/// (taller for a long legend), `width="100%"`, so it scales to its container.
/// All text is XML-escaped.
pub fn render_svg(spec: &ChartSpec) -> Result<String, String> {
    let data = prepare::prepare(spec);
    svg_of(spec, &data, canvas_height(spec, &data)?)
}

/// Render as PNG file bytes, 1280x720 (everything drawn at 2x; taller for a long legend).
pub fn render_png(spec: &ChartSpec) -> Result<Vec<u8>, String> {
    let data = prepare::prepare(spec);
    png_of(spec, &data, canvas_height(spec, &data)?)
}

/// Both formats from one preparation: smoothing and reducing a long series is
/// the part of a chart that grows with the data, so it happens once.
pub fn render_svg_and_png(spec: &ChartSpec) -> Result<Rendered, String> {
    let data = prepare::prepare(spec);
    let height = canvas_height(spec, &data)?;
    Ok(Rendered {
        svg: svg_of(spec, &data, height)?,
        png: png_of(spec, &data, height)?,
        height,
    })
}

/// [`HEIGHT`], plus a legend row for each row past the first under the title.
fn canvas_height(spec: &ChartSpec, data: &prepare::Prepared) -> Result<u32, String> {
    style::ensure_font()?;
    let extra = legend::legend_rows(spec, data)?.saturating_sub(1);
    Ok(HEIGHT + (extra as f64 * legend::LEGEND_ROW).round() as u32)
}

fn svg_of(spec: &ChartSpec, data: &prepare::Prepared, height: u32) -> Result<String, String> {
    style::ensure_font()?;
    let size = (WIDTH * SVG_UNITS, height * SVG_UNITS);
    // Drawn into a string kept per thread, then copied once into the
    // document: grown afresh for every chart, it was copied at each doubling.
    thread_local! {
        static DRAWN: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    DRAWN.with(|drawn| {
        let mut drawn = drawn.borrow_mut();
        drawn.clear();
        draw_on(svg::SvgWriter::new(&mut drawn, size), spec, data, SVG_UNITS)?;
        Ok(encode::make_responsive(
            &drawn,
            &style::clean(&spec.title, 200),
            height,
        ))
    })
}

fn png_of(spec: &ChartSpec, data: &prepare::Prepared, height: u32) -> Result<Vec<u8>, String> {
    style::ensure_font()?;
    // Drawn straight at twice the logical size. The lines are not
    // anti-aliased, but a 1280-pixel chart is shown at half that or less (in a
    // pull request, a README, a page), and the viewer's downscaling smooths
    // the edges; supersampling it again cost three quarters of a build.
    let (w, h) = (WIDTH * PNG_SCALE, height * PNG_SCALE);
    thread_local! {
        static CANVAS: std::cell::RefCell<canvas::Canvas> =
            std::cell::RefCell::new(canvas::Canvas::new(0, 0));
    }
    CANVAS.with(|canvas| {
        let mut canvas = canvas.borrow_mut();
        canvas.reset(w, h);
        draw_on(raster::Raster::new(&mut canvas), spec, data, PNG_SCALE)?;
        canvas.encode_png()
    })
}

/// Draw the chart on `backend` at `scale` device pixels per logical one, and
/// finish it (the backend, and what it borrows, are released on return).
fn draw_on<DB: DrawingBackend>(
    backend: DB,
    spec: &ChartSpec,
    data: &prepare::Prepared,
    scale: u32,
) -> Result<(), String> {
    let root = backend.into_drawing_area();
    draw::draw_chart(&root, spec, data, scale as f64)?;
    root.present().map_err(fail)
}

/// Plotters' drawing errors as the one-line message callers put in context.
fn fail<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> String {
    format!("drawing chart: {e}")
}

#[cfg(test)]
mod tests {
    use super::style::PALETTE;
    use super::test_support::{demo_spec, line, spec};
    use super::*;

    #[test]
    fn svg_has_one_path_per_line() {
        let lines = (0..3).map(|i| {
            line(
                &format!("l{i}"),
                vec![(0.0, i as f64), (1.0, 2.0), (2.0, 0.5)],
                i == 1,
            )
        });
        let svg = render_svg(&spec(lines.collect())).unwrap();
        assert_eq!(svg.matches("<polyline").count(), 3);
        for color in &PALETTE[..3] {
            let stroke = format!(
                "<polyline fill=\"none\" opacity=\"1\" stroke=\"#{:02X}{:02X}{:02X}\"",
                color.0, color.1, color.2
            );
            assert_eq!(svg.matches(&stroke).count(), 1, "{stroke}");
        }
        assert!(svg.starts_with("<svg width=\"100%\" height=\"auto\" viewBox=\"0 0 640 360\""));
        assert!(svg.contains("<title>loss</title>") && svg.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn svg_escapes_hostile_labels() {
        let evil = "<script>alert(1)</script></text><img src=x onerror=alert(1)>";
        let mut s = spec(vec![line(evil, vec![(0.0, 1.0), (1.0, 2.0)], false)]);
        (s.title, s.x_label, s.y_label) = (evil.into(), evil.into(), format!("\"{evil}\u{0}"));
        let svg = render_svg(&s).unwrap();
        assert!(
            !svg.contains("<script") && !svg.contains("<img") && !svg.contains('\u{0}'),
            "{svg}"
        );
        assert!(svg.contains("&lt;script&gt;"));
    }

    #[test]
    fn output_is_deterministic() {
        let s = demo_spec();
        assert_eq!(render_svg(&s).unwrap(), render_svg(&s).unwrap());
        assert_eq!(render_png(&s).unwrap(), render_png(&s).unwrap());
    }

    #[test]
    fn png_is_1280x720() {
        let png = render_png(&demo_spec()).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        let (colour, size, _) = test_support::decode_png(&png);
        assert_eq!(size, (1280, 720));
        // The demo's few dozen colours need no more than a palette.
        assert_eq!(colour, png::ColorType::Indexed);
    }

    /// The PNG strokes each line in its palette colour at its width: two
    /// flat sparse lines (2 logical pixels, so 4 device pixels) cross the
    /// middle column as two bands of exactly 4 pixels.
    #[test]
    fn png_lines_have_their_colour_and_width() {
        let flat = |y: f64| (0..50).map(|i| (i as f64, y)).collect::<Vec<_>>();
        let s = spec(vec![
            line("a", flat(1.0), false),
            line("b", flat(2.0), false),
        ]);
        let png = render_png(&s).unwrap();
        let (_, (w, h), rgb) = test_support::decode_png(&png);
        let pixel = |x: u32, y: u32| &rgb[((y * w + x) * 3) as usize..][..3];
        for color in &PALETTE[..2] {
            let rows: Vec<u32> = (0..h)
                .filter(|&y| pixel(640, y) == [color.0, color.1, color.2])
                .collect();
            assert_eq!(rows.len(), 4, "{color:?} at rows {rows:?}");
            assert_eq!(rows[3] - rows[0], 3, "one band: {rows:?}");
        }
    }

    #[test]
    fn renders_from_many_threads() {
        use rayon::prelude::*;
        let s = demo_spec();
        let pngs: Vec<Vec<u8>> = (0..8)
            .into_par_iter()
            .map(|_| render_png(&s).unwrap())
            .collect();
        assert!(pngs.windows(2).all(|w| w[0] == w[1]));
    }

    /// A million points draw like two thousand: every path stays within the
    /// reduction's bound, and the chart says how many points it drew.
    #[test]
    fn a_long_series_draws_a_bounded_path_and_says_so() {
        let points: Vec<(f64, f64)> = (0..1_000_000)
            .map(|i| (i as f64, 1.0 + ((i * 7919) % 1000) as f64 / 1000.0))
            .collect();
        let mut s = spec(vec![line("train", points, false)]);
        s.smoothing = 0.6;
        let svg = render_svg(&s).unwrap();
        let vertices: Vec<usize> = svg
            .split("<polyline")
            .skip(1)
            .map(|p| {
                p.split("points=\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap()
            })
            .map(|pts| pts.split_whitespace().count())
            .collect();
        assert_eq!(vertices.len(), 2, "the faint raw line and the smoothed one");
        assert!(
            vertices.iter().all(|v| *v <= MAX_POINTS + 2),
            "{vertices:?}"
        );
        assert!(svg.contains("smoothing 0.6 · "), "the footnote");
        assert!(svg.contains(" of 1,000,000 points"), "the footnote");
    }

    /// A seed band is a filled polygon under its line; a scatter line is
    /// dots without a path; a log x axis is labelled in decades and drops x <= 0.
    #[test]
    fn bands_scatter_and_a_log_x_axis() {
        let mut mean = line("3 seeds", vec![(0.0, 2.0), (1.0, 1.5), (2.0, 1.2)], false);
        mean.band = vec![(0.0, 1.8, 2.3), (1.0, 1.3, 1.6), (2.0, 1.1, 1.4)];
        let plain = render_svg(&spec(vec![line("x", mean.points.clone(), false)])).unwrap();
        let banded = render_svg(&spec(vec![mean])).unwrap();
        assert_eq!(
            banded.matches("<polygon").count(),
            plain.matches("<polygon").count() + 1,
            "one band"
        );
        let mut sweep = line(
            "runs",
            vec![(1e-5, 2.0), (1e-4, 1.4), (1e-3, 1.2), (0.0, 9.0)],
            false,
        );
        sweep.scatter = true;
        let mut s = spec(vec![sweep]);
        s.x_log = true;
        s.best = Some((1e-3, 1.2));
        let svg = render_svg(&s).unwrap();
        render_png(&s).unwrap();
        assert_eq!(svg.matches("<polyline").count(), 0, "dots, no line");
        assert!(svg.matches("<circle").count() >= 3, "a dot per placed run");
        assert!(
            svg.contains("\n1e-4\n") && svg.contains("\n1e-3\n"),
            "decade ticks"
        );
        assert!(
            !svg.contains("\n8\n"),
            "the run at x = 0 (y = 9) is not placed, so y stops near 2"
        );
    }

    /// `cargo test --lib render::chart -- --ignored` writes /tmp/chart_demo.{png,svg} to look at.
    #[test]
    #[ignore]
    fn write_demo_files() {
        let s = demo_spec();
        std::fs::write("/tmp/chart_demo.png", render_png(&s).unwrap()).unwrap();
        std::fs::write("/tmp/chart_demo.svg", render_svg(&s).unwrap()).unwrap();
    }
}
