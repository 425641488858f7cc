//! The glyphs that mean something beyond a line: the red triangle for a
//! non-finite value and the ring around the best value.
//!
//! The plot and the legend draw them with the same functions, so a legend
//! swatch looks exactly like what it names. Coordinates are device pixels on
//! the root area; `s` is device pixels per logical pixel.

use super::fail;
use super::style::{px, BEST_RING, NONFINITE_RED};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Where a non-finite point is marked: NaN and +inf at the top edge, -inf at the bottom.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Edge {
    Top,
    Bottom,
}

/// A red triangle centred at `c`, pointing into the plot from `edge`.
pub(super) fn draw_triangle<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    c: (i32, i32),
    edge: Edge,
    s: f64,
) -> Result<(), String> {
    let (half, tip) = (
        (5.0 * s) as i32,
        if edge == Edge::Top { 1 } else { -1 } * (4.5 * s) as i32,
    );
    let points = vec![
        (c.0 - half, c.1 - tip),
        (c.0 + half, c.1 - tip),
        (c.0, c.1 + tip),
    ];
    root.draw(&Polygon::new(points, NONFINITE_RED.filled()))
        .map_err(fail)
}

/// A hollow dark ring of `radius` logical pixels centred at `c`. Hollow so the
/// point it rings stays visible; a white halo under it keeps it apart from the
/// lines it crosses.
pub(super) fn draw_best_ring<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    c: (i32, i32),
    radius: f64,
    s: f64,
) -> Result<(), String> {
    let radius = px(radius * s);
    root.draw(&Circle::new(c, radius, WHITE.stroke_width(px(4.5 * s))))
        .map_err(fail)?;
    root.draw(&Circle::new(c, radius, BEST_RING.stroke_width(px(2.0 * s))))
        .map_err(fail)
}
