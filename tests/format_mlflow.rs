//! The MLflow file store reader end to end: the real MLflow 1.x run that was
//! never closed, a hand-made 2.x store (nested and spaced metric names,
//! repeated steps, failed and killed runs), and a gen_corpus store checked
//! against its truth file when `python3` is available.

use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

mod common;
use common::{build, gen_corpus, metric, no_problems, run_by_path, write};

fn metric_names(run: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = run["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    names.sort();
    names
}

fn real_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/realruns/mlflow")
}

#[test]
fn real_mlflow_1x_run_never_closed() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = build(&real_fixture(), &tmp.path().join("site"));
    assert_eq!(runs.len(), 1, "the experiment folder is not a run");
    let run = run_by_path(
        &runs,
        "10tanmay100__DEEPCNNCLASSIFIER/mlruns/0/cb0096518b0e4c66a94428555f05420b",
    );
    assert_eq!(run["format"], "mlflow");
    no_problems(run);
    assert_eq!(run["name"], "cb0096518b0e4c66a94428555f05420b");
    assert_eq!(run["group"], "10tanmay100__DEEPCNNCLASSIFIER/Default");
    assert_eq!(run["status"], "running", "{}", run["status_reason"]);
    assert_eq!(run["started"], "2022-09-28T11:20:07.025Z");
    assert_eq!(run["ended"], Value::Null);
    assert_eq!(run["date"], "2022-09-28");
    assert_eq!(run["params"]["IMAGE_SIZE"], "[224, 224, 3]");
    assert_eq!(run["params"]["LEARNING_RATE"], "0.01");
    assert_eq!(run["params"]["INCLUDE_TOP"], "False");
    assert_eq!(run["params"]["tags.mlflow.user"], "Administrator");
    assert_eq!(metric_names(run), vec!["accuracy", "loss"]);
    let loss = metric(run, "loss");
    assert_eq!(
        (loss["family"].as_str(), loss["split"].as_str()),
        (Some("loss"), Some("train"))
    );
    assert_eq!(
        (loss["points"].as_u64(), loss["last_step"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(loss["last"], 3.2727866172790527);
    let accuracy = metric(run, "accuracy");
    assert_eq!(accuracy["family"], "accuracy");
    assert_eq!(accuracy["best"], 0.7858095765113831);
}

#[test]
fn hand_made_store_with_nested_names_and_statuses() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("exp");
    let exp = "proj/mlruns/3";
    write(
        &root,
        &format!("{exp}/meta.yaml"),
        "experiment_id: '3'\nname: sweep\n",
    );
    let meta = |id: &str, status: u8, end: &str| {
        format!(
            "artifact_uri: file:///x/{id}/artifacts\nend_time: {end}\nexperiment_id: '3'\n\
             lifecycle_stage: active\nrun_id: {id}\nrun_name: run-{id}\nstart_time: 1700000000000\n\
             status: {status}\nuser_id: me\n"
        )
    };
    let a = format!("{exp}/aaa");
    write(
        &root,
        &format!("{a}/meta.yaml"),
        &meta("aaa", 3, "1700000100000"),
    );
    write(&root, &format!("{a}/params/optimizer/lr"), "0.001");
    write(&root, &format!("{a}/tags/mlflow.runName"), "tagged name");
    write(
        &root,
        &format!("{a}/metrics/train/loss"),
        "1700000001000 2.0 1\n1700000002000 1.5 2\n1700000002500 1.4 2\n1700000003000 nan 3",
    );
    write(
        &root,
        &format!("{a}/metrics/val loss"),
        "1700000002000 1.8 2",
    );
    write(
        &root,
        &format!("{a}/metrics/system/gpu_0_memory_usage_megabytes"),
        "1700000002000 900 0",
    );
    write(&root, &format!("{a}/artifacts/plot.png"), "png");
    let b = format!("{exp}/bbb");
    write(
        &root,
        &format!("{b}/meta.yaml"),
        &meta("bbb", 4, "1700000050000"),
    );
    write(
        &root,
        &format!("{b}/metrics/loss"),
        "1700000001000 2.0 1\n1700000002000 1.0 2\n",
    );
    let c = format!("{exp}/ccc");
    write(
        &root,
        &format!("{c}/meta.yaml"),
        &meta("ccc", 5, "1700000060000"),
    );
    fs::create_dir_all(root.join(format!("{c}/metrics"))).unwrap();

    let runs = build(&root, &tmp.path().join("site"));
    assert_eq!(
        runs.len(),
        3,
        "{:?}",
        runs.iter().map(|r| &r["path"]).collect::<Vec<_>>()
    );
    let a = run_by_path(&runs, &a);
    no_problems(a);
    assert_eq!(a["format"], "mlflow");
    assert_eq!(a["name"], "tagged name");
    assert_eq!(a["group"], "proj/sweep");
    assert_eq!(a["status"], "completed");
    assert_eq!(a["duration_seconds"], 100.0);
    assert_eq!(a["ended"], "2023-11-14T22:15:00.000Z");
    assert_eq!(a["params"]["optimizer/lr"], "0.001");
    assert_eq!(
        metric_names(a),
        vec![
            "system/gpu_0_memory_usage_megabytes",
            "train/loss",
            "val loss"
        ]
    );
    let loss = metric(a, "train/loss");
    assert_eq!(loss["points"], 4, "repeated steps are all kept");
    assert_eq!(loss["first_nonfinite_step"], 3);
    assert_eq!(loss["best"], 1.4);
    let val = metric(a, "val loss");
    assert_eq!(
        (val["family"].as_str(), val["split"].as_str()),
        (Some("loss"), Some("val"))
    );
    assert_eq!(
        metric(a, "system/gpu_0_memory_usage_megabytes")["family"],
        "memory"
    );

    let b = run_by_path(&runs, &b);
    no_problems(b);
    assert_eq!(
        (b["name"].as_str(), b["status"].as_str()),
        (Some("run-bbb"), Some("failed"))
    );
    assert_eq!(metric(b, "loss")["last"], 1.0);
    let c = run_by_path(&runs, &c);
    assert_eq!(c["status"], "failed");
    assert!(c["status_reason"].as_str().unwrap().contains("KILLED"));
    assert_eq!(c["metrics"].as_array().unwrap().len(), 0);
}

#[test]
fn gen_corpus_runs_match_their_truth() {
    let Some(generated) = gen_corpus("mlflow", 20, 100) else {
        return;
    };
    let (runs, truth) = (generated.runs, generated.truth);
    let truth = truth["runs"].as_array().unwrap();
    assert_eq!(runs.len(), truth.len());
    let mut matched = 0;
    for t in truth {
        let path = t["path"].as_str().unwrap();
        let run = run_by_path(&runs, path);
        assert_eq!(run["format"], "mlflow");
        no_problems(run);
        assert_eq!(run["name"], t["name"]);
        let group = path.split('/').next().unwrap();
        assert_eq!(
            run["group"], group,
            "the experiment is named after its folder"
        );
        let names = metric_names(run);
        assert_eq!(names[..3], ["grad_norm", "learning_rate", "train/loss"]);
        let loss = metric(run, "train/loss");
        let best_ok = if t["best_val_step"].is_null() {
            // A run that crashed before its first evaluation leaves an empty val_loss file.
            names.len() == 3
        } else {
            let val = metric(run, "val_loss");
            assert_eq!(
                (val["family"].as_str(), val["split"].as_str()),
                (Some("loss"), Some("val"))
            );
            val["best_step"] == t["best_val_step"]
        };
        assert_eq!(metric(run, "learning_rate")["family"], "learning_rate");
        assert_eq!(metric(run, "grad_norm")["family"], "grad_norm");
        assert_eq!(
            run["params"]["learning_rate"]
                .as_str()
                .unwrap()
                .parse::<f64>()
                .unwrap(),
            t["params"]["learning_rate"].as_f64().unwrap()
        );
        let want = if t["completed"] == true {
            "completed"
        } else {
            "failed"
        };
        assert_eq!(run["status"], want, "{path}");
        assert!(run["duration_seconds"].as_f64().unwrap() > 0.0);
        let exact = loss["last_step"].as_u64() <= t["last_step"].as_u64()
            && loss["last_step"].as_u64().unwrap() + 10 > t["last_step"].as_u64().unwrap()
            && best_ok
            && loss["first_nonfinite_step"] == t["first_nonfinite_step"];
        matched += usize::from(exact);
    }
    println!(
        "gen_corpus: {matched} of {} mlflow runs matched their truth",
        truth.len()
    );
    assert_eq!(matched, truth.len());
}
