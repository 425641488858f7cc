//! The experiment tracker log (`experiment_json`).

use super::{names, read, values};
use crate::model::{EventKind, Severity, Status};
use serde_json::json;

const FILE: &str = "sweep/experiment_logs/experiment_tiny-lr3e-4_20260201_150000.json";

/// A log as gen_corpus writes it: two entries, one with a validation value.
const LOG: &str = r#"{
  "config": {"experiment_name": "tiny-lr3e-4", "batch_size": 32, "context_length": 256, "max_iters": 20},
  "start_time": "2026-02-01T15:00:00",
  "end_time": "2026-02-01T15:09:14.771544",
  "duration_seconds": 554.771544,
  "metrics_history": [
    {"iteration": 9, "gradient_step": 10, "wallclock_time": 11.095, "train_loss": 2.42, "val_loss": null,
     "learning_rate": 0.0003, "tokens_per_sec": 234030.5, "iter_time_ms": 1109.5, "batch_size": 32, "context_length": 256},
    {"iteration": 19, "gradient_step": 20, "wallclock_time": 22.191, "train_loss": 2.38, "val_loss": 2.5,
     "learning_rate": 0.0002, "tokens_per_sec": 250401.3, "iter_time_ms": 1109.5, "batch_size": 32, "context_length": 256}
  ],
  "notes": "",
  "best_train_loss": 2.38,
  "best_val_loss": Infinity,
  "final_train_loss": NaN,
  "final_val_loss": null
}"#;

fn read_one(text: &str) -> crate::model::Run {
    read(&[(FILE, text)]).remove(0)
}

#[test]
fn gen_corpus_log_becomes_series_params_and_times() {
    let run = read_one(LOG);
    assert!(run.problems.is_empty(), "{:?}", run.problems);
    assert_eq!(run.format, "experiment_json");
    assert_eq!(run.name, "tiny-lr3e-4");
    assert_eq!(run.date.as_deref(), Some("2026-02-01"));
    assert_eq!(
        names(&run),
        vec![
            "iter_time_ms",
            "learning_rate",
            "tokens_per_sec",
            "train_loss",
            "val_loss"
        ],
        "batch_size and context_length only repeat the config"
    );
    assert_eq!(values(&run, "train_loss"), vec![(10, 2.42), (20, 2.38)]);
    assert_eq!(values(&run, "val_loss"), vec![(20, 2.5)]);
    let loss = &run.metrics.iter().find(|s| s.name == "train_loss").unwrap();
    assert_eq!(loss.points[1].wall_time, Some(22.191));
    assert_eq!(run.params["max_iters"], json!(20));
    assert_eq!(run.params["results"]["best_val_loss"], json!("Infinity"));
    assert_eq!(run.params["results"]["final_train_loss"], json!("NaN"));
    assert!(run.params["results"].get("final_val_loss").is_none());
    assert!(run.params.get("notes").is_none());
    assert_eq!(run.started.as_deref(), Some("2026-02-01T15:00:00"));
    assert_eq!(run.ended.as_deref(), Some("2026-02-01T15:09:14.771544"));
    assert_eq!(run.duration_seconds, Some(554.771544));
    assert_eq!(run.status, Status::Completed);
    assert_eq!(
        run.status_reason,
        "end_time is set (2026-02-01T15:09:14.771544)"
    );
    let kinds: Vec<_> = run
        .events
        .iter()
        .map(|e| (e.kind, e.step, e.line))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (EventKind::Validation, Some(20), Some(9)),
            (EventKind::Finish, Some(20), Some(4))
        ]
    );
}

#[test]
fn zeros_of_an_evaluation_entry_are_not_train_points() {
    let text = r#"{"config": {}, "start_time": "t", "metrics_history": [
      {"iteration": 10, "wallclock_time": 5.0, "train_loss": 3.0, "val_loss": null, "learning_rate": 0.001, "tokens_per_sec": 900},
      {"iteration": 10, "wallclock_time": 6.0, "train_loss": 0.0, "val_loss": 3.2, "learning_rate": 0.0, "tokens_per_sec": 0},
      {"iteration": 20, "wallclock_time": 9.0, "train_loss": 2.5, "val_loss": null, "learning_rate": 0.0, "tokens_per_sec": 950}
    ]}"#;
    let run = read_one(text);
    assert_eq!(values(&run, "train_loss"), vec![(10, 3.0), (20, 2.5)]);
    assert_eq!(values(&run, "learning_rate"), vec![(10, 0.001), (20, 0.0)]);
    assert_eq!(values(&run, "val_loss"), vec![(10, 3.2)]);
    assert_eq!(values(&run, "tokens_per_sec").len(), 2);
}

#[test]
fn status_without_end_time_follows_the_planned_steps() {
    let log = |end: &str, last: u64| {
        format!(
            "{{\"config\": {{\"max_iters\": 100}}, \"start_time\": \"2026-02-01T09:00:00\", \"end_time\": {end}, \
             \"metrics_history\": [{{\"iteration\": {}, \"gradient_step\": {last}, \"train_loss\": 1.0}}]}}",
            last - 1
        )
    };
    let crashed = read_one(&log("null", 40));
    assert_eq!(crashed.status, Status::Failed);
    assert_eq!(
        crashed.status_reason,
        "no end_time, and the history stops at step 40 (40 of 100 planned steps)"
    );
    assert!(crashed.events.is_empty());
    let done = read_one(&log("null", 100));
    assert_eq!(done.status, Status::Completed);
    let unplanned = read_one("{\"config\": {}, \"start_time\": \"x\", \"metrics_history\": []}");
    assert_eq!(
        (unplanned.status, unplanned.status_reason.as_str()),
        (Status::Unknown, "no end_time recorded")
    );
}

#[test]
fn a_failure_marker_wins_over_end_time() {
    let text = "{\"config\": {}, \"start_time\": \"a\", \"end_time\": \"b\", \"metrics_history\": [{\"iteration\": 5, \"train_loss\": 1}],\n\"error\": \"Traceback (most recent call last):\\n  ...\\nRuntimeError: CUDA out of memory\"}";
    let run = read_one(text);
    assert_eq!(run.status, Status::Failed);
    assert_eq!(
        run.status_reason,
        "\"error\": Traceback (most recent call last):"
    );
    let error = run
        .events
        .iter()
        .find(|e| e.kind == EventKind::Error)
        .unwrap();
    assert_eq!((error.step, error.line), (Some(5), Some(2)));
    assert!(error.message.contains("CUDA out of memory"));
    let run = read_one(
        "{\"config\": {}, \"start_time\": \"a\", \"end_time\": \"b\", \"status\": \"CRASHED\"}",
    );
    assert_eq!(run.status, Status::Failed);
}

#[test]
fn a_cut_log_keeps_its_complete_entries() {
    let cut = &LOG[..LOG.find("\"learning_rate\": 0.0002").unwrap()];
    let run = read_one(cut);
    assert_eq!(values(&run, "train_loss"), vec![(10, 2.42)]);
    assert_eq!(run.problems.len(), 1, "{:?}", run.problems);
    let p = &run.problems[0];
    assert_eq!((p.severity, p.line), (Severity::Error, Some(10)));
    assert!(
        p.message.starts_with("the file is cut short"),
        "{}",
        p.message
    );
    // end_time was written before the history: the run finished, the last save was cut.
    assert_eq!(run.status, Status::Completed);
    let early = read_one(&LOG[..40]);
    assert!(early.metrics.is_empty());
    assert_eq!(early.status, Status::Failed);
    assert_eq!(
        early.status_reason,
        "no end_time, and the file is cut short"
    );
}

#[test]
fn wrong_types_are_warnings_with_lines() {
    let text = "{\"config\": [1],\n\"start_time\": 5,\n\"metrics_history\": [\n\"x\",\n{\"iteration\": \"ten\", \"loss\": 1},\n{\"gradient_step\": 3, \"loss\": \"high\", \"acc\": true, \"ok\": 2}\n]}";
    let run = read_one(text);
    let lines: Vec<_> = run.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, vec![Some(1), Some(4), Some(5)], "{:?}", run.problems);
    assert!(run.problems.iter().all(|p| p.severity == Severity::Warning));
    assert_eq!(run.params["config"], json!([1]));
    assert_eq!(run.started, None);
    assert_eq!(names(&run), vec!["ok"]);
    assert_eq!(values(&run, "ok"), vec![(3, 2.0)]);
    let run = read_one("{\"config\": {}, \"start_time\": \"x\", \"metrics_history\": {\"a\": 1}}");
    assert!(run.problems[0].message.contains("not a list"));
}

#[test]
fn bom_crlf_and_names_without_a_timestamp() {
    let text = "\u{feff}{\r\n\"config\": {\"lr\": 0.1},\r\n\"start_time\": \"2025-12-24T08:00:00\",\r\n\"end_time\": \"2025-12-24T09:00:00\",\r\n\"metrics_history\": [{\"iteration\": 1, \"train_loss\": -Infinity}]\r\n}\r\n";
    let runs = read(&[("logs/my_run.json", text)]);
    let run = &runs[0];
    assert!(run.problems.is_empty(), "{:?}", run.problems);
    assert_eq!(run.name, "my_run");
    assert_eq!(run.date.as_deref(), Some("2025-12-24"));
    assert_eq!(values(run, "train_loss"), vec![(1, f64::NEG_INFINITY)]);
    assert_eq!(run.events[0].line, Some(4));
}
