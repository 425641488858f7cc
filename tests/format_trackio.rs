//! Trackio through the real binary: the experiments dataset (JSON lines from
//! gen_corpus, parquet from the committed fixture) and project databases
//! (SQLite from gen_corpus), checked against gen_corpus's truth.

use serde_json::Value;
use std::fs;
use std::path::Path;

mod common;
use common::{build, gen_corpus, metric, no_problems, run_by_path};

/// Check every truth run of one Trackio format against gen_corpus's truth.
fn check_against_truth(format: &str, runboard_format: &str, loss: &str, eval: &str) {
    let Some(generated) = gen_corpus(format, 12, 60) else {
        return;
    };
    let (runs, truth) = (generated.runs, generated.truth);
    let truth = truth["runs"].as_array().unwrap();
    assert_eq!(
        runs.len(),
        truth.len(),
        "one run per experiment, none for the files"
    );
    let mut exact = 0;
    for t in truth {
        let path = format!(
            "{}#{}",
            t["path"].as_str().unwrap(),
            t["name"].as_str().unwrap()
        );
        let run = run_by_path(&runs, &path);
        assert_eq!(run["format"], runboard_format);
        assert_eq!(run["name"], t["name"]);
        no_problems(run);
        let train = metric(run, loss);
        assert_eq!(
            (train["family"].as_str(), train["split"].as_str()),
            (Some("loss"), Some("train"))
        );
        assert_eq!(train["last_step"], t["last_step"], "{path}");
        assert_eq!(
            train["first_nonfinite_step"], t["first_nonfinite_step"],
            "{path}"
        );
        let val = metric(run, eval);
        assert_eq!(val["split"], "val");
        let lr: f64 = run["params"]["learning_rate"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(lr, t["params"]["learning_rate"].as_f64().unwrap());
        let status = run["status"].as_str().unwrap();
        if t["completed"] == true {
            assert_eq!(status, "completed", "{path}");
        } else {
            assert_ne!(
                status, "completed",
                "{path}: a crashed run never reads as completed"
            );
        }
        exact += usize::from(val["best_step"] == t["best_val_step"]);
    }
    println!(
        "gen_corpus {format}: best val step exact for {exact} of {}",
        truth.len()
    );
}

#[test]
fn gen_corpus_datasets_match_their_truth() {
    check_against_truth("trackio", "trackio", "loss", "eval_loss");
}

#[test]
fn gen_corpus_databases_match_their_truth() {
    check_against_truth("trackiodb", "trackio_db", "train/loss", "eval/loss");
}

#[test]
fn parquet_dataset_builds_into_pages() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("exp/trackio-experiments/data");
    fs::create_dir_all(&data).unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/trackio/train-00000-of-00001.parquet");
    fs::copy(&fixture, data.join("train-00000-of-00001.parquet")).unwrap();
    let site = tmp.path().join("site");
    let runs = build(&tmp.path().join("exp"), &site);
    let names: Vec<&str> = runs.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 2);
    assert!(
        names.contains(&"smollm3-sft") && names.contains(&"smollm3-dpo"),
        "{names:?}"
    );
    let sft = run_by_path(
        &runs,
        "trackio-experiments/data/train-00000-of-00001.parquet#smollm3-sft",
    );
    assert_eq!(sft["status"], "completed");
    assert_eq!(metric(sft, "loss")["points"], 4);
    assert_eq!(metric(sft, "loss")["first_nonfinite_step"], 30);
    let page: Value = Value::String(sft["page"].as_str().unwrap().to_string());
    let html = fs::read_to_string(site.join(page.as_str().unwrap())).unwrap();
    assert!(
        html.contains("SFT on &lt;b&gt;chat&lt;&#x2F;b&gt; data")
            || html.contains("SFT on &lt;b&gt;chat&lt;/b&gt; data"),
        "the description is escaped"
    );
    assert!(!html.contains("<b>chat</b>"));
}
