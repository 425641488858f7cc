//! The PNG's canvas: plotters' bitmap backend with our own stroke for wide lines.
//!
//! Plotters strokes a line wider than a pixel by turning it into a polygon and
//! filling that with a general scanline filler (sorting edges for every row),
//! and a polyline becomes one self-overlapping polygon that leaves holes on a
//! noisy curve. A chart's curves are nearly all of its pixels' cost, so
//! [`Raster`] strokes them itself: each segment is a capsule (the points
//! closer than half the width to it), which gives round joins and caps for
//! free, and a capsule meets a pixel row in one interval that is computed
//! exactly and filled as a span. Text is placed as plotters places it, from
//! glyphs rasterized once per thread ([`super::glyphs`]), and blended here.
//! Everything else (rectangles, circles, polygons, thin lines) goes to
//! plotters' backend unchanged.
//!
//! Pixel `(i, j)` is the unit square whose centre is `(i + 0.5, j + 0.5)`; a
//! vertex of an odd-width line sits on a pixel centre and one of an even
//! width on a pixel corner, so a horizontal line of width `w` covers exactly
//! `w` rows. Not anti-aliased, like the rest of plotters' bitmap drawing: the
//! PNG is drawn at twice the size it is shown, and the viewer's downscaling
//! smooths the edges.

use super::glyphs;
use plotters::prelude::*;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle};

type BitMapError = <BitMapBackend<'static> as DrawingBackend>::ErrorType;
type DrawingError = plotters_backend::DrawingErrorKind<BitMapError>;

/// An RGB buffer to draw a chart on: [`BitMapBackend`] but for wide lines
/// and text, which it paints into the buffer itself.
pub(super) struct Raster<'a> {
    rgb: &'a mut [u8],
    size: (u32, u32),
}

impl<'a> Raster<'a> {
    /// Draw on `rgb`, `w * h * 3` bytes, row by row.
    pub fn with_buffer(rgb: &'a mut [u8], size: (u32, u32)) -> Self {
        Self { rgb, size }
    }

    /// Plotters' backend on the same buffer, for one call.
    fn bitmap(&mut self) -> Result<BitMapBackend<'_>, DrawingError> {
        BitMapBackend::with_buffer_and_format(self.rgb, self.size)
            .map_err(plotters_backend::DrawingErrorKind::DrawingError)
    }

    /// Pixels `first..=last` of `row` in `color`, blended as plotters blends.
    fn paint(&mut self, row: i32, first: i32, last: i32, color: BackendColor) {
        let (w, h) = (self.size.0 as i64, self.size.1 as i64);
        let (row, first, last) = (row as i64, (first as i64).max(0), (last as i64).min(w - 1));
        if !(0..h).contains(&row) || first > last {
            return;
        }
        let at = |x: i64| ((row * w + x) * 3) as usize;
        let Some(pixels) = self.rgb.get_mut(at(first)..at(last + 1)) else {
            return;
        };
        match Ink::of(color) {
            Some(Ink::Set(r, g, b)) => {
                for p in pixels.chunks_exact_mut(3) {
                    (p[0], p[1], p[2]) = (r, g, b);
                }
            }
            Some(ink) => pixels.chunks_exact_mut(3).for_each(|p| ink.put(p)),
            None => {}
        }
    }

    /// One pixel, as [`Self::paint`] paints it; the text's many pixels come one at a time.
    #[inline]
    fn dot(&mut self, x: i32, y: i32, color: BackendColor) {
        let (w, h) = self.size;
        if (x as u32) < w && (y as u32) < h {
            let i = (y as usize * w as usize + x as usize) * 3;
            if let (Some(p), Some(ink)) = (self.rgb.get_mut(i..i + 3), Ink::of(color)) {
                ink.put(p);
            }
        }
    }

    fn stroke_path(&mut self, path: &[BackendCoord], width: u32, color: BackendColor) {
        let size = self.size;
        if color.alpha >= 1.0 {
            // Opaque: a pixel painted twice (where segments meet) is painted the same.
            stroke(path, width, size, |row, first, last| {
                self.paint(row, first, last, color)
            });
        } else {
            // Translucent: every pixel once, or each join would show as a darker bead.
            let mut spans = Vec::new();
            stroke(path, width, size, |row, first, last| {
                spans.push((row, first, last))
            });
            for (row, first, last) in merge_spans(spans) {
                self.paint(row, first, last, color);
            }
        }
    }
}

/// A colour as plotters' bitmap lays it on a pixel: set from an alpha of
/// 255/256 up, mixed in 256ths below, nothing at 0.
#[derive(Clone, Copy)]
enum Ink {
    Set(u8, u8, u8),
    Mix(u8, u8, u8, u32),
}

impl Ink {
    fn of(color: BackendColor) -> Option<Ink> {
        let (r, g, b) = color.rgb;
        if color.alpha >= 1.0 - 1.0 / 256.0 {
            Some(Ink::Set(r, g, b))
        } else if color.alpha > 0.0 {
            Some(Ink::Mix(r, g, b, (color.alpha * 256.0).floor() as u32))
        } else {
            None
        }
    }

    #[inline]
    fn put(self, p: &mut [u8]) {
        let mix = |old: &mut u8, new: u8, a: u32| {
            let (o, n) = (*old as u32, new as u32);
            *old = if n > o {
                o + (n - o) * a / 256
            } else {
                o - (o - n) * a / 256
            } as u8;
        };
        match (self, p) {
            (Ink::Set(r, g, b), [pr, pg, pb, ..]) => (*pr, *pg, *pb) = (r, g, b),
            (Ink::Mix(r, g, b, a), [pr, pg, pb, ..]) => {
                mix(pr, r, a);
                mix(pg, g, a);
                mix(pb, b, a);
            }
            _ => {}
        }
    }
}

impl DrawingBackend for Raster<'_> {
    type ErrorType = BitMapError;

    fn get_size(&self) -> (u32, u32) {
        self.size
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingError> {
        Ok(())
    }

    fn present(&mut self) -> Result<(), DrawingError> {
        Ok(())
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), DrawingError> {
        self.dot(point.0, point.1, color);
        Ok(())
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingError> {
        match style.stroke_width() {
            0 | 1 => self.bitmap()?.draw_line(from, to, style),
            _ => self.draw_path([from, to], style),
        }
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingError> {
        self.bitmap()?
            .draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingError> {
        let color = style.color();
        match style.stroke_width() {
            _ if color.alpha <= 0.0 => Ok(()),
            0 | 1 => self.bitmap()?.draw_path(path, style),
            width => {
                let path: Vec<BackendCoord> = path.into_iter().collect();
                self.stroke_path(&path, width, color);
                Ok(())
            }
        }
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingError> {
        self.bitmap()?.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingError> {
        self.bitmap()?.fill_polygon(vert, style)
    }

    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<(), DrawingError> {
        // Placed as plotters' `draw_text` places it, glyphs from [`glyphs`].
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let font_error = |e| plotters_backend::DrawingErrorKind::FontError(Box::new(e));
        let ((min_x, min_y), (max_x, max_y)) = style.layout_box(text).map_err(font_error)?;
        let (width, height) = (max_x - min_x, max_y - min_y);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let turn = style.transform();
        let family = style.family();
        let drawn = glyphs::draw_text(family.as_str(), text, style.size(), |x, y, coverage| {
            let (x, y) = turn.transform(x + dx - min_x, y + dy - min_y);
            let (x, y) = (pos.0 + x, pos.1 + y);
            self.dot(x, y, color.mix(coverage as f64));
        });
        if !drawn {
            return self.bitmap()?.draw_text(text, style, pos);
        }
        Ok(())
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingError> {
        self.bitmap()?.blit_bitmap(pos, size, src)
    }
}

/// The pixels of `path` stroked `width` wide with round joins and caps, on a
/// canvas of `size`, as row spans `(row, first, last)` (inclusive). A pixel
/// is in when its centre is nearer than `width / 2` to a segment; segments
/// that meet overlap, so a pixel may come more than once. A path of one
/// point is a dot.
pub(super) fn stroke(
    path: &[BackendCoord],
    width: u32,
    size: (u32, u32),
    mut span: impl FnMut(i32, i32, i32),
) {
    let r = width as f64 / 2.0;
    // Pixel centres are at whole numbers here: shift the vertices by half a
    // pixel, or not at all when the width is even and they sit on corners.
    let shift = if width % 2 == 0 { 0.5 } else { 0.0 };
    let at = |p: BackendCoord| (p.0 as f64 - shift, p.1 as f64 - shift);
    let mut drawn = false;
    for pair in path.windows(2).filter(|p| p[0] != p[1]) {
        capsule(at(pair[0]), at(pair[1]), r, size, &mut span);
        drawn = true;
    }
    if let (false, Some(&only)) = (drawn, path.first()) {
        capsule(at(only), at(only), r, size, &mut span);
    }
}

/// `v.floor()` for the small values here (within a canvas of the origin),
/// without the libm call that `f64::floor` is on a baseline x86-64 build.
fn floor(v: f64) -> i64 {
    let t = v as i64;
    if (t as f64) > v {
        t - 1
    } else {
        t
    }
}

/// The pixels whose centres lie within `r` of the segment `a`-`b`, row by row:
/// a horizontal line meets the capsule in one interval, the hull of where it
/// meets the two end discs and the band between them.
fn capsule(
    a: (f64, f64),
    b: (f64, f64),
    r: f64,
    (w, h): (u32, u32),
    span: &mut impl FnMut(i32, i32, i32),
) {
    // Every bound is clamped to a little past the canvas before it is rounded,
    // so far-off coordinates cost nothing and overflow nothing.
    let (x_max, y_max) = (w as f64 + 1.0, h as f64 + 1.0);
    let top = floor((a.1.min(b.1) - r).clamp(-1.0, y_max)).max(0);
    let bottom = (-floor(-(a.1.max(b.1) + r).clamp(-1.0, y_max))).min(h as i64 - 1);
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    // The band between the discs, in x for a row `ry` below `a`: across the
    // segment |cross| < r * len, a centre `ry * dx / dy` and a half width;
    // along it 0 <= dot <= len2, from `-ry * dy / dx` over `len2 / dx`.
    let across = (dy != 0.0).then(|| (dx / dy, r * len2.sqrt() / dy.abs()));
    let along = (dx != 0.0).then(|| (dy / dx, len2 / dx));
    for row in top..=bottom {
        let y = row as f64;
        let ry = y - a.1;
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for (ex, ey) in [a, b] {
            let q = r * r - (y - ey) * (y - ey);
            if q > 0.0 {
                let half = q.sqrt();
                (lo, hi) = (least(lo, ex - half), most(hi, ex + half));
            }
        }
        if len2 > 0.0 {
            let (mut u_lo, mut u_hi) = (f64::NEG_INFINITY, f64::INFINITY);
            match across {
                Some((slope, half)) => {
                    (u_lo, u_hi) = (ry * slope - half, ry * slope + half);
                }
                None if ry.abs() >= r => u_hi = f64::NEG_INFINITY,
                None => {}
            }
            match along {
                Some((slope, reach)) => {
                    let start = -ry * slope;
                    let (l, h) = if reach > 0.0 {
                        (start, start + reach)
                    } else {
                        (start + reach, start)
                    };
                    (u_lo, u_hi) = (most(u_lo, l), least(u_hi, h));
                }
                // Vertical: the rows between the ends.
                None if !(ry * dy >= 0.0 && ry * dy <= len2) => u_hi = f64::NEG_INFINITY,
                None => {}
            }
            if u_lo < u_hi {
                (lo, hi) = (least(lo, a.0 + u_lo), most(hi, a.0 + u_hi));
            }
        }
        if lo < hi {
            // Pixels strictly inside (lo, hi), on the canvas.
            let first = (floor(most(least(lo, x_max), -1.0)) + 1).max(0);
            let last = (-floor(-most(least(hi, x_max), -1.0)) - 1).min(w as i64 - 1);
            if first <= last {
                span(row as i32, first as i32, last as i32);
            }
        }
    }
}

/// The smaller and the larger of two values by a plain comparison: the
/// bounds here are never NaN, and `f64::min` pays for handling it on every row.
fn least(a: f64, b: f64) -> f64 {
    if b < a {
        b
    } else {
        a
    }
}

fn most(a: f64, b: f64) -> f64 {
    if b > a {
        b
    } else {
        a
    }
}

/// Row spans sorted and merged, so each pixel is in one of them once.
fn merge_spans(mut spans: Vec<(i32, i32, i32)>) -> Vec<(i32, i32, i32)> {
    spans.sort_unstable();
    let mut merged: Vec<(i32, i32, i32)> = Vec::with_capacity(spans.len());
    for (row, first, last) in spans {
        match merged.last_mut() {
            Some(prev) if prev.0 == row && first <= prev.2 + 1 => prev.2 = prev.2.max(last),
            _ => merged.push((row, first, last)),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pixels of a stroke on a small canvas, as a set.
    fn pixels(path: &[BackendCoord], width: u32) -> std::collections::BTreeSet<(i32, i32)> {
        let mut set = std::collections::BTreeSet::new();
        stroke(path, width, (40, 30), |row, first, last| {
            assert!(first <= last && 0 <= first && last < 40 && (0..30).contains(&row));
            set.extend((first..=last).map(|x| (x, row)));
        });
        set
    }

    #[test]
    fn a_horizontal_line_is_as_many_rows_thick_as_its_width() {
        for width in 1..=6 {
            let px = pixels(&[(10, 15), (20, 15)], width);
            let rows: std::collections::BTreeSet<i32> = px.iter().map(|p| p.1).collect();
            assert_eq!(rows.len(), width as usize, "width {width}: {rows:?}");
            assert!(rows.contains(&15) && rows.contains(&14) == (width >= 2));
            // Round caps reach past the ends by about half the width, no more.
            let (lo, hi) = (px.iter().map(|p| p.0).min(), px.iter().map(|p| p.0).max());
            let cap = (width as i32 - 1) / 2;
            assert!(
                lo >= Some(10 - cap - 1) && hi <= Some(20 + cap),
                "{lo:?} {hi:?}"
            );
        }
    }

    #[test]
    fn a_vertical_line_is_as_many_columns_thick_as_its_width() {
        for width in 2..=5 {
            let px = pixels(&[(12, 5), (12, 25)], width);
            let columns: std::collections::BTreeSet<i32> = px.iter().map(|p| p.0).collect();
            assert_eq!(columns.len(), width as usize, "width {width}: {columns:?}");
            assert!(px.contains(&(12, 5)) && px.contains(&(12, 25)));
        }
    }

    /// A diagonal leaves no gap along its length and is about as thick as
    /// its width across it; a sharp zigzag keeps every vertex covered.
    #[test]
    fn diagonals_and_zigzags_have_no_holes() {
        let px = pixels(&[(2, 2), (27, 27)], 3);
        for t in 2..=27 {
            assert!(px.contains(&(t, t)), "the centre line at {t}");
        }
        let per_row = px.iter().filter(|p| p.1 == 15).count();
        assert!((3..=5).contains(&per_row), "{per_row} pixels across at 45°");
        let zigzag: Vec<BackendCoord> = (0..30)
            .map(|x| (x + 5, if x % 2 == 0 { 3 } else { 26 }))
            .collect();
        let px = pixels(&zigzag, 2);
        for p in &zigzag {
            assert!(px.contains(p), "vertex {p:?}");
        }
    }

    #[test]
    fn a_lone_point_or_a_repeated_one_is_a_dot() {
        let dot = pixels(&[(10, 10)], 4);
        assert_eq!(dot, pixels(&[(10, 10), (10, 10), (10, 10)], 4));
        assert!(dot.len() >= 12 && dot.len() <= 16, "{}", dot.len());
        assert!(pixels(&[], 4).is_empty());
    }

    #[test]
    fn off_canvas_parts_are_cut_and_far_coordinates_are_harmless() {
        let px = pixels(&[(-100, 10), (100, 10)], 3);
        assert_eq!(px.len(), 40 * 3);
        assert!(pixels(&[(i32::MIN, i32::MIN), (i32::MAX, i32::MAX)], 3).len() < 40 * 30);
        assert!(pixels(&[(500, 500), (600, 600)], 3).is_empty());
    }

    /// Through the backend: an opaque line lands on the buffer in its colour
    /// and width; a translucent one is one even tint, with no darker beads
    /// where its segments overlap.
    #[test]
    fn the_backend_paints_wide_paths_opaque_and_translucent() {
        let (w, h) = (40u32, 30u32);
        let mut rgb = vec![255u8; (w * h * 3) as usize];
        let blue = RGBColor(0, 0x72, 0xB2);
        let mut canvas = Raster::with_buffer(&mut rgb, (w, h));
        canvas
            .draw_path([(5, 5), (35, 5)], &Color::stroke_width(&blue, 3))
            .unwrap();
        let zigzag = [(5, 12), (12, 27), (19, 12), (26, 27), (33, 12)];
        canvas
            .draw_path(zigzag, &Color::stroke_width(&blue.mix(0.5), 4))
            .unwrap();
        let pixel = |x: u32, y: u32| {
            let i = ((y * w + x) * 3) as usize;
            (rgb[i], rgb[i + 1], rgb[i + 2])
        };
        let column: Vec<_> = (0..10).map(|y| pixel(20, y)).collect();
        let line = (0, 0x72, 0xB2);
        assert_eq!(column[3..7], [(255, 255, 255), line, line, line]);
        assert_eq!(column[7], (255, 255, 255));
        let tints: std::collections::BTreeSet<_> = (10..30)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .map(|(x, y)| pixel(x, y))
            .filter(|&p| p != (255, 255, 255))
            .collect();
        assert_eq!(tints.len(), 1, "{tints:?}");
    }

    /// Text comes out pixel for pixel as plotters' own backend draws it: any
    /// anchor, turned for the y axis, translucent, cut at the canvas edge,
    /// and the same again once its glyphs are cached.
    #[test]
    fn text_is_drawn_as_plotters_draws_it() {
        use plotters::style::text_anchor::{HPos, Pos, VPos};
        use plotters::style::FontTransform;
        super::super::style::ensure_font().unwrap();
        let (w, h) = (160u32, 90u32);
        let cases = [
            (
                "loss · run-042",
                24.0,
                Pos::new(HPos::Left, VPos::Top),
                (4, 4),
            ),
            (
                "1.5e-4 AVWTjy",
                13.0,
                Pos::new(HPos::Right, VPos::Center),
                (150, 50),
            ),
            (
                "10k ∞ ß ½",
                17.5,
                Pos::new(HPos::Center, VPos::Bottom),
                (80, 88),
            ),
            (
                "clipped at the edge",
                30.0,
                Pos::new(HPos::Left, VPos::Top),
                (100, 70),
            ),
        ];
        for (text, size, anchor, at) in cases {
            for turned in [false, true] {
                for color in [RGBColor(0x22, 0x22, 0x22).to_rgba(), RED.mix(0.4)] {
                    let mut style = super::super::style::font(size, RGBColor(0, 0, 0))
                        .color(&color)
                        .pos(anchor);
                    if turned {
                        style = style.transform(FontTransform::Rotate270);
                    }
                    let mut ours = vec![255u8; (w * h * 3) as usize];
                    let mut theirs = ours.clone();
                    for _ in 0..2 {
                        ours.fill(255);
                        Raster::with_buffer(&mut ours, (w, h))
                            .draw_text(text, &style, at)
                            .unwrap();
                    }
                    BitMapBackend::with_buffer(&mut theirs, (w, h))
                        .draw_text(text, &style, at)
                        .unwrap();
                    assert!(ours.iter().any(|&b| b != 255), "{text}: nothing drawn");
                    assert!(ours == theirs, "{text} at {size}, turned {turned}");
                }
            }
        }
    }

    #[test]
    fn merged_spans_cover_each_pixel_once() {
        let mut spans = Vec::new();
        stroke(
            &[(2, 2), (20, 9), (3, 16), (30, 20)],
            4,
            (40, 30),
            |r, a, b| spans.push((r, a, b)),
        );
        let merged = merge_spans(spans.clone());
        let count = |s: &[(i32, i32, i32)]| -> std::collections::BTreeSet<(i32, i32)> {
            s.iter()
                .flat_map(|&(r, a, b)| (a..=b).map(move |x| (x, r)))
                .collect()
        };
        assert_eq!(count(&merged), count(&spans));
        let total: i32 = merged.iter().map(|&(_, a, b)| b - a + 1).sum();
        assert_eq!(total as usize, count(&merged).len(), "no pixel twice");
        assert!(merged.len() < spans.len());
    }
}
