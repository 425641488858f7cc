//! Fewer points, same shape: long series are thinned before drawing so a
//! 10M-step log costs about what a 10k-step one does, and never becomes a
//! 10M-vertex path.
//!
//! Min/max per bucket rather than every n-th point, because a loss spike is
//! exactly what a reader came to see. Non-finite points are findings: every
//! one that starts or ends a run of them is kept, so each stretch of NaN or
//! infinity stays marked at its steps (the chart bands the run between its
//! ends). One pass over the input, sorting only the handful of points a
//! bucket keeps: O(n).

/// Reduce `points` to about `max` (at least 4) while keeping its shape, in the
/// original order: the first and last points; the lowest and highest finite
/// point of each of `(max - 2) / 2` equal-count buckets (so the global minimum
/// and maximum too); every point equal to `keep` (the best value, which must
/// survive whatever the family calls best); and every non-finite point that
/// starts or ends a run of non-finite values of one kind (NaN, +inf, -inf), so
/// an isolated NaN is always kept and a diverged tail of a million NaNs costs
/// two points. Short input is returned as is.
pub fn reduce_points(
    points: &[(f64, f64)],
    max: usize,
    keep: Option<(f64, f64)>,
) -> Vec<(f64, f64)> {
    let (max, len) = (max.max(4), points.len());
    if len <= max {
        return points.to_vec();
    }
    let mut scan = Scan::new(points[0], max, keep);
    for (start, end) in buckets(len, max) {
        scan.bucket(start, &points[start..end]);
    }
    scan.finish(Some(points[len - 1]))
}

/// [`reduce_points`] over the `len` points of an iterator: a derived series
/// (a smoothed one) is reduced as it is computed and never held whole, only
/// one bucket of it at a time, pulled into a buffer so the iterator runs in
/// its own tight loop.
pub fn reduce_stream(
    len: usize,
    points: impl Iterator<Item = (f64, f64)>,
    max: usize,
    keep: Option<(f64, f64)>,
) -> Vec<(f64, f64)> {
    let max = max.max(4);
    if len <= max {
        return points.collect();
    }
    let mut points = points.take(len);
    let Some(first) = points.next() else {
        return Vec::new();
    };
    let mut scan = Scan::new(first, max, keep);
    let mut buffer = Vec::with_capacity(len / max * 2 + 1);
    for (start, end) in buckets(len, max) {
        buffer.clear();
        buffer.extend(points.by_ref().take(end - start));
        scan.bucket(start, &buffer);
    }
    scan.finish(points.next())
}

/// Index ranges of the `(max - 2) / 2` buckets that split the interior
/// points `1..len - 1` into equal counts.
fn buckets(len: usize, max: usize) -> impl Iterator<Item = (usize, usize)> {
    let (inner, count) = (len - 2, (max - 2) / 2);
    (0..count).map(move |b| (1 + b * inner / count, 1 + (b + 1) * inner / count))
}

/// What a reduction has kept so far, and the non-finite run it is inside.
struct Scan {
    kept: Vec<(f64, f64)>,
    /// The current bucket's points to keep besides its extremes, by index.
    chosen: Vec<(usize, (f64, f64))>,
    /// The non-finite run in progress: its kind, and its latest point with its index.
    run: Option<(u8, usize, (f64, f64))>,
    keep: Option<(f64, f64)>,
}

impl Scan {
    fn new(first: (f64, f64), max: usize, keep: Option<(f64, f64)>) -> Scan {
        let mut kept = Vec::with_capacity(max + 8);
        kept.push(first);
        Scan {
            kept,
            chosen: Vec::new(),
            run: nonfinite_kind(first).map(|k| (k, 0, first)),
            keep,
        }
    }

    fn is_keep(&self, p: (f64, f64)) -> bool {
        self.keep.is_some_and(|k| k.0 == p.0 && k.1 == p.1)
    }

    /// Scan the bucket of points `start..start + points.len()` and keep what it must.
    fn bucket(&mut self, start: usize, points: &[(f64, f64)]) {
        let (mut lo, mut hi) = (Extreme::new(f64::INFINITY), Extreme::new(f64::NEG_INFINITY));
        for (i, &p) in (start..).zip(points) {
            if self.run.is_none() && is_plottable(p) {
                // The common case, kept to compares and selects.
                lo.take_if(p.1 < lo.y, i, p);
                hi.take_if(p.1 > hi.y, i, p);
                if self.is_keep(p) {
                    self.chosen.push((i, p));
                }
                continue;
            }
            let kind = nonfinite_kind(p);
            self.end_run_unless(kind, start);
            match kind {
                None => {
                    lo.take_if(p.1 < lo.y, i, p);
                    hi.take_if(p.1 > hi.y, i, p);
                    if self.is_keep(p) {
                        self.chosen.push((i, p));
                    }
                }
                Some(k) => {
                    if self.run.is_none() {
                        self.chosen.push((i, p)); // a run starts here
                    }
                    self.run = Some((k, i, p));
                }
            }
        }
        self.chosen.extend(lo.found());
        self.chosen.extend(hi.found());
        self.chosen.sort_by_key(|c| c.0);
        self.chosen.dedup_by_key(|c| c.0);
        self.kept.extend(self.chosen.drain(..).map(|c| c.1));
    }

    /// A point of another `kind` ends the run in progress: keep its last point,
    /// unless that point also started it (already chosen). A run that ended
    /// before `bucket_start` goes straight to `kept`, after all its bucket kept.
    fn end_run_unless(&mut self, kind: Option<u8>, bucket_start: usize) {
        let Some((_, j, q)) = self.run.filter(|r| Some(r.0) != kind) else {
            return;
        };
        self.run = None;
        let same =
            |k: &(f64, f64)| k.0.to_bits() == q.0.to_bits() && k.1.to_bits() == q.1.to_bits();
        if j >= bucket_start {
            if self.chosen.last().is_none_or(|c| c.0 != j) {
                self.chosen.push((j, q));
            }
        } else if !self.kept.last().is_some_and(same) {
            self.kept.push(q);
        }
    }

    /// The reduction, with the `last` point.
    fn finish(mut self, last: Option<(f64, f64)>) -> Vec<(f64, f64)> {
        if let Some(p) = last {
            self.end_run_unless(nonfinite_kind(p), usize::MAX);
            self.kept.push(p);
        }
        self.kept
    }
}

/// The lowest or highest point of a bucket so far. Plain scalars updated by
/// selects rather than an `Option` updated by branches: on a smoothed or
/// trending series a new extreme comes at random, and mispredicted branches
/// cost more than the whole comparison.
struct Extreme {
    index: usize,
    x: f64,
    y: f64,
}

impl Extreme {
    /// None yet: `y` is the value any finite one beats.
    fn new(y: f64) -> Extreme {
        Extreme {
            index: usize::MAX,
            x: 0.0,
            y,
        }
    }

    fn take_if(&mut self, better: bool, i: usize, p: (f64, f64)) {
        self.index = if better { i } else { self.index };
        self.x = if better { p.0 } else { self.x };
        self.y = if better { p.1 } else { self.y };
    }

    fn found(&self) -> Option<(usize, (f64, f64))> {
        (self.index != usize::MAX).then_some((self.index, (self.x, self.y)))
    }
}

/// Which kind of non-finite point this is (`None` for a plottable one): a run
/// of NaN next to a run of +inf is two findings, marked on different edges.
fn nonfinite_kind(p: (f64, f64)) -> Option<u8> {
    match p {
        p if is_plottable(p) => None,
        (_, y) if y == f64::INFINITY => Some(1),
        (_, y) if y == f64::NEG_INFINITY => Some(2),
        _ => Some(0),
    }
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
        let reduced = reduce_points(&points, 2000, None);
        assert!(reduced.len() <= 2000 + 2, "{}", reduced.len());
        assert_eq!(reduced.first(), points.first());
        assert_eq!(reduced.last(), points.last());
        assert!(reduced.contains(&(500.0, -7.0)) && reduced.contains(&(77_777.0, 9.0)));
        assert!(reduced.iter().any(|p| p.0 == 1_000.0 && p.1.is_nan()));
        assert!(reduced.contains(&(50_000.0, f64::INFINITY)));
        assert!(reduced.windows(2).all(|w| w[0].0 < w[1].0), "order is kept");
        // Short input is untouched; a silly bound still keeps the ends.
        assert_eq!(
            reduce_points(&points[..10], 2000, None),
            points[..10].to_vec()
        );
        let tiny = reduce_points(&points, 0, None);
        assert!(tiny.len() <= 4 + 2 && tiny[0] == points[0] && tiny.last() == points.last());
    }

    /// A million noisy points: about 2,000 survive, with everything a reader looks for.
    #[test]
    fn a_million_points_reduce_to_two_thousand_keeping_what_matters() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut points: Vec<(f64, f64)> = (0..1_000_000)
            .map(|i| {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                let noise = (seed >> 40) as f64 / (1u64 << 24) as f64;
                (i as f64, 3.0 * (-(i as f64) / 2e5).exp() + 0.2 * noise)
            })
            .collect();
        points[123_456].1 = 40.0; // the maximum, a spike
        points[654_321].1 = -1.0; // the minimum
        let best = (777_777.0, points[777_777].1); // "best" by some other rule (accuracy, say)
        points[300_000].1 = f64::NAN; // an isolated NaN
        for p in &mut points[900_000..950_000] {
            p.1 = f64::INFINITY; // a diverged stretch
        }
        let reduced = reduce_points(&points, 2000, Some(best));
        assert!(reduced.len() <= 2000 + 4, "{}", reduced.len());
        assert_eq!(reduced.first(), points.first());
        assert_eq!(reduced.last(), points.last());
        for must in [(123_456.0, 40.0), (654_321.0, -1.0), best] {
            assert!(reduced.contains(&must), "{must:?} dropped");
        }
        assert!(reduced.iter().any(|p| p.0 == 300_000.0 && p.1.is_nan()));
        assert!(reduced.contains(&(900_000.0, f64::INFINITY)), "run start");
        assert!(reduced.contains(&(949_999.0, f64::INFINITY)), "run end");
        assert!(reduced.windows(2).all(|w| w[0].0 < w[1].0), "order is kept");
    }

    #[test]
    fn runs_of_different_non_finite_kinds_keep_both_ends_each() {
        let mut points: Vec<(f64, f64)> = (0..10_000).map(|i| (i as f64, 1.0)).collect();
        for p in &mut points[5_000..6_000] {
            p.1 = f64::NAN;
        }
        for p in &mut points[6_000..7_000] {
            p.1 = f64::NEG_INFINITY;
        }
        let reduced = reduce_points(&points, 100, None);
        let nonfinite: Vec<f64> = reduced
            .iter()
            .filter(|p| !p.1.is_finite())
            .map(|p| p.0)
            .collect();
        assert_eq!(nonfinite, vec![5_000.0, 5_999.0, 6_000.0, 6_999.0]);
    }
}
