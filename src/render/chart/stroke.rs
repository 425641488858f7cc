//! A wide line's pixels, as row spans: the geometry behind [`super::raster`].
//!
//! Each segment is a capsule (the points closer than half the width to it),
//! which gives round joins and caps for free, and a capsule meets a pixel row
//! in one interval, computed exactly. Pixel `(i, j)` is the unit square whose
//! centre is `(i + 0.5, j + 0.5)`; a vertex of an odd-width line sits on a
//! pixel centre and one of an even width on a pixel corner, so a horizontal
//! line of width `w` covers exactly `w` rows. Not anti-aliased, like the rest
//! of plotters' bitmap drawing: the PNG is drawn at twice the size it is
//! shown, and the viewer's downscaling smooths the edges.

use plotters_backend::BackendCoord;

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

/// The pixels of [`stroke`], column by column: `(column, first_row,
/// last_row)`, each column at most once. Only for a path that never goes
/// back in x (a curve over steps), where the stroke meets every pixel column
/// in one interval; returns false, having called nothing, for any other
/// path (and for a dot), which [`stroke`] draws.
///
/// Why: a noisy curve of a few thousand points is mostly steep segments,
/// and [`stroke`] works through every row of every segment; here each
/// segment costs the few columns it spans. The interval is exact: for a
/// path that is a function of x, a point `(c, y)` is within `r` of it
/// exactly when `y` lies between the lowest and highest reach of the
/// segments' capsules at `c`, and a capsule's reach is a concave maximum
/// with a closed form (see [`reach`]).
pub(super) fn stroke_columns(
    path: &[BackendCoord],
    width: u32,
    (w, h): (u32, u32),
    mut span: impl FnMut(i32, i32, i32),
) -> bool {
    if path.windows(2).any(|p| p[1].0 < p[0].0) || path.windows(2).all(|p| p[0] == p[1]) {
        return false;
    }
    let r = width as f64 / 2.0;
    let shift = if width % 2 == 0 { 0.5 } else { 0.0 };
    let at = |p: BackendCoord| (p.0 as f64 - shift, p.1 as f64 - shift);
    let x_max = w as f64 + 1.0;
    // Columns touched, as offsets into `reach_of`; far-off coordinates are
    // clamped first, like the capsules' rows.
    let column_of = |x: f64| x.clamp(-1.0, x_max);
    let mut reach_of = vec![(f64::INFINITY, f64::NEG_INFINITY); w as usize];
    for pair in path.windows(2).filter(|p| p[0] != p[1]) {
        let (a, b) = (at(pair[0]), at(pair[1]));
        let first = (floor(column_of(a.0 - r)) + 1).max(0);
        let last = (-floor(-column_of(b.0 + r)) - 1).min(w as i64 - 1);
        let segment = Segment::new(a, b, r);
        for c in first..=last {
            if let Some((lo, hi)) = segment.reach(c as f64) {
                let slot = &mut reach_of[c as usize];
                *slot = (least(slot.0, lo), most(slot.1, hi));
            }
        }
    }
    let y_max = h as f64 + 1.0;
    for (c, &(lo, hi)) in reach_of.iter().enumerate() {
        if lo < hi {
            // Rows strictly inside (lo, hi), on the canvas.
            let first = (floor(lo.clamp(-1.0, y_max)) + 1).max(0);
            let last = (-floor(-hi.clamp(-1.0, y_max)) - 1).min(h as i64 - 1);
            if first <= last {
                span(c as i32, first as i32, last as i32);
            }
        }
    }
    true
}

/// A segment `a`-`b` (`a.0 <= b.0`) stroked `r` from its centre line, met by vertical lines.
struct Segment {
    a: (f64, f64),
    b: (f64, f64),
    r: f64,
    /// `dy / dx`, or None when vertical.
    slope: Option<f64>,
    /// How far left or right of the column the capsule's highest and lowest
    /// reach lie on the segment's line: `r * slope / sqrt(1 + slope²)`.
    offset: f64,
}

impl Segment {
    fn new(a: (f64, f64), b: (f64, f64), r: f64) -> Segment {
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let slope = (dx != 0.0).then(|| dy / dx);
        let offset = slope.map_or(0.0, |m| r * m / (1.0 + m * m).sqrt());
        Segment {
            a,
            b,
            r,
            slope,
            offset,
        }
    }

    /// The lowest and highest y whose point `(c, y)` is within `r` of the
    /// segment, if any. On the segment's part within `r` of column `c`, the
    /// point `x` reaches `y(x) ± sqrt(r² - (x - c)²)`: a linear function plus
    /// a concave (or minus a convex) one, so each extreme is where its
    /// derivative vanishes, `x = c ∓ offset`, clamped to that part.
    fn reach(&self, c: f64) -> Option<(f64, f64)> {
        let (a, b, r) = (self.a, self.b, self.r);
        let (x0, x1) = (most(a.0, c - r), least(b.0, c + r));
        if x0 > x1 {
            return None;
        }
        let disc = |x: f64| (r * r - (x - c) * (x - c)).max(0.0).sqrt();
        match self.slope {
            None => {
                let half = disc(a.0);
                Some((least(a.1, b.1) - half, most(a.1, b.1) + half))
            }
            Some(m) => {
                let y = |x: f64| a.1 + (x - a.0) * m;
                let high = (c + self.offset).clamp(x0, x1);
                let low = (c - self.offset).clamp(x0, x1);
                Some((y(low) - disc(low), y(high) + disc(high)))
            }
        }
    }
}

/// [`super::style::floor`] as a whole number of pixels.
fn floor(v: f64) -> i64 {
    super::style::floor(v) as i64
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
pub(super) fn merge_spans(mut spans: Vec<(i32, i32, i32)>) -> Vec<(i32, i32, i32)> {
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

    /// Pixels of a path stroked column by column, as a set, each column once.
    fn column_pixels(
        path: &[BackendCoord],
        width: u32,
        size: (u32, u32),
    ) -> Option<std::collections::BTreeSet<(i32, i32)>> {
        let mut set = std::collections::BTreeSet::new();
        let mut columns = std::collections::BTreeSet::new();
        let drawn = stroke_columns(path, width, size, |column, first, last| {
            assert!(first <= last && 0 <= first && (last as u32) < size.1);
            assert!(columns.insert(column), "column {column} twice");
            set.extend((first..=last).map(|y| (column, y)));
        });
        drawn.then_some(set)
    }

    /// How far pixel `p`'s centre is from the path (the stroke's centre line).
    fn distance(p: (i32, i32), path: &[BackendCoord], width: u32) -> f64 {
        let shift = if width % 2 == 0 { 0.5 } else { 0.0 };
        let (px, py) = (p.0 as f64 + shift, p.1 as f64 + shift);
        path.windows(2)
            .map(|s| {
                let (ax, ay) = (s[0].0 as f64, s[0].1 as f64);
                let (dx, dy) = (s[1].0 as f64 - ax, s[1].1 as f64 - ay);
                let len2 = dx * dx + dy * dy;
                let t = if len2 == 0.0 {
                    0.0
                } else {
                    (((px - ax) * dx + (py - ay) * dy) / len2).clamp(0.0, 1.0)
                };
                ((px - ax - t * dx).powi(2) + (py - ay - t * dy).powi(2)).sqrt()
            })
            .fold(f64::INFINITY, f64::min)
    }

    /// Column by column gives the capsules' pixels on curves that go
    /// forward in x (noisy, steep, flat, vertical steps, off the canvas),
    /// bar pixels whose centre is, to rounding, exactly half the width away.
    #[test]
    fn columns_give_the_capsules_pixels_on_forward_paths() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: i32| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as i32
        };
        let size = (60, 45);
        for case in 0..400 {
            let width = 1 + (case % 6) as u32;
            let mut x = next(20) - 10;
            let path: Vec<BackendCoord> = (0..2 + next(30))
                .map(|_| {
                    x += next(4);
                    let y = match case % 4 {
                        0 => next(45),
                        1 => 20 + next(3),
                        2 => next(200) - 80,
                        _ => (x / 3) * 2,
                    };
                    (x, y)
                })
                .collect();
            let Some(columns) = column_pixels(&path, width, size) else {
                assert!(path.windows(2).all(|p| p[0] == p[1]), "{path:?}");
                continue;
            };
            let mut capsules = std::collections::BTreeSet::new();
            stroke(&path, width, size, |row, first, last| {
                capsules.extend((first..=last).map(|x| (x, row)))
            });
            for p in columns.symmetric_difference(&capsules) {
                let d = distance(*p, &path, width);
                assert!(
                    (d - width as f64 / 2.0).abs() < 1e-9,
                    "case {case}, width {width}: pixel {p:?} at {d} in one only; {path:?}"
                );
            }
        }
    }

    #[test]
    fn columns_leave_backward_paths_and_dots_to_the_capsules() {
        assert!(column_pixels(&[(10, 10), (5, 12), (20, 3)], 3, (40, 30)).is_none());
        assert!(column_pixels(&[(10, 10), (10, 10)], 3, (40, 30)).is_none());
        assert!(column_pixels(&[], 3, (40, 30)).is_none());
        let far = column_pixels(&[(i32::MIN, 0), (0, 15), (i32::MAX, i32::MAX)], 3, (40, 30));
        assert!(far.is_some_and(|px| !px.is_empty() && px.len() < 40 * 30));
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
