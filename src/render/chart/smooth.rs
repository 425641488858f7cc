//! Smoothing: TensorBoard's debiased exponential moving average, so a noisy
//! loss reads the way people already know it from there.
//!
//! It runs on the whole series before any reduction (a smoothed reduced
//! series would smooth what the reduction picked, spikes mostly). A plain EMA
//! starts at 0 and crawls up to the data; dividing by `1 - w^n` removes that
//! bias, so the first smoothed value is the first value. Non-finite values are
//! findings: they stay where they are and the average steps over them, so one
//! NaN breaks the line at its step and does not poison everything after it.

/// Weights above this would make the line all history and no data (and 1
/// would never move); TensorBoard's slider stops at the same place.
pub const MAX_WEIGHT: f64 = 0.999;

/// `weight` made usable: NaN and negatives are 0 (off), anything above [`MAX_WEIGHT`] is it.
pub fn clamp_weight(weight: f64) -> f64 {
    if weight.is_nan() || weight <= 0.0 {
        0.0
    } else {
        weight.min(MAX_WEIGHT)
    }
}

/// The debiased EMA of the `y` of `points` with `weight` (0 leaves them as
/// they are): for the n-th finite value v, `last = last*w + (1-w)*v` and the
/// smoothed value is `last / (1 - w^n)`. Non-finite values are copied, not
/// averaged; a series that never changes is returned as is (no float dust).
pub fn smooth_ema(points: &[(f64, f64)], weight: f64) -> Vec<(f64, f64)> {
    ema(points, weight).collect()
}

/// [`smooth_ema`] as it goes, one point at a time, for a reduction that
/// should never hold a smoothed copy of a 10M-point series.
pub fn ema(points: &[(f64, f64)], weight: f64) -> impl Iterator<Item = (f64, f64)> + '_ {
    let first = points.iter().map(|p| p.1).find(|v| v.is_finite());
    let constant = first.is_none_or(|f| points.iter().all(|p| !p.1.is_finite() || p.1 == f));
    let w = if constant { 0.0 } else { clamp_weight(weight) };
    let (mut last, mut decay) = (0.0, 1.0);
    points.iter().map(move |&(x, v)| {
        if w == 0.0 || !v.is_finite() {
            return (x, v);
        }
        last = last * w + (1.0 - w) * v;
        decay *= w; // w^n without powi per point
        (x, last / (1.0 - decay))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ys(points: &[(f64, f64)]) -> Vec<f64> {
        points.iter().map(|p| p.1).collect()
    }

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| (x.is_nan() && y.is_nan()) || (x - y).abs() < 1e-12)
    }

    #[test]
    fn matches_tensorboard_on_known_values() {
        let points = [(0.0, 1.0), (1.0, 2.0), (2.0, 3.0)];
        // w = 0.5: last = 0.5, 1.25, 2.125; debias = 0.5, 0.75, 0.875.
        let smoothed = smooth_ema(&points, 0.5);
        assert!(close(&ys(&smoothed), &[1.0, 1.25 / 0.75, 2.125 / 0.875]));
        assert_eq!(smoothed[2].0, 2.0, "x is kept");
        // w = 0.6 on a step: the first value is exact, then it approaches 10.
        let step = [(0.0, 0.0), (1.0, 10.0), (2.0, 10.0)];
        let s = ys(&smooth_ema(&step, 0.6));
        assert!(close(
            &s,
            &[0.0, 4.0 / 0.64, (0.6 * 4.0 + 4.0) / (1.0 - 0.216)]
        ));
    }

    #[test]
    fn weight_zero_or_nonsense_is_the_identity() {
        let points = [(0.0, 3.0), (1.0, 1.0), (2.0, f64::NAN), (3.0, 2.0)];
        for w in [0.0, -1.0, f64::NAN] {
            assert!(close(&ys(&smooth_ema(&points, w)), &ys(&points)), "{w}");
        }
        assert_eq!(clamp_weight(1.0), MAX_WEIGHT);
        assert_eq!(clamp_weight(f64::INFINITY), MAX_WEIGHT);
        let flat = [(0.0, 0.1), (1.0, 0.1), (2.0, 0.1)];
        assert_eq!(
            smooth_ema(&flat, 0.9),
            flat.to_vec(),
            "a constant stays exact"
        );
    }

    #[test]
    fn non_finite_values_stay_and_do_not_poison_the_rest() {
        let points = [
            (0.0, 1.0),
            (1.0, f64::NAN),
            (2.0, f64::INFINITY),
            (3.0, 2.0),
        ];
        let s = ys(&smooth_ema(&points, 0.5));
        assert!(s[1].is_nan() && s[2] == f64::INFINITY);
        // The average steps over them: 2.0 is the second finite value.
        assert!((s[3] - 1.25 / 0.75).abs() < 1e-12, "{s:?}");
        let leading_nan = [(0.0, f64::NAN), (1.0, 4.0), (2.0, 4.0)];
        assert!(close(
            &ys(&smooth_ema(&leading_nan, 0.9)),
            &[f64::NAN, 4.0, 4.0]
        ));
        assert!(smooth_ema(&[], 0.6).is_empty());
    }
}
