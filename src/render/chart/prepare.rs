//! The spec made ready to draw: lines smoothed and reduced, values clamped
//! and put on a log10 axis when they span decades, axis ranges chosen,
//! non-finite points located, the best point vetted, the footnote written.
//!
//! Everything numeric happens here, before any pixel, so the drawing code only
//! lays out and the odd cases (no data, one value, 1e300, NaN everywhere) are
//! settled in one place that has no backend to fail. This is also the only
//! part whose cost grows with the series: a few linear passes, then at most
//! about [`MAX_POINTS`] points per line go on.

use super::axis::{bulk_range, wants_log_scale, YAxis};
use super::marks::Edge;
use super::reduce::{is_plottable, reduce_points, reduce_stream};
use super::smooth::{clamp_weight, ema};
use super::ticks::format_tick;
use super::{ChartLine, ChartSpec, MAX_MARKERS, MAX_POINTS, MIN_POINTS_TO_SMOOTH};

/// Values beyond this are drawn at it, so range arithmetic never overflows to infinity.
const LIMIT: f64 = 1e300;

/// One line ready to draw; coordinates are in axis units (`log10(y)` on a log axis).
pub(super) struct PreparedLine {
    /// The values, reduced: solid, or faint under `smooth` when there is one.
    pub raw: Vec<(f64, f64)>,
    /// The smoothed values, reduced, when the line is smoothed.
    pub smooth: Option<Vec<(f64, f64)>>,
    /// Draw the raw values at all (not under a smoothed line of a chart that compares runs).
    pub show_raw: bool,
    /// A dot at each raw point: a sparse marker line drawn as is.
    pub dots: bool,
    /// Palette position, counted over the lines that are not faded; `None` for a faded line.
    pub color: Option<usize>,
    /// The line's spread, `(x, low, high)` in axis units; empty for none.
    pub band: Vec<(f64, f64, f64)>,
    /// Dots only: [`ChartLine::scatter`].
    pub scatter: bool,
}

/// The spec reduced and measured, ready to draw.
pub(super) struct Prepared {
    pub lines: Vec<PreparedLine>,
    /// The x range, in axis units (`log10(x)` when `x_log`).
    pub x: (f64, f64),
    pub x_log: bool,
    pub y: YAxis,
    /// Each non-finite point's x and the edge it is marked on.
    pub nonfinite: Vec<(f64, Edge)>,
    /// First and last x of each run of consecutive non-finite points of a
    /// line, to band across the plot; none on a chart that compares runs.
    pub nonfinite_spans: Vec<(f64, f64)>,
    /// Non-finite values in the whole spec, before any reduction.
    pub nonfinite_count: usize,
    pub has_data: bool,
    /// The spec's best point as given (clamped), when both coordinates are
    /// finite and there is a plot to put it on: what the legend names.
    pub best_value: Option<(f64, f64)>,
    /// [`Self::best_value`] in axis units; it does not widen the axes.
    pub best: Option<(f64, f64)>,
    /// Lines left out of the legend but for a count.
    pub faded_count: usize,
    /// Under the plot: the smoothing weight and how many points were drawn, or empty.
    pub footnote: String,
}

impl Prepared {
    /// The best point if it lies within the axes: where its ring is drawn.
    pub fn best_on_plot(&self) -> Option<(f64, f64)> {
        let within = |v: f64, (lo, hi): (f64, f64)| lo <= v && v <= hi;
        self.best
            .filter(|&(x, y)| within(x, self.x) && within(y, (self.y.lo, self.y.hi)))
    }
}

fn clamp(v: f64) -> f64 {
    if v.is_finite() {
        v.clamp(-LIMIT, LIMIT)
    } else {
        v
    }
}

pub(super) fn prepare(spec: &ChartSpec) -> Prepared {
    let weight = clamp_weight(spec.smoothing);
    let mut next_color = 0;
    let mut lines: Vec<PreparedLine> = spec
        .lines
        .iter()
        .map(|l| {
            let color = (!l.faded).then(|| {
                next_color += 1;
                next_color - 1
            });
            prepare_line(spec, l, weight, color)
        })
        .collect();
    let (log, bulk) = y_scale(&lines, spec.compares_runs);
    let to_axis = |(x, y): (f64, f64)| (x, if log && y.is_finite() { y.log10() } else { y });
    let band_to_axis = |(x, lo, hi): (f64, f64, f64)| (x, to_axis((x, lo)).1, to_axis((x, hi)).1);
    let drawn_ys = |lines: &[PreparedLine]| {
        let ys = drawn(lines).filter(|p| is_plottable(*p)).map(|p| p.1);
        ys.collect::<Vec<f64>>()
    };
    let off_scale =
        bulk.is_some_and(|(lo, hi)| drawn_ys(&lines).iter().any(|y| *y < lo || *y > hi));
    for line in &mut lines {
        line.raw.iter_mut().for_each(|p| *p = to_axis(*p));
        for p in line.smooth.iter_mut().flatten() {
            *p = to_axis(*p);
        }
        line.band.iter_mut().for_each(|b| *b = band_to_axis(*b));
    }
    let (y_lo, y_hi) = match bulk {
        Some((lo, hi)) => padded_range([lo, hi].map(|y| to_axis((0.0, y)).1).into_iter(), 0.06),
        None => padded_range(drawn_ys(&lines).into_iter(), 0.06),
    };
    let raw = || lines.iter().flat_map(|l| l.raw.iter().copied());
    let has_data = raw().any(|p| p.0.is_finite());
    let best_value = spec
        .best
        .filter(|p| has_data && is_plottable(*p))
        .map(|(x, y)| (clamp(x), clamp(y)));
    Prepared {
        x: padded_range(raw().map(|p| p.0).filter(|x| x.is_finite()), 0.0),
        y: YAxis {
            lo: y_lo,
            hi: y_hi,
            log,
        },
        nonfinite: raw().filter_map(nonfinite_mark).collect(),
        nonfinite_spans: match spec.compares_runs {
            true => Vec::new(),
            false => nonfinite_spans(&lines),
        },
        nonfinite_count: spec
            .lines
            .iter()
            .map(|l| match l.thinned_from {
                Some((_, nonfinite)) => nonfinite,
                None => l.points.iter().filter(|p| !p.1.is_finite()).count(),
            })
            .sum(),
        has_data,
        best: best_value
            .and_then(|(x, y)| match spec.x_log {
                true => (x > 0.0).then(|| (x.log10(), y)),
                false => Some((x, y)),
            })
            .map(to_axis)
            .filter(|p| is_plottable(*p)),
        x_log: spec.x_log,
        best_value,
        faded_count: spec.lines.iter().filter(|l| l.faded).count(),
        footnote: footnote(spec, &lines, weight, off_scale),
        lines,
    }
}

/// One line smoothed (when it should be) and reduced, values clamped, still in their own units.
fn prepare_line(
    spec: &ChartSpec,
    l: &ChartLine,
    weight: f64,
    color: Option<usize>,
) -> PreparedLine {
    let clamped = |points: Vec<(f64, f64)>| -> Vec<(f64, f64)> {
        points
            .into_iter()
            .map(|(x, y)| (clamp(x), clamp(y)))
            .collect()
    };
    // A log x axis is a linear one over log10(x), like the y axis; x <= 0 has no place on it.
    let on_x_axis = |x: f64| match spec.x_log {
        true => (x > 0.0).then(|| x.log10()),
        false => Some(x),
    };
    let logged: Vec<(f64, f64)>;
    let points = match spec.x_log {
        true => {
            logged = l
                .points
                .iter()
                .filter_map(|&(x, y)| Some((on_x_axis(x)?, y)))
                .collect();
            &logged
        }
        false => &l.points,
    };
    let best = spec.best.and_then(|(x, y)| Some((on_x_axis(x)?, y)));
    let enough = match l.markers || l.scatter {
        true => MAX_MARKERS + 1,
        false => MIN_POINTS_TO_SMOOTH,
    };
    let finite = points.iter().filter(|p| is_plottable(**p));
    let smoothed = weight > 0.0 && l.band.is_empty() && finite.take(enough).count() == enough;
    let smooth = smoothed.then(|| {
        let smooth = ema(points, weight);
        clamped(reduce_stream(points.len(), smooth, MAX_POINTS, None))
    });
    let raw = clamped(reduce_points(points, MAX_POINTS, best));
    let band = l
        .band
        .iter()
        .filter_map(|&(x, lo, hi)| Some((clamp(on_x_axis(x)?), clamp(lo), clamp(hi))))
        .collect();
    PreparedLine {
        dots: (l.markers || l.scatter) && smooth.is_none() && raw.len() <= MAX_MARKERS,
        show_raw: smooth.is_none() || !spec.compares_runs,
        scatter: l.scatter && smooth.is_none(),
        raw,
        smooth,
        color,
        band,
    }
}

/// Whether the y axis is logarithmic, and the bulk range it fits when it
/// ignores outliers. Decided on the reduced lines: they keep every line's
/// minimum and maximum, so nothing the full series would say is lost.
fn y_scale(lines: &[PreparedLine], ignore_outliers: bool) -> (bool, Option<(f64, f64)>) {
    let raw_ys = lines.iter().flat_map(|l| l.raw.iter().map(|p| p.1));
    let bulk = ignore_outliers
        .then(|| {
            let drawn: Vec<f64> = drawn(lines).map(|p| p.1).collect();
            bulk_range(&drawn)
        })
        .flatten();
    let log = match bulk {
        Some((lo, hi)) => {
            raw_ys.filter(|y| y.is_finite()).all(|y| y > 0.0)
                && wants_log_scale([lo, hi].into_iter())
        }
        None => wants_log_scale(raw_ys),
    };
    (log, bulk)
}

/// A non-finite point's x and the edge it is marked on: NaN and +inf at the top, -inf at the bottom.
fn nonfinite_mark((x, y): (f64, f64)) -> Option<(f64, Edge)> {
    match (x.is_finite(), y) {
        (false, _) => None,
        (true, y) if y.is_finite() => None,
        (true, f64::NEG_INFINITY) => Some((x, Edge::Bottom)),
        (true, _) => Some((x, Edge::Top)),
    }
}

/// The points a chart shows in solid or faint: each line's raw values unless
/// hidden, and its smoothed ones.
fn drawn(lines: &[PreparedLine]) -> impl Iterator<Item = (f64, f64)> + '_ {
    lines.iter().flat_map(|l| {
        let raw = l.show_raw.then_some(&l.raw);
        let band = l.band.iter().flat_map(|&(x, lo, hi)| [(x, lo), (x, hi)]);
        raw.into_iter()
            .chain(&l.smooth)
            .flatten()
            .copied()
            .chain(band)
    })
}

/// `smoothing 0.6 · 2,000 of 1,200,000 points · outliers off scale`: what the
/// reader cannot see for themselves. The weight only when a line was
/// smoothed, the counts only when a line was reduced, the last only when the
/// axis left values out.
fn footnote(spec: &ChartSpec, lines: &[PreparedLine], weight: f64, off_scale: bool) -> String {
    let mut parts = Vec::new();
    if lines.iter().any(|l| l.smooth.is_some()) {
        parts.push(format!("smoothing {}", format_tick(weight, 0.0)));
    }
    let total: usize = spec
        .lines
        .iter()
        .map(|l| l.thinned_from.map_or(l.points.len(), |(all, _)| all))
        .sum();
    let drawn: usize = lines.iter().map(|l| l.raw.len()).sum();
    let reduced = |l: &ChartLine| l.points.len() > MAX_POINTS || l.thinned_from.is_some();
    if spec.lines.iter().any(reduced) {
        parts.push(format!(
            "{} of {} points",
            with_thousands(drawn),
            with_thousands(total)
        ));
    }
    if off_scale {
        parts.push("outliers off scale".to_string());
    }
    parts.join(" · ")
}

/// `1200000` as `1,200,000`.
pub(super) fn with_thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// First and last x of each run of consecutive non-finite points, line by line.
fn nonfinite_spans(lines: &[PreparedLine]) -> Vec<(f64, f64)> {
    let mut spans = Vec::new();
    for line in lines {
        let mut open: Option<(f64, f64)> = None;
        for &(x, y) in &line.raw {
            if x.is_finite() && !y.is_finite() {
                open = Some(open.map_or((x, x), |(first, _)| (first, x)));
            } else if let Some(span) = open.take() {
                spans.push(span);
            }
        }
        spans.extend(open);
    }
    spans
}

/// The range of `values` widened by `frac` of its span on each side; a
/// degenerate range (one value, or a span lost in float precision) is widened
/// around its centre so ticks stay distinct. No values gives 0..1.
fn padded_range(values: impl Iterator<Item = f64>, frac: f64) -> (f64, f64) {
    let Some((lo, hi)) = values.fold(None, |acc: Option<(f64, f64)>, v| {
        Some(acc.map_or((v, v), |(lo, hi)| (lo.min(v), hi.max(v))))
    }) else {
        return (0.0, 1.0);
    };
    let span = hi - lo;
    if span <= lo.abs().max(hi.abs()) * 1e-9 {
        let mid = lo / 2.0 + hi / 2.0;
        let pad = if mid.abs() > 1e-200 {
            mid.abs() * 0.1
        } else {
            1.0
        };
        return (mid - pad, mid + pad);
    }
    (lo - span * frac, hi + span * frac)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{line, spec};
    use super::*;

    fn with_best(best: (f64, f64)) -> Prepared {
        let points = vec![(0.0, 3.0), (10.0, 2.0), (20.0, 2.5)];
        let mut s = spec(vec![line("val", points, true)]);
        s.best = Some(best);
        prepare(&s)
    }

    #[test]
    fn best_point_is_ringed_only_within_the_axes() {
        assert_eq!(with_best((10.0, 2.0)).best_on_plot(), Some((10.0, 2.0)));
        let outside = with_best((30.0, 2.0));
        assert_eq!(
            outside.best_value,
            Some((30.0, 2.0)),
            "still named in the legend"
        );
        assert_eq!(outside.best_on_plot(), None);
        assert_eq!(
            outside.x,
            (0.0, 20.0),
            "the best point does not widen the axes"
        );
        let huge = with_best((10.0, f64::MAX));
        assert_eq!(huge.best_value, Some((10.0, LIMIT)));
        assert_eq!(huge.best_on_plot(), None);
    }

    #[test]
    fn non_finite_best_point_or_no_data_is_dropped() {
        for bad in [(f64::NAN, 1.0), (1.0, f64::NAN), (f64::INFINITY, 2.0)] {
            assert_eq!(with_best(bad).best_value, None, "{bad:?}");
        }
        let mut empty = spec(vec![]);
        empty.best = Some((1.0, 1.0));
        assert_eq!(prepare(&empty).best_value, None);
    }

    fn ramp(n: usize) -> Vec<(f64, f64)> {
        (0..n).map(|i| (i as f64, 1.0 + (i % 7) as f64)).collect()
    }

    #[test]
    fn a_reduced_chart_says_how_many_points_it_draws() {
        let data = prepare(&spec(vec![
            line("train", ramp(1_200_000), false),
            line("val", ramp(50), true),
        ]));
        let drawn: usize = data.lines.iter().map(|l| l.raw.len()).sum();
        assert!(drawn <= MAX_POINTS + 50, "{drawn}");
        assert_eq!(
            data.footnote,
            format!("{} of 1,200,050 points", with_thousands(drawn))
        );
        assert_eq!(
            prepare(&spec(vec![line("t", ramp(2000), false)])).footnote,
            ""
        );
        assert_eq!(with_thousands(1_200_000), "1,200,000");
        assert_eq!(with_thousands(999), "999");
        assert_eq!(with_thousands(0), "0");
    }

    #[test]
    fn only_lines_with_enough_points_are_smoothed_and_the_footnote_says_so() {
        let mut s = spec(vec![
            line("train", ramp(500), false),
            line("val", ramp(MIN_POINTS_TO_SMOOTH - 1), true),
        ]);
        s.smoothing = 0.6;
        let data = prepare(&s);
        assert!(data.lines[0].smooth.is_some() && data.lines[0].show_raw);
        assert!(data.lines[1].smooth.is_none() && data.lines[1].dots);
        assert_eq!(data.footnote, "smoothing 0.6");
        s.compares_runs = true;
        let data = prepare(&s);
        assert!(!data.lines[0].show_raw && data.lines[1].show_raw);
        // Evaluations stay as evaluated until they are too many to mark.
        s.lines[1].points = ramp(MAX_MARKERS);
        assert!(prepare(&s).lines[1].smooth.is_none());
        s.lines[1].points = ramp(MAX_MARKERS + 1);
        assert!(prepare(&s).lines[1].smooth.is_some());
        s.smoothing = 0.0;
        let data = prepare(&s);
        assert!(data.lines.iter().all(|l| l.smooth.is_none() && l.show_raw));
        assert_eq!(data.footnote, "");
    }

    #[test]
    fn values_over_decades_go_on_a_log_axis() {
        let points = vec![(0.0, 800_000.0), (10.0, 2.0), (20.0, f64::NAN), (30.0, 1.4)];
        let mut s = spec(vec![line("train", points, false)]);
        s.best = Some((30.0, 1.4));
        let data = prepare(&s);
        assert!(data.y.log);
        let ys: Vec<f64> = data.lines[0].raw.iter().map(|p| p.1).collect();
        assert!((ys[0] - 800_000f64.log10()).abs() < 1e-12 && ys[2].is_nan());
        assert_eq!(
            data.best_value,
            Some((30.0, 1.4)),
            "the legend reads values"
        );
        assert_eq!(
            data.best,
            Some((30.0, 1.4f64.log10())),
            "the ring sits on the axis"
        );
        assert!(data.best_on_plot().is_some());
        let linear = prepare(&spec(vec![line("t", vec![(0.0, 0.0), (1.0, 1e6)], false)]));
        assert!(!linear.y.log, "a zero keeps it linear");
    }

    #[test]
    fn a_comparison_marks_non_finite_values_on_the_edge_only_and_fits_the_bulk() {
        let mut diverged: Vec<(f64, f64)> = (0..100).map(|i| (i as f64, 2.0)).collect();
        diverged[60].1 = 1e6;
        diverged[61..].iter_mut().for_each(|p| p.1 = f64::NAN);
        let healthy = (0..100)
            .map(|i| (i as f64, 1.0 + i as f64 / 100.0))
            .collect();
        let mut s = spec(vec![line("a", diverged, false), line("b", healthy, false)]);
        let single = prepare(&s);
        assert_eq!(single.nonfinite_spans, vec![(61.0, 99.0)]);
        assert!(single.y.log, "a million next to 1 is decades apart");
        s.compares_runs = true;
        let compared = prepare(&s);
        assert!(compared.nonfinite_spans.is_empty() && !compared.nonfinite.is_empty());
        assert!(!compared.y.log && compared.y.hi < 3.0, "{:?}", compared.y);
        assert!(compared.footnote.contains("outliers off scale"));
    }

    #[test]
    fn faded_lines_take_no_colour_and_are_counted() {
        let mut lines: Vec<_> = (0..4)
            .map(|i| line(&format!("r{i}"), ramp(5), false))
            .collect();
        lines[1].faded = true;
        lines[2].faded = true;
        let data = prepare(&spec(lines));
        let colors: Vec<Option<usize>> = data.lines.iter().map(|l| l.color).collect();
        assert_eq!(colors, vec![Some(0), None, None, Some(1)]);
        assert_eq!(data.faded_count, 2);
    }
}
