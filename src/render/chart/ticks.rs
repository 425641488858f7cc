//! Numbers as a chart prints them: short (`12k`, `1.5M`, `1e-4`) and, along an
//! axis, with just enough decimals that neighbouring ticks never print alike.
//!
//! Pure functions, tested on values, so the axis, the legend's best entry and
//! any caller outside agree on how a number looks.

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

/// A tick label: `0.25`, `12k`, `1.5M`, `1e-4`. `step` is the distance between
/// ticks and decides the decimals (so neighbours never print alike) and whether
/// tiny values go scientific; pass 0 for a lone value (four significant digits).
pub fn format_tick(value: f64, step: f64) -> String {
    if value.is_nan() {
        return "NaN".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "inf" } else { "-inf" }.into();
    }
    let step = Some(step).filter(|s| s.is_finite() && *s > 0.0);
    let mag = value.abs();
    if mag == 0.0 || step.is_some_and(|s| mag < s * 1e-6) {
        return "0".into(); // also swallows float dust like 1.3e-17 on a 0.1 grid
    }
    if mag >= 1e15 || step.map_or(mag < 1e-3, |s| s < 1e-3) {
        let exp = mag.log10().floor() as i32;
        let digits = step.map_or(3, |s| decimals_for(s / 10f64.powi(exp)).min(3));
        let text = format!("{value:.digits$e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        return format!("{}e{exponent}", trim_zeros(mantissa));
    }
    let (unit, suffix) = [(1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")]
        .into_iter()
        .find(|(u, _)| mag >= *u)
        .unwrap_or((1.0, ""));
    let digits = match step {
        Some(s) => decimals_for(s / unit),
        None => (3 - (mag / unit).log10().floor() as i32).clamp(0, 8) as usize,
    };
    format!(
        "{}{suffix}",
        trim_zeros(&format!("{:.digits$}", value / unit))
    )
}

/// Decimals needed to write `step` exactly (0.25 -> 2), at most 8.
fn decimals_for(step: f64) -> usize {
    (0..=8)
        .find(|d| {
            let v = step * 10f64.powi(*d as i32);
            (v - v.round()).abs() < 1e-6 * v.max(1.0)
        })
        .unwrap_or(8)
}

fn trim_zeros(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

/// The distance between the ticks plotters will draw for `range` with at most `n` labels.
pub(super) fn tick_step(range: (f64, f64), n: usize) -> f64 {
    let ticks = RangedCoordf64::from(range.0..range.1).key_points(n);
    match ticks.as_slice() {
        [a, b, ..] => b - a,
        _ => range.1 - range.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_ticks() {
        assert_eq!(format_tick(0.25, 0.05), "0.25");
        assert_eq!(format_tick(0.5, 0.25), "0.5");
        assert_eq!(format_tick(3.0, 0.5), "3");
        assert_eq!(format_tick(12_000.0, 2_000.0), "12k");
        assert_eq!(format_tick(12_500.0, 500.0), "12.5k");
        assert_eq!(format_tick(1_500_000.0, 500_000.0), "1.5M");
        assert_eq!(format_tick(3e9, 1e9), "3B");
        assert_eq!(format_tick(1e-4, 2e-5), "1e-4");
        assert_eq!(format_tick(1.2e-4, 2e-5), "1.2e-4");
        assert_eq!(format_tick(-2e-5, 2e-5), "-2e-5");
        assert_eq!(format_tick(2e300, 5e299), "2e300");
        assert_eq!(format_tick(1.3e-17, 0.1), "0");
        assert_eq!(format_tick(-0.0, 1.0), "0");
        assert_eq!(format_tick(0.30000000000000004, 0.1), "0.3");
        assert_eq!(format_tick(f64::NAN, 1.0), "NaN");
        assert_eq!(format_tick(f64::NEG_INFINITY, 1.0), "-inf");
        // Without a step: four significant digits.
        assert_eq!(format_tick(1.23456, 0.0), "1.235");
        assert_eq!(format_tick(12_345.0, 0.0), "12.35k");
        assert_eq!(format_tick(0.0123, 0.0), "0.0123");
        assert_eq!(format_tick(0.00012, 0.0), "1.2e-4");
    }
}
