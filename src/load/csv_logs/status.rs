//! How a CSV-logged run ended, from how far its rows got against what its
//! params planned.
//!
//! None of these loggers writes an end-of-run marker, so the only evidence is
//! the plan: `epochs` in Ultralytics' `args.yaml`, `max_epochs` / `max_steps`
//! in Lightning's `hparams.yaml` or config. Reaching it means completed;
//! falling short with a torn last line means the writer was killed; falling
//! short otherwise stays unknown (early stopping, an interrupt and a run
//! still going look the same), with a reason that gives the numbers.

use super::header::Dialect;
use super::table::Extent;
use crate::model::{Run, Status};

/// Param names that say how many epochs a run planned (leaf keys, at any depth).
const PLANNED_EPOCH_KEYS: [&str; 5] = [
    "epochs",
    "max_epochs",
    "num_epochs",
    "num_train_epochs",
    "n_epochs",
];

/// Set `run.status` and its reason from the rows' extent and the planned length.
pub(super) fn decide_status(run: &mut Run, dialect: Dialect, extent: &Extent, file_name: &str) {
    if run.status != Status::Unknown {
        return;
    }
    let planned_epochs = planned(run, &PLANNED_EPOCH_KEYS);
    // Lightning's steps are already counted as optimizer steps done (see `table`).
    let planned_steps = match dialect {
        Dialect::Lightning => planned(run, &["max_steps"]),
        _ => None,
    };
    if let (Some(planned), Some(last)) = (planned_steps, extent.last_step) {
        if last as f64 >= planned {
            run.status = Status::Completed;
            run.status_reason = format!("reached its planned {planned} steps");
            return;
        }
    }
    let (Some(planned), Some(last)) = (planned_epochs, extent.last_epoch) else {
        if planned_steps.is_none() {
            run.status_reason = no_plan_reason(file_name, extent);
        }
        // With max_steps the generic planned-steps check in `load` gives the reason.
        return;
    };
    // Keras and Lightning count epochs from 0; Ultralytics from 1 (older versions from 0).
    let zero_based = match dialect {
        Dialect::Ultralytics | Dialect::Generic => extent.first_epoch == Some(0.0),
        Dialect::Lightning | Dialect::Keras => true,
    };
    let done = if zero_based { last + 1.0 } else { last };
    let (counted, counted_aside) = match zero_based {
        true => (", counted from 0", " (counted from 0)"),
        false => ("", ""),
    };
    if done >= planned && extent.last_row_ends_epoch {
        run.status = Status::Completed;
        run.status_reason =
            format!("reached its planned {planned} epochs (last epoch {last}{counted})");
    } else if extent.torn {
        run.status = Status::Failed;
        run.status_reason = format!(
            "stopped in epoch {last}{counted_aside} of {planned} planned, mid-write (last line torn)"
        );
    } else if done >= planned {
        run.status_reason = format!(
            "logged epoch {last}{counted_aside} of {planned} planned, but not its end-of-epoch values"
        );
    } else {
        run.status_reason = format!(
            "last epoch {last}{counted_aside} of {planned} planned: stopped early, interrupted or still running"
        );
    }
}

/// The reason when nothing says how long the run was meant to be.
fn no_plan_reason(file_name: &str, extent: &Extent) -> String {
    if extent.torn {
        format!("{file_name} records no end of run, and its last line is incomplete")
    } else {
        format!("{file_name} records no end of run and no planned length was found")
    }
}

/// The first positive number among the params whose leaf key is one of `keys`, in key order.
fn planned(run: &Run, keys: &[&str]) -> Option<f64> {
    let flat = run.flat_params();
    keys.iter().find_map(|key| {
        flat.iter().find_map(|(k, v)| {
            let leaf = k.rsplit('.').next().unwrap_or(k);
            (leaf == *key)
                .then(|| v.parse::<f64>().ok())
                .flatten()
                .filter(|n| n.is_finite() && *n > 0.0)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decide(dialect: Dialect, params: serde_json::Value, extent: Extent) -> Run {
        let mut run = Run::new("r", "", "csv_logs");
        run.params = params;
        decide_status(&mut run, dialect, &extent, "results.csv");
        run
    }

    fn epochs(first: f64, last: f64) -> Extent {
        Extent {
            last_step: Some(last as u64),
            first_epoch: Some(first),
            last_epoch: Some(last),
            last_row_ends_epoch: true,
            ..Extent::default()
        }
    }

    #[test]
    fn ultralytics_counts_epochs_from_one_or_zero() {
        let run = decide(
            Dialect::Ultralytics,
            json!({"epochs": 10}),
            epochs(1.0, 10.0),
        );
        assert_eq!(run.status, Status::Completed);
        assert_eq!(
            run.status_reason,
            "reached its planned 10 epochs (last epoch 10)"
        );
        let run = decide(
            Dialect::Ultralytics,
            json!({"epochs": 10}),
            epochs(0.0, 9.0),
        );
        assert_eq!(run.status, Status::Completed);
        let run = decide(
            Dialect::Ultralytics,
            json!({"epochs": 100}),
            epochs(1.0, 42.0),
        );
        assert_eq!(run.status, Status::Unknown);
        assert!(
            run.status_reason
                .starts_with("last epoch 42 of 100 planned"),
            "{}",
            run.status_reason
        );
    }

    #[test]
    fn keras_and_lightning_epochs_count_from_zero() {
        let run = decide(Dialect::Keras, json!({"epochs": 24}), epochs(0.0, 23.0));
        assert_eq!(run.status, Status::Completed);
        let run = decide(Dialect::Keras, json!({"epochs": 24}), epochs(0.0, 22.0));
        assert_eq!(run.status, Status::Unknown);
        let run = decide(
            Dialect::Lightning,
            json!({"trainer": {"max_epochs": 3}}),
            epochs(0.0, 2.0),
        );
        assert_eq!(run.status, Status::Completed);
        let mut mid_epoch = epochs(0.0, 2.0);
        mid_epoch.last_row_ends_epoch = false;
        let run = decide(Dialect::Lightning, json!({"max_epochs": 3}), mid_epoch);
        assert_eq!(run.status, Status::Unknown);
        assert!(
            run.status_reason.contains("not its end-of-epoch values"),
            "{}",
            run.status_reason
        );
    }

    #[test]
    fn lightning_reaches_max_steps() {
        // The table has already turned Lightning's 0-based step 1999 into 2000 steps done.
        let extent = Extent {
            last_step: Some(2000),
            ..Extent::default()
        };
        let run = decide(
            Dialect::Lightning,
            json!({"max_steps": 2000}),
            extent.clone(),
        );
        assert_eq!(run.status, Status::Completed);
        let run = decide(
            Dialect::Lightning,
            json!({"max_steps": 4000}),
            extent.clone(),
        );
        assert_eq!(
            (run.status, run.status_reason.as_str()),
            (Status::Unknown, "")
        );
        let run = decide(Dialect::Lightning, json!({"max_steps": -1}), extent);
        assert!(
            run.status_reason.contains("no planned length"),
            "{}",
            run.status_reason
        );
    }

    #[test]
    fn torn_and_short_is_failed_and_no_plan_is_unknown() {
        let mut extent = epochs(0.0, 4.0);
        extent.torn = true;
        let run = decide(Dialect::Keras, json!({"epochs": 10}), extent.clone());
        assert_eq!(run.status, Status::Failed);
        assert!(
            run.status_reason.contains("mid-write"),
            "{}",
            run.status_reason
        );
        let run = decide(Dialect::Keras, json!({}), extent);
        assert_eq!(run.status, Status::Unknown);
        assert!(
            run.status_reason.contains("incomplete"),
            "{}",
            run.status_reason
        );
        let run = decide(Dialect::Keras, json!({"epochs": "many"}), epochs(0.0, 4.0));
        assert_eq!(
            run.status_reason,
            "results.csv records no end of run and no planned length was found"
        );
    }
}
