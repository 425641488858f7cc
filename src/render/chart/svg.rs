//! The SVG's canvas: plotters' SVG backend, but for the points of lines and
//! polygons.
//!
//! Plotters writes each point of a polyline with `write!` into a string of its
//! own, then copies that string into the document a character at a time to
//! escape it: on a 100-run build that was 1.85 G of the SVG's 2.27 G
//! instructions. Here plotters writes each such tag with no points
//! (`points=""`), the points go once, through `itoa`, into a side string, and
//! [`fill_points`] puts them in place, in order. Digits, commas, minus signs
//! and spaces need no escaping, so the document is the one plotters writes (a
//! test compares them).

use plotters::prelude::*;
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};

type SvgError = DrawingErrorKind<<SVGBackend<'static> as DrawingBackend>::ErrorType>;

/// What plotters writes for a tag whose points are left out.
const EMPTY_POINTS: &str = "points=\"\"";

/// The points of each polyline and polygon, in drawing order.
#[derive(Default)]
pub(super) struct Points {
    text: String,
    ends: Vec<usize>,
}

impl Points {
    fn push(&mut self, path: impl IntoIterator<Item = BackendCoord>) {
        let mut number = itoa::Buffer::new();
        for (x, y) in path {
            self.text.push_str(number.format(x));
            self.text.push(',');
            self.text.push_str(number.format(y));
            self.text.push(' ');
        }
        self.ends.push(self.text.len());
    }
}

/// Plotters' SVG backend on `svg`, the points of its lines kept in `points`.
pub(super) struct SvgCanvas<'a> {
    inner: SVGBackend<'a>,
    points: &'a mut Points,
}

impl<'a> SvgCanvas<'a> {
    pub fn new(svg: &'a mut String, size: (u32, u32), points: &'a mut Points) -> Self {
        Self {
            inner: SVGBackend::with_string(svg, size),
            points,
        }
    }
}

/// The document with each tag's points in place; `None` if the document does
/// not have one empty `points` attribute per kept path (plotters wrote
/// something else), so the caller can draw it the plain way.
pub(super) fn fill_points(svg: &str, points: &Points) -> Option<String> {
    let mut out = String::with_capacity(svg.len() + points.text.len());
    let (mut rest, mut start) = (svg, 0);
    for &end in &points.ends {
        let at = rest.find(EMPTY_POINTS)?;
        let attribute = at + EMPTY_POINTS.len() - 1;
        out.push_str(&rest[..attribute]);
        out.push_str(points.text.get(start..end)?);
        (rest, start) = (&rest[attribute..], end);
    }
    if rest.contains(EMPTY_POINTS) {
        return None;
    }
    out.push_str(rest);
    Some(out)
}

impl DrawingBackend for SvgCanvas<'_> {
    type ErrorType = <SVGBackend<'static> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), SvgError> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), SvgError> {
        self.inner.present()
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), SvgError> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), SvgError> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), SvgError> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), SvgError> {
        // Plotters writes no tag at all for an invisible path.
        if style.color().alpha != 0.0 {
            self.points.push(path);
        }
        self.inner.draw_path(std::iter::empty(), style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), SvgError> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), SvgError> {
        if style.color().alpha != 0.0 {
            self.points.push(vert);
        }
        self.inner.fill_polygon(std::iter::empty(), style)
    }

    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<(), SvgError> {
        self.inner.draw_text(text, style, pos)
    }

    fn estimate_text_size<TStyle: BackendTextStyle>(
        &self,
        text: &str,
        style: &TStyle,
    ) -> Result<(u32, u32), SvgError> {
        self.inner.estimate_text_size(text, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), SvgError> {
        self.inner.blit_bitmap(pos, size, src)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shapes<DB: DrawingBackend>(db: &mut DB) {
        let blue = RGBColor(0, 0x72, 0xB2).to_rgba();
        let wide = Color::stroke_width(&blue, 4);
        db.draw_path([(0, 0), (-3, 12), (640, -7)], &wide).unwrap();
        db.draw_path(std::iter::empty(), &wide).unwrap();
        db.draw_path([(5, 5), (6, 6)], &Color::stroke_width(&blue.mix(0.0), 2))
            .unwrap();
        let font = super::super::style::font(12.0, RGBColor(0, 0, 0));
        db.draw_text("points=\"\" <b>", &font, (9, 9)).unwrap();
        db.fill_polygon([(1, 1), (30, 2), (15, -20)], &blue.mix(0.2).filled())
            .unwrap();
        db.draw_circle((50, 50), 4, &blue.filled(), true).unwrap();
        db.draw_rect((1, 2), (3, 4), &Color::stroke_width(&blue, 1), false)
            .unwrap();
        db.draw_line((0, 9), (99, 9), &Color::stroke_width(&blue, 1))
            .unwrap();
        db.draw_path([(i32::MIN, i32::MAX)], &wide).unwrap();
    }

    /// Lines, polygons, invisible and empty paths, and text that looks like
    /// an empty points attribute: the document is the one plotters writes.
    #[test]
    fn the_document_is_plotters_own() {
        super::super::style::ensure_font().unwrap();
        let (mut plain, mut ours, mut points) = (String::new(), String::new(), Points::default());
        shapes(&mut SVGBackend::with_string(&mut plain, (640, 360)));
        {
            let mut canvas = SvgCanvas::new(&mut ours, (640, 360), &mut points);
            shapes(&mut canvas);
            canvas.present().unwrap();
        }
        assert_eq!(points.ends.len(), 4, "{}", points.text);
        assert!(plain.contains("points=\"0,0 -3,12 640,-7 \""));
        assert_eq!(fill_points(&ours, &points).as_deref(), Some(plain.as_str()));
    }

    #[test]
    fn a_document_that_does_not_match_its_points_is_refused() {
        let mut points = Points::default();
        points.push([(1, 2)]);
        assert_eq!(
            fill_points("<polyline points=\"\"/>", &points).as_deref(),
            Some("<polyline points=\"1,2 \"/>")
        );
        assert_eq!(fill_points("<polyline/>", &points), None);
        let two = "<polyline points=\"\"/><polygon points=\"\"/>";
        assert_eq!(fill_points(two, &points), None);
    }
}
