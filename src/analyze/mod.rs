//! From a normalized run to what reports say about it: per-series summaries,
//! the headline losses, and diagnostics ([`diagnose`], judged by [`Thresholds`]).

pub mod diagnose;
pub mod summary;
pub mod thresholds;

use crate::model::{Run, Severity};
use serde::{Deserialize, Serialize};
pub use summary::{Headline, SeriesSummary};
pub use thresholds::Thresholds;

/// A run with everything computed about it; what renderers consume.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Analyzed {
    /// The normalized run.
    pub run: Run,
    /// One summary per series, in the same order as `run.metrics`.
    pub summaries: Vec<SeriesSummary>,
    /// The main train/val loss numbers.
    pub headline: Headline,
    /// Findings about the run's health.
    pub diagnostics: Vec<Diagnostic>,
}

/// When a run records no duration, its logged wall times (seconds since the
/// start) still say how long it ran: the latest one.
fn duration_from_wall_times(run: &Run) -> Option<f64> {
    run.metrics
        .iter()
        .flat_map(|s| s.points.iter().filter_map(|p| p.wall_time))
        .filter(|t| t.is_finite())
        .reduce(f64::max)
        .filter(|t| *t > 0.0)
}

/// A finding about a run (overfitting, divergence, ...).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Diagnostic {
    /// Stable machine name, e.g. `overfitting`.
    pub code: String,
    /// How much it matters.
    pub severity: Severity,
    /// What was found, with the numbers.
    pub message: String,
    /// The step involved, when there is one.
    pub step: Option<u64>,
}

/// Compute summaries, headline and diagnostics for one run.
pub fn analyze(mut run: Run, thresholds: &Thresholds) -> Analyzed {
    if run.duration_seconds.is_none() {
        run.duration_seconds = duration_from_wall_times(&run);
    }
    let summaries: Vec<SeriesSummary> = run.metrics.iter().map(summary::summarize).collect();
    let headline = summary::headline(&summaries);
    let diagnostics = diagnose::diagnose(&run, thresholds);
    Analyzed {
        run,
        summaries,
        headline,
        diagnostics,
    }
}
