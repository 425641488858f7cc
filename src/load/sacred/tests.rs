use super::*;
use crate::model::{Family, Severity, Split, Status};

/// The real failed run's `run.json` (ml-pws run 3).
const FAILED_RUN: &str = include_str!(
    "../../../tests/fixtures/realruns/experiment_json/manuel-rhdt__ml-pws/runs/3/run.json"
);

const COMPLETED_RUN: &str = r#"{
  "artifacts": [],
  "command": "my_main",
  "experiment": {"name": "model-size-sweep", "mainfile": "01-model-size.py"},
  "heartbeat": "2024-02-08T23:03:12.618138",
  "host": {"ENV": {"SECRET": "x"}, "cpu": "Intel", "hostname": "h"},
  "result": null,
  "start_time": "2024-02-08T23:02:14.620335",
  "status": "COMPLETED",
  "stop_time": "2024-02-08T23:03:12.616825"
}"#;

const METRICS: &str = r#"{
  "training.loss": {
    "steps": [1, 2, 3],
    "timestamps": ["2024-02-08T23:02:17.744847", "2024-02-08T23:02:17.874908", "2024-02-08T23:02:18.000000"],
    "values": [0.26, NaN, -0.67]
  },
  "val.acc": {"steps": [3], "timestamps": ["2024-02-08T23:02:18.5"], "values": [0.5]}
}"#;

fn text(rel: &str, text: &str) -> SourceText {
    SourceText::from_text(rel, text)
}

fn read(texts: &[SourceText]) -> Run {
    let mut runs = read_run(Run::new("runs/1", "runs", "sacred"), texts);
    assert_eq!(runs.len(), 1);
    let mut run = runs.remove(0);
    run.finish_metrics();
    run
}

#[test]
fn completed_run_with_config_metrics_and_host() {
    let run = read(&[
        text(
            "runs/1/config.json",
            "{\"lr\": 0.0001, \"model\": \"LSTM\", \"clip\": Infinity}",
        ),
        text("runs/1/run.json", COMPLETED_RUN),
        text("runs/1/metrics.json", METRICS),
        text(
            "runs/1/cout.txt",
            "INFO - model-size-sweep - Completed after 0:00:58\n",
        ),
    ]);
    assert!(run.problems.is_empty(), "{:?}", run.problems);
    assert_eq!(run.name, "model-size-sweep #1");
    assert_eq!(run.status, Status::Completed);
    assert_eq!(run.status_reason, "run.json: status COMPLETED");
    assert_eq!(run.started.as_deref(), Some("2024-02-08T23:02:14.620335"));
    assert_eq!(run.ended.as_deref(), Some("2024-02-08T23:03:12.616825"));
    assert_eq!(run.duration_seconds, Some(57.99649));
    assert_eq!(run.date.as_deref(), Some("2024-02-08"));
    assert_eq!(run.params["lr"], 0.0001);
    assert_eq!(run.params["clip"], "Infinity");
    assert_eq!(run.params["host"]["cpu"], "Intel");
    assert!(run.params["host"].get("ENV").is_none());
    assert!(run.params.get("result").is_none());
    let loss = run
        .metrics
        .iter()
        .find(|s| s.name == "training.loss")
        .unwrap();
    assert_eq!((loss.family, loss.split), (Family::Loss, Split::Train));
    assert_eq!(loss.points.len(), 3);
    assert!(loss.points[1].value.is_nan());
    assert!((loss.points[0].wall_time.unwrap() - 3.124512).abs() < 1e-6);
    let acc = run.metrics.iter().find(|s| s.name == "val.acc").unwrap();
    assert_eq!((acc.family, acc.split), (Family::Accuracy, Split::Val));
    assert!(run.events.is_empty());
}

#[test]
fn failed_run_has_its_trace_reason_and_points() {
    let run = read(&[
        text("runs/1/run.json", FAILED_RUN),
        text("runs/1/metrics.json", METRICS),
        text(
            "runs/1/cout.txt",
            "INFO - x - Started\nERROR - model-size-sweep - Failed after 0:00:57!\n\
             AttributeError: expected 'f' to be string, path, or a file-like object with a 'write' attribute\n\
             torch.cuda.OutOfMemoryError: CUDA out of memory. Tried\r\n",
        ),
    ]);
    assert!(run.problems.is_empty(), "{:?}", run.problems);
    assert_eq!(run.status, Status::Failed);
    assert_eq!(
        run.status_reason,
        "AttributeError: expected 'f' to be string, path, or a file-like object with a 'write' attribute"
    );
    assert_eq!(run.metrics.iter().map(|s| s.points.len()).sum::<usize>(), 4);
    let trace = &run.events[0];
    assert_eq!(trace.kind, EventKind::Traceback);
    assert!(trace
        .message
        .starts_with("Traceback (most recent call last):\n  File"));
    assert!(trace.message.ends_with("'write' attribute"));
    assert_eq!(trace.line, Some(28));
    let errors: Vec<_> = run.events[1..].iter().map(|e| (e.kind, e.line)).collect();
    assert_eq!(
        errors,
        vec![(EventKind::Error, Some(2)), (EventKind::Error, Some(4))],
        "the trace's own line is not repeated"
    );
    assert_eq!(run.params["host"]["python_version"], "3.12.1");
}

#[test]
fn other_statuses() {
    let status = |s: &str| {
        let record = format!("{{\"experiment\": {{\"name\": \"e\"}}, {s} \"command\": \"c\"}}");
        let run = read(&[text("runs/1/run.json", &record)]);
        (run.status, run.status_reason, run.problems.len())
    };
    let running = status("\"status\": \"RUNNING\", \"heartbeat\": \"2024-01-01T00:00:00\",");
    assert_eq!(running.0, Status::Running);
    assert!(
        running.1.contains("last heartbeat 2024-01-01T00:00:00"),
        "{}",
        running.1
    );
    assert_eq!(status("\"status\": \"INTERRUPTED\",").0, Status::Failed);
    assert_eq!(status("\"status\": \"TIMED_OUT\",").0, Status::Failed);
    assert_eq!(
        status("\"status\": \"FAILED\",").1,
        "run.json: status FAILED"
    );
    assert_eq!(status("\"status\": \"QUEUED\",").0, Status::Unknown);
    assert_eq!(status("\"status\": \"WEIRD\",").2, 1);
    assert_eq!(status("").1, "run.json records no status");
    let run = read(&[]);
    assert_eq!(
        (run.status, run.status_reason.as_str()),
        (Status::Unknown, "run.json could not be read")
    );
    assert_eq!(run.name, "1");
}

#[test]
fn damaged_files_keep_what_they_can() {
    let cut = &METRICS[..METRICS.find("\"val.acc\"").unwrap() + 12];
    let run = read(&[
        text("runs/1/config.json", "{\"a\": 1,"),
        text("runs/1/metrics.json", cut),
    ]);
    assert_eq!(
        run.metrics.len(),
        1,
        "the complete metric before the damage is read"
    );
    let errors: Vec<_> = run
        .problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .map(|p| p.file.as_str())
        .collect();
    assert_eq!(errors, vec!["runs/1/config.json", "runs/1/metrics.json"]);
    let odd = r#"{"a": 3, "b": {"steps": [1, -2, 3], "values": [1, 2]}, "c": {"steps": [1], "values": [{"py/object": "x"}]}}"#;
    let run = read(&[text("runs/1/metrics.json", odd)]);
    assert_eq!(run.metrics.len(), 1);
    assert_eq!(run.metrics[0].points.len(), 1);
    assert_eq!(run.problems.len(), 4, "{:?}", run.problems);
}

#[test]
fn sniffs_sacred_run_json() {
    assert!(looks_like_sacred_run(COMPLETED_RUN));
    assert!(looks_like_sacred_run(&FAILED_RUN[..300]));
    assert!(!looks_like_sacred_run("{\"experiment\": 1}"));
    assert!(!looks_like_sacred_run(
        "{\"status\": \"COMPLETED\", \"start_time\": 1}"
    ));
    assert!(!looks_like_sacred_run(
        "[\"experiment\": 1, \"command\": 2]"
    ));
}

#[test]
fn error_lines() {
    assert!(is_error_line("ERROR - exp - Failed after 0:00:57!"));
    assert!(is_error_line("RuntimeError: CUDA error"));
    assert!(is_error_line("torch.cuda.OutOfMemoryError: x"));
    assert!(is_error_line("ValueError:"));
    assert!(!is_error_line("INFO - exp - no Error: here"));
    assert!(!is_error_line("Error"));
    assert!(!is_error_line(""));
}

#[test]
fn mangled_files_never_panic() {
    let originals = [
        ("runs/1/run.json", FAILED_RUN),
        ("runs/1/run.json", COMPLETED_RUN),
        ("runs/1/metrics.json", METRICS),
        (
            "runs/1/config.json",
            "{\"lr\": 0.0001, \"nested\": {\"a\": [1, NaN]}}",
        ),
        ("runs/1/cout.txt", "ERROR - x\nValueError: y\r\n"),
    ];
    let mut state: u64 = 5;
    for (rel, original) in originals {
        let bytes = original.as_bytes();
        for cut in 0..=bytes.len() {
            let mut mangled = bytes[..cut].to_vec();
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            if !mangled.is_empty() {
                let at = (state >> 33) as usize % mangled.len();
                mangled[at] = (state >> 20) as u8;
            }
            let mangled = String::from_utf8_lossy(&mangled);
            let _ = looks_like_sacred_run(&mangled);
            read(&[text(rel, &mangled)]);
        }
    }
}
