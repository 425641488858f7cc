//! Plotters' bitmap backend, redone on the indexed [`Canvas`].
//!
//! Rectangles, circles, polygons and thin lines are drawn as plotters'
//! `BitMapBackend` draws them on RGB bytes: the same fast paths for filled
//! rectangles and straight one-pixel lines (with their own rounding), and
//! plotters' rasterizers for the rest, calling back into this backend as they
//! call back into plotters'. A test draws each shape both ways and compares
//! every pixel.

use super::canvas::{Canvas, Ink};
use plotters_backend::{
    rasterizer, BackendColor, BackendCoord, BackendStyle, DrawingBackend, DrawingErrorKind,
};
use std::convert::Infallible;

pub(super) type DrawingError = DrawingErrorKind<Infallible>;

/// The canvas, drawn on as plotters' bitmap draws.
pub(super) struct Bitmap<'a>(pub &'a mut Canvas);

impl Bitmap<'_> {
    /// Plotters' clipping of a rectangle: ordered corners, the far one
    /// exclusive, cut to the canvas.
    fn clip(&self, a: BackendCoord, b: BackendCoord) -> Option<(usize, usize, usize, usize)> {
        let (w, h) = self.0.size();
        let (x0, y0) = (a.0.min(b.0).max(0), a.1.min(b.1).max(0));
        let (x1, y1) = (a.0.max(b.0).min(w as i32), a.1.max(b.1).min(h as i32));
        (x0 < x1 && y0 < y1).then_some((x0 as usize, y0 as usize, x1 as usize, y1 as usize))
    }

    fn fill_rect_fast(&mut self, a: BackendCoord, b: BackendCoord, rgb: (u8, u8, u8)) {
        if let Some((x0, y0, x1, y1)) = self.clip(a, b) {
            let w = self.0.size().0 as usize;
            for y in y0..y1 {
                self.0
                    .paint_run(y * w + x0, x1 - x0, Ink::Set([rgb.0, rgb.1, rgb.2]));
            }
        }
    }

    /// Plotters blends a row's pixels eight at a time with one formula and the
    /// rest one at a time with another; the two round differently.
    fn blend_rect_fast(&mut self, a: BackendCoord, b: BackendCoord, rgb: (u8, u8, u8), alpha: f64) {
        let alpha = alpha.clamp(0.0, 1.0);
        if alpha == 0.0 {
            return;
        }
        let Some((x0, y0, x1, y1)) = self.clip(a, b) else {
            return;
        };
        let (w, rgb) = (self.0.size().0 as usize, [rgb.0, rgb.1, rgb.2]);
        let alpha = (256.0 * alpha).floor() as u16;
        let count = x1 - x0;
        let bulk = (count - 1) / 8 * 8;
        for y in y0..y1 {
            let start = y * w + x0;
            self.0.paint_run(start, bulk, Ink::Wash(rgb, alpha));
            self.0
                .paint_run(start + bulk, count - bulk, Ink::Mix(rgb, alpha));
        }
    }

    fn fill_vertical_line_fast(&mut self, x: i32, (mut y0, mut y1): (i32, i32), rgb: (u8, u8, u8)) {
        let (w, h) = self.0.size();
        if x < 0 || x >= w as i32 {
            return;
        }
        if y0 > y1 {
            std::mem::swap(&mut y0, &mut y1);
        }
        let (y0, y1) = (y0.max(0), y1.min(h as i32 - 1));
        if y0 <= y1 {
            let start = y0 as usize * w as usize + x as usize;
            let ink = Ink::Set([rgb.0, rgb.1, rgb.2]);
            self.0
                .paint_strided(start, (y1 - y0 + 1) as usize, w as usize, ink);
        }
    }
}

impl DrawingBackend for Bitmap<'_> {
    type ErrorType = Infallible;

    fn get_size(&self) -> (u32, u32) {
        self.0.size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingError> {
        Ok(())
    }

    fn present(&mut self) -> Result<(), DrawingError> {
        Ok(())
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), DrawingError> {
        if let Some(ink) = Ink::of(color.rgb, color.alpha) {
            self.0.paint_pixel(point.0, point.1, ink);
        }
        Ok(())
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingError> {
        let BackendColor { alpha, rgb } = style.color();
        if (from.0 == to.0 || from.1 == to.1) && style.stroke_width() == 1 {
            match (alpha >= 1.0, from.1 == to.1) {
                (true, true) => self.fill_rect_fast(from, (to.0 + 1, to.1 + 1), rgb),
                (true, false) => self.fill_vertical_line_fast(from.0, (from.1, to.1), rgb),
                (false, _) => self.blend_rect_fast(from, (to.0 + 1, to.1 + 1), rgb, alpha),
            }
            return Ok(());
        }
        rasterizer::draw_line(self, from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingError> {
        let BackendColor { alpha, rgb } = style.color();
        match (fill, alpha >= 1.0) {
            (true, true) => self.fill_rect_fast(upper_left, bottom_right, rgb),
            (true, false) => self.blend_rect_fast(upper_left, bottom_right, rgb, alpha),
            (false, _) => {
                return rasterizer::draw_rect(self, upper_left, bottom_right, style, fill)
            }
        }
        Ok(())
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        (width, height): (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingError> {
        for (i, pixel) in src
            .chunks_exact(3)
            .take(width as usize * height as usize)
            .enumerate()
        {
            let (x, y) = ((i % width as usize) as i32, (i / width as usize) as i32);
            let ink = Ink::Set([pixel[0], pixel[1], pixel[2]]);
            self.0
                .paint_pixel(pos.0.saturating_add(x), pos.1.saturating_add(y), ink);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::prelude::*;

    /// Every shape a chart draws through plotters, opaque and translucent,
    /// thin and wide, inside and across the edge, comes out pixel for pixel as
    /// plotters' own RGB bitmap draws it.
    #[test]
    fn shapes_are_drawn_as_plotters_draws_them() {
        let (w, h) = (120u32, 80u32);
        let blue = RGBColor(0, 0x72, 0xB2);
        let orange = RGBColor(0xE6, 0x9F, 0);
        let mut theirs = vec![255u8; (w * h * 3) as usize];
        let mut canvas = Canvas::new(w, h);
        fn draw<DB: DrawingBackend>(db: &mut DB, blue: RGBColor, orange: RGBColor) {
            let (b, o) = (blue.to_rgba(), orange.to_rgba());
            let thin = |c: RGBAColor| Color::stroke_width(&c, 1);
            db.draw_rect((-5, -5), (200, 200), &WHITE.filled(), true)
                .unwrap();
            db.draw_rect(
                (10, 10),
                (110, 70),
                &RGBColor(0xEE, 0xEE, 0xEE).filled(),
                true,
            )
            .unwrap();
            db.draw_rect((5, 8), (90, 30), &b.mix(0.3).filled(), true)
                .unwrap();
            db.draw_rect((40, 20), (46, 75), &o.mix(0.5).filled(), true)
                .unwrap();
            db.draw_rect((3, 3), (100, 60), &thin(b), false).unwrap();
            db.draw_rect((20, 15), (70, 50), &Color::stroke_width(&o, 2), false)
                .unwrap();
            db.draw_line((0, 40), (119, 40), &thin(b.mix(0.6))).unwrap();
            db.draw_line((60, 79), (60, 0), &thin(o)).unwrap();
            db.draw_line((100, 30), (50, 30), &thin(o)).unwrap();
            db.draw_line((5, 75), (115, 5), &thin(b)).unwrap();
            db.draw_line((30, 0), (38, 79), &thin(o.mix(0.7))).unwrap();
            db.draw_path([(0, 0), (30, 60), (90, 10)], &thin(b))
                .unwrap();
            db.draw_circle((30, 30), 12, &o.filled(), true).unwrap();
            db.draw_circle((80, 50), 9, &Color::stroke_width(&b, 3), false)
                .unwrap();
            db.draw_circle((115, 78), 10, &thin(o.mix(0.5)), false)
                .unwrap();
            let band = [(10, 60), (40, 35), (70, 55), (110, 20), (110, 70), (10, 75)];
            db.fill_polygon(band, &b.mix(0.25).filled()).unwrap();
            db.fill_polygon([(50, 5), (58, 18), (42, 18)], &RED.filled())
                .unwrap();
            db.draw_pixel((119, 79), o.mix(0.5).to_backend_color())
                .unwrap();
            db.draw_pixel((120, 0), o.to_backend_color()).unwrap();
        }
        draw(
            &mut BitMapBackend::with_buffer(&mut theirs, (w, h)),
            blue,
            orange,
        );
        draw(&mut Bitmap(&mut canvas), blue, orange);
        let ours = canvas.rgb();
        let differing = (0..(w * h) as usize)
            .filter(|&p| ours[p * 3..p * 3 + 3] != theirs[p * 3..p * 3 + 3])
            .count();
        assert_eq!(differing, 0, "{differing} pixels differ");
        assert!(
            canvas.colours() > 20,
            "the shapes blend: {}",
            canvas.colours()
        );
    }
}
