//! From what plotters drew to what we hand out: the SVG re-headed so it scales
//! in a page, the oversized bitmap averaged down and encoded as PNG.
//!
//! Kept apart from the drawing because it depends on plotters' output format,
//! not on the chart: if that format changes, this is the one file to look at.

use super::{HEIGHT, SVG_UNITS, WIDTH};

/// Average each 2x2 block of an RGB image of `2w` x `2h` pixels into one.
pub(super) fn halve(big: &[u8], w: usize, h: usize) -> Vec<u8> {
    let mut out = vec![0u8; w * h * 3];
    for (i, px) in out.iter_mut().enumerate() {
        let (x, y, c) = (i / 3 % w, i / 3 / w, i % 3);
        let at = |dx: usize, dy: usize| big[((2 * y + dy) * 2 * w + 2 * x + dx) * 3 + c] as u32;
        *px = ((at(0, 0) + at(1, 0) + at(0, 1) + at(1, 1) + 2) / 4) as u8;
    }
    out
}

/// PNG file bytes of an RGB image of `w` x `h` pixels.
pub(super) fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, String> {
    use image::ImageEncoder;
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(rgb, w, h, image::ColorType::Rgb8)
        .map_err(|e| format!("encoding chart PNG: {e}"))?;
    Ok(png)
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
pub(super) fn make_responsive(svg: String, title: &str) -> String {
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
