//! From what plotters drew to what we hand out: the SVG re-headed so it scales
//! in a page, the oversized bitmap averaged down and encoded as PNG.
//!
//! Kept apart from the drawing because it depends on plotters' output format,
//! not on the chart: if that format changes, this is the one file to look at.

use super::{SVG_UNITS, WIDTH};

/// Average each 2x2 block of an RGB image of `2w` x `2h` pixels into one.
/// Row by row over slices: it runs once per PNG on ~11 MB, so no index maths per byte.
pub(super) fn halve(big: &[u8], w: usize, h: usize) -> Vec<u8> {
    let mut out = vec![0u8; w * h * 3];
    let big_row = 2 * w * 3;
    for (y, out_row) in out.chunks_exact_mut(w * 3).enumerate().take(h) {
        let top = &big[2 * y * big_row..][..big_row];
        let bottom = &big[(2 * y + 1) * big_row..][..big_row];
        for (x, px) in out_row.chunks_exact_mut(3).enumerate() {
            let (a, b) = (&top[x * 6..x * 6 + 6], &bottom[x * 6..x * 6 + 6]);
            for c in 0..3 {
                let sum = a[c] as u32 + a[c + 3] as u32 + b[c] as u32 + b[c + 3] as u32;
                px[c] = ((sum + 2) / 4) as u8;
            }
        }
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
pub(super) fn make_responsive(svg: String, title: &str, height: u32) -> String {
    let (w, h) = (WIDTH * SVG_UNITS, height * SVG_UNITS);
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
        "<svg width=\"100%\" height=\"auto\" viewBox=\"0 0 {WIDTH} {height}\" preserveAspectRatio=\"xMidYMid meet\" \
         role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">\n{title}<g transform=\"scale({})\">\n{body}</g>\n</svg>\n",
        1.0 / SVG_UNITS as f64
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halving_averages_each_two_by_two_block() {
        // 4x2 RGB image -> 2x1: left block all 10s and 30s, right block 0 and 255.
        let mut big = vec![0u8; 4 * 2 * 3];
        for (i, v) in big.iter_mut().enumerate() {
            let (x, y) = (i / 3 % 4, i / 3 / 4);
            *v = match (x < 2, y) {
                (true, 0) => 10,
                (true, _) => 30,
                (false, 0) => 0,
                (false, _) => 255,
            };
        }
        assert_eq!(halve(&big, 2, 1), vec![20, 20, 20, 128, 128, 128]);
    }
}
