//! How chart cost grows with series length: draws one loss chart (SVG and
//! PNG, smoothing on) of 10k, 100k, 1M and 10M points, several times each,
//! and prints the median time and its ratio to the 10k chart.
//!
//!     cargo run --release --example chart_bench
//!
//! A figure, not a test: nothing here passes or fails on seconds.

use runboard::render::chart::{render_svg_and_png, ChartLine, ChartSpec};
use std::time::Instant;

/// A noisy decaying loss with a few spikes and one NaN, `n` points long.
fn loss(n: usize) -> Vec<(f64, f64)> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..n)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = (state % 1000) as f64 / 1000.0 - 0.5;
            let t = i as f64 / n as f64;
            let mut v = 1.0 + 2.5 * (-5.0 * t).exp() + 0.1 * noise;
            if i % (n / 7).max(1) == 0 {
                v *= 3.0;
            }
            if i == n / 2 {
                v = f64::NAN;
            }
            (i as f64, v)
        })
        .collect()
}

fn spec(points: Vec<(f64, f64)>) -> ChartSpec {
    ChartSpec {
        title: "Loss".into(),
        x_label: "step".into(),
        y_label: "loss".into(),
        lines: vec![ChartLine {
            label: "train/loss".into(),
            points,
            ..ChartLine::default()
        }],
        smoothing: 0.6,
        ..ChartSpec::default()
    }
}

fn median_seconds(spec: &ChartSpec, repeats: usize) -> f64 {
    let mut times: Vec<f64> = (0..repeats)
        .map(|_| {
            let start = Instant::now();
            // Both formats from one preparation, as the site draws them.
            let drawn = render_svg_and_png(spec).expect("chart");
            std::hint::black_box(drawn);
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    println!("{:>12}  {:>10}  {:>8}", "points", "median", "ratio");
    let mut base = None;
    for (n, repeats) in [(10_000, 7), (100_000, 7), (1_000_000, 5), (10_000_000, 3)] {
        let spec = spec(loss(n));
        let seconds = median_seconds(&spec, repeats);
        let base = *base.get_or_insert(seconds);
        println!(
            "{n:>12}  {:>8.1}ms  {:>7.2}x",
            seconds * 1000.0,
            seconds / base
        );
    }
}
