//! The y axis: linear, or log10 when the values span more than two decades,
//! and where its ticks go.
//!
//! A log axis is drawn as a linear axis over `log10(y)`: [`super::prepare`]
//! transforms the values once, so lines, rings and bands need no second code
//! path, and only the ticks know. Plotters would put those at 0.5-decade
//! steps (3.16, 31.6); [`YAxis`] puts them at 1, 2, 5 per decade or at whole
//! decades, and labels them `1e-4`, `0.01`, `10k`.

use super::style::floor;
use super::ticks::format_tick;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use std::ops::Range;

/// Decades the finite values must span before the axis goes logarithmic: past
/// two, the small end of a linear axis is a flat line where the data has shape.
pub const LOG_SCALE_DECADES: f64 = 2.0;

/// Labels on a log axis: more than a linear one, because 1, 2, 5 per decade reads at a glance.
pub(super) const LOG_TICKS: usize = 8;

/// True when every finite value is positive and they span more than
/// [`LOG_SCALE_DECADES`] (a zero or a negative value keeps the axis linear).
pub fn wants_log_scale(values: impl Iterator<Item = f64>) -> bool {
    let (mut lo, mut hi) = (f64::INFINITY, 0.0f64);
    for v in values.filter(|v| v.is_finite()) {
        if v <= 0.0 {
            return false;
        }
        (lo, hi) = (lo.min(v), hi.max(v));
    }
    lo.is_finite() && hi.log10() - lo.log10() > LOG_SCALE_DECADES
}

/// Where the bulk of `values` lies, for an axis that ignores outliers: the 2nd
/// to 98th percentile widened by half its span each way (so a curve's start
/// and its noise stay on the plot), never past the extremes. A diverged run
/// among healthy ones is what falls outside. `None` without two finite values.
pub fn bulk_range(values: &[f64]) -> Option<(f64, f64)> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.len() < 2 {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    let (lo, hi) = (at(0.02), at(0.98));
    let margin = (hi - lo) * 0.5;
    let (min, max) = (sorted[0], sorted[sorted.len() - 1]);
    Some(((lo - margin).max(min), (hi + margin).min(max)))
}

/// The y coordinate: `lo..hi` in axis units (`log10(y)` when `log`).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct YAxis {
    pub lo: f64,
    pub hi: f64,
    pub log: bool,
}

impl YAxis {
    fn linear(&self) -> RangedCoordf64 {
        RangedCoordf64::from(self.lo..self.hi)
    }

    /// Where the labelled ticks go, at most about `max` of them.
    pub fn ticks(&self, max: usize) -> Vec<f64> {
        let log = self.log.then(|| log_ticks((self.lo, self.hi), max));
        match log {
            Some(ticks) if ticks.len() >= 2 => ticks,
            _ => self.linear().key_points(max),
        }
    }
}

impl Ranged for YAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    /// Plotters' `RangedCoordf64::map`, step for step (a test holds them
    /// equal), but for its `floor` and `ceil`: on a baseline x86-64 build
    /// each is a call into libm, and every point of every line is mapped.
    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        if self.hi == self.lo {
            return limit.1.wrapping_sub(limit.0) / 2;
        }
        let logic_length = (*value - self.lo) / (self.hi - self.lo);
        let actual_length = limit.1.wrapping_sub(limit.0);
        if actual_length == 0 {
            return limit.1;
        }
        if logic_length.is_infinite() {
            return if logic_length.is_sign_positive() {
                limit.1
            } else {
                limit.0
            };
        }
        let offset = if actual_length > 0 {
            floor(actual_length as f64 * logic_length + 1e-3)
        } else {
            -floor(-(actual_length as f64 * logic_length - 1e-3))
        };
        limit.0.wrapping_add(offset as i32)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        self.ticks(hint.max_num_points())
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

/// Tick positions (in log10 units) inside `lo..=hi`: 1, 2 and 5 of each decade
/// when they fit in `max`, else 1 and 3, else whole decades, every k-th one.
fn log_ticks((lo, hi): (f64, f64), max: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite() && lo < hi) || max < 2 {
        return Vec::new();
    }
    // Values are clamped to 1e±300 before the log and subnormals end near -324.
    let (first, last) = (lo.floor().max(-400.0) as i32, hi.ceil().min(400.0) as i32);
    let within = |v: &f64| lo - 1e-9 <= *v && *v <= hi + 1e-9;
    for mantissas in [&[1.0, 2.0, 5.0][..], &[1.0, 3.0][..]] {
        let ticks: Vec<f64> = (first..=last)
            .flat_map(|d| mantissas.iter().map(move |m| d as f64 + f64::log10(*m)))
            .filter(within)
            .collect();
        if ticks.len() <= max {
            return ticks;
        }
    }
    let decades: Vec<i32> = (first..=last).filter(|d| within(&(*d as f64))).collect();
    let stride = decades.len().div_ceil(max).max(1) as i32;
    decades
        .into_iter()
        .filter(|d| d.rem_euclid(stride) == 0)
        .map(f64::from)
        .collect()
}

/// A log-axis label for the tick at `log10(y) = v`: `1e-4`, `2e-3`, `0.01`,
/// `0.5`, `1`, `20`, `1k`, `500k`, `1M`. Below 0.01 it is written as a power of
/// ten, so a run of decades reads `1e-5, 1e-4, 1e-3` rather than `0.00001`.
pub(super) fn format_log_tick(v: f64) -> String {
    if !v.is_finite() {
        return format_tick(v, 0.0);
    }
    let exponent = (v + 1e-9).floor();
    let mantissa = 10f64.powf(v - exponent).round();
    if !(-2.0..15.0).contains(&exponent) {
        return format!("{mantissa}e{exponent}");
    }
    let value = mantissa * 10f64.powf(exponent);
    format_tick(value, 10f64.powf(exponent))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind of value and pixel range maps where plotters maps it.
    #[test]
    fn values_map_where_plotters_maps_them() {
        let mut values = vec![
            0.0,
            -0.0,
            0.5,
            1.0,
            1.0 - 1e-12,
            3.75,
            -2.5,
            1e-300,
            1e5,
            -1e5,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
            0.1 + 0.2,
        ];
        let mut axes = vec![(0.0, 1.0), (-3.0, 7.5), (2.0, 2.0), (5.0, -5.0)];
        let mut limits = vec![(0, 1280), (700, 40), (5, 5), (-20, 20), (3, 2)];
        // Far off the axis the pixel saturates and plotters' sums wrap, as
        // they do in a release build (a debug build of plotters panics).
        if !cfg!(debug_assertions) {
            values.extend([1e15, -1e15, 4.5e15, 1e300, -1e300]);
            axes.extend([(-1e300, 1e300), (1e-9, 2e-9)]);
            limits.push((i32::MIN, i32::MAX));
        }
        for &(lo, hi) in &axes {
            let ours = YAxis { lo, hi, log: false };
            for &limit in &limits {
                for v in values.iter().chain(&[lo, hi, (lo + hi) / 2.0]) {
                    let plotters = RangedCoordf64::from(lo..hi).map(v, limit);
                    assert_eq!(
                        ours.map(v, limit),
                        plotters,
                        "{v} on {lo}..{hi} to {limit:?}"
                    );
                }
            }
        }
        for v in [-3.5, -3.0, -0.2, 0.0, 2.7, 4e15, -4e15, 123456789.999] {
            assert_eq!(floor(v), f64::floor(v), "{v}");
        }
    }

    #[test]
    fn log_scale_only_past_two_decades_of_positive_values() {
        assert!(wants_log_scale([1.4, 800_000.0].into_iter()));
        assert!(wants_log_scale(
            [1e-4, 5e-3, 2e-2, f64::NAN, f64::INFINITY].into_iter()
        ));
        assert!(
            !wants_log_scale([1.0, 99.0].into_iter()),
            "under two decades"
        );
        assert!(!wants_log_scale([0.0, 1e-4, 1.0].into_iter()), "a zero");
        assert!(
            !wants_log_scale([-1.0, 1e-4, 1.0].into_iter()),
            "a negative"
        );
        assert!(!wants_log_scale([f64::NAN].into_iter()), "nothing finite");
        assert!(!wants_log_scale(std::iter::empty()));
        assert!(
            wants_log_scale([1e-320, f64::MAX].into_iter()),
            "no overflow"
        );
    }

    #[test]
    fn the_bulk_leaves_out_a_divergence_but_not_a_curve_start() {
        // 1000 values of a decaying loss, 4.5 down to about 1, and a run that blew up.
        let mut values: Vec<f64> = (0..1000)
            .map(|i| 1.0 + 3.5 * (-(i as f64) / 60.0).exp())
            .collect();
        values.extend([10.0, 1e3, 1e5, 1e6]);
        let (lo, hi) = bulk_range(&values).unwrap();
        assert_eq!(
            lo,
            1.0 + 3.5 * (-999.0f64 / 60.0).exp(),
            "the minimum stays"
        );
        assert!((4.5..10.0).contains(&hi), "{hi}");
        // Nothing to leave out: the extremes.
        assert_eq!(bulk_range(&[1.0, 2.0, f64::NAN]), Some((1.0, 2.0)));
        assert_eq!(bulk_range(&[1.0]), None);
    }

    #[test]
    fn log_ticks_are_round_and_bounded() {
        let names = |lo: f64, hi: f64| -> Vec<String> {
            log_ticks((lo, hi), LOG_TICKS)
                .into_iter()
                .map(format_log_tick)
                .collect()
        };
        // 0.8 .. 120: 1, 2, 5 per decade.
        assert_eq!(
            names(0.8f64.log10(), 120f64.log10()),
            ["1", "2", "5", "10", "20", "50", "100"]
        );
        // 1e-5 .. 1e-2: 1 and 3.
        assert_eq!(
            names(-5.0, -2.0),
            ["1e-5", "3e-5", "1e-4", "3e-4", "1e-3", "3e-3", "0.01"]
        );
        // 1 .. 1e6: decades.
        assert_eq!(
            names(0.0, 6.0),
            ["1", "10", "100", "1k", "10k", "100k", "1M"]
        );
        // 1e-300 .. 1e300: every k-th decade, never more than asked.
        let wide = log_ticks((-300.0, 300.0), LOG_TICKS);
        assert!(wide.len() <= LOG_TICKS && wide.len() >= 4, "{wide:?}");
        assert_eq!(format_log_tick(-300.0), "1e-300");
        assert!(log_ticks((f64::NAN, 1.0), 8).is_empty());
    }

    #[test]
    fn a_log_axis_without_round_ticks_falls_back_to_linear_ones() {
        let axis = YAxis {
            lo: 0.1,
            hi: 0.2,
            log: true,
        };
        assert!(axis.ticks(LOG_TICKS).len() >= 2);
    }
}
