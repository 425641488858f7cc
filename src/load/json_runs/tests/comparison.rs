//! The runs comparison (`runs_comparison_json`).

use super::{names, read, values};
use crate::model::{Run, Severity, Status};
use serde_json::json;

const FILE: &str = "reports/training_runs_comparison.json";

/// A comparison with one entry made of `hyperparameters`, `training_metrics` and `final_metrics`.
fn one(training: &str, finals: &str) -> Run {
    let text = format!(
        "{{\"timestamp\": \"2025-11-11T18:05:11.313398\", \"runs\": [{{\"run_name\": \"SmolLM3-3B_run4\", \
         \"run_path\": \"/p/models/SmolLM3-3B_run4\", \"timestamp\": \"2025-11-11T18:05:11.312599\", \
         \"hyperparameters\": {{\"learning_rate\": 1e-05, \"iters\": 1800, \"lora_rank\": null}}, \
         \"training_metrics\": {training}, \"final_metrics\": {finals}}}], \"comparison_table\": \"...\"}}"
    );
    let mut runs = read(&[(FILE, &text)]);
    assert_eq!(runs.len(), 1);
    runs.remove(0)
}

#[test]
fn validation_iterations_come_first_then_train_only_ones() {
    let run = one(
        "{\"iterations\": [1, 130, 50, 100, 150], \"val_loss\": [2.7, 2.1], \"val_time_sec\": [20.5, 21.0], \
          \"train_loss\": [2.3, 2.0, 1.9], \"learning_rate\": [1e-05, 1e-05, 1e-05]}",
        "{}",
    );
    assert!(run.problems.is_empty(), "{:?}", run.problems);
    assert_eq!(values(&run, "val_loss"), vec![(1, 2.7), (130, 2.1)]);
    assert_eq!(values(&run, "val_time_sec"), vec![(1, 20.5), (130, 21.0)]);
    assert_eq!(
        values(&run, "train_loss"),
        vec![(50, 2.3), (100, 2.0), (150, 1.9)]
    );
    assert_eq!(values(&run, "learning_rate").len(), 3);
    assert_eq!(
        run.path,
        "reports/training_runs_comparison.json#SmolLM3-3B_run4"
    );
    assert_eq!(
        (run.name.as_str(), run.group.as_str()),
        ("SmolLM3-3B_run4", "reports")
    );
    assert_eq!(run.format, "runs_comparison_json");
    assert_eq!(run.params["run_path"], json!("/p/models/SmolLM3-3B_run4"));
    assert_eq!(run.params["iters"], json!(1800));
    assert!(run.params.get("lora_rank").is_none(), "nulls are dropped");
    assert_eq!(run.status, Status::Unknown);
    assert_eq!(
        run.date, None,
        "the entry's timestamp is when the comparison was made"
    );
}

#[test]
fn train_values_written_over_by_position_are_not_read() {
    // Validation at 1 and 200; a train report at 200 too: train_loss[1] (iteration 100's
    // place) holds iteration 200's value, and learning_rate has one more value.
    let run = one(
        "{\"iterations\": [1, 200, 100, 300], \"val_loss\": [2.5, 1.9], \
          \"train_loss\": [2.2, 1.8], \"learning_rate\": [1e-05, 1e-05, 1e-05]}",
        "{}",
    );
    assert_eq!(names(&run), vec!["val_loss"]);
    assert_eq!(values(&run, "val_loss"), vec![(1, 2.5), (200, 1.9)]);
    assert_eq!(run.problems.len(), 1);
    let p = &run.problems[0];
    assert_eq!((p.severity, p.line), (Severity::Warning, Some(1)));
    assert!(
        p.message.starts_with("the train lists (learning_rate 3, train_loss 2) do not all match the 2 train-only iterations after the 2 validation ones"),
        "{}",
        p.message
    );
}

#[test]
fn lists_as_long_as_iterations_are_aligned_by_index() {
    let run = one(
        "{\"iterations\": [50, 100], \"train_loss\": [2.1, 1.9], \"val_loss\": [2.2, NaN], \"tokens_per_sec\": [150, null], \"peak_memory_gb\": [8.0]}",
        "{}",
    );
    assert_eq!(values(&run, "train_loss"), vec![(50, 2.1), (100, 1.9)]);
    assert!(values(&run, "val_loss")[1].1.is_nan());
    assert_eq!(values(&run, "tokens_per_sec"), vec![(50, 150.0)]);
    assert_eq!(run.problems.len(), 1);
    assert_eq!(
        run.problems[0].message,
        "\"peak_memory_gb\" has 1 values for 2 iterations; not read"
    );
}

#[test]
fn a_validation_list_of_another_length_is_a_problem() {
    let run = one(
        "{\"iterations\": [1, 50, 100], \"val_loss\": [2.5], \"val_time_sec\": [20.0, 21.0], \"train_loss\": [2.0, 1.8]}",
        "{}",
    );
    assert_eq!(names(&run), vec!["train_loss", "val_loss"]);
    assert!(run.problems[0]
        .message
        .contains("for the 1 validation iterations listed first"));
}

#[test]
fn empty_training_metrics_give_final_values_as_single_points() {
    let run = one(
        "{}",
        "{\"final_iteration\": 1800, \"final_train_loss\": 1.443, \"final_val_loss\": 1.629, \"peak_memory_gb\": 8.082, \"final_val_time_sec\": null}",
    );
    assert!(run.problems.is_empty(), "{:?}", run.problems);
    assert_eq!(
        names(&run),
        vec!["final_train_loss", "final_val_loss", "peak_memory_gb"]
    );
    assert_eq!(values(&run, "final_train_loss"), vec![(1800, 1.443)]);
    assert_eq!(run.params["results"]["final_iteration"], json!(1800));
    let run = one("{}", "{\"final_train_loss\": 1.4}");
    assert!(run.metrics.is_empty());
    assert!(run.problems[0]
        .message
        .contains("no whole-number final_iteration"));
    let run = one("{}", "{}");
    assert!(run.metrics.is_empty() && run.problems.is_empty());
    assert_eq!(run.params["learning_rate"], json!(1e-05));
}

#[test]
fn odd_entries_and_odd_files() {
    let text = "{\"runs\": [\n\"x\",\n{\"run_name\": \"a\", \"training_metrics\": {\"train_loss\": [1]}},\n{\"run_name\": \"a\", \"hyperparameters\": 3},\n{\"final_metrics\": {}}\n]}";
    let runs = read(&[("training_runs_comparison.json", text)]);
    let paths: Vec<_> = runs.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "training_runs_comparison.json#a",
            "training_runs_comparison.json#a-3",
            "training_runs_comparison.json#run 4"
        ]
    );
    assert_eq!(runs[0].problems.len(), 2, "{:?}", runs[0].problems);
    assert_eq!(runs[0].problems[0].line, Some(2));
    assert!(runs[0].problems[1]
        .message
        .contains("no \"iterations\" list"));
    assert!(
        runs[1].problems[0].message.contains("not an object"),
        "{:?}",
        runs
    );
    let runs = read(&[(
        "training_runs_comparison.json",
        "{\"runs\": {\"run_name\": 1, \"final_metrics\": 2}}",
    )]);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].path, "training_runs_comparison");
    assert!(runs[0].problems[0].message.contains("not a list"));
}

#[test]
fn a_cut_comparison_keeps_its_complete_runs() {
    let text = "{\"timestamp\": \"t\", \"runs\": [\n{\"run_name\": \"a\", \"final_metrics\": {\"final_iteration\": 10, \"final_train_loss\": 1.5}},\n{\"run_name\": \"b\", \"final_metr";
    let runs = read(&[(FILE, text)]);
    assert_eq!(runs.len(), 1);
    assert_eq!(values(&runs[0], "final_train_loss"), vec![(10, 1.5)]);
    let p = &runs[0].problems[0];
    assert_eq!((p.severity, p.line), (Severity::Error, Some(3)));
    assert!(
        p.message.starts_with("the file is cut short"),
        "{}",
        p.message
    );
}
