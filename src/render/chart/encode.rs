//! From what plotters drew to what we hand out: the SVG re-headed so it scales
//! in a page. (The PNG is encoded by its [`super::canvas`].)
//!
//! Kept apart from the drawing because it depends on the document's format
//! (plotters', as [`super::svg`] writes it), not on the chart.

use super::{SVG_UNITS, WIDTH};

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Swap plotters' fixed-size `<svg>` tag for one that fills its container, has
/// the logical viewBox and an accessible title, and scale the drawing into it.
/// A document with another header or footer is returned as is: it already
/// has a viewBox of its own.
pub(super) fn make_responsive(svg: &str, title: &str, height: u32) -> String {
    let (w, h) = (WIDTH * SVG_UNITS, height * SVG_UNITS);
    let head = format!(
        "<svg width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" xmlns=\"http://www.w3.org/2000/svg\">\n"
    );
    let Some(body) = svg
        .strip_prefix(&head)
        .and_then(|b| b.strip_suffix("</svg>\n"))
    else {
        return svg.to_string();
    };
    let title = if title.is_empty() {
        String::new()
    } else {
        format!("<title>{}</title>\n", xml_escape(title))
    };
    let open = format!(
        "<svg width=\"100%\" height=\"auto\" viewBox=\"0 0 {WIDTH} {height}\" preserveAspectRatio=\"xMidYMid meet\" \
         role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">\n{title}<g transform=\"scale({})\">\n",
        1.0 / SVG_UNITS as f64
    );
    // One allocation of the final size: the body is most of a page's bytes.
    let close = "</g>\n</svg>\n";
    let mut out = String::with_capacity(open.len() + body.len() + close.len());
    out.push_str(&open);
    out.push_str(body);
    out.push_str(close);
    out
}
