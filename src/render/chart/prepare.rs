//! The spec made ready to draw: lines reduced, values clamped, axis ranges
//! chosen, non-finite points located and the best point vetted.
//!
//! Everything numeric happens here, before any pixel, so the drawing code only
//! lays out and the odd cases (no data, one value, 1e300, NaN everywhere) are
//! settled in one place that has no backend to fail.

use super::marks::Edge;
use super::reduce::{is_plottable, reduce_points};
use super::{ChartSpec, MAX_POINTS};

/// Values beyond this are drawn at it, so range arithmetic never overflows to infinity.
const LIMIT: f64 = 1e300;

/// The spec reduced and measured, ready to draw.
pub(super) struct Prepared {
    pub lines: Vec<Vec<(f64, f64)>>,
    pub x: (f64, f64),
    pub y: (f64, f64),
    /// Each non-finite point's x and the edge it is marked on.
    pub nonfinite: Vec<(f64, Edge)>,
    /// First and last x of each run of consecutive non-finite points of a line.
    pub nonfinite_spans: Vec<(f64, f64)>,
    pub nonfinite_count: usize,
    pub has_data: bool,
    /// The spec's best point, clamped, when both coordinates are finite and
    /// there is a plot to put it on; it does not widen the axes.
    pub best: Option<(f64, f64)>,
}

impl Prepared {
    /// The best point if it lies within the axes: where its ring is drawn.
    pub fn best_on_plot(&self) -> Option<(f64, f64)> {
        let within = |v: f64, (lo, hi): (f64, f64)| lo <= v && v <= hi;
        self.best
            .filter(|&(x, y)| within(x, self.x) && within(y, self.y))
    }
}

fn clamp(v: f64) -> f64 {
    if v.is_finite() {
        v.clamp(-LIMIT, LIMIT)
    } else {
        v
    }
}

pub(super) fn prepare(spec: &ChartSpec) -> Prepared {
    let lines: Vec<Vec<(f64, f64)>> = spec
        .lines
        .iter()
        .map(|l| {
            reduce_points(&l.points, MAX_POINTS)
                .into_iter()
                .map(|(x, y)| (clamp(x), clamp(y)))
                .collect()
        })
        .collect();
    let all = || lines.iter().flatten().copied();
    let xs = all().map(|p| p.0).filter(|x| x.is_finite());
    let ys = all().filter(|p| is_plottable(*p)).map(|p| p.1);
    let nonfinite = all()
        .filter(|p| p.0.is_finite() && !p.1.is_finite())
        .map(|(x, y)| {
            (
                x,
                if y == f64::NEG_INFINITY {
                    Edge::Bottom
                } else {
                    Edge::Top
                },
            )
        })
        .collect();
    let has_data = all().any(|p| p.0.is_finite());
    Prepared {
        x: padded_range(xs, 0.0),
        y: padded_range(ys, 0.06),
        nonfinite,
        nonfinite_spans: nonfinite_spans(&lines),
        nonfinite_count: spec
            .lines
            .iter()
            .flat_map(|l| &l.points)
            .filter(|p| !p.1.is_finite())
            .count(),
        has_data,
        best: spec
            .best
            .filter(|p| has_data && is_plottable(*p))
            .map(|(x, y)| (clamp(x), clamp(y))),
        lines,
    }
}

/// First and last x of each run of consecutive non-finite points, line by line.
fn nonfinite_spans(lines: &[Vec<(f64, f64)>]) -> Vec<(f64, f64)> {
    let mut spans = Vec::new();
    for line in lines {
        let mut open: Option<(f64, f64)> = None;
        for &(x, y) in line {
            if x.is_finite() && !y.is_finite() {
                open = Some(open.map_or((x, x), |(first, _)| (first, x)));
            } else if let Some(span) = open.take() {
                spans.push(span);
            }
        }
        spans.extend(open);
    }
    spans
}

/// The range of `values` widened by `frac` of its span on each side; a
/// degenerate range (one value, or a span lost in float precision) is widened
/// around its centre so ticks stay distinct. No values gives 0..1.
fn padded_range(values: impl Iterator<Item = f64>, frac: f64) -> (f64, f64) {
    let Some((lo, hi)) = values.fold(None, |acc: Option<(f64, f64)>, v| {
        Some(acc.map_or((v, v), |(lo, hi)| (lo.min(v), hi.max(v))))
    }) else {
        return (0.0, 1.0);
    };
    let span = hi - lo;
    if span <= lo.abs().max(hi.abs()) * 1e-9 {
        let mid = lo / 2.0 + hi / 2.0;
        let pad = if mid.abs() > 1e-200 {
            mid.abs() * 0.1
        } else {
            1.0
        };
        return (mid - pad, mid + pad);
    }
    (lo - span * frac, hi + span * frac)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{line, spec};
    use super::*;

    fn with_best(best: (f64, f64)) -> Prepared {
        let points = vec![(0.0, 3.0), (10.0, 2.0), (20.0, 2.5)];
        let mut s = spec(vec![line("val", points, true)]);
        s.best = Some(best);
        prepare(&s)
    }

    #[test]
    fn best_point_is_ringed_only_within_the_axes() {
        assert_eq!(with_best((10.0, 2.0)).best_on_plot(), Some((10.0, 2.0)));
        let outside = with_best((30.0, 2.0));
        assert_eq!(outside.best, Some((30.0, 2.0)), "still named in the legend");
        assert_eq!(outside.best_on_plot(), None);
        assert_eq!(
            outside.x,
            (0.0, 20.0),
            "the best point does not widen the axes"
        );
        let huge = with_best((10.0, f64::MAX));
        assert_eq!(huge.best, Some((10.0, LIMIT)));
        assert_eq!(huge.best_on_plot(), None);
    }

    #[test]
    fn non_finite_best_point_or_no_data_is_dropped() {
        for bad in [(f64::NAN, 1.0), (1.0, f64::NAN), (f64::INFINITY, 2.0)] {
            assert_eq!(with_best(bad).best, None, "{bad:?}");
        }
        let mut empty = spec(vec![]);
        empty.best = Some((1.0, 1.0));
        assert_eq!(prepare(&empty).best, None);
    }
}
