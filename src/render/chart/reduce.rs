//! Fewer points, same shape: long series are thinned before drawing so a
//! 100k-step log does not become a 100k-vertex path.
//!
//! Min/max per bucket rather than every n-th point, because a loss spike is
//! exactly what a reader came to see; non-finite points are findings and are
//! never dropped.

/// Reduce `points` to about `max` (at least 4) while keeping its shape: the
/// first and last points, every non-finite point, and the lowest and highest
/// finite point of each of `(max - 2) / 2` equal-count buckets (so the global
/// min and max too), in their original order. The result has at most `max`
/// finite points plus all the non-finite ones, which are findings and never dropped.
pub fn reduce_points(points: &[(f64, f64)], max: usize) -> Vec<(f64, f64)> {
    let max = max.max(4);
    if points.len() <= max {
        return points.to_vec();
    }
    let inner = &points[1..points.len() - 1];
    let buckets = (max - 2) / 2;
    let mut kept = Vec::with_capacity(max + 2);
    kept.push(points[0]);
    for b in 0..buckets {
        let chunk = &inner[b * inner.len() / buckets..(b + 1) * inner.len() / buckets];
        let (mut lo, mut hi) = (None::<usize>, None::<usize>);
        for (i, p) in chunk.iter().enumerate().filter(|(_, p)| is_plottable(**p)) {
            if lo.is_none_or(|j| p.1 < chunk[j].1) {
                lo = Some(i);
            }
            if hi.is_none_or(|j| p.1 > chunk[j].1) {
                hi = Some(i);
            }
        }
        let keep = |i: usize, p: (f64, f64)| Some(i) == lo || Some(i) == hi || !is_plottable(p);
        kept.extend(
            chunk
                .iter()
                .enumerate()
                .filter(|(i, p)| keep(*i, **p))
                .map(|(_, p)| *p),
        );
    }
    kept.push(points[points.len() - 1]);
    kept
}

/// Both coordinates finite: the point can sit on the plot rather than its edge.
pub(super) fn is_plottable(p: (f64, f64)) -> bool {
    p.0.is_finite() && p.1.is_finite()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reduction_keeps_extremes_and_non_finite_within_bound() {
        let mut points: Vec<(f64, f64)> = (0..100_000)
            .map(|i| (i as f64, (i as f64 * 0.01).sin()))
            .collect();
        points[500].1 = -7.0;
        points[77_777].1 = 9.0;
        points[1_000].1 = f64::NAN;
        points[50_000].1 = f64::INFINITY;
        let reduced = reduce_points(&points, 2000);
        assert!(reduced.len() <= 2000 + 2, "{}", reduced.len());
        assert_eq!(reduced.first(), points.first());
        assert_eq!(reduced.last(), points.last());
        assert!(reduced.contains(&(500.0, -7.0)) && reduced.contains(&(77_777.0, 9.0)));
        assert!(reduced.iter().any(|p| p.0 == 1_000.0 && p.1.is_nan()));
        assert!(reduced.contains(&(50_000.0, f64::INFINITY)));
        assert!(reduced.windows(2).all(|w| w[0].0 < w[1].0), "order is kept");
        // Short input is untouched; a silly bound still keeps the ends.
        assert_eq!(reduce_points(&points[..10], 2000), points[..10].to_vec());
        let tiny = reduce_points(&points, 0);
        assert!(tiny.len() <= 4 + 2 && tiny[0] == points[0] && tiny.last() == points.last());
    }
}
