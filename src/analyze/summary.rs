//! Numbers that describe a series at a glance: first, last, min, max, best.
//!
//! "Best" depends on the family (lowest loss, highest accuracy). Non-finite
//! values never become a min, max or best; the first one is reported by step,
//! because a NaN in a loss is the most important fact about a run.

use crate::model::{Family, Series, Split};
use serde::{Deserialize, Serialize};

/// Summary of one series, as `data/runs.json` lists it under `metrics`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SeriesSummary {
    /// Source name of the metric.
    pub name: String,
    /// Family (`loss`, `accuracy`, ...).
    pub family: crate::model::Family,
    /// Split (`train`, `val`, `test`, `other`).
    pub split: crate::model::Split,
    /// Number of logged points.
    pub points: usize,
    /// First value (may be non-finite).
    #[serde(
        serialize_with = "crate::model::serialize_opt_f64",
        deserialize_with = "crate::model::deserialize_opt_f64"
    )]
    pub first: Option<f64>,
    /// Last value (may be non-finite).
    #[serde(
        serialize_with = "crate::model::serialize_opt_f64",
        deserialize_with = "crate::model::deserialize_opt_f64"
    )]
    pub last: Option<f64>,
    /// Step of the last value.
    pub last_step: Option<u64>,
    /// Smallest finite value.
    #[serde(
        serialize_with = "crate::model::serialize_opt_f64",
        deserialize_with = "crate::model::deserialize_opt_f64"
    )]
    pub min: Option<f64>,
    /// Largest finite value.
    #[serde(
        serialize_with = "crate::model::serialize_opt_f64",
        deserialize_with = "crate::model::deserialize_opt_f64"
    )]
    pub max: Option<f64>,
    /// Best finite value: min for loss-like families, max for accuracy and throughput.
    #[serde(
        serialize_with = "crate::model::serialize_opt_f64",
        deserialize_with = "crate::model::deserialize_opt_f64"
    )]
    pub best: Option<f64>,
    /// Step of the best value (the first such step on ties).
    pub best_step: Option<u64>,
    /// Step of the first NaN or infinite value.
    pub first_nonfinite_step: Option<u64>,
    /// How many values are NaN or infinite.
    pub nonfinite_points: usize,
}

/// Summarize one series.
pub fn summarize(series: &Series) -> SeriesSummary {
    let higher = series.family.higher_is_better();
    let mut min: Option<f64> = None;
    let mut max: Option<f64> = None;
    let mut best: Option<(f64, u64)> = None;
    let mut first_nonfinite_step = None;
    let mut nonfinite_points = 0;
    for p in &series.points {
        if !p.value.is_finite() {
            first_nonfinite_step.get_or_insert(p.step);
            nonfinite_points += 1;
            continue;
        }
        min = Some(min.map_or(p.value, |m| m.min(p.value)));
        max = Some(max.map_or(p.value, |m| m.max(p.value)));
        let better = match best {
            None => true,
            Some((b, _)) => (higher && p.value > b) || (!higher && p.value < b),
        };
        if better {
            best = Some((p.value, p.step));
        }
    }
    SeriesSummary {
        name: series.name.clone(),
        family: series.family,
        split: series.split,
        points: series.points.len(),
        first: series.points.first().map(|p| p.value),
        last: series.points.last().map(|p| p.value),
        last_step: series.points.last().map(|p| p.step),
        min,
        max,
        best: best.map(|b| b.0),
        best_step: best.map(|b| b.1),
        first_nonfinite_step,
        nonfinite_points,
    }
}

/// The headline numbers of a run: its main train and val loss.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Headline {
    /// Last train loss.
    #[serde(
        serialize_with = "crate::model::serialize_opt_f64",
        deserialize_with = "crate::model::deserialize_opt_f64"
    )]
    pub final_train_loss: Option<f64>,
    /// Lowest finite train loss.
    #[serde(
        serialize_with = "crate::model::serialize_opt_f64",
        deserialize_with = "crate::model::deserialize_opt_f64"
    )]
    pub best_train_loss: Option<f64>,
    /// Last val loss.
    #[serde(
        serialize_with = "crate::model::serialize_opt_f64",
        deserialize_with = "crate::model::deserialize_opt_f64"
    )]
    pub final_val_loss: Option<f64>,
    /// Lowest finite val loss.
    #[serde(
        serialize_with = "crate::model::serialize_opt_f64",
        deserialize_with = "crate::model::deserialize_opt_f64"
    )]
    pub best_val_loss: Option<f64>,
    /// Step of the lowest val loss.
    pub best_val_step: Option<u64>,
    /// (final val - final train) / final train, in percent, when both are finite.
    #[serde(
        serialize_with = "crate::model::serialize_opt_f64",
        deserialize_with = "crate::model::deserialize_opt_f64"
    )]
    pub gap_percent: Option<f64>,
    /// Last step logged in any loss series.
    pub last_step: Option<u64>,
}

/// Pick the run's main train and val loss series (the loss family, the
/// first series of each split in display order) and read their numbers.
pub fn headline(summaries: &[SeriesSummary]) -> Headline {
    let pick = |split: Split| {
        summaries
            .iter()
            .find(|s| s.family == Family::Loss && s.split == split)
    };
    let train = pick(Split::Train);
    let val = pick(Split::Val);
    let gap_percent = match (train.and_then(|t| t.last), val.and_then(|v| v.last)) {
        (Some(t), Some(v)) if t.is_finite() && v.is_finite() && t != 0.0 => {
            Some((v - t) / t.abs() * 100.0)
        }
        _ => None,
    };
    Headline {
        final_train_loss: train.and_then(|t| t.last),
        best_train_loss: train.and_then(|t| t.best),
        final_val_loss: val.and_then(|v| v.last),
        best_val_loss: val.and_then(|v| v.best),
        best_val_step: val.and_then(|v| v.best_step),
        gap_percent,
        last_step: summaries
            .iter()
            .filter(|s| s.family == Family::Loss)
            .filter_map(|s| s.last_step)
            .max(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Point;

    fn series(name: &str, values: &[(u64, f64)]) -> Series {
        let mut s = Series::new(name, "f");
        s.points = values.iter().map(|&(step, v)| Point::at(step, v)).collect();
        s
    }

    #[test]
    fn best_of_a_loss_is_its_minimum_and_skips_nan() {
        let s = summarize(&series(
            "val_loss",
            &[(10, 2.0), (20, 1.5), (30, f64::NAN), (40, 1.7)],
        ));
        assert_eq!(s.best, Some(1.5));
        assert_eq!(s.best_step, Some(20));
        assert_eq!(s.first_nonfinite_step, Some(30));
        assert_eq!(s.last, Some(1.7));
        assert_eq!(s.max, Some(2.0));
        assert_eq!((s.family, s.split), (Family::Loss, Split::Val));
    }

    #[test]
    fn best_of_an_accuracy_is_its_maximum() {
        let s = summarize(&series("eval_accuracy", &[(1, 0.5), (2, 0.9), (3, 0.8)]));
        assert_eq!((s.best, s.best_step), (Some(0.9), Some(2)));
    }

    #[test]
    fn all_nan_series_has_no_best() {
        let s = summarize(&series("loss", &[(1, f64::NAN)]));
        assert_eq!(
            (s.best, s.min, s.first_nonfinite_step),
            (None, None, Some(1))
        );
        assert!(s.last.unwrap().is_nan());
    }

    #[test]
    fn headline_reads_train_and_val_loss_and_gap() {
        let sums = vec![
            summarize(&series("loss", &[(1, 3.0), (2, 1.0)])),
            summarize(&series("Validation loss", &[(1, 3.1), (2, 1.2)])),
        ];
        let h = headline(&sums);
        assert_eq!(h.final_train_loss, Some(1.0));
        assert_eq!(h.best_val_loss, Some(1.2));
        assert!((h.gap_percent.unwrap() - 20.0).abs() < 1e-9);
        assert_eq!(h.last_step, Some(2));
    }
}
