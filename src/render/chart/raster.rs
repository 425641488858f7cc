//! The PNG's canvas: plotters' bitmap backend, but for wide lines and text.
//!
//! Plotters strokes a line wider than a pixel by turning it into a polygon and
//! filling that with a general scanline filler (sorting edges for every row),
//! and a polyline becomes one self-overlapping polygon that leaves holes on a
//! noisy curve. A chart's curves are nearly all of its pixels' cost, so
//! [`Raster`] strokes them itself, as the exact row spans [`super::stroke`]
//! computes, painted straight into the buffer. Text is placed as plotters
//! places it, from glyphs rasterized once per thread ([`super::glyphs`]), and
//! blended here. Everything else (rectangles, circles, polygons, thin lines)
//! goes to plotters' backend unchanged, on the same buffer.

use super::glyphs;
use super::stroke::{merge_spans, stroke, stroke_columns};
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

    /// Rows `first..=last` of `column` in `ink`: a curve's stroke, a column at a time.
    fn paint_column(&mut self, column: i32, first: i32, last: i32, ink: Ink) {
        let (w, h) = (self.size.0 as usize, self.size.1 as i64);
        let (first, last) = ((first as i64).max(0), (last as i64).min(h - 1));
        if column < 0 || column as usize >= w || first > last {
            return;
        }
        let stride = w * 3;
        let start = first as usize * stride + column as usize * 3;
        let end = last as usize * stride + column as usize * 3 + 3;
        if let Some(pixels) = self.rgb.get_mut(start..end) {
            for pixel in pixels.chunks_mut(stride) {
                ink.put(pixel);
            }
        }
    }

    fn stroke_path(&mut self, path: &[BackendCoord], width: u32, color: BackendColor) {
        let size = self.size;
        let Some(ink) = Ink::of(color) else {
            return;
        };
        // A column is one interval, painted once: right for opaque and translucent alike.
        if stroke_columns(path, width, size, |column, first, last| {
            self.paint_column(column, first, last, ink)
        }) {
            return;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
