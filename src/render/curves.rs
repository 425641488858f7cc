//! Which charts a run page shows and what goes on each: one chart per metric
//! family, train and val of a family together (val with markers at its eval
//! points, the best val point ringed); model quality under "Curves", system
//! metrics (memory, throughput, time, GPU/CPU utilization) under "System";
//! and the loss chart also against wall time, epoch and tokens when the run
//! records them.
//!
//! Only specs are made here; [`super::chart`] draws them.

use super::chart::{format_tick, ChartLine, ChartSpec};
use super::xaxis::{alternatives, XAxis, XMap};
use crate::analyze::{Analyzed, SeriesSummary};
use crate::model::{Family, Point, Series, Split};
use std::collections::BTreeMap;

/// What one chart of a run page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChartKind {
    /// Every series of one family.
    Family(Family),
    /// Series of no family whose names say GPU, CPU or utilization: system
    /// load, which belongs with memory and throughput rather than with `other`.
    GpuCpu,
}

impl ChartKind {
    /// File stem of its PNG and id of its figure.
    pub fn key(self) -> &'static str {
        match self {
            ChartKind::Family(f) => f.as_str(),
            ChartKind::GpuCpu => "gpu_cpu",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            ChartKind::Family(f) => f.title(),
            ChartKind::GpuCpu => "GPU / CPU",
        }
    }

    /// Shown under the page's "System" heading, after the model-quality charts.
    pub fn is_system(self) -> bool {
        matches!(
            self,
            ChartKind::Family(Family::Memory | Family::Throughput | Family::Time)
                | ChartKind::GpuCpu
        )
    }

    /// A learning rate is a schedule, not a measurement, and memory and time
    /// are read at their peaks and totals: smoothing would only blur them.
    fn smoothed(self) -> bool {
        !matches!(
            self,
            ChartKind::Family(Family::LearningRate | Family::Memory | Family::Time)
        )
    }

    /// "Best" means something for model quality only; the lowest learning rate
    /// or the highest throughput is no checkpoint to keep.
    fn has_best(self) -> bool {
        matches!(
            self,
            ChartKind::Family(Family::Loss | Family::Perplexity | Family::Accuracy)
        )
    }
}

/// The kind of chart `series` goes on.
pub fn kind_of(series: &Series) -> ChartKind {
    let lower = series.name.to_ascii_lowercase();
    let system_word = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| matches!(w, "gpu" | "cpu" | "util" | "utilization" | "utilisation"));
    if series.family == Family::Other && system_word {
        ChartKind::GpuCpu
    } else {
        ChartKind::Family(series.family)
    }
}

/// One chart of a run page, with the same chart against other x axes.
pub struct RunChart {
    pub kind: ChartKind,
    pub spec: ChartSpec,
    /// The main loss chart against wall time, epoch, tokens (the ones the run has).
    pub alternates: Vec<(XAxis, ChartSpec)>,
}

/// The charts of a run page in page order: model quality in family order, then system.
pub fn run_charts(a: &Analyzed, smoothing: f64) -> Vec<RunChart> {
    let mut by_kind: BTreeMap<(bool, ChartKind), Vec<&Series>> = BTreeMap::new();
    for s in &a.run.metrics {
        let kind = kind_of(s);
        by_kind.entry((kind.is_system(), kind)).or_default().push(s);
    }
    let maps = if by_kind.contains_key(&(false, ChartKind::Family(Family::Loss))) {
        alternatives(&a.run)
    } else {
        Vec::new()
    };
    by_kind
        .into_iter()
        .map(|((_, kind), series)| {
            let spec = chart_spec(a, kind, &series, None, smoothing);
            let alternates = match kind {
                ChartKind::Family(Family::Loss) => maps
                    .iter()
                    .map(|m| (m.axis, chart_spec(a, kind, &series, Some(m), smoothing)))
                    .filter(|(_, spec)| spec.lines.iter().any(|l| l.points.len() >= 2))
                    .collect(),
                _ => Vec::new(),
            };
            RunChart {
                kind,
                spec,
                alternates,
            }
        })
        .collect()
}

/// The chart of `series` against the step, or against `map`'s axis.
fn chart_spec(
    a: &Analyzed,
    kind: ChartKind,
    series: &[&Series],
    map: Option<&XMap>,
    smoothing: f64,
) -> ChartSpec {
    let lines = series
        .iter()
        .map(|s| ChartLine {
            label: s.name.clone(),
            points: match map {
                Some(m) => m.line(s),
                None => s.points.iter().map(|p| (p.step as f64, p.value)).collect(),
            },
            markers: s.split == Split::Val || s.split == Split::Test,
            faded: false,
            band: Vec::new(),
            scatter: false,
            thinned_from: None,
        })
        .collect();
    // The best point is a step; on another axis it is wherever that step
    // lands, and the legend still names the step (minutes say less).
    let best = best_point(a, kind);
    let best_label = match (best, map) {
        (Some((step, value)), Some(_)) => format!(
            "best {} @ step {}",
            format_tick(value, 0.0),
            format_tick(step as f64, 0.0)
        ),
        _ => String::new(),
    };
    let best = best.and_then(|(step, value)| match map {
        None => Some((step as f64, value)),
        Some(m) => m.x_of(&Point::at(step, value)).map(|x| (x, value)),
    });
    ChartSpec {
        title: format!("{} · {}", kind.title(), a.run.name),
        x_label: map.map_or_else(|| "step".to_string(), |m| m.label.clone()),
        y_label: kind.title().to_lowercase(),
        lines,
        best,
        best_label,
        smoothing: if kind.smoothed() { smoothing } else { 0.0 },
        compares_runs: false,
        x_log: false,
    }
}

/// Step and value of the best point of the family's val series (or its only series).
fn best_point(a: &Analyzed, kind: ChartKind) -> Option<(u64, f64)> {
    let ChartKind::Family(family) = kind else {
        return None;
    };
    if !kind.has_best() {
        return None;
    }
    let in_family: Vec<&SeriesSummary> =
        a.summaries.iter().filter(|s| s.family == family).collect();
    let pick = in_family
        .iter()
        .find(|s| s.split == Split::Val)
        .or(if in_family.len() == 1 {
            in_family.first()
        } else {
            None
        });
    pick.and_then(|s| Some((s.best_step?, s.best?)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Run;

    fn analyzed(series: &[(&str, usize)]) -> Analyzed {
        let mut run = Run::new("r", "", "x");
        for (name, n) in series {
            for i in 0..*n {
                let mut p = Point::at(i as u64 * 10, 20.0 - i as f64 * 0.25);
                p.wall_time = Some(i as f64 * 30.0);
                run.push_point(name, "f", p);
            }
        }
        run.finish_metrics();
        crate::analyze::analyze(run, &crate::analyze::Thresholds::default())
    }

    #[test]
    fn system_metrics_come_after_model_quality_under_their_own_kind() {
        let a = analyzed(&[
            ("system/gpu.0.memoryAllocated", 5),
            ("tokens_per_sec", 5),
            ("system/gpu.0.gpu", 5),
            ("train/loss", 50),
            ("val/loss", 5),
            ("train/lr", 5),
            ("custom_metric", 5),
        ]);
        let charts = run_charts(&a, 0.6);
        let keys: Vec<(&str, bool)> = charts
            .iter()
            .map(|c| (c.kind.key(), c.kind.is_system()))
            .collect();
        assert_eq!(
            keys,
            vec![
                ("loss", false),
                ("learning_rate", false),
                ("other", false),
                ("throughput", true),
                ("memory", true),
                ("gpu_cpu", true),
            ]
        );
        let loss = &charts[0];
        assert_eq!(loss.spec.lines.len(), 2, "train and val on one chart");
        assert!(loss.spec.lines[1].markers && loss.spec.best == Some((40.0, 19.0)));
        assert_eq!(loss.spec.smoothing, 0.6);
        assert_eq!(charts[1].spec.smoothing, 0.0, "a schedule is not smoothed");
        // The loss chart against wall time: the run logs it on every point.
        assert_eq!(loss.alternates.len(), 1);
        let (axis, spec) = &loss.alternates[0];
        assert_eq!(
            (*axis, spec.x_label.as_str()),
            (XAxis::WallTime, "wall time (min)")
        );
        assert_eq!(spec.best, Some((2.0, 19.0)), "step 40 at 120 s");
        assert_eq!(spec.best_label, "best 19 @ step 40");
        assert!(
            charts[1].alternates.is_empty(),
            "only the loss chart has them"
        );
    }
}
