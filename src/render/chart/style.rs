//! How charts look: the embedded font, the palette, and the small helpers that
//! turn logical sizes into device pixels and user text into one safe line.
//!
//! Every size in the drawing code is a logical pixel times `s`, the device
//! pixels per logical pixel of the backend at hand; colours and the typeface
//! are named here so a change of look happens in one place.

use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use std::sync::OnceLock;

/// The family name doubles as the SVG `font-family` attribute, so it is a CSS
/// fallback list: browsers without DejaVu pick a narrower sans, never a serif.
pub(super) const FONT_FAMILY: &str = "DejaVu Sans, Helvetica, Arial, sans-serif";
pub(super) static FONT_BYTES: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// Okabe–Ito, reordered so vermillion (close to the non-finite red) comes late
/// and yellow is out; then five of Paul Tol's colour-blind-safe "muted" set, so
/// a comparison of a dozen runs needs no colour twice.
pub(super) const PALETTE: [RGBColor; 12] = [
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0x00, 0x00, 0x00),
    RGBColor(0x33, 0x22, 0x88),
    RGBColor(0x99, 0x99, 0x33),
    RGBColor(0x88, 0x22, 0x55),
    RGBColor(0x44, 0xAA, 0x99),
    RGBColor(0xAA, 0x44, 0x99),
];
/// Lines that are context, not subject (the other runs of a big comparison).
pub(super) const FADED: RGBColor = RGBColor(0x9A, 0xA0, 0xA6);
/// Opacity of a raw line under its smoothed one, and of faded lines: there, but behind.
pub(super) const RAW_ALPHA: f64 = 0.28;
pub(super) const FADED_ALPHA: f64 = 0.45;
pub(super) const NONFINITE_RED: RGBColor = RGBColor(0xD0, 0x10, 0x10);
/// The best-value ring: near-black, so it reads as an annotation rather than a
/// series, on every palette colour.
pub(super) const BEST_RING: RGBColor = RGBColor(0x1A, 0x1A, 0x1A);
pub(super) const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
pub(super) const MUTED: RGBColor = RGBColor(0x5F, 0x5F, 0x5F);
pub(super) const GRID: RGBColor = RGBColor(0xE8, 0xE8, 0xE8);
pub(super) const AXIS: RGBColor = RGBColor(0xB8, 0xB8, 0xB8);

/// The colour of the `index`th line, the same in the plot and the legend.
pub(super) fn line_color(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// `color` at `alpha` over white, as an opaque colour: faint lines that overlap
/// each other (or themselves, on a bitmap) stay evenly faint.
pub(super) fn faint(color: RGBColor, alpha: f64) -> RGBColor {
    let mix = |c: u8| (c as f64 * alpha + 255.0 * (1.0 - alpha)).round() as u8;
    RGBColor(mix(color.0), mix(color.1), mix(color.2))
}

/// Register the embedded font once per process; later and concurrent callers wait for the first.
pub(super) fn ensure_font() -> Result<(), String> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| register_font(FONT_FAMILY, FontStyle::Normal, FONT_BYTES).is_ok());
    ok.then_some(())
        .ok_or_else(|| "the embedded chart font could not be loaded".to_string())
}

pub(super) fn font(size: f64, color: RGBColor) -> TextStyle<'static> {
    (FONT_FAMILY, size).into_font().color(&color)
}

/// A device length in whole pixels, never zero so thin strokes stay visible.
pub(super) fn px(v: f64) -> u32 {
    v.round().max(1.0) as u32
}

/// `v.floor()` without the libm call `f64::floor` is on a baseline x86-64
/// build (pixel arithmetic runs for every point): exact, since a double of
/// 4e15 or more is already whole, and NaN and the infinities come back as
/// they are.
pub(super) fn floor(v: f64) -> f64 {
    if v.is_nan() || v.abs() >= 4.0e15 {
        return v;
    }
    let whole = v as i64 as f64;
    if whole > v {
        whole - 1.0
    } else {
        whole
    }
}

/// User text made safe for one line of a chart: no control characters, bounded length.
/// (Plotters' SVG backend XML-escapes text itself; this keeps the layout sane.)
pub(super) fn clean(text: &str, max_chars: usize) -> String {
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
