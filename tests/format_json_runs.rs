//! End-to-end for the JSON run readers (`experiment_json`, `runs_comparison_json`):
//! build the committed gen_corpus tree (checked against its committed truth),
//! the hand-written `training_runs_comparison.json`, and a fresh gen_corpus tree
//! when python3 is there, with the real binary; check `data/runs.json` run by run.

use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{build, gen_corpus_script, metric, run_by_path};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// (name, family, split) of every series, sorted by name.
fn series(run: &Value) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = run["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let s = |k: &str| m[k].as_str().unwrap().to_string();
            (s("name"), s("family"), s("split"))
        })
        .collect();
    out.sort();
    out
}

fn owned(rows: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    rows.iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect()
}

/// The series of a gen_corpus experiment log.
const EXPERIMENT_SERIES: [(&str, &str, &str); 5] = [
    ("iter_time_ms", "time", "other"),
    ("learning_rate", "learning_rate", "other"),
    ("tokens_per_sec", "throughput", "other"),
    ("train_loss", "loss", "train"),
    ("val_loss", "loss", "val"),
];

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1.0)
}

/// Check every run of a gen_corpus tree against its truth; steps are the log's
/// Steps are gradient steps, as in the truth.
fn check_against_truth(runs: &[Value], truth: &Value) -> usize {
    let truth = truth["runs"].as_array().unwrap();
    assert_eq!(runs.len(), truth.len());
    for t in truth {
        let file = t["path"].as_str().unwrap();
        let run = run_by_path(runs, file.strip_suffix(".json").unwrap());
        let path = &run["path"];
        assert_eq!(run["format"], "experiment_json", "{path}");
        assert_eq!(run["name"], t["name"], "{path}");
        assert_eq!(run["group"], file.split('/').next().unwrap(), "{path}");
        let stamp = &file[file.len() - 20..file.len() - 12];
        let date = format!("{}-{}-{}", &stamp[..4], &stamp[4..6], &stamp[6..]);
        assert_eq!(run["date"], date.as_str(), "{path}");
        let mut expected_series = owned(&EXPERIMENT_SERIES);
        if t["best_val_loss"].is_null() {
            // A run that crashed before its first evaluation has no validation at all.
            expected_series.retain(|s| s.0 != "val_loss");
        }
        assert_eq!(series(run), expected_series, "{path}");
        assert_eq!(run["problems"], Value::Array(vec![]), "{path}");
        let completed = t["completed"].as_bool().unwrap();
        let expected = if completed { "completed" } else { "failed" };
        assert_eq!(run["status"], expected, "{path}: {}", run["status_reason"]);
        assert!(run["started"].is_string() && run["duration_seconds"].is_number());
        assert_eq!(run["ended"].is_string(), completed, "{path}");
        // Logged every 10 steps; a crash between two logs loses the steps after the last.
        let last_step = t["last_step"].as_u64().unwrap();
        let logged_last = last_step / 10 * 10;
        let train = metric(run, "train_loss");
        assert_eq!(train["last_step"], logged_last, "{path}");
        assert_eq!(train["points"], last_step / 10, "{path}");
        let first_bad = t["first_nonfinite_step"].as_u64();
        assert_eq!(train["first_nonfinite_step"].as_u64(), first_bad, "{path}");
        assert_eq!(metric(run, "learning_rate")["points"], last_step / 10);
        if let Some(best) = t["best_val_loss"].as_f64() {
            let val = metric(run, "val_loss");
            if completed {
                assert_eq!(val["last_step"], last_step, "{path}");
            }
            assert!(close(val["best"].as_f64().unwrap(), best), "{path}: {val}");
            let step = t["best_val_step"].as_u64().unwrap();
            assert_eq!(val["best_step"], step, "{path}");
        }
        let params = &run["params"];
        let tp = &t["params"];
        let lr: f64 = params["max_learning_rate"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(lr, tp["learning_rate"].as_f64().unwrap(), "{path}");
        assert_eq!(params["batch_size"], tp["batch_size"].to_string());
        assert_eq!(params["seed"], tp["seed"].to_string());
        assert_eq!(params["experiment_name"], t["name"]);
        assert!(params["results.best_val_loss"].is_string(), "{path}");
    }
    truth.len()
}

#[test]
fn committed_gen_corpus_tree_matches_its_truth() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = build(
        &fixtures().join("generated/json_runs"),
        &tmp.path().join("site"),
    );
    let truth_text = fs::read_to_string(fixtures().join("generated/json_runs.truth.json")).unwrap();
    let truth: Value = serde_json::from_str(&truth_text).unwrap();
    assert_eq!(check_against_truth(&runs, &truth), 6);
    // The crashed run and the diverged one, in words.
    let crashed = run_by_path(
        &runs,
        "lr-sweep/experiment_logs/experiment_cs336-cras-lr5e-05-bs32-0004_20260201_211400",
    );
    assert_eq!(
        crashed["status_reason"],
        "no end_time, and the history stops at step 210 (210 of 600 planned steps)"
    );
    let diverged = run_by_path(
        &runs,
        "baseline/experiment_logs/experiment_cs336-dive-lr0.0005-bs32-0003_20260201_183800",
    );
    assert_eq!(metric(diverged, "train_loss")["last"], "NaN");
    assert_eq!(metric(diverged, "val_loss")["last"], "NaN");
}

#[test]
fn comparison_runs_are_paired_by_iteration() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = build(&fixtures().join("json_runs"), &tmp.path().join("site"));
    assert_eq!(runs.len(), 5);
    let file = "training_runs_comparison.json";
    let run = |name: &str| run_by_path(&runs, &format!("{file}#{name}"));
    for r in &runs {
        assert_eq!(r["format"], "runs_comparison_json");
        assert_eq!(r["group"], "");
        assert!(r["date"].is_null());
    }

    // Validation iterations 1, 130, 260, 390 first, then the train reports 50..500.
    let clean = run("SmolLM3-3B_run2");
    assert_eq!(clean["name"], "SmolLM3-3B_run2");
    assert_eq!(
        series(clean),
        owned(&[
            ("iterations_per_sec", "throughput", "other"),
            ("learning_rate", "learning_rate", "other"),
            ("peak_memory_gb", "memory", "other"),
            ("tokens_per_sec", "throughput", "other"),
            ("train_loss", "loss", "train"),
            ("trained_tokens", "other", "train"),
            ("val_loss", "loss", "val"),
            ("val_time_sec", "time", "val"),
        ])
    );
    let train = metric(clean, "train_loss");
    assert_eq!(
        (train["points"].as_u64(), train["last_step"].as_u64()),
        (Some(10), Some(500))
    );
    assert_eq!(
        (train["first"].as_f64(), train["last"].as_f64()),
        (Some(2.288), Some(1.539))
    );
    let val = metric(clean, "val_loss");
    assert_eq!(
        (val["points"].as_u64(), val["last_step"].as_u64()),
        (Some(4), Some(390))
    );
    assert_eq!(
        (val["first"].as_f64(), val["best"].as_f64()),
        (Some(2.713), Some(1.702))
    );
    assert_eq!(metric(clean, "trained_tokens")["last"], 210000.0);
    assert_eq!(clean["status"], "completed");
    assert_eq!(clean["problems"], Value::Array(vec![]));
    assert_eq!(
        clean["params"]["run_path"],
        "/Users/me/proj/models/SmolLM3-3B_run2"
    );
    assert_eq!(clean["params"]["results.final_train_loss"], "1.539");

    // Train reports at 200, 400, 600 were written over other iterations' train losses.
    let overwritten = run("SmolLM3-3B_run3");
    assert_eq!(
        series(overwritten),
        owned(&[("val_loss", "loss", "val"), ("val_time_sec", "time", "val")])
    );
    assert_eq!(metric(overwritten, "val_loss")["last_step"], 600);
    let problems = overwritten["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0]["severity"], "warning");
    assert!(problems[0]["message"]
        .as_str()
        .unwrap()
        .contains("do not all match the 9 train-only iterations after the 4 validation ones"));

    // No training metrics: the final values are single points at final_iteration.
    let finals = run("SmolLM3-3B_run4");
    let names: Vec<String> = series(finals).into_iter().map(|s| s.0).collect();
    assert_eq!(
        names,
        [
            "final_iterations_per_sec",
            "final_learning_rate",
            "final_tokens_per_sec",
            "final_train_loss",
            "final_val_loss",
            "final_val_time_sec",
            "peak_memory_gb",
            "total_trained_tokens"
        ]
    );
    let loss = metric(finals, "final_train_loss");
    assert_eq!(
        (loss["points"].as_u64(), loss["last_step"].as_u64()),
        (Some(1), Some(1800))
    );
    assert_eq!(loss["last"], 1.443);
    assert_eq!(metric(finals, "final_val_loss")["split"], "val");
    assert_eq!(finals["status"], "completed");

    // Neither: a params-only run, nulls dropped.
    let bare = run("SmolLM3-3B_run5");
    assert_eq!(bare["metrics"], Value::Array(vec![]));
    assert_eq!(bare["status"], "unknown");
    assert_eq!(bare["params"]["iters"], "1600");
    assert!(bare["params"].get("lora_rank").is_none());
    assert_eq!(bare["problems"], Value::Array(vec![]));

    // Every list as long as `iterations`: aligned by index.
    let aligned = run("SmolLM3-3B_manual");
    let val = metric(aligned, "val_loss");
    assert_eq!(
        (val["points"].as_u64(), val["last"].as_f64()),
        (Some(4), Some(1.72))
    );
    assert_eq!(metric(aligned, "train_loss")["first"], 2.1);
    assert_eq!(metric(aligned, "tokens_per_sec")["last_step"], 200);
    assert_eq!(aligned["problems"], Value::Array(vec![]));
}

#[test]
fn gen_corpus_runs_match_their_truth() {
    let _python = Command::new("python3").arg("--version").output();
    let Some(script) = gen_corpus_script() else {
        println!("note: python3 or gen_corpus.py missing; gen_corpus part skipped");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("corpus");
    let truth_file = tmp.path().join("truth.json");
    let output = Command::new("python3")
        .arg(&script)
        .args(["--out", root.to_str().unwrap(), "--runs", "30"])
        .args(["--points", "200", "--formats", "cs336"])
        .args(["--truth", truth_file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let truth: Value = serde_json::from_str(&fs::read_to_string(&truth_file).unwrap()).unwrap();
    let runs = build(&root, &tmp.path().join("site"));
    assert_eq!(check_against_truth(&runs, &truth), 30);
}
