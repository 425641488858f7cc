//! The SVG's canvas: the document plotters' SVG backend writes, written
//! straight into one string.
//!
//! Plotters formats every number and colour of a tag with `format!` into a
//! string of its own, then copies each into the document a character at a
//! time to escape it: on a 100-run build that was 1.37 G instructions, an
//! eighth of the build, most of it for the points of curves and the circles
//! of markers. [`SvgWriter`] writes the same tags, attribute for attribute,
//! numbers through `itoa` and colours from a table; only text (labels, font
//! names) is escaped. A test draws every shape and whole charts both ways and
//! requires the same document.

use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
    FontStyle, FontTransform,
};
use std::convert::Infallible;
use std::fmt::Write as _;

type SvgError = DrawingErrorKind<Infallible>;

/// An SVG document being drawn into `out`, as plotters' `SVGBackend` would.
pub(super) struct SvgWriter<'a> {
    out: &'a mut String,
    size: (u32, u32),
    /// Tags left open, innermost last.
    open: Vec<&'static str>,
    closed: bool,
    number: itoa::Buffer,
    /// The last opacity written, and how it was written (`f64`'s `Display`).
    opacity: (f64, String),
}

impl<'a> SvgWriter<'a> {
    pub fn new(out: &'a mut String, size: (u32, u32)) -> Self {
        let mut writer = SvgWriter {
            out,
            size,
            open: Vec::new(),
            closed: false,
            number: itoa::Buffer::new(),
            opacity: (1.0, "1".to_string()),
        };
        writer.begin("svg");
        writer.int("width", size.0 as i64);
        writer.int("height", size.1 as i64);
        let (w, h) = (size.0, size.1);
        let _ = write!(writer.out, " viewBox=\"0 0 {w} {h}\"");
        writer.text_attr("xmlns", "http://www.w3.org/2000/svg");
        writer.open_body("svg");
        writer
    }

    fn begin(&mut self, tag: &str) {
        self.out.push('<');
        self.out.push_str(tag);
    }

    /// Begins `tag` unless `colour` is invisible, where plotters writes
    /// nothing at all (false).
    fn begin_visible(&mut self, tag: &str, colour: BackendColor) -> bool {
        if colour.alpha == 0.0 {
            return false;
        }
        self.begin(tag);
        true
    }

    /// A shape's paint: filled in `colour` and not stroked, or the other way.
    fn fill_or_stroke(&mut self, colour: BackendColor, fill: bool) {
        if fill {
            self.colour("fill", colour);
            self.out.push_str(" stroke=\"none\"");
        } else {
            self.out.push_str(" fill=\"none\"");
            self.colour("stroke", colour);
        }
    }

    /// Ends a tag that holds nothing.
    fn end(&mut self) {
        self.out.push_str("/>\n");
    }

    /// Ends the opening of a tag that holds something, to be closed later.
    fn open_body(&mut self, tag: &'static str) {
        self.open.push(tag);
        self.out.push_str(">\n");
    }

    fn close(&mut self) -> bool {
        match self.open.pop() {
            Some(tag) => {
                self.out.push_str("</");
                self.out.push_str(tag);
                self.out.push_str(">\n");
                true
            }
            None => false,
        }
    }

    /// Opens attribute `name`'s value; the caller writes it and the closing quote.
    fn attr(&mut self, name: &str) {
        self.out.push(' ');
        self.out.push_str(name);
        self.out.push_str("=\"");
    }

    fn int(&mut self, name: &str, value: i64) {
        self.attr(name);
        self.out.push_str(self.number.format(value));
        self.out.push('"');
    }

    /// An attribute whose value may need escaping, as plotters escapes it.
    fn text_attr(&mut self, name: &str, value: &str) {
        self.attr(name);
        escape_into(self.out, value);
        self.out.push('"');
    }

    fn colour(&mut self, name: &str, colour: BackendColor) {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let (r, g, b) = colour.rgb;
        let mut code = [b'#'; 7];
        for (i, byte) in [r, g, b].into_iter().enumerate() {
            code[1 + 2 * i] = HEX[(byte >> 4) as usize];
            code[2 + 2 * i] = HEX[(byte & 15) as usize];
        }
        self.attr(name);
        // Seven ASCII bytes.
        self.out
            .push_str(std::str::from_utf8(&code).unwrap_or_default());
        self.out.push('"');
    }

    fn opacity(&mut self, colour: BackendColor) {
        let alpha = colour.alpha;
        if alpha.to_bits() != self.opacity.0.to_bits() {
            self.opacity.1.clear();
            let _ = write!(self.opacity.1, "{alpha}");
            self.opacity.0 = alpha;
        }
        self.attr("opacity");
        self.out.push_str(&self.opacity.1);
        self.out.push('"');
    }

    fn points(&mut self, path: impl IntoIterator<Item = BackendCoord>) {
        self.out.push_str(" points=\"");
        for (x, y) in path {
            self.out.push_str(self.number.format(x));
            self.out.push(',');
            self.out.push_str(self.number.format(y));
            self.out.push(' ');
        }
        self.out.push('"');
    }
}

/// Plotters' escaping of attribute values and text.
fn escape_into(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(at) = rest.find(['<', '>', '&', '"', '\'']) {
        out.push_str(&rest[..at]);
        out.push_str(match rest.as_bytes()[at] {
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'&' => "&amp;",
            b'"' => "&quot;",
            _ => "&apos;",
        });
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
}

impl Drop for SvgWriter<'_> {
    fn drop(&mut self) {
        let _ = self.present();
    }
}

impl DrawingBackend for SvgWriter<'_> {
    type ErrorType = Infallible;

    fn get_size(&self) -> (u32, u32) {
        self.size
    }

    fn ensure_prepared(&mut self) -> Result<(), SvgError> {
        Ok(())
    }

    fn present(&mut self) -> Result<(), SvgError> {
        if !self.closed {
            while self.close() {}
            self.closed = true;
        }
        Ok(())
    }

    fn draw_pixel(&mut self, point: BackendCoord, colour: BackendColor) -> Result<(), SvgError> {
        if !self.begin_visible("rect", colour) {
            return Ok(());
        }
        self.int("x", point.0 as i64);
        self.int("y", point.1 as i64);
        self.out
            .push_str(" width=\"1\" height=\"1\" stroke=\"none\"");
        self.opacity(colour);
        self.colour("fill", colour);
        self.end();
        Ok(())
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), SvgError> {
        let colour = style.color();
        if !self.begin_visible("line", colour) {
            return Ok(());
        }
        self.opacity(colour);
        self.colour("stroke", colour);
        self.int("stroke-width", style.stroke_width() as i64);
        self.int("x1", from.0 as i64);
        self.int("y1", from.1 as i64);
        self.int("x2", to.0 as i64);
        self.int("y2", to.1 as i64);
        self.end();
        Ok(())
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), SvgError> {
        let colour = style.color();
        if !self.begin_visible("rect", colour) {
            return Ok(());
        }
        self.int("x", upper_left.0 as i64);
        self.int("y", upper_left.1 as i64);
        // Plotters subtracts in i32 (wrapping in a release build).
        self.int("width", bottom_right.0.wrapping_sub(upper_left.0) as i64);
        self.int("height", bottom_right.1.wrapping_sub(upper_left.1) as i64);
        self.opacity(colour);
        self.fill_or_stroke(colour, fill);
        self.end();
        Ok(())
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), SvgError> {
        let colour = style.color();
        if !self.begin_visible("polyline", colour) {
            return Ok(());
        }
        self.out.push_str(" fill=\"none\"");
        self.opacity(colour);
        self.colour("stroke", colour);
        self.int("stroke-width", style.stroke_width() as i64);
        self.points(path);
        self.end();
        Ok(())
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), SvgError> {
        let colour = style.color();
        if !self.begin_visible("circle", colour) {
            return Ok(());
        }
        self.int("cx", center.0 as i64);
        self.int("cy", center.1 as i64);
        self.int("r", radius as i64);
        self.opacity(colour);
        self.fill_or_stroke(colour, fill);
        self.int("stroke-width", style.stroke_width() as i64);
        self.end();
        Ok(())
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), SvgError> {
        let colour = style.color();
        if !self.begin_visible("polygon", colour) {
            return Ok(());
        }
        self.opacity(colour);
        self.colour("fill", colour);
        self.points(vert);
        self.end();
        Ok(())
    }

    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<(), SvgError> {
        let colour = style.color();
        if !self.begin_visible("text", colour) {
            return Ok(());
        }
        let (x, y) = pos;
        self.int("x", x as i64);
        self.int("y", y as i64);
        let dy = match style.anchor().v_pos {
            VPos::Top => "0.76em",
            VPos::Center => "0.5ex",
            VPos::Bottom => "-0.5ex",
        };
        self.text_attr("dy", dy);
        let anchor = match style.anchor().h_pos {
            HPos::Left => "start",
            HPos::Right => "end",
            HPos::Center => "middle",
        };
        self.text_attr("text-anchor", anchor);
        self.text_attr("font-family", style.family().as_str());
        let _ = write!(self.out, " font-size=\"{}\"", style.size() / 1.24);
        self.opacity(colour);
        self.colour("fill", colour);
        match style.style() {
            FontStyle::Normal => {}
            FontStyle::Bold => self.text_attr("font-weight", "bold"),
            other => self.text_attr("font-style", other.as_str()),
        }
        let turn = match style.transform() {
            FontTransform::Rotate90 => Some(90),
            FontTransform::Rotate180 => Some(180),
            FontTransform::Rotate270 => Some(270),
            _ => None,
        };
        if let Some(degrees) = turn {
            let _ = write!(self.out, " transform=\"rotate({degrees}, {x}, {y})\"");
        }
        self.open_body("text");
        escape_into(self.out, text);
        self.out.push('\n');
        self.close();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::prelude::*;

    fn shapes<DB: DrawingBackend>(db: &mut DB) {
        let blue = RGBColor(0, 0x72, 0xB2).to_rgba();
        let odd = RGBColor(0xAB, 0x0F, 0xF0).mix(0.137);
        let wide = Color::stroke_width(&blue, 4);
        db.draw_path([(0, 0), (-3, 12), (640, -7)], &wide).unwrap();
        db.draw_path(std::iter::empty(), &wide).unwrap();
        db.draw_path([(5, 5), (6, 6)], &Color::stroke_width(&blue.mix(0.0), 2))
            .unwrap();
        db.draw_path([(5, 5), (6, 6)], &Color::stroke_width(&odd, 3))
            .unwrap();
        let font = super::super::style::font(12.0, RGBColor(0, 0, 0));
        db.draw_text("points=\"\" <b> & 'q'", &font, (9, 9))
            .unwrap();
        for (h, v) in [(HPos::Left, VPos::Top), (HPos::Center, VPos::Center)] {
            let placed = font.pos(plotters_backend::text_anchor::Pos::new(h, v));
            db.draw_text("anchored", &placed, (-4, 30)).unwrap();
        }
        let turned = font.transform(FontTransform::Rotate270);
        db.draw_text("turned", &turned, (20, 200)).unwrap();
        let bold = ("serif", 17.5, FontStyle::Bold).into_font().color(&odd);
        db.draw_text("bold", &bold, (1, 1)).unwrap();
        let italic = ("serif", 9.0, FontStyle::Italic).into_font().color(&blue);
        db.draw_text("italic", &italic, (1, 1)).unwrap();
        db.draw_text("hidden", &font.color(&blue.mix(0.0)), (1, 1))
            .unwrap();
        db.fill_polygon([(1, 1), (30, 2), (15, -20)], &blue.mix(0.2).filled())
            .unwrap();
        db.draw_circle((50, 50), 4, &blue.filled(), true).unwrap();
        db.draw_circle((-50, 7), 9, &Color::stroke_width(&odd, 2), false)
            .unwrap();
        db.draw_rect((1, 2), (3, 4), &Color::stroke_width(&blue, 1), false)
            .unwrap();
        db.draw_rect((10, 20), (3, -4), &odd.filled(), true)
            .unwrap();
        db.draw_rect((i32::MIN, 0), (i32::MAX, 1), &blue.filled(), true)
            .unwrap();
        db.draw_line((0, 9), (99, 9), &Color::stroke_width(&blue, 1))
            .unwrap();
        db.draw_pixel((3, 4), odd.to_backend_color()).unwrap();
        db.draw_pixel((3, 4), blue.mix(0.0).to_backend_color())
            .unwrap();
        db.draw_path([(i32::MIN, i32::MAX)], &wide).unwrap();
    }

    /// Every kind of tag, visible and not, with text to escape, anchored,
    /// turned and styled: the document is the one plotters writes.
    #[test]
    fn every_shape_is_written_as_plotters_writes_it() {
        super::super::style::ensure_font().unwrap();
        let (mut plain, mut ours) = (String::new(), String::new());
        shapes(&mut SVGBackend::with_string(&mut plain, (640, 360)));
        shapes(&mut SvgWriter::new(&mut ours, (640, 360)));
        assert!(plain.contains("points=\"0,0 -3,12 640,-7 \""));
        assert!(plain.contains("rotate(270, 20, 200)") && plain.contains("&apos;q&apos;"));
        assert_eq!(ours, plain);
    }

    /// A whole chart, curves, markers, legend, axes and all.
    #[test]
    fn a_chart_is_written_as_plotters_writes_it() {
        let spec = super::super::test_support::demo_spec();
        let data = super::super::prepare::prepare(&spec);
        let draw = |backend| {
            let mut svg = String::new();
            let size = (640, 480);
            match backend {
                true => super::super::draw_on(SvgWriter::new(&mut svg, size), &spec, &data, 2),
                false => {
                    super::super::draw_on(SVGBackend::with_string(&mut svg, size), &spec, &data, 2)
                }
            }
            .unwrap();
            svg
        };
        let (ours, plain) = (draw(true), draw(false));
        assert!(plain.matches("<circle").count() > 10, "{plain}");
        assert_eq!(ours, plain);
    }
}
