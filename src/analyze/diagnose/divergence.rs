//! `diverged` (the loss went non-finite or exploded) and `loss_spike`
//! (isolated jumps that came back down).

use super::robust::{median, median_in_place, rolling_median, show, tail_median};
use super::{diagnostic, Curves};
use crate::analyze::thresholds::Thresholds;
use crate::analyze::Diagnostic;
use crate::model::{Family, Series, Severity};

/// Half-width of the window a point is compared with when looking for spikes.
const SPIKE_HALF_WINDOW: usize = 5;
/// Half-width of the median that smooths a loss before looking for an explosion.
const SMOOTH_HALF_WINDOW: usize = 2;
/// A grad norm this many times its typical value is worth naming beside a divergence.
const GRAD_NORM_JUMP: f64 = 10.0;

/// An error at the first non-finite step of any loss series, or where the
/// smoothed train loss climbed far above its running minimum for good.
pub fn diverged(c: &Curves, t: &Thresholds) -> Option<Diagnostic> {
    let nonfinite = c
        .run
        .metrics
        .iter()
        .filter(|s| s.family == Family::Loss)
        .filter_map(|s| first_nonfinite(s).map(|(step, value)| (step, value, s)))
        .min_by_key(|(step, _, _)| *step);
    if let Some((step, value, series)) = nonfinite {
        let before = series
            .points
            .iter()
            .take_while(|p| p.step < step)
            .filter(|p| p.value.is_finite())
            .last();
        let mut message = format!("diverged: {} became {value} at step {step}", series.name);
        if let Some(p) = before {
            message.push_str(&format!(
                " (last finite value {} at step {})",
                show(p.value),
                p.step
            ));
        }
        message.push_str(&grad_norm_note(c, step));
        return Some(diagnostic("diverged", Severity::Error, message, Some(step)));
    }
    exploded(c, t)
}

/// The step and value of a series' first NaN or infinity.
fn first_nonfinite(series: &Series) -> Option<(u64, f64)> {
    series
        .points
        .iter()
        .find(|p| !p.value.is_finite())
        .map(|p| (p.step, p.value))
}

/// The train loss (smoothed) ends far above its running minimum and above its start.
fn exploded(c: &Curves, t: &Thresholds) -> Option<Diagnostic> {
    let points = &c.train_finite;
    if points.len() < t.min_points {
        return None;
    }
    let smooth = rolling_median(points, SMOOTH_HALF_WINDOW);
    let start = smooth[0];
    let end = tail_median(points, 0.05, 3)?;
    let minimum = smooth.iter().copied().fold(f64::INFINITY, f64::min);
    if !(minimum > 0.0 && end > t.diverge_factor * minimum && end > start) {
        return None;
    }
    // Where it left for good: after the last point still within the factor of the minimum so far.
    let mut running_min = f64::INFINITY;
    let mut onset = 0;
    for (i, v) in smooth.iter().enumerate() {
        running_min = running_min.min(*v);
        if *v <= t.diverge_factor * running_min {
            onset = (i + 1).min(smooth.len() - 1);
        }
    }
    let step = points[onset].0;
    let message = format!(
        "diverged: {} climbed from its minimum {} to {} (over {}×) from step {step} on{}",
        Curves::label(c.train, "train loss"),
        show(minimum),
        show(end),
        show(t.diverge_factor),
        grad_norm_note(c, step)
    );
    Some(diagnostic("diverged", Severity::Error, message, Some(step)))
}

/// `; grad norm rose from 1.2 to 3.4e5 by step S` when the grad norm exploded around `step`.
fn grad_norm_note(c: &Curves, step: u64) -> String {
    let Some(grad) = c.run.metrics.iter().find(|s| s.family == Family::GradNorm) else {
        return String::new();
    };
    let before: Vec<f64> = grad
        .points
        .iter()
        .filter(|p| p.step < step && p.value.is_finite())
        .map(|p| p.value)
        .collect();
    let typical = median(&before[..before.len() / 2 + before.len() % 2]);
    let peak = grad
        .points
        .iter()
        .filter(|p| p.step <= step)
        .max_by(|a, b| a.value.total_cmp(&b.value).then(b.step.cmp(&a.step)));
    match (typical, peak) {
        (Some(typical), Some(peak))
            if typical > 0.0
                && (!peak.value.is_finite() || peak.value > GRAD_NORM_JUMP * typical) =>
        {
            format!(
                "; {} rose from about {} to {} by step {}",
                grad.name,
                show(typical),
                show(peak.value),
                peak.step
            )
        }
        _ => String::new(),
    }
}

/// Isolated spikes in the train loss: far above the local median (robust
/// sigmas and a minimum rise) and back down within the window.
pub fn loss_spikes(c: &Curves, t: &Thresholds) -> Option<Diagnostic> {
    let points = &c.train_finite;
    if points.len() < t.min_points.max(2 * SPIKE_HALF_WINDOW + 1) {
        return None;
    }
    let spikes = find_spikes(points, t, true);
    let (_, step, value, local) = *spikes
        .iter()
        .max_by(|a, b| (a.2 / a.3).total_cmp(&(b.2 / b.3)))?;
    let severity = if value >= 2.0 * local {
        Severity::Warning
    } else {
        Severity::Info
    };
    let count = spikes.len();
    let what = if count == 1 {
        "1 isolated spike".to_string()
    } else {
        format!("{count} isolated spikes")
    };
    let message = format!(
        "loss spikes: {what} in {}; the largest {} at step {step} against a local median of {} (it came back down)",
        Curves::label(c.train, "train loss"),
        show(value),
        show(local)
    );
    Some(diagnostic("loss_spike", severity, message, Some(step)))
}

/// (index of the highest point, step, value, local median) per spike; the
/// points of one spike (its peak and the way down) are one spike.
///
/// A spike stands above its window's median by `spike_min_rise`, so at least
/// half the window lies below `value / (1 + rise)`. With `count_first`, that
/// count (a few comparisons) is taken before the median (a copy and a
/// selection) and settles nearly every point; the margin on the bound keeps
/// it from ruling out a point the median would pass. Without it, every point
/// gets its median: the tests' reference.
fn find_spikes(
    points: &[(u64, f64)],
    t: &Thresholds,
    count_first: bool,
) -> Vec<(usize, u64, f64, f64)> {
    let mut spikes: Vec<(usize, u64, f64, f64)> = Vec::new();
    let mut window: Vec<f64> = Vec::with_capacity(2 * SPIKE_HALF_WINDOW + 1);
    let mut deviations: Vec<f64> = Vec::with_capacity(2 * SPIKE_HALF_WINDOW + 1);
    let rise = 1.0 + t.spike_min_rise;
    for i in 0..points.len() {
        let lo = i.saturating_sub(SPIKE_HALF_WINDOW);
        let hi = (i + SPIKE_HALF_WINDOW + 1).min(points.len());
        let value = points[i].1;
        // Only where the value and the bound are normal floats: among
        // subnormals a rounding error is a whole unit, larger than the margin.
        let normal = value >= f64::MIN_POSITIVE && value / rise >= f64::MIN_POSITIVE;
        if count_first && rise > 0.0 && normal {
            let bound = value / rise * (1.0 + 1e-9);
            let below = points[lo..hi].iter().filter(|p| p.1 < bound).count();
            if below < (hi - lo).div_ceil(2) {
                continue;
            }
        }
        window.clear();
        window.extend(points[lo..hi].iter().map(|p| p.1));
        let local = median_in_place(&mut window);
        let high = local * rise;
        // The cheap tests first: nearly every point is below `high`, and
        // the spread and the way back are only needed for the few that are not.
        if !(local > 0.0 && value > high) {
            continue;
        }
        deviations.clear();
        deviations.extend(window.iter().map(|v| (v - local).abs()));
        let sigma = median_in_place(&mut deviations) * 1.4826;
        if value <= local + t.spike_sigmas * sigma {
            continue;
        }
        // Isolated: the points after it are back near the local level (a level
        // shift or the start of a divergence is not a spike).
        let after =
            &points[(i + 1).min(points.len())..(i + 1 + SPIKE_HALF_WINDOW).min(points.len())];
        let came_back =
            median(&after.iter().map(|p| p.1).collect::<Vec<_>>()).is_some_and(|m| m < high);
        if !came_back {
            continue;
        }
        match spikes.last_mut() {
            Some(spike) if i - spike.0 <= SPIKE_HALF_WINDOW => {
                if value / local > spike.2 / spike.3 {
                    *spike = (i, points[i].0, value, local);
                } else {
                    spike.0 = i;
                }
            }
            _ => spikes.push((i, points[i].0, value, local)),
        }
    }
    spikes
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counting first finds exactly the spikes the medians find: noisy
    /// curves with spikes, plateaus, ties, negative and zero stretches, and
    /// several rises, including ones that make the bound meaningless.
    #[test]
    fn counting_first_finds_what_the_medians_find() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % 10_000) as f64 / 10_000.0
        };
        let mut found = 0;
        for case in 0..300 {
            let n = 11 + case % 90;
            let points: Vec<(u64, f64)> = (0..n)
                .map(|i| {
                    let base = match case % 5 {
                        0 => 2.0 - i as f64 / n as f64,
                        1 => 1.0,
                        2 => (i % 3) as f64 - 1.0,
                        3 => 0.0,
                        _ => 0.5 + 0.1 * next(),
                    };
                    let jump = if next() < 0.08 {
                        1.0 + 4.0 * next()
                    } else {
                        1.0
                    };
                    (i as u64, (base + 0.2 * next()) * jump)
                })
                .collect();
            for rise in [0.5, 0.0, 2.0, -0.5, -1.0, -3.0] {
                let t = Thresholds {
                    spike_min_rise: rise,
                    ..Thresholds::default()
                };
                let (fast, plain) = (
                    find_spikes(&points, &t, true),
                    find_spikes(&points, &t, false),
                );
                assert_eq!(fast, plain, "case {case}, rise {rise}");
                found += plain.len();
            }
        }
        assert!(found > 100, "the cases have spikes to find: {found}");
    }

    /// Among subnormal values rounding is coarser than the count's margin: a
    /// point of 5 units over a window of 3s is a spike at a rise of 0.5
    /// (4.5 rounds to 4), and counting first must not lose it.
    #[test]
    fn subnormal_losses_lose_no_spike() {
        let unit = f64::from_bits(1);
        let points: Vec<(u64, f64)> = (0..31)
            .map(|i| (i, if i == 15 { 5.0 * unit } else { 3.0 * unit }))
            .collect();
        for rise in [0.5, -0.5] {
            let t = Thresholds {
                spike_min_rise: rise,
                ..Thresholds::default()
            };
            let plain = find_spikes(&points, &t, false);
            assert!(rise < 0.0 || plain.len() == 1, "{plain:?}");
            assert_eq!(find_spikes(&points, &t, true), plain, "rise {rise}");
        }
    }
}
