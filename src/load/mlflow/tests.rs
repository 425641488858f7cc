use super::*;
use crate::model::{Family, Severity, Split};

const EXPERIMENT_META: &str = "artifact_location: file:///E:/x/mlruns/0\nexperiment_id: '0'\n\
                               lifecycle_stage: active\nname: Default\n";

/// MLflow 1.x, never closed: the real fixture's `meta.yaml`.
const OLD_RUN_META: &str = "artifact_uri: file:///E:/x/mlruns/0/cb00/artifacts\nend_time: null\n\
    entry_point_name: ''\nexperiment_id: '0'\nlifecycle_stage: active\nname: ''\n\
    run_id: cb00\nrun_uuid: cb00\nsource_name: ''\nsource_type: 4\nsource_version: ''\n\
    start_time: 1664364007025\nstatus: 1\ntags: []\nuser_id: Administrator\n";

/// A gen_corpus run: MLflow 2.x with `run_name`, finished.
const NEW_RUN_META: &str = "artifact_uri: file:///home/user/project/mlruns/1/0006/artifacts\n\
    end_time: 1770004599722\nentry_point_name: ''\nexperiment_id: '1'\nlifecycle_stage: active\n\
    run_id: 0006\nrun_name: mlflow-heal-0006\nsource_name: ''\nsource_type: 4\nsource_version: ''\n\
    start_time: 1770003420000\nstatus: 3\ntags: []\nuser_id: someone\n";

fn text(rel: &str, text: &str) -> SourceText {
    SourceText::from_text(rel, text)
}

fn read(path: &str, texts: &[SourceText]) -> Run {
    let group = path.rsplit_once('/').map_or("", |(g, _)| g);
    let mut runs = read_run(Run::new(path, group, "mlflow"), texts);
    assert_eq!(runs.len(), 1);
    let mut run = runs.remove(0);
    run.finish_metrics();
    run
}

fn points(run: &Run, name: &str) -> Vec<(u64, f64)> {
    let series = run.metrics.iter().find(|s| s.name == name).unwrap();
    series.points.iter().map(|p| (p.step, p.value)).collect()
}

#[test]
fn old_running_run_with_params_and_tags() {
    let dir = "p/mlruns/0/cb00";
    let run = read(
        dir,
        &[
            text("p/mlruns/0/meta.yaml", EXPERIMENT_META),
            text(&format!("{dir}/meta.yaml"), OLD_RUN_META),
            text(&format!("{dir}/params/IMAGE_SIZE"), "[224, 224, 3]"),
            text(&format!("{dir}/params/BATCH_SIZE"), "16"),
            text(&format!("{dir}/tags/mlflow.user"), "Administrator"),
            text(
                &format!("{dir}/metrics/accuracy"),
                "1664364007310 0.7858095765113831 0",
            ),
            text(
                &format!("{dir}/metrics/loss"),
                "1664364007310 3.2727866172790527 0",
            ),
        ],
    );
    assert!(run.problems.is_empty(), "{:?}", run.problems);
    assert_eq!(run.name, "cb00", "an empty name keeps the run id");
    assert_eq!(run.group, "p/Default");
    assert_eq!(run.status, Status::Running);
    assert!(
        run.status_reason.contains("no end_time"),
        "{}",
        run.status_reason
    );
    assert_eq!(run.started.as_deref(), Some("2022-09-28T11:20:07.025Z"));
    assert_eq!((run.ended.as_deref(), run.duration_seconds), (None, None));
    assert_eq!(run.date.as_deref(), Some("2022-09-28"));
    assert_eq!(run.params["IMAGE_SIZE"], "[224, 224, 3]");
    assert_eq!(run.params["BATCH_SIZE"], "16");
    assert_eq!(run.params["tags"]["mlflow.user"], "Administrator");
    assert_eq!(points(&run, "loss"), vec![(0, 3.2727866172790527)]);
    let loss = run.metrics.iter().find(|s| s.name == "loss").unwrap();
    assert_eq!((loss.family, loss.split), (Family::Loss, Split::Train));
    assert_eq!(loss.points[0].wall_time, Some(0.285));
    assert_eq!(loss.source, "p/mlruns/0/cb00/metrics/loss");
}

#[test]
fn finished_run_with_nested_metric_names_and_repeated_steps() {
    let dir = "baseline/mlruns/1/0006";
    let run = read(
        dir,
        &[
            text(
                "baseline/mlruns/1/meta.yaml",
                "experiment_id: '1'\nname: baseline\n",
            ),
            text(&format!("{dir}/meta.yaml"), NEW_RUN_META),
            text(&format!("{dir}/tags/mlflow.runName"), "from-tag"),
            text(
                &format!("{dir}/metrics/train/loss"),
                "1770003425898 3.8 10\n1770003431797 nan 20\n1770003431800 2.5 10\n",
            ),
            text(&format!("{dir}/metrics/val loss"), "1770003431797 4.0 20"),
        ],
    );
    assert!(run.problems.is_empty(), "{:?}", run.problems);
    assert_eq!(run.name, "from-tag");
    assert_eq!(run.group, "baseline");
    assert_eq!(run.status, Status::Completed);
    assert_eq!(run.duration_seconds, Some(1179.722));
    assert_eq!(run.ended.as_deref(), Some("2026-02-02T03:56:39.722Z"));
    let loss = points(&run, "train/loss");
    assert_eq!(loss.len(), 3);
    assert_eq!(
        (loss[0], loss[1]),
        ((10, 3.8), (10, 2.5)),
        "file order within a step"
    );
    assert!(loss[2].1.is_nan());
    assert_eq!(points(&run, "val loss"), vec![(20, 4.0)]);
    assert!(
        run.params.get("tags").is_none(),
        "runName is the name, not a param"
    );
}

#[test]
fn statuses_and_missing_meta() {
    let status = |meta: &str| {
        let run = read("mlruns/0/r", &[text("mlruns/0/r/meta.yaml", meta)]);
        (run.status, run.status_reason, run.problems.len())
    };
    assert_eq!(status("run_id: r\nstatus: 4\n").0, Status::Failed);
    let killed = status("run_id: r\nstatus: 5\nlifecycle_stage: deleted\n");
    assert_eq!(killed.0, Status::Failed);
    assert!(
        killed.1.contains("KILLED") && killed.1.contains("deleted"),
        "{}",
        killed.1
    );
    assert_eq!(status("run_id: r\nstatus: FINISHED\n").0, Status::Completed);
    assert_eq!(status("run_id: r\nstatus: 2\n").0, Status::Unknown);
    assert_eq!(status("run_id: r\nstatus: 9\n").2, 1);
    assert_eq!(status("run_id: r\n").1, "meta.yaml records no status");
    let broken = status("run_id: [r\n");
    assert_eq!((broken.0, broken.2), (Status::Unknown, 1));
    let run = read("mlruns/0/r", &[]);
    assert_eq!(run.status_reason, "meta.yaml could not be read");
    assert_eq!(
        run.group, "mlruns/0",
        "no experiment meta: the group is kept"
    );
}

#[test]
fn wall_time_without_start_counts_from_the_earliest_line() {
    let run = read(
        "r",
        &[
            text("r/meta.yaml", "run_id: r\nstatus: 3\n"),
            text("r/metrics/a", "2000 1 1\n3500 1 2"),
            text("r/metrics/b", "1000 1 1"),
        ],
    );
    let a = run.metrics.iter().find(|s| s.name == "a").unwrap();
    assert_eq!(a.points[1].wall_time, Some(2.5));
    assert_eq!(run.started, None);
}

#[test]
fn experiment_groups() {
    assert_eq!(experiment_group("p/mlruns/0", "Default"), "p/Default");
    assert_eq!(experiment_group("mlruns/0", "Default"), "Default");
    assert_eq!(experiment_group("0", "exp"), "exp");
    assert_eq!(experiment_group("", "exp"), "exp");
    assert_eq!(experiment_group("a/b/mlruns/1", "b"), "a/b");
}

#[test]
fn sniffs_run_meta() {
    assert!(looks_like_run_meta(OLD_RUN_META));
    assert!(looks_like_run_meta(NEW_RUN_META));
    assert!(!looks_like_run_meta(EXPERIMENT_META));
    assert!(!looks_like_run_meta("model: x\n"));
}

#[test]
fn root_run_folder_reads_its_own_files() {
    let run = read(
        "",
        &[
            text("meta.yaml", "run_id: r\nstatus: 3\n"),
            text("params/lr", "0.1"),
            text("metrics/loss", "1 2 3"),
        ],
    );
    assert_eq!(run.params["lr"], "0.1");
    assert_eq!(points(&run, "loss"), vec![(3, 2.0)]);
    assert!(run.problems.iter().all(|p| p.severity != Severity::Error));
}

#[test]
fn mangled_files_never_panic() {
    let dir = "p/mlruns/0/cb00";
    let originals = [
        (format!("{dir}/meta.yaml"), OLD_RUN_META.to_string()),
        (format!("{dir}/meta.yaml"), NEW_RUN_META.to_string()),
        (
            "p/mlruns/0/meta.yaml".to_string(),
            EXPERIMENT_META.to_string(),
        ),
        (
            format!("{dir}/metrics/loss"),
            "1664364007310 3.27 0\n1664364007311 nan 1\n1664364007312 -inf 2".to_string(),
        ),
        (
            format!("{dir}/params/IMAGE_SIZE"),
            "[224, 224, 3]".to_string(),
        ),
    ];
    let mut state: u64 = 7;
    for (rel, original) in &originals {
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
            let text_ = String::from_utf8_lossy(&mangled);
            let _ = looks_like_run_meta(&text_);
            read(dir, &[text(rel, &text_)]);
        }
    }
}
