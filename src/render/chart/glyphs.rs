//! The PNG's text: plotters' own glyph placement, with each glyph rasterized
//! once per thread instead of once per string.
//!
//! Plotters draws a string by parsing and rasterizing every glyph's outline
//! each time, then hands the backend every pixel of each glyph's box, most of
//! them with no ink, through two closures and a vector. The same glyphs (the
//! digits of the ticks, the axis names, the legend) are on every chart of a
//! build, and this was about as costly as drawing the curves. Here a glyph's
//! inked pixels are kept per character and size and replayed at the place
//! plotters' `ab_glyph` font puts them (kerning, advance and baseline as it
//! computes them), so the pixels are where plotters puts them (a test
//! compares them) and do not depend on what was drawn before, or on which
//! thread.

use super::style::{FONT_BYTES, FONT_FAMILY};
use ab_glyph::{Font, FontRef, ScaleFont};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::OnceLock;

/// Glyphs kept per thread before the cache starts over: a chart uses a few
/// dozen, so only text in a great many scripts and sizes would get here.
const MAX_GLYPHS: usize = 4096;

/// Steps of a text pixel's coverage: each text colour then adds at most this
/// many tints to the palette, so a chart's text does not push it past the 256
/// colours an indexed PNG holds (at most 4 of 255 off plotters' on a channel).
pub(super) const LEVELS: usize = 64;

/// A glyph rasterized at the origin: the top of its pixel box (which places
/// it on the line) and its pixels with ink, in the order plotters draws them,
/// each with its coverage in [`LEVELS`] steps (worked out once, here).
struct Glyph {
    top: f32,
    ink: Vec<(u32, u32, u8)>,
}

/// Glyphs by character and size (its bits); `None` for one with no outline.
type Glyphs = HashMap<(char, u64), Option<Rc<Glyph>>>;

thread_local! {
    static GLYPHS: RefCell<Glyphs> = RefCell::new(HashMap::new());
}

/// The chart font, parsed once; `None` if it does not parse (then plotters
/// draws the text, and reports the problem).
fn chart_font() -> Option<&'static FontRef<'static>> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(FONT_BYTES).ok())
        .as_ref()
}

/// Draw `text` in the chart font at `size` with its layout origin at (0, 0),
/// as plotters' `ab_glyph` font does: `ink(x, y, level)` for each pixel with
/// ink, its coverage in [`LEVELS`] steps (1 to `LEVELS`). False (and nothing
/// drawn) when `family` is not the chart font.
pub(super) fn draw_text(
    family: &str,
    text: &str,
    size: f64,
    mut ink: impl FnMut(i32, i32, usize),
) -> bool {
    let Some(font) = chart_font().filter(|_| family == FONT_FAMILY) else {
        return false;
    };
    let scaled = font.as_scaled(size as f32);
    let mut x_shift = 0f32;
    let mut prev = None;
    for c in text.chars() {
        if let Some(pc) = prev {
            x_shift += scaled.kern(scaled.glyph_id(pc), scaled.glyph_id(c));
        }
        prev = Some(c);
        if let Some(glyph) = glyph(font, c, size) {
            let y_shift = ((size as f32) / 2.0 + glyph.top) as i32;
            let x_shift = x_shift as i32;
            for &(x, y, level) in &glyph.ink {
                ink(x as i32 + x_shift, y as i32 + y_shift, level as usize);
            }
        }
        x_shift += scaled.h_advance(scaled.glyph_id(c));
    }
    true
}

/// `c` at `size`, from the cache or rasterized into it; `None` for a glyph
/// with no outline (a space).
fn glyph(font: &FontRef<'static>, c: char, size: f64) -> Option<Rc<Glyph>> {
    let key = (c, size.to_bits());
    if let Some(kept) = GLYPHS.with(|g| g.borrow().get(&key).cloned()) {
        return kept;
    }
    let scaled = font.as_scaled(size as f32);
    let glyph = scaled.outline_glyph(scaled.scaled_glyph(c)).map(|outline| {
        let mut ink = Vec::new();
        outline.draw(|x, y, coverage| {
            // Rounded by adding a half (`round` is a libm call).
            let level = (coverage.clamp(0.0, 1.0) * LEVELS as f32 + 0.5) as u8;
            if level > 0 {
                ink.push((x, y, level));
            }
        });
        Rc::new(Glyph {
            top: outline.px_bounds().min.y,
            ink,
        })
    });
    GLYPHS.with(|g| {
        let mut glyphs = g.borrow_mut();
        if glyphs.len() >= MAX_GLYPHS {
            glyphs.clear();
        }
        glyphs.insert(key, glyph.clone());
    });
    glyph
}
