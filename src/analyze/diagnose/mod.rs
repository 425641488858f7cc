//! Diagnostics: what went wrong with a run, in words, with the numbers.
//!
//! Each check is one function over the run's main curves ([`Curves`]): the
//! first train and val loss series, their finite points, the grad norm and
//! the planned steps. Checks live by theme: [`crash`] (`crashed`),
//! [`divergence`] (`diverged`, `loss_spike`), [`overfit`] (`overfitting`),
//! [`progress`] (`underfitting`, `plateau`). A run with no warning or error
//! gets one `healthy` line with its final and best values; info-level notes
//! (a small gap to watch, a converged plateau) may stand beside it.
//!
//! Judgement is on medians of windows, never single points, and every number
//! that decides is in [`Thresholds`].

mod crash;
mod divergence;
mod overfit;
mod progress;
pub mod robust;

use super::thresholds::Thresholds;
use super::Diagnostic;
use crate::model::{Family, Run, Series, Severity, Split};
use robust::show;

/// The curves the checks look at, gathered once.
pub(crate) struct Curves<'a> {
    pub run: &'a Run,
    /// The main train loss (first loss series of the train split).
    pub train: Option<&'a Series>,
    /// The main val loss.
    pub val: Option<&'a Series>,
    /// Finite points of `train`, in step order.
    pub train_finite: Vec<(u64, f64)>,
    /// Finite points of `val`, in step order.
    pub val_finite: Vec<(u64, f64)>,
    /// Steps the run planned (`max_steps`, ...), when its params say.
    pub planned_steps: Option<f64>,
}

impl<'a> Curves<'a> {
    pub fn of(run: &'a Run) -> Curves<'a> {
        let pick = |split: Split| {
            run.metrics
                .iter()
                .find(|s| s.family == Family::Loss && s.split == split)
        };
        let (train, val) = (pick(Split::Train), pick(Split::Val));
        let finite = |s: Option<&Series>| -> Vec<(u64, f64)> {
            s.map(|s| {
                s.points
                    .iter()
                    .filter(|p| p.value.is_finite())
                    .map(|p| (p.step, p.value))
                    .collect()
            })
            .unwrap_or_default()
        };
        Curves {
            run,
            train,
            val,
            train_finite: finite(train),
            val_finite: finite(val),
            planned_steps: crate::load::planned_steps(run),
        }
    }

    /// The last step logged by any series.
    pub fn last_step(&self) -> Option<u64> {
        self.run
            .metrics
            .iter()
            .filter_map(|s| s.points.last().map(|p| p.step))
            .max()
    }

    /// Name of a series for messages: `train loss` when it is literally that, else its name.
    pub fn label(series: Option<&Series>, fallback: &str) -> String {
        series.map_or_else(|| fallback.to_string(), |s| s.name.clone())
    }
}

/// Every diagnostic of a run, most severe first.
pub fn diagnose(run: &Run, t: &Thresholds) -> Vec<Diagnostic> {
    let curves = Curves::of(run);
    let mut found: Vec<Diagnostic> = Vec::new();
    let crashed = crash::crashed(&curves);
    let diverged = divergence::diverged(&curves, t);
    // A diverged run's val loss sits far above its train loss too: that is the
    // divergence, not overfitting.
    let overfitting = match diverged {
        None => overfit::overfitting(&curves, t),
        Some(_) => None,
    };
    let stopped_early = crashed.is_some() || diverged.is_some();
    let overfit_warned = overfitting
        .as_ref()
        .is_some_and(|d| d.severity >= Severity::Warning);
    found.extend(crashed);
    found.extend(diverged.clone());
    found.extend(overfitting);
    if !stopped_early {
        found.extend(progress::underfitting(&curves, t));
    }
    if diverged.is_none() {
        found.extend(divergence::loss_spikes(&curves, t));
        if !overfit_warned && !stopped_early {
            found.extend(progress::plateau(&curves, t));
        }
    }
    if !found.iter().any(|d| d.severity >= Severity::Warning) {
        found.extend(healthy(&curves, t));
    }
    // Stable: the order above within one severity.
    found.sort_by_key(|d| std::cmp::Reverse(d.severity));
    found
}

/// Evaluations enough to call a run healthy when its train loss is too short to judge.
const MIN_EVALS_FOR_HEALTHY: usize = 3;

/// One line with the final and best values, when there is enough loss to
/// judge by (a run with one logged value is not "healthy", just unknown).
fn healthy(c: &Curves, t: &Thresholds) -> Option<Diagnostic> {
    if c.train_finite.len() < t.min_points && c.val_finite.len() < MIN_EVALS_FOR_HEALTHY {
        return None;
    }
    let mut parts = Vec::new();
    if let (Some(first), Some(last)) = (c.train_finite.first(), c.train_finite.last()) {
        let best = c
            .train_finite
            .iter()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or(last);
        parts.push(format!(
            "{} {} → {} (best {} at step {})",
            Curves::label(c.train, "train loss"),
            show(first.1),
            show(last.1),
            show(best.1),
            best.0
        ));
    }
    if let Some(last) = c.val_finite.last() {
        let best = c
            .val_finite
            .iter()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or(last);
        parts.push(format!(
            "{} best {} at step {}, final {}",
            Curves::label(c.val, "val loss"),
            show(best.1),
            best.0,
            show(last.1)
        ));
    }
    if parts.is_empty() {
        return None;
    }
    Some(Diagnostic {
        code: "healthy".into(),
        severity: Severity::Info,
        message: format!("healthy: {}", parts.join("; ")),
        step: c.last_step(),
    })
}

/// A diagnostic with its code.
fn diagnostic(code: &str, severity: Severity, message: String, step: Option<u64>) -> Diagnostic {
    Diagnostic {
        code: code.to_string(),
        severity,
        message,
        step,
    }
}

#[cfg(test)]
mod tests;
