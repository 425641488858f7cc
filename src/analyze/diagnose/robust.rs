//! Small robust statistics the diagnostics share: medians, MAD, slopes.
//!
//! Training curves are noisy (a 3% jitter per logged step is normal), so the
//! diagnostics compare medians of windows, never single points.

/// Median of the values (NaN-free input); `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

/// Median absolute deviation from `center`.
pub fn mad(values: &[f64], center: f64) -> f64 {
    let deviations: Vec<f64> = values.iter().map(|v| (v - center).abs()).collect();
    median(&deviations).unwrap_or(0.0)
}

/// Median of the values of the first `fraction` of points (at least `min` points).
pub fn head_median(points: &[(u64, f64)], fraction: f64, min: usize) -> Option<f64> {
    let n = window_len(points.len(), fraction, min);
    median(&values(&points[..n]))
}

/// Median of the values of the last `fraction` of points (at least `min` points).
pub fn tail_median(points: &[(u64, f64)], fraction: f64, min: usize) -> Option<f64> {
    let n = window_len(points.len(), fraction, min);
    median(&values(&points[points.len() - n..]))
}

/// How many points a window of `fraction` of `len` holds, at least `min`, at most `len`.
pub fn window_len(len: usize, fraction: f64, min: usize) -> usize {
    ((len as f64 * fraction).round() as usize).max(min).min(len)
}

pub fn values(points: &[(u64, f64)]) -> Vec<f64> {
    points.iter().map(|p| p.1).collect()
}

/// Least-squares slope of value over step and its standard error; `None`
/// for fewer than three points or fewer than two distinct steps.
pub fn slope(points: &[(u64, f64)]) -> Option<(f64, f64)> {
    let n = points.len() as f64;
    if points.len() < 3 {
        return None;
    }
    let mean_x = points.iter().map(|p| p.0 as f64).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for &(x, y) in points {
        let dx = x as f64 - mean_x;
        sxy += dx * (y - mean_y);
        sxx += dx * dx;
    }
    if sxx <= 0.0 {
        return None;
    }
    let b = sxy / sxx;
    let residual: f64 = points
        .iter()
        .map(|&(x, y)| {
            let r = y - (mean_y + b * (x as f64 - mean_x));
            r * r
        })
        .sum();
    let se = (residual / (n - 2.0) / sxx).sqrt();
    Some((b, se))
}

/// Running median over a centred window of `2 * half + 1` points (shorter at the ends).
pub fn rolling_median(points: &[(u64, f64)], half: usize) -> Vec<f64> {
    let mut buffer = Vec::with_capacity(2 * half + 1);
    (0..points.len())
        .map(|i| {
            let lo = i.saturating_sub(half);
            let hi = (i + half + 1).min(points.len());
            buffer.clear();
            buffer.extend(points[lo..hi].iter().map(|p| p.1));
            median_in_place(&mut buffer)
        })
        .collect()
}

/// The median of a non-empty buffer, reordering it (selection, not a sort:
/// the running windows of a ten-million-point series call this per point).
pub fn median_in_place(values: &mut [f64]) -> f64 {
    let (len, mid) = (values.len(), values.len() / 2);
    let (below, upper, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    if len % 2 == 1 {
        upper
    } else {
        let lower = below.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lower + upper) / 2.0
    }
}

/// A value for a message: four significant digits, no trailing zeros (`1.235`, `0.0001234`, `1.2e+06`).
pub fn show(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let magnitude = v.abs();
    if magnitude != 0.0 && !(1e-4..1e6).contains(&magnitude) {
        return format!("{v:.3e}");
    }
    let decimals = if magnitude == 0.0 {
        0
    } else {
        (3 - magnitude.log10().floor() as i32).max(0) as usize
    };
    let text = format!("{v:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_windows() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        let pts: Vec<(u64, f64)> = (0..100).map(|i| (i, i as f64)).collect();
        assert_eq!(head_median(&pts, 0.1, 3), Some(4.5));
        assert_eq!(tail_median(&pts, 0.1, 3), Some(94.5));
        assert_eq!(tail_median(&pts[..2], 0.1, 3), Some(0.5));
        assert_eq!(mad(&[1.0, 2.0, 3.0, 100.0], 2.5), 1.0);
    }

    #[test]
    fn slope_of_a_line() {
        let pts: Vec<(u64, f64)> = (0..10).map(|i| (i * 10, 5.0 - 0.5 * i as f64)).collect();
        let (b, se) = slope(&pts).unwrap();
        assert!((b + 0.05).abs() < 1e-12 && se < 1e-12);
        let noisy = [(0, 1.0), (10, 3.0), (20, 1.0), (30, 3.0)];
        assert!(slope(&noisy).unwrap().1 > 0.01, "noise widens the error");
        assert_eq!(slope(&[(1, 2.0), (2, 3.0)]), None);
        assert_eq!(slope(&[(1, 2.0), (1, 3.0), (1, 4.0)]), None);
    }

    #[test]
    fn median_in_place_matches_median() {
        for values in [
            vec![3.0, 1.0, 2.0],
            vec![4.0, 1.0, 2.0, 3.0],
            vec![5.0],
            vec![2.0, 2.0, 1.0, 9.0],
        ] {
            assert_eq!(Some(median_in_place(&mut values.clone())), median(&values));
        }
    }

    #[test]
    fn rolling_median_ignores_one_spike() {
        let pts = [(1, 1.0), (2, 1.0), (3, 50.0), (4, 1.0), (5, 1.0)];
        assert_eq!(rolling_median(&pts, 2), vec![1.0, 1.0, 1.0, 1.0, 1.0]);
    }

    #[test]
    fn shows_values_briefly() {
        assert_eq!(show(1.23456), "1.235");
        assert_eq!(show(0.000123456), "0.0001235");
        assert_eq!(show(2.0), "2");
        assert_eq!(show(1234567.0), "1.235e6");
        assert_eq!(show(f64::NAN), "NaN");
        assert_eq!(show(0.0), "0");
    }
}
