//! The Sacred reader end to end: the real `FileStorageObserver` runs of
//! ml-pws (one completed, one failed with its traceback and all its points),
//! and a hand-made runs folder with a run still marked RUNNING, Python's NaN
//! tokens, and the `_sources/` folder beside the runs.

use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

mod common;
use common::{build, metric, no_problems, run_by_path, write};

fn real_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/realruns/experiment_json/manuel-rhdt__ml-pws")
}

/// The events of a run page's `run.json`, as (kind, line).
fn events(site: &Path, run: &Value) -> Vec<(String, Option<u64>, String)> {
    let page = site.join(format!("runs/{}/run.json", run["id"].as_str().unwrap()));
    let detail: Value = serde_json::from_str(&fs::read_to_string(page).unwrap()).unwrap();
    detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["line"].as_u64(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn real_completed_and_failed_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    let runs = build(&real_fixture(), &site);
    assert_eq!(runs.len(), 2);

    let done = run_by_path(&runs, "runs/1");
    assert_eq!(done["format"], "sacred");
    no_problems(done);
    assert_eq!(done["name"], "model-size-sweep #1");
    assert_eq!(done["group"], "runs");
    assert_eq!(done["status"], "completed");
    assert_eq!(done["started"], "2024-02-08T23:02:14.620335");
    assert_eq!(done["ended"], "2024-02-08T23:03:12.616825");
    assert_eq!(done["duration_seconds"], 57.99649);
    assert_eq!(done["date"], "2024-02-08");
    assert_eq!(done["params"]["lr"], "0.0001");
    assert_eq!(done["params"]["dataset.filename"], "data/gaussian_data.pt");
    assert_eq!(done["params"]["host.python_version"], "3.12.1");
    assert!(done["params"]
        .as_object()
        .unwrap()
        .keys()
        .all(|k| !k.starts_with("host.ENV")));
    assert_eq!(done["metrics"].as_array().unwrap().len(), 1);
    let loss = metric(done, "training.loss");
    assert_eq!(
        (loss["family"].as_str(), loss["split"].as_str()),
        (Some("loss"), Some("train"))
    );
    assert_eq!(loss["points"], 400);
    assert_eq!(loss["first"], 0.2630771433830261);
    assert_eq!(loss["last"], -0.6781838181495666);
    assert_eq!(
        (loss["best"].as_f64(), loss["best_step"].as_u64()),
        (Some(-0.6781838181495666), Some(400))
    );
    assert!(events(&site, done).is_empty());

    let failed = run_by_path(&runs, "runs/3");
    no_problems(failed);
    assert_eq!(failed["name"], "model-size-sweep #3");
    assert_eq!(failed["status"], "failed");
    assert_eq!(
        failed["status_reason"],
        "AttributeError: expected 'f' to be string, path, or a file-like object with a 'write' attribute"
    );
    let loss = metric(failed, "training.loss");
    assert_eq!(
        (loss["points"].as_u64(), loss["last_step"].as_u64()),
        (Some(400), Some(400))
    );
    assert_eq!(loss["first"], 0.5156626180648803);
    let events = events(&site, failed);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!((events[0].0.as_str(), events[0].1), ("traceback", Some(28)));
    assert!(events[0].2.contains("torch.save(savename, model)"));
}

#[test]
fn hand_made_runs_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("exp");
    let site = tmp.path().join("site");
    write(
        &root,
        "runs/7/run.json",
        "{\"command\": \"main\", \"experiment\": {\"name\": \"mnist\"}, \
         \"heartbeat\": \"2024-05-01T10:05:00.000000\", \"host\": {\"hostname\": \"gpu1\"}, \
         \"result\": 0.25, \"start_time\": \"2024-05-01T10:00:00.000000\", \"status\": \"RUNNING\"}",
    );
    write(&root, "runs/7/config.json", "{\"lr\": 0.1, \"clip\": NaN}");
    write(
        &root,
        "runs/7/metrics.json",
        "{\"val_loss\": {\"steps\": [0, 100], \"timestamps\": [\"2024-05-01T10:01:00.0\", \
         \"2024-05-01T10:02:30.5\"], \"values\": [1.5, NaN]}}",
    );
    write(
        &root,
        "runs/7/cout.txt",
        "INFO - mnist - Running\nRuntimeError: CUDA out of memory. Tried to allocate 2 GiB\n",
    );
    write(&root, "runs/_sources/train_abc.py", "print('hi')\n");
    let runs = build(&root, &site);
    assert_eq!(runs.len(), 1);
    let run = run_by_path(&runs, "runs/7");
    no_problems(run);
    assert_eq!(run["name"], "mnist #7");
    assert_eq!(run["status"], "running");
    assert!(run["status_reason"]
        .as_str()
        .unwrap()
        .contains("2024-05-01T10:05:00"));
    assert_eq!(run["ended"], Value::Null);
    assert_eq!(run["params"]["clip"], "NaN");
    assert_eq!(run["params"]["result"], "0.25");
    let val = metric(run, "val_loss");
    assert_eq!(
        (val["split"].as_str(), val["points"].as_u64()),
        (Some("val"), Some(2))
    );
    assert_eq!(val["first_nonfinite_step"], 100);
    let events = events(&site, run);
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].0.as_str(), events[0].1), ("error", Some(2)));
}
