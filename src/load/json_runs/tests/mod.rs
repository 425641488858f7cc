//! Unit tests of the JSON run readers, on strings: the claim's sniff and the
//! splitting of files into runs here, each dialect in its own file, and a
//! no-panic loop over mangled copies of the fixtures.

mod comparison;
mod experiment;

use super::{dialect_of, read_run, Dialect};
use crate::load::SourceText;
use crate::model::{Problem, Run};

/// A claimed file's text.
pub(super) fn source(rel: &str, text: &str) -> SourceText {
    SourceText::from_text(rel, text)
}

/// Read files as one claimed folder (the folder of the first), as `load::read` would.
pub(super) fn read(files: &[(&str, &str)]) -> Vec<Run> {
    let dir = files[0].0.rsplit_once('/').map_or("", |(d, _)| d);
    let group = dir.rsplit_once('/').map_or("", |(g, _)| g);
    let mut base = Run::new(dir, group, "json_runs");
    base.sources = files.iter().map(|(rel, _)| rel.to_string()).collect();
    let texts: Vec<SourceText> = files.iter().map(|(rel, text)| source(rel, text)).collect();
    read_run(base, &texts)
}

/// The (step, value) points of series `name`; panics when there is none.
pub(super) fn values(run: &Run, name: &str) -> Vec<(u64, f64)> {
    let series = run
        .metrics
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no series {name} in {}", run.path));
    series.points.iter().map(|p| (p.step, p.value)).collect()
}

/// Series names, sorted.
pub(super) fn names(run: &Run) -> Vec<&str> {
    let mut names: Vec<&str> = run.metrics.iter().map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    names
}

#[test]
fn sniffs_both_dialects_and_nothing_else() {
    let experiment = "{\n  \"config\": {\n    \"experiment_name\": \"a\"\n  },\n  \"start_time\": \"2026-02-01T15:00:00\",\n  \"end_time\": null,\n";
    assert_eq!(dialect_of(experiment), Some(Dialect::Experiment));
    assert_eq!(
        dialect_of("\u{feff}{\"metrics_history\""),
        Some(Dialect::Experiment)
    );
    let comparison = "{\n  \"timestamp\": \"2025-11-11T18:05:11\",\n  \"runs\": [\n    {\n      \"run_name\": \"r\",\n      \"run_path\": \"/m/r\",\n      \"hyperparameters\"";
    assert_eq!(dialect_of(comparison), Some(Dialect::Comparison));
    // Other formats' JSON: Sacred's run.json, a Trainer state, a model config, a JSON list.
    let sacred = "{\"artifacts\": [], \"command\": \"main\", \"start_time\": \"2024\", \"status\": \"COMPLETED\", \"stop_time\": \"2024\"}";
    assert_eq!(dialect_of(sacred), None);
    assert_eq!(
        dialect_of("{\"best_metric\": null, \"log_history\": [], \"max_steps\": 3}"),
        None
    );
    assert_eq!(
        dialect_of("{\"config\": {}, \"note\": \"\\\"metrics_history\\\": 1\"}"),
        None
    );
    assert_eq!(dialect_of("[{\"metrics_history\": []}]"), None);
    assert_eq!(dialect_of(""), None);
}

#[test]
fn each_experiment_file_is_its_own_run_in_the_folder_group() {
    let a = "{\"config\": {\"experiment_name\": \"a\"}, \"start_time\": \"2026-02-01T09:00:00\", \"end_time\": \"2026-02-01T10:00:00\", \"metrics_history\": [{\"iteration\": 0, \"train_loss\": 2.0}]}";
    let b = "{\"config\": {}, \"start_time\": \"2026-02-02T09:00:00\", \"end_time\": null, \"metrics_history\": []}";
    let runs = read(&[
        ("sweep/experiment_logs/experiment_a_20260201_090000.json", a),
        ("sweep/experiment_logs/experiment_b_20260202_090000.json", b),
    ]);
    assert_eq!(runs.len(), 2);
    assert_eq!(
        runs[0].path,
        "sweep/experiment_logs/experiment_a_20260201_090000"
    );
    assert_eq!(
        (runs[0].name.as_str(), runs[0].group.as_str()),
        ("a", "sweep")
    );
    assert_eq!(runs[0].format, "experiment_json");
    assert_eq!(
        runs[1].sources,
        vec!["sweep/experiment_logs/experiment_b_20260202_090000.json".to_string()]
    );
    assert_eq!(runs[1].date.as_deref(), Some("2026-02-02"));
}

#[test]
fn an_unreadable_file_still_gives_a_run_with_its_problem() {
    let mut base = Run::new("logs", "", "json_runs");
    base.sources = vec!["logs/experiment_x_20260101_000000.json".to_string()];
    base.problems.push(Problem::error(
        "logs/experiment_x_20260101_000000.json",
        None,
        "cannot read: permission denied",
    ));
    let runs = read_run(base, &[]);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].path, "logs/experiment_x_20260101_000000");
    assert_eq!(runs[0].problems.len(), 1);
}

/// Generated and hand-written fixtures, mangled: cut at every few bytes and with bytes flipped.
#[test]
fn mangled_fixtures_never_panic() {
    let experiment = include_str!(
        "../../../../tests/fixtures/generated/json_runs/lr-sweep/experiment_logs/experiment_cs336-cras-lr5e-05-bs32-0004_20260201_211400.json"
    );
    let comparison =
        include_str!("../../../../tests/fixtures/json_runs/training_runs_comparison.json");
    for (rel, text) in [
        (
            "e/experiment_logs/experiment_x_20260201_211400.json",
            experiment,
        ),
        ("c/training_runs_comparison.json", comparison),
    ] {
        let bytes = text.as_bytes();
        for cut in (0..bytes.len()).step_by(97) {
            let text = String::from_utf8_lossy(&bytes[..cut]);
            let _ = dialect_of(&text);
            read(&[(rel, &text)]);
        }
        let mut flipped = bytes.to_vec();
        let mut state: u64 = 7;
        for _ in 0..300 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let at = (state >> 33) as usize % flipped.len();
            flipped[at] = b"{}[]\":,0-.eNI \n\\x"[(state >> 20) as usize % 17];
            read(&[(rel, &String::from_utf8_lossy(&flipped))]);
        }
    }
}
