//! A run's digest: the part of it the shared pages read (index, group pages,
//! comparison charts, markdown, exports, `runboard summary`). It is the run
//! without its bulk (events, samples, artifacts, most series), keeping its
//! summaries, headline and diagnostics, which were computed on the full
//! series, and the few series the shared pages draw, thinned to about
//! [`DIGEST_POINTS`] points.
//!
//! A build holds every run's digest but only a few runs' full data at a time,
//! so its memory is bounded by its largest run rather than by how many runs
//! there are; the build cache stores digests so an unchanged run is not read
//! again. Every shared page is made from digests, in a full build as in a
//! cached one, so the two are byte-identical.

use super::compare;
use crate::analyze::Analyzed;
use crate::model::{Family, Point, Run, Series};

/// Points kept of a long series. A comparison chart's plot is about 1,100
/// pixels wide and draws runs' smoothed lines, so 500 points, a segment every
/// two pixels, plus each series' first, last, lowest, highest and non-finite
/// edges, lose nothing one can see there; the run's own page draws every
/// point. Each point kept costs every run 48 bytes per series drawn, for as
/// long as the build lasts.
pub const DIGEST_POINTS: usize = 500;

/// The digest of an analyzed run.
pub fn digest(a: &Analyzed) -> Analyzed {
    let mut run = a.run.clone_without_bulk();
    let drawn = drawn_series(&a.run);
    run.metrics = a
        .run
        .metrics
        .iter()
        .enumerate()
        .filter(|(i, _)| drawn.contains(i))
        .map(|(_, s)| Series {
            name: s.name.clone(),
            family: s.family,
            split: s.split,
            source: s.source.clone(),
            points: thin(&s.points, DIGEST_POINTS),
        })
        .collect();
    Analyzed {
        run,
        summaries: a.summaries.clone(),
        headline: a.headline.clone(),
        diagnostics: a.diagnostics.clone(),
    }
}

/// Positions in `run.metrics` of the series the shared pages draw or export:
/// the ones comparison charts and sparklines find by family and split (the
/// first of each, in display order, as [`Run::series`] finds it), and the
/// first learning rate and throughput series (`training_runs_comparison.json`).
fn drawn_series(run: &Run) -> Vec<usize> {
    let position = |wanted: &dyn Fn(&Series) -> bool| run.metrics.iter().position(wanted);
    let mut drawn: Vec<usize> = compare::CANDIDATES
        .iter()
        .filter_map(|&(family, split)| position(&|s| s.family == family && s.split == split))
        .chain(position(&|s| s.family == Family::LearningRate))
        .chain(position(&|s| s.family == Family::Throughput))
        .collect();
    drawn.sort_unstable();
    drawn.dedup();
    drawn
}

/// At most about `max` of `points`, evenly spaced by position, plus the first,
/// last, lowest and highest finite ones and the edges of each stretch of
/// non-finite values (so a divergence shows where it began). Wall time and
/// epoch are dropped: shared pages plot by step.
pub fn thin(points: &[Point], max: usize) -> Vec<Point> {
    let bare = |p: &Point| Point::at(p.step, p.value);
    if points.len() <= max.max(2) {
        return points.iter().map(bare).collect();
    }
    let last = points.len() - 1;
    let max = max.max(2);
    let mut keep: Vec<usize> = (0..max).map(|i| i * last / (max - 1)).collect();
    let finite = |i: usize| points[i].value.is_finite();
    let extreme = |better: fn(f64, f64) -> bool| {
        (0..points.len()).filter(|&i| finite(i)).reduce(|a, b| {
            match better(points[b].value, points[a].value) {
                true => b,
                false => a,
            }
        })
    };
    keep.extend(extreme(|a, b| a < b));
    keep.extend(extreme(|a, b| a > b));
    let edges = (1..points.len())
        .filter(|&i| finite(i) != finite(i - 1))
        .flat_map(|i| [i - 1, i])
        .take(max);
    keep.extend(edges);
    keep.sort_unstable();
    keep.dedup();
    // Inside a stretch of non-finite values only its edges are kept: charts
    // mark each non-finite point, and a stretch is one event (the series'
    // summary has the count).
    let inside = |i: usize| !finite(i) && i > 0 && i < last && !finite(i - 1) && !finite(i + 1);
    keep.into_iter()
        .filter(|&i| !inside(i))
        .map(|i| bare(&points[i]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::{analyze, Thresholds};
    use crate::model::Split;

    fn ramp(n: usize) -> Vec<Point> {
        (0..n)
            .map(|i| Point::at(i as u64 * 10, 10.0 - i as f64 * 1e-4))
            .collect()
    }

    #[test]
    fn a_short_series_is_kept_whole() {
        let points = ramp(500);
        let thinned = thin(&points, DIGEST_POINTS);
        assert_eq!(thinned.len(), 500);
        assert!(thinned.iter().zip(&points).all(|(a, b)| a.step == b.step));
    }

    #[test]
    fn a_long_series_keeps_its_ends_extremes_and_nonfinite_edges() {
        let mut points = ramp(100_000);
        points[31_337].value = -5.0;
        points[77_777].value = 99.0;
        for p in &mut points[90_001..90_500] {
            p.value = f64::NAN;
        }
        let thinned = thin(&points, DIGEST_POINTS);
        assert!(thinned.len() <= DIGEST_POINTS + 6, "{}", thinned.len());
        let steps: Vec<u64> = thinned.iter().map(|p| p.step).collect();
        for i in [0, 31_337, 77_777, 90_000, 90_001, 90_499, 90_500, 99_999] {
            assert!(steps.contains(&(i as u64 * 10)), "point {i} dropped");
        }
        let nonfinite = thinned.iter().filter(|p| !p.value.is_finite()).count();
        assert_eq!(nonfinite, 2, "a stretch of NaN keeps its two ends only");
        assert!(
            steps.windows(2).all(|w| w[0] < w[1]),
            "still sorted, no repeats"
        );
    }

    #[test]
    fn alternating_nonfinite_values_do_not_grow_the_digest_past_twice_its_size() {
        let points: Vec<Point> = (0..50_000)
            .map(|i| Point::at(i, if i % 2 == 0 { 1.0 } else { f64::NAN }))
            .collect();
        assert!(thin(&points, 100).len() <= 2 * 100 + 2);
    }

    #[test]
    fn the_digest_keeps_summaries_and_drawn_series_and_drops_the_bulk() {
        let mut run = Run::new("exp/a", "exp", "metrics_jsonl");
        for i in 0..20_000u64 {
            let v = 5.0 / (1.0 + i as f64);
            run.push_point("train/loss", "m.jsonl", Point::at(i, v));
            run.push_point("grad_norm", "m.jsonl", Point::at(i, 1.0));
            run.push_point("learning_rate", "m.jsonl", Point::at(i, 1e-3));
        }
        run.finish_metrics();
        let full = analyze(run, &Thresholds::default());
        let d = digest(&full);
        let names: Vec<&str> = d.run.metrics.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["train/loss", "learning_rate"]);
        assert!(d
            .run
            .metrics
            .iter()
            .all(|s| s.points.len() <= DIGEST_POINTS + 4));
        assert_eq!(
            d.summaries, full.summaries,
            "summaries are of the full series"
        );
        assert_eq!(d.headline, full.headline);
        let loss = d.run.series(Family::Loss, Split::Train).unwrap();
        assert_eq!(loss.points.last().unwrap().step, 19_999);
    }
}
