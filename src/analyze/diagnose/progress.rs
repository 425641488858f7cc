//! `underfitting` (the loss barely fell, or is still falling steeply at the
//! end) and `plateau` (no meaningful improvement over the last part).

use super::robust::{head_median, rolling_median, show, slope, tail_median, window_len};
use super::{diagnostic, Curves};
use crate::analyze::thresholds::Thresholds;
use crate::analyze::Diagnostic;
use crate::model::Severity;

/// The start of a curve is the median of its first 5% of points (at least 3).
const START_FRACTION: f64 = 0.05;
/// The end of a curve is the median of its last 10% of points (at least 3).
const END_FRACTION: f64 = 0.10;
/// "At the end" for the slope: the last fifth of the points (at least 5).
const SLOPE_FRACTION: f64 = 0.2;

/// A warning when the train loss fell by only a small fraction of its start,
/// or when, at its final rate, it would still drop a lot more.
pub fn underfitting(c: &Curves, t: &Thresholds) -> Option<Diagnostic> {
    let points = &c.train_finite;
    if points.len() < t.min_points {
        return None;
    }
    let start = head_median(points, START_FRACTION, 3)?;
    let end = tail_median(points, END_FRACTION, 3)?;
    if start <= 0.0 {
        return None;
    }
    let name = Curves::label(c.train, "train loss");
    let last_step = points.last()?.0;
    let drop = (start - end) / start;
    if drop < t.underfit_min_drop {
        let message = format!(
            "underfitting: {name} fell only {:.0}% over the run ({} → {} by step {last_step}); \
             train longer or raise the learning rate",
            drop.max(0.0) * 100.0,
            show(start),
            show(end)
        );
        return Some(diagnostic(
            "underfitting",
            Severity::Warning,
            message,
            Some(last_step),
        ));
    }
    let tail = &points[points.len() - window_len(points.len(), SLOPE_FRACTION, 5)..];
    // The rate it is surely falling at: the slope less two standard errors, so
    // that noise on a short tail never reads as a steep fall.
    let (b, se) = slope(tail)?;
    let rate = -(b + 2.0 * se);
    let span = (last_step - points[0].0) as f64;
    let more = rate * span;
    if rate <= 0.0 || more <= t.underfit_still_falling * (start - end) {
        return None;
    }
    let tail_span = (last_step - tail[0].0) as f64;
    let message = format!(
        "underfitting: {name} is still falling steeply at the end (down {} over steps {}-{last_step}; \
         at that rate a run as long again would take it down another {}); train longer",
        show(rate * tail_span),
        tail[0].0,
        show(more.min(end))
    );
    Some(diagnostic(
        "underfitting",
        Severity::Warning,
        message,
        Some(last_step),
    ))
}

/// Info when the loss (val when it has enough evaluations, else train,
/// smoothed) improved by less than a small fraction over the last part of
/// the run: later steps added little.
pub fn plateau(c: &Curves, t: &Thresholds) -> Option<Diagnostic> {
    // Evaluations are few and already averaged over a dataset: five will do,
    // taken as they are; a train curve needs more points and a running median.
    let use_val = c.val_finite.len() >= 5;
    let (points, series, needed) = if use_val {
        (&c.val_finite, c.val, 5)
    } else {
        (&c.train_finite, c.train, t.min_points.max(5))
    };
    if points.len() < needed {
        return None;
    }
    let smooth: Vec<f64> = if use_val {
        points.iter().map(|p| p.1).collect()
    } else {
        rolling_median(points, 2)
    };
    let (first, last) = (points[0].0, points.last()?.0);
    let cut = last as f64 - t.plateau_fraction * (last - first) as f64;
    let split = points.partition_point(|p| (p.0 as f64) < cut);
    if split == 0 || split == points.len() {
        return None;
    }
    let best_before = smooth[..split]
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))?;
    let best_after = smooth[split..]
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min);
    let (before_value, before_step) = (*best_before.1, points[best_before.0].0);
    if before_value <= 0.0 {
        return None;
    }
    let improvement = (before_value - best_after) / before_value;
    if improvement >= t.plateau_min_improvement {
        return None;
    }
    let name = Curves::label(series, "loss");
    let message = format!(
        "plateau: {name} improved {:.1}% over the last {:.0}% of the run (best {} at step {before_step} \
         before it); the last {} steps added little",
        improvement.max(0.0) * 100.0,
        t.plateau_fraction * 100.0,
        show(before_value),
        last - points[split].0.min(last)
    );
    Some(diagnostic(
        "plateau",
        Severity::Info,
        message,
        Some(before_step),
    ))
}
