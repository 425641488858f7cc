//! Line charts: a [`ChartSpec`] in, an SVG string or PNG bytes out, all in memory.
//!
//! One drawing routine serves both backends so the two formats look the same;
//! the PNG is drawn at twice the scale (1280x720) so it stays sharp in markdown
//! and pull requests. Non-finite values are findings, not noise: a line breaks
//! where its value is NaN or infinite and each such point gets a red marker at
//! the plot edge, counted in the legend. Long series are reduced with a
//! min/max-per-bucket pass first so a 100k-step log does not become a
//! 100k-vertex path but spikes survive. Nothing here touches the filesystem:
//! the font is embedded and registered with plotters' `ab_glyph` support.

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{register_font, FontStyle};
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// One curve on a chart.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChartLine {
    /// Name shown in the legend.
    pub label: String,
    /// `(x, y)` in drawing order; `y` may be NaN or infinite.
    pub points: Vec<(f64, f64)>,
    /// Also draw a small circle at each point (validation series, sparse evaluations);
    /// ignored past [`MAX_MARKERS`] points, where circles would only thicken the line.
    pub markers: bool,
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
    /// Drawn in order, later on top, coloured by position (the palette repeats after seven).
    pub lines: Vec<ChartLine>,
}

/// Logical size; the SVG scales from it and the PNG is twice it.
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
/// Values beyond this are drawn at it, so range arithmetic never overflows to infinity.
const LIMIT: f64 = 1e300;

/// The family name doubles as the SVG `font-family` attribute, so it is a CSS
/// fallback list: browsers without DejaVu pick a narrower sans, never a serif.
const FONT_FAMILY: &str = "DejaVu Sans, Helvetica, Arial, sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Okabe–Ito, reordered so vermillion (close to the non-finite red) comes late and yellow is out.
const PALETTE: [RGBColor; 7] = [
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0x00, 0x00, 0x00),
];
const NONFINITE_RED: RGBColor = RGBColor(0xD0, 0x10, 0x10);
const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
const MUTED: RGBColor = RGBColor(0x5F, 0x5F, 0x5F);
const GRID: RGBColor = RGBColor(0xE8, 0xE8, 0xE8);
const AXIS: RGBColor = RGBColor(0xB8, 0xB8, 0xB8);

/// Render as an SVG document meant to be inlined in HTML: `viewBox="0 0 640 360"`,
/// `width="100%"`, so it scales to its container. All text is XML-escaped.
pub fn render_svg(spec: &ChartSpec) -> Result<String, String> {
    ensure_font()?;
    let mut svg = String::new();
    {
        let size = (WIDTH * SVG_UNITS, HEIGHT * SVG_UNITS);
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        draw_chart(&root, spec, SVG_UNITS as f64, false)?;
        root.present().map_err(fail)?;
    }
    Ok(make_responsive(svg, &clean(&spec.title, 200)))
}

/// Render as PNG file bytes, 1280x720 (everything drawn at 2x).
pub fn render_png(spec: &ChartSpec) -> Result<Vec<u8>, String> {
    use image::ImageEncoder;
    ensure_font()?;
    // Plotters' bitmap lines and circles are not anti-aliased: draw at twice the
    // output size and average each 2x2 block, which smooths every edge alike.
    let (w, h) = (WIDTH * PNG_SCALE, HEIGHT * PNG_SCALE);
    let mut big = vec![0u8; (w * h * 12) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut big, (w * 2, h * 2)).into_drawing_area();
        draw_chart(&root, spec, PNG_SCALE as f64 * 2.0, true)?;
        root.present().map_err(fail)?;
    }
    let rgb = halve(&big, w as usize, h as usize);
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(&rgb, w, h, image::ColorType::Rgb8)
        .map_err(|e| format!("encoding chart PNG: {e}"))?;
    Ok(png)
}

/// Average each 2x2 block of an RGB image of `2w` x `2h` pixels into one.
fn halve(big: &[u8], w: usize, h: usize) -> Vec<u8> {
    let mut out = vec![0u8; w * h * 3];
    for (i, px) in out.iter_mut().enumerate() {
        let (x, y, c) = (i / 3 % w, i / 3 / w, i % 3);
        let at = |dx: usize, dy: usize| big[((2 * y + dy) * 2 * w + 2 * x + dx) * 3 + c] as u32;
        *px = ((at(0, 0) + at(1, 0) + at(0, 1) + at(1, 1) + 2) / 4) as u8;
    }
    out
}

/// Reduce `points` to about `max` (at least 4) while keeping its shape: the
/// first and last points, every non-finite point, and the lowest and highest
/// finite point of each of `(max - 2) / 2` equal-count buckets (so the global
/// min and max too), in their original order. The result has at most `max`
/// finite points plus all the non-finite ones, which are findings and never dropped.
pub fn reduce_points(points: &[(f64, f64)], max: usize) -> Vec<(f64, f64)> {
    let max = max.max(4);
    if points.len() <= max {
        return points.to_vec();
    }
    let inner = &points[1..points.len() - 1];
    let buckets = (max - 2) / 2;
    let mut kept = Vec::with_capacity(max + 2);
    kept.push(points[0]);
    for b in 0..buckets {
        let chunk = &inner[b * inner.len() / buckets..(b + 1) * inner.len() / buckets];
        let (mut lo, mut hi) = (None::<usize>, None::<usize>);
        for (i, p) in chunk.iter().enumerate().filter(|(_, p)| is_plottable(**p)) {
            if lo.map_or(true, |j| p.1 < chunk[j].1) {
                lo = Some(i);
            }
            if hi.map_or(true, |j| p.1 > chunk[j].1) {
                hi = Some(i);
            }
        }
        let keep = |i: usize, p: (f64, f64)| Some(i) == lo || Some(i) == hi || !is_plottable(p);
        kept.extend(
            chunk
                .iter()
                .enumerate()
                .filter(|(i, p)| keep(*i, **p))
                .map(|(_, p)| *p),
        );
    }
    kept.push(points[points.len() - 1]);
    kept
}

/// A tick label: `0.25`, `12k`, `1.5M`, `1e-4`. `step` is the distance between
/// ticks and decides the decimals (so neighbours never print alike) and whether
/// tiny values go scientific; pass 0 for a lone value (four significant digits).
pub fn format_tick(value: f64, step: f64) -> String {
    if value.is_nan() {
        return "NaN".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "inf" } else { "-inf" }.into();
    }
    let step = Some(step).filter(|s| s.is_finite() && *s > 0.0);
    let mag = value.abs();
    if mag == 0.0 || step.is_some_and(|s| mag < s * 1e-6) {
        return "0".into(); // also swallows float dust like 1.3e-17 on a 0.1 grid
    }
    if mag >= 1e15 || step.map_or(mag < 1e-3, |s| s < 1e-3) {
        let exp = mag.log10().floor() as i32;
        let digits = step.map_or(3, |s| decimals_for(s / 10f64.powi(exp)).min(3));
        let text = format!("{value:.digits$e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        return format!("{}e{exponent}", trim_zeros(mantissa));
    }
    let (unit, suffix) = [(1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")]
        .into_iter()
        .find(|(u, _)| mag >= *u)
        .unwrap_or((1.0, ""));
    let digits = match step {
        Some(s) => decimals_for(s / unit),
        None => (3 - (mag / unit).log10().floor() as i32).clamp(0, 8) as usize,
    };
    format!(
        "{}{suffix}",
        trim_zeros(&format!("{:.digits$}", value / unit))
    )
}

/// Decimals needed to write `step` exactly (0.25 -> 2), at most 8.
fn decimals_for(step: f64) -> usize {
    (0..=8)
        .find(|d| {
            let v = step * 10f64.powi(*d as i32);
            (v - v.round()).abs() < 1e-6 * v.max(1.0)
        })
        .unwrap_or(8)
}

fn trim_zeros(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

/// Register the embedded font once per process; later and concurrent callers wait for the first.
fn ensure_font() -> Result<(), String> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| register_font(FONT_FAMILY, FontStyle::Normal, FONT_BYTES).is_ok());
    ok.then_some(())
        .ok_or_else(|| "the embedded chart font could not be loaded".to_string())
}

fn fail<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> String {
    format!("drawing chart: {e}")
}

fn is_plottable(p: (f64, f64)) -> bool {
    p.0.is_finite() && p.1.is_finite()
}

/// User text made safe for one line of a chart: no control characters, bounded length.
/// (Plotters' SVG backend XML-escapes text itself; this keeps the layout sane.)
fn clean(text: &str, max_chars: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat = flat.trim();
    if flat.chars().count() <= max_chars {
        return flat.to_string();
    }
    let mut cut: String = flat.chars().take(max_chars.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Swap plotters' fixed-size `<svg>` tag for one that fills its container, has
/// the logical viewBox and an accessible title, and scale the drawing into it.
/// If plotters ever writes a different header or footer the document is
/// returned as is: it already has a viewBox of its own.
fn make_responsive(svg: String, title: &str) -> String {
    let (w, h) = (WIDTH * SVG_UNITS, HEIGHT * SVG_UNITS);
    let head = format!(
        "<svg width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" xmlns=\"http://www.w3.org/2000/svg\">\n"
    );
    let Some(body) = svg
        .strip_prefix(&head)
        .and_then(|b| b.strip_suffix("</svg>\n"))
    else {
        return svg;
    };
    let title = if title.is_empty() {
        String::new()
    } else {
        format!("<title>{}</title>\n", xml_escape(title))
    };
    format!(
        "<svg width=\"100%\" height=\"auto\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" preserveAspectRatio=\"xMidYMid meet\" \
         role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">\n{title}<g transform=\"scale({})\">\n{body}</g>\n</svg>\n",
        1.0 / SVG_UNITS as f64
    )
}

/// Where a non-finite point is marked: NaN and +inf at the top edge, -inf at the bottom.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Edge {
    Top,
    Bottom,
}

/// The spec reduced and measured, ready to draw.
struct Prepared {
    lines: Vec<Vec<(f64, f64)>>,
    x: (f64, f64),
    y: (f64, f64),
    /// Each non-finite point's x and the edge it is marked on.
    nonfinite: Vec<(f64, Edge)>,
    /// First and last x of each run of consecutive non-finite points of a line.
    nonfinite_spans: Vec<(f64, f64)>,
    nonfinite_count: usize,
    has_data: bool,
}

fn prepare(spec: &ChartSpec) -> Prepared {
    let clamp = |v: f64| {
        if v.is_finite() {
            v.clamp(-LIMIT, LIMIT)
        } else {
            v
        }
    };
    let lines: Vec<Vec<(f64, f64)>> = spec
        .lines
        .iter()
        .map(|l| {
            reduce_points(&l.points, MAX_POINTS)
                .into_iter()
                .map(|(x, y)| (clamp(x), clamp(y)))
                .collect()
        })
        .collect();
    let all = || lines.iter().flatten().copied();
    let xs = all().map(|p| p.0).filter(|x| x.is_finite());
    let ys = all().filter(|p| is_plottable(*p)).map(|p| p.1);
    let nonfinite = all()
        .filter(|p| p.0.is_finite() && !p.1.is_finite())
        .map(|(x, y)| {
            (
                x,
                if y == f64::NEG_INFINITY {
                    Edge::Bottom
                } else {
                    Edge::Top
                },
            )
        })
        .collect();
    let mut nonfinite_spans = Vec::new();
    for line in &lines {
        let mut open: Option<(f64, f64)> = None;
        for &(x, y) in line {
            if x.is_finite() && !y.is_finite() {
                open = Some(open.map_or((x, x), |(first, _)| (first, x)));
            } else if let Some(span) = open.take() {
                nonfinite_spans.push(span);
            }
        }
        nonfinite_spans.extend(open);
    }
    Prepared {
        x: padded_range(xs, 0.0),
        y: padded_range(ys, 0.06),
        nonfinite,
        nonfinite_spans,
        nonfinite_count: spec
            .lines
            .iter()
            .flat_map(|l| &l.points)
            .filter(|p| !p.1.is_finite())
            .count(),
        has_data: all().any(|p| p.0.is_finite()),
        lines,
    }
}

/// The range of `values` widened by `frac` of its span on each side; a
/// degenerate range (one value, or a span lost in float precision) is widened
/// around its centre so ticks stay distinct. No values gives 0..1.
fn padded_range(values: impl Iterator<Item = f64>, frac: f64) -> (f64, f64) {
    let Some((lo, hi)) = values.fold(None, |acc: Option<(f64, f64)>, v| {
        Some(acc.map_or((v, v), |(lo, hi)| (lo.min(v), hi.max(v))))
    }) else {
        return (0.0, 1.0);
    };
    let span = hi - lo;
    if span <= lo.abs().max(hi.abs()) * 1e-9 {
        let mid = lo / 2.0 + hi / 2.0;
        let pad = if mid.abs() > 1e-200 {
            mid.abs() * 0.1
        } else {
            1.0
        };
        return (mid - pad, mid + pad);
    }
    (lo - span * frac, hi + span * frac)
}

/// The distance between the ticks plotters will draw for `range` with at most `n` labels.
fn tick_step(range: (f64, f64), n: usize) -> f64 {
    let ticks = RangedCoordf64::from(range.0..range.1).key_points(n);
    match ticks.as_slice() {
        [a, b, ..] => b - a,
        _ => range.1 - range.0,
    }
}

fn font(size: f64, color: RGBColor) -> TextStyle<'static> {
    (FONT_FAMILY, size).into_font().color(&color)
}

fn px(v: f64) -> u32 {
    v.round().max(1.0) as u32
}

/// What a legend entry shows in front of its label.
enum Swatch {
    Line(RGBColor, bool),
    NonFinite,
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
            (Swatch::Line(PALETTE[i % PALETTE.len()], l.markers), label)
        })
        .collect();
    if data.nonfinite_count > 0 {
        entries.push((
            Swatch::NonFinite,
            format!("non-finite ({})", data.nonfinite_count),
        ));
    }
    entries
}

/// Draw the whole chart at `s` device pixels per logical pixel; `bitmap` picks
/// the line drawing that suits plotters' rasterizer (see [`draw_line`]).
fn draw_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    spec: &ChartSpec,
    s: f64,
    bitmap: bool,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(fail)?;
    let data = prepare(spec);
    let header = draw_header(root, spec, &data, s)?;
    let (_, body) = root.split_vertically(header);
    if data.has_data {
        draw_plot(root, &body, spec, &data, s, bitmap)
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

/// Title at top left and legend beside it, or wrapped below it when they do not fit.
/// Returns the header height.
fn draw_header<DB: DrawingBackend>(
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
        Swatch::NonFinite => draw_triangle(root, c, Edge::Top, s),
    }
}

/// A red triangle centred at `c`, pointing into the plot from `edge`.
fn draw_triangle<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    c: (i32, i32),
    edge: Edge,
    s: f64,
) -> Result<(), String> {
    let (half, tip) = (
        (5.0 * s) as i32,
        if edge == Edge::Top { 1 } else { -1 } * (4.5 * s) as i32,
    );
    let points = vec![
        (c.0 - half, c.1 - tip),
        (c.0 + half, c.1 - tip),
        (c.0, c.1 + tip),
    ];
    root.draw(&Polygon::new(points, NONFINITE_RED.filled()))
        .map_err(fail)
}

fn draw_plot<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    body: &DrawingArea<DB, Shift>,
    spec: &ChartSpec,
    data: &Prepared,
    s: f64,
    bitmap: bool,
) -> Result<(), String> {
    let (n_x, n_y) = (8, 6);
    let (x_step, y_step) = (tick_step(data.x, n_x), tick_step(data.y, n_y));
    let x_fmt = |v: &f64| format_tick(*v, x_step);
    let y_fmt = |v: &f64| format_tick(*v, y_step);
    let tick_style = font(12.0 * s, MUTED);
    let desc_style = font(12.5 * s, MUTED);
    let mut y_tick_w = 0u32;
    for v in RangedCoordf64::from(data.y.0..data.y.1).key_points(n_y) {
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
        .build_cartesian_2d(data.x.0..data.x.1, data.y.0..data.y.1)
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

    let (cols, rows) = chart.plotting_area().get_pixel_range();
    let baseline = [
        (cols.start, rows.end - 1),
        (cols.end, rows.end - 1 + px(s) as i32),
    ];
    root.draw(&Rectangle::new(baseline, AXIS.filled()))
        .map_err(fail)?;
    // Non-finite points: a faint band across the plot under the curves, markers on the edge above them.
    let column = |x: f64| chart.backend_coord(&(x, data.y.0)).0;
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
    for (i, (line, points)) in spec.lines.iter().zip(&data.lines).enumerate() {
        draw_line(
            &mut chart,
            points,
            PALETTE[i % PALETTE.len()],
            line.markers,
            s,
            bitmap,
        )?;
    }
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
    Ok(())
}

/// One series: a path per run of finite points, dots for sparse marker lines.
///
/// On a bitmap each segment is its own quad with a round join: plotters fills a
/// wide polyline as one self-overlapping polygon, which leaves holes and
/// slivers on a noisy curve. The SVG keeps one polyline per run.
fn draw_line<DB: DrawingBackend>(
    chart: &mut ChartContext<DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    points: &[(f64, f64)],
    color: RGBColor,
    markers: bool,
    s: f64,
    bitmap: bool,
) -> Result<(), String> {
    // Dense raw curves read better thin; sparse ones need weight to be seen. Past
    // a few hundred points, markers would only fatten the line into a blob.
    let width = px(if markers || points.len() < 300 {
        2.0 * s
    } else {
        s
    });
    let markers = markers && points.len() <= MAX_MARKERS;
    for run in points
        .split(|p| !is_plottable(*p))
        .filter(|r| !r.is_empty())
    {
        if run.len() == 1 && !markers {
            chart
                .draw_series([Circle::new(run[0], px(1.5 * s), color.filled())])
                .map_err(fail)?;
        } else if bitmap {
            let style = color.stroke_width(width);
            chart
                .draw_series(
                    run.windows(2)
                        .map(|w| PathElement::new(vec![w[0], w[1]], style)),
                )
                .map_err(fail)?;
            let joins = run
                .iter()
                .skip(1)
                .take(run.len().saturating_sub(2))
                .map(|&p| Circle::new(p, width / 2, color.filled()));
            chart.draw_series(joins).map_err(fail)?;
        } else {
            chart
                .draw_series(LineSeries::new(
                    run.iter().copied(),
                    color.stroke_width(width),
                ))
                .map_err(fail)?;
        }
        if markers {
            let dots = run
                .iter()
                .map(|&p| Circle::new(p, px(2.5 * s), color.filled()));
            chart.draw_series(dots).map_err(fail)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(label: &str, points: Vec<(f64, f64)>, markers: bool) -> ChartLine {
        ChartLine {
            label: label.into(),
            points,
            markers,
        }
    }

    fn spec(lines: Vec<ChartLine>) -> ChartSpec {
        ChartSpec {
            title: "loss".into(),
            x_label: "step".into(),
            y_label: "loss".into(),
            lines,
        }
    }

    /// A deterministic noisy loss curve, 3.5 decaying to 1.0 over 2000 logged steps
    /// with one NaN, and a validation point every 100 of them.
    fn demo_spec() -> ChartSpec {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut noise = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % 10_000) as f64 / 10_000.0 - 0.5
        };
        let curve = |step: f64| 1.0 + 2.5 * (-step / 450.0).exp();
        let train = (0..2000)
            .map(|i| {
                let step = i as f64 * 10.0;
                let y = if i == 1234 {
                    f64::NAN
                } else {
                    curve(i as f64) + 0.18 * noise()
                };
                (step, y)
            })
            .collect();
        let val = (0..=20)
            .map(|k| {
                (
                    k as f64 * 1000.0,
                    curve(k as f64 * 100.0) + 0.06 + 0.004 * k as f64,
                )
            })
            .collect();
        ChartSpec {
            title: "run-042 · loss".into(),
            x_label: "step".into(),
            y_label: "loss".into(),
            lines: vec![line("train", train, false), line("validation", val, true)],
        }
    }

    #[test]
    fn formats_ticks() {
        assert_eq!(format_tick(0.25, 0.05), "0.25");
        assert_eq!(format_tick(0.5, 0.25), "0.5");
        assert_eq!(format_tick(3.0, 0.5), "3");
        assert_eq!(format_tick(12_000.0, 2_000.0), "12k");
        assert_eq!(format_tick(12_500.0, 500.0), "12.5k");
        assert_eq!(format_tick(1_500_000.0, 500_000.0), "1.5M");
        assert_eq!(format_tick(3e9, 1e9), "3B");
        assert_eq!(format_tick(1e-4, 2e-5), "1e-4");
        assert_eq!(format_tick(1.2e-4, 2e-5), "1.2e-4");
        assert_eq!(format_tick(-2e-5, 2e-5), "-2e-5");
        assert_eq!(format_tick(2e300, 5e299), "2e300");
        assert_eq!(format_tick(1.3e-17, 0.1), "0");
        assert_eq!(format_tick(-0.0, 1.0), "0");
        assert_eq!(format_tick(0.30000000000000004, 0.1), "0.3");
        assert_eq!(format_tick(f64::NAN, 1.0), "NaN");
        assert_eq!(format_tick(f64::NEG_INFINITY, 1.0), "-inf");
        // Without a step: four significant digits.
        assert_eq!(format_tick(1.23456, 0.0), "1.235");
        assert_eq!(format_tick(12_345.0, 0.0), "12.35k");
        assert_eq!(format_tick(0.0123, 0.0), "0.0123");
        assert_eq!(format_tick(0.00012, 0.0), "1.2e-4");
    }

    #[test]
    fn reduction_keeps_extremes_and_non_finite_within_bound() {
        let mut points: Vec<(f64, f64)> = (0..100_000)
            .map(|i| (i as f64, (i as f64 * 0.01).sin()))
            .collect();
        points[500].1 = -7.0;
        points[77_777].1 = 9.0;
        points[1_000].1 = f64::NAN;
        points[50_000].1 = f64::INFINITY;
        let reduced = reduce_points(&points, 2000);
        assert!(reduced.len() <= 2000 + 2, "{}", reduced.len());
        assert_eq!(reduced.first(), points.first());
        assert_eq!(reduced.last(), points.last());
        assert!(reduced.contains(&(500.0, -7.0)) && reduced.contains(&(77_777.0, 9.0)));
        assert!(reduced.iter().any(|p| p.0 == 1_000.0 && p.1.is_nan()));
        assert!(reduced.contains(&(50_000.0, f64::INFINITY)));
        assert!(reduced.windows(2).all(|w| w[0].0 < w[1].0), "order is kept");
        // Short input is untouched; a silly bound still keeps the ends.
        assert_eq!(reduce_points(&points[..10], 2000), points[..10].to_vec());
        let tiny = reduce_points(&points, 0);
        assert!(tiny.len() <= 4 + 2 && tiny[0] == points[0] && tiny.last() == points.last());
    }

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
        let img = image::load_from_memory_with_format(&png, image::ImageFormat::Png).unwrap();
        assert_eq!((img.width(), img.height()), (1280, 720));
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
    fn renders_from_many_threads() {
        use rayon::prelude::*;
        let s = demo_spec();
        let pngs: Vec<Vec<u8>> = (0..8)
            .into_par_iter()
            .map(|_| render_png(&s).unwrap())
            .collect();
        assert!(pngs.windows(2).all(|w| w[0] == w[1]));
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
