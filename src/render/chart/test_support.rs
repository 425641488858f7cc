//! Specs shared by the chart tests: small builders and one realistic demo.

use super::{ChartLine, ChartSpec};

pub(super) fn line(label: &str, points: Vec<(f64, f64)>, markers: bool) -> ChartLine {
    ChartLine {
        label: label.into(),
        points,
        markers,
        faded: false,
        band: Vec::new(),
        scatter: false,
        thinned_from: None,
    }
}

pub(super) fn spec(lines: Vec<ChartLine>) -> ChartSpec {
    ChartSpec {
        title: "loss".into(),
        x_label: "step".into(),
        y_label: "loss".into(),
        lines,
        ..ChartSpec::default()
    }
}

/// A deterministic noisy loss curve, 3.5 decaying to 1.0 over 2000 logged steps
/// with one NaN, and a validation point every 100 of them that bottoms out
/// and creeps back up (overfitting), its lowest point marked best.
pub(super) fn demo_spec() -> ChartSpec {
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % 10_000) as f64 / 10_000.0 - 0.5
    };
    let curve = |step: f64| 1.0 + 2.5 * (-step / 450.0).exp();
    let train = (0..2000)
        .map(|i| {
            let step = i as f64 * 10.0;
            let y = if i == 1234 {
                f64::NAN
            } else {
                curve(i as f64) + 0.18 * noise()
            };
            (step, y)
        })
        .collect();
    let val: Vec<(f64, f64)> = (0..=20)
        .map(|k| {
            (
                k as f64 * 1000.0,
                curve(k as f64 * 100.0) + 0.06 + 0.018 * k as f64,
            )
        })
        .collect();
    let best = val.iter().copied().min_by(|a, b| a.1.total_cmp(&b.1));
    ChartSpec {
        title: "run-042 · loss".into(),
        x_label: "step".into(),
        y_label: "loss".into(),
        lines: vec![line("train", train, false), line("validation", val, true)],
        best,
        best_label: String::new(),
        smoothing: 0.6,
        compares_runs: false,
        x_log: false,
    }
}

/// A PNG's colour type, size and pixels as RGB bytes (palettes expanded).
pub(super) fn decode_png(png: &[u8]) -> (png::ColorType, (u32, u32), Vec<u8>) {
    let mut decoder = png::Decoder::new(png);
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().unwrap();
    let colour = reader.info().color_type;
    let mut rgb = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut rgb).unwrap();
    rgb.truncate(frame.buffer_size());
    (colour, (frame.width, frame.height), rgb)
}
