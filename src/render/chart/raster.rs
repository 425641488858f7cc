//! The PNG's canvas: plotters' bitmap backend, but for wide lines and text.
//!
//! Plotters strokes a line wider than a pixel by turning it into a polygon and
//! filling that with a general scanline filler (sorting edges for every row),
//! and a polyline becomes one self-overlapping polygon that leaves holes on a
//! noisy curve. A chart's curves are nearly all of its pixels' cost, so
//! [`Raster`] strokes them itself, as the exact row spans [`super::stroke`]
//! computes, painted straight into the buffer. Text is placed as plotters
//! places it, from glyphs rasterized once per thread ([`super::glyphs`]), and
//! blended here, its coverage in [`glyphs::LEVELS`] steps so its
//! anti-aliasing needs few palette entries. Everything else (rectangles,
//! circles, polygons, thin lines) is drawn as plotters' bitmap backend draws
//! it ([`super::bitmap`]), on the same indexed [`Canvas`].

use super::bitmap::{Bitmap, DrawingError};
use super::canvas::{Canvas, Ink};
use super::glyphs;
use super::stroke::{merge_spans, stroke, stroke_columns};
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend,
};
use std::convert::Infallible;

/// A canvas to draw a chart on: plotters' bitmap ([`Bitmap`]) but for wide
/// lines and text, which it paints itself.
pub(super) struct Raster<'a> {
    canvas: &'a mut Canvas,
}

impl<'a> Raster<'a> {
    pub fn new(canvas: &'a mut Canvas) -> Self {
        Self { canvas }
    }

    /// Plotters' way of drawing, on the same canvas, for one call.
    fn bitmap(&mut self) -> Bitmap<'_> {
        Bitmap(self.canvas)
    }

    /// Pixels `first..=last` of `row` in `ink`.
    fn paint(&mut self, row: i32, first: i32, last: i32, ink: Ink) {
        let (w, h) = self.canvas.size();
        let (w, h) = (w as i64, h as i64);
        let (row, first, last) = (row as i64, (first as i64).max(0), (last as i64).min(w - 1));
        if (0..h).contains(&row) && first <= last {
            let start = (row * w + first) as usize;
            self.canvas
                .paint_run(start, (last - first + 1) as usize, ink);
        }
    }

    /// Rows `first..=last` of `column` in `ink`: a curve's stroke, a column at a time.
    fn paint_column(&mut self, column: i32, first: i32, last: i32, ink: Ink) {
        let (w, h) = self.canvas.size();
        let (w, h) = (w as usize, h as i64);
        let (first, last) = ((first as i64).max(0), (last as i64).min(h - 1));
        if column >= 0 && (column as usize) < w && first <= last {
            let start = first as usize * w + column as usize;
            self.canvas
                .paint_strided(start, (last - first + 1) as usize, w, ink);
        }
    }

    fn stroke_path(&mut self, path: &[BackendCoord], width: u32, color: BackendColor) {
        let size = self.canvas.size();
        let Some(ink) = Ink::of(color.rgb, color.alpha) else {
            return;
        };
        // A column is one interval, painted once: right for opaque and
        // translucent alike. But a level line (a gridline, a baseline) is a
        // few long rows: painted a column at a time it cost a call per pixel
        // column, and gridlines were a tenth of a chart's drawing.
        let level = path.windows(2).all(|p| p[0].1 == p[1].1);
        if !level
            && stroke_columns(path, width, size, |column, first, last| {
                self.paint_column(column, first, last, ink)
            })
        {
            return;
        }
        if let Ink::Set(_) = ink {
            // Opaque: a pixel painted twice (where segments meet) is painted the same.
            stroke(path, width, size, |row, first, last| {
                self.paint(row, first, last, ink)
            });
        } else {
            // Translucent: every pixel once, or each join would show as a darker bead.
            let mut spans = Vec::new();
            stroke(path, width, size, |row, first, last| {
                spans.push((row, first, last))
            });
            for (row, first, last) in merge_spans(spans) {
                self.paint(row, first, last, ink);
            }
        }
    }
}

impl DrawingBackend for Raster<'_> {
    type ErrorType = Infallible;

    fn get_size(&self) -> (u32, u32) {
        self.canvas.size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingError> {
        Ok(())
    }

    fn present(&mut self) -> Result<(), DrawingError> {
        Ok(())
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), DrawingError> {
        self.bitmap().draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingError> {
        match style.stroke_width() {
            0 | 1 => self.bitmap().draw_line(from, to, style),
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
        self.bitmap()
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
            0 | 1 => self.bitmap().draw_path(path, style),
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
        self.bitmap().draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingError> {
        self.bitmap().fill_polygon(vert, style)
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
        // A tint per coverage step (see [`glyphs::LEVELS`]), and the last
        // blend each gave.
        let inks: [Option<Ink>; glyphs::LEVELS + 1] = std::array::from_fn(|level| {
            let color = color.mix(level as f64 / glyphs::LEVELS as f64);
            Ink::of(color.rgb, color.alpha)
        });
        let mut memos = [None; glyphs::LEVELS + 1];
        let drawn = glyphs::draw_text(family.as_str(), text, style.size(), |x, y, level| {
            let (x, y) = turn.transform(x + dx - min_x, y + dy - min_y);
            if let (Some(&Some(ink)), Some(memo)) = (inks.get(level), memos.get_mut(level)) {
                self.canvas
                    .paint_pixel_memo(pos.0 + x, pos.1 + y, ink, memo);
            }
        });
        if !drawn {
            return self.bitmap().draw_text(text, style, pos);
        }
        Ok(())
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingError> {
        self.bitmap().blit_bitmap(pos, size, src)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::prelude::*;

    /// Through the backend: an opaque line lands on the buffer in its colour
    /// and width; a translucent one is one even tint, with no darker beads
    /// where its segments overlap.
    #[test]
    fn the_backend_paints_wide_paths_opaque_and_translucent() {
        let (w, h) = (40u32, 30u32);
        let blue = RGBColor(0, 0x72, 0xB2);
        let mut canvas = Canvas::new(w, h);
        let mut raster = Raster::new(&mut canvas);
        raster
            .draw_path([(5, 5), (35, 5)], &Color::stroke_width(&blue, 3))
            .unwrap();
        let zigzag = [(5, 12), (12, 27), (19, 12), (26, 27), (33, 12)];
        raster
            .draw_path(zigzag, &Color::stroke_width(&blue.mix(0.5), 4))
            .unwrap();
        let rgb = canvas.rgb();
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

    /// A level line (a gridline) is painted by rows, and its pixels are the
    /// ones the column painter gives: opaque or translucent, in several
    /// segments that meet, with a repeated point, running off the canvas.
    #[test]
    fn level_lines_by_rows_are_the_column_painters_pixels() {
        let (w, h) = (60u32, 20u32);
        let blue = RGBColor(0, 0x72, 0xB2);
        let paths: [&[BackendCoord]; 3] = [
            &[(3, 4), (30, 4), (30, 4), (57, 4)],
            &[(-10, 10), (70, 10)],
            &[(5, 19), (40, 19)],
        ];
        for (path, alpha, width) in [(0, 1.0, 2), (1, 0.4, 3), (2, 0.7, 4), (0, 0.3, 5)] {
            let style = Color::stroke_width(&blue.mix(alpha), width);
            let mut by_rows = Canvas::new(w, h);
            Raster::new(&mut by_rows)
                .draw_path(paths[path].iter().copied(), &style)
                .unwrap();
            let mut by_columns = Canvas::new(w, h);
            let ink = Ink::of((0, 0x72, 0xB2), alpha).unwrap();
            assert!(stroke_columns(
                paths[path],
                width,
                (w, h),
                |c, first, last| {
                    let start = first as usize * w as usize + c as usize;
                    let count = (last - first + 1) as usize;
                    by_columns.paint_strided(start, count, w as usize, ink);
                }
            ));
            assert_eq!(
                by_rows.rgb(),
                by_columns.rgb(),
                "path {path}, width {width}"
            );
            assert_ne!(by_rows.rgb(), Canvas::new(w, h).rgb());
        }
    }

    /// Text comes out as plotters' own backend draws it, to within the
    /// coverage steps, in about one tint per step: any anchor, turned for
    /// the y axis, translucent, cut at the canvas edge, and the same again
    /// once its glyphs are cached.
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
                    let mut theirs = vec![255u8; (w * h * 3) as usize];
                    let mut canvas = Canvas::new(w, h);
                    for _ in 0..2 {
                        canvas.reset(w, h);
                        Raster::new(&mut canvas)
                            .draw_text(text, &style, at)
                            .unwrap();
                    }
                    let ours = canvas.rgb();
                    BitMapBackend::with_buffer(&mut theirs, (w, h))
                        .draw_text(text, &style, at)
                        .unwrap();
                    assert!(ours.iter().any(|&b| b != 255), "{text}: nothing drawn");
                    // Coverage in 64 steps moves a channel by at most 4 of 255.
                    let worst = ours.iter().zip(&theirs).map(|(&a, &b)| a.abs_diff(b)).max();
                    assert!(
                        worst <= Some(4),
                        "{text} at {size}, turned {turned}: {worst:?}"
                    );
                    // One tint per step, and a few more where kerned glyphs overlap.
                    let tints = canvas.colours() - 1;
                    assert!(tints <= 64 + 8, "{text}: {tints} tints");
                }
            }
        }
    }
}
