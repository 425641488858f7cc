//! The TensorBoard reader end to end: the real Keras run (train/ and
//! validation/ folders of one run, one header-only file), hand-damaged copies
//! of it (torn tail, bad checksum, Git LFS pointer), and a gen_corpus tree
//! checked against its truth file when `python3` is available.

use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

mod common;
use common::{build, gen_corpus, metric, run_by_path};

fn problems(run: &Value) -> Vec<String> {
    run["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["message"].as_str().unwrap().to_string())
        .collect()
}

fn real_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/realruns/tensorboard")
}

const LOGS: &str = "10tanmay100__DEEPCNNCLASSIFIER/artifacts/prepare_callbacks/tensorboard_log_dir";
const TRAIN: &str = "train/events.out.tfevents.1664264328.4ff9dfffae17.1360.0.v2";

#[test]
fn reads_the_real_keras_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = build(&real_fixture(), tmp.path());
    // train/ and validation/ are splits of their run, not runs of their own.
    assert_eq!(runs.len(), 2);
    let run = run_by_path(&runs, &format!("{LOGS}/tb_logs_at_2022-09-27-07-38-47"));
    assert_eq!(run["format"], "tensorboard");
    assert_eq!(run["status"], "unknown");
    assert_eq!(run["date"], "2022-09-27");
    assert_eq!(run["started"], "2022-09-27T07:38:48.000Z");
    assert!(problems(run).is_empty(), "{:?}", problems(run));
    let mut names: Vec<&str> = run["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "train/epoch_accuracy",
            "train/epoch_loss",
            "validation/epoch_accuracy",
            "validation/epoch_loss",
            "validation/evaluation_accuracy_vs_iterations",
            "validation/evaluation_loss_vs_iterations",
        ]
    );
    let expect = [
        ("train/epoch_loss", "loss", "train", 6.034821510314941, 0),
        ("validation/epoch_loss", "loss", "val", 4.678039073944092, 0),
        (
            "train/epoch_accuracy",
            "accuracy",
            "train",
            0.6923499703407288,
            0,
        ),
        (
            "validation/epoch_accuracy",
            "accuracy",
            "val",
            0.7261618375778198,
            0,
        ),
        (
            "validation/evaluation_loss_vs_iterations",
            "loss",
            "val",
            4.678039073944092,
            1250,
        ),
    ];
    for (name, family, split, value, step) in expect {
        let m = metric(run, name);
        assert_eq!(
            (m["family"].as_str(), m["split"].as_str()),
            (Some(family), Some(split))
        );
        assert_eq!(m["points"], 1, "{name}");
        assert_eq!(m["first"], value, "{name}");
        assert_eq!(m["best"], value, "{name}");
        assert_eq!(m["last_step"], step, "{name}");
    }
    // Killed before its first epoch ended: a graph, no scalars, and a
    // validation file of 40 bytes (a header only), which is not a problem.
    let early = run_by_path(&runs, &format!("{LOGS}/tb_logs_at_2022-09-27-06-02-14"));
    assert_eq!(early["format"], "tensorboard");
    assert!(problems(early).is_empty(), "{:?}", problems(early));
    assert_eq!(early["metrics"].as_array().unwrap().len(), 0);
    assert_eq!(early["started"], "2022-09-27T06:02:16.000Z");
}

#[test]
fn reports_torn_corrupt_and_lfs_files() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let real = real_fixture()
        .join(LOGS)
        .join("tb_logs_at_2022-09-27-07-38-47");
    let bytes = fs::read(real.join(TRAIN)).unwrap();
    let put = |rel: &str, data: &[u8]| {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, data).unwrap();
    };
    put(
        "torn/events.out.tfevents.1.h.0.v2",
        &bytes[..bytes.len() - 7],
    );
    let mut flipped = bytes.clone();
    flipped[20] ^= 0xff; // inside the first record's data
    put("flipped/events.out.tfevents.1.h.0.v2", &flipped);
    put(
        "lfs/events.out.tfevents.1.h.0.v2",
        b"version https://git-lfs.github.com/spec/v1\noid sha256:0123\nsize 74741\n",
    );
    let runs = build(&root, &tmp.path().join("site"));
    assert_eq!(runs.len(), 3);
    let torn = run_by_path(&runs, "torn");
    let p = problems(torn);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].contains("incomplete last record"));
    assert_eq!(torn["problems"][0]["severity"], "warning");
    assert!(torn["status_reason"]
        .as_str()
        .unwrap()
        .contains("mid-record"));
    assert_eq!(metric(torn, "epoch_loss")["first"], 6.034821510314941);
    let flipped = run_by_path(&runs, "flipped");
    let p = problems(flipped);
    assert!(
        p.len() == 1 && p[0].contains("data checksum mismatch"),
        "{p:?}"
    );
    assert_eq!(metric(flipped, "epoch_accuracy")["points"], 1);
    let lfs = run_by_path(&runs, "lfs");
    assert!(problems(lfs)[0].contains("Git LFS pointer"));
}

#[test]
fn gen_corpus_runs_match_their_truth() {
    let Some(generated) = gen_corpus("tb", 30, 100) else {
        return;
    };
    let (runs, truth) = (generated.runs, generated.truth);
    let truth = truth["runs"].as_array().unwrap();
    assert_eq!(runs.len(), truth.len());
    let mut matched = 0;
    for t in truth {
        let path = t["path"].as_str().unwrap();
        let run = run_by_path(&runs, path);
        assert_eq!(run["format"], "tensorboard");
        assert_eq!(
            run["params"]["batch_size"],
            t["params"]["batch_size"].to_string()
        );
        let loss = metric(run, "train/loss");
        assert_eq!(
            (loss["family"].as_str(), loss["split"].as_str()),
            (Some("loss"), Some("train"))
        );
        assert_eq!(
            metric(run, "train/learning_rate")["family"],
            "learning_rate"
        );
        assert!(run["duration_seconds"].as_f64().unwrap() > 0.0);
        if t["completed"] == true {
            assert_eq!(run["status"], "completed", "{path}");
            assert!(problems(run).is_empty(), "{path}: {:?}", problems(run));
            let eval = metric(run, "eval/loss");
            assert_eq!(eval["split"], "val");
            // Values are stored as float32.
            let best = eval["best"].as_f64().unwrap();
            let want = t["best_val_loss"].as_f64().unwrap();
            let exact = (best - want).abs() <= 1e-6 * want.abs().max(1.0)
                && eval["best_step"] == t["best_val_step"]
                && loss["last_step"] == t["last_step"]
                && loss["first_nonfinite_step"] == t["first_nonfinite_step"];
            matched += usize::from(exact);
        } else {
            // The writer was killed mid-record: the torn last record is lost.
            assert_eq!(run["status"], "failed", "{path}");
            let p = problems(run);
            assert!(p.len() == 1 && p[0].contains("incomplete"), "{path}: {p:?}");
            matched += usize::from(loss["last_step"].as_u64() <= t["last_step"].as_u64());
        }
    }
    println!(
        "gen_corpus: {matched} of {} tensorboard runs matched their truth",
        truth.len()
    );
    assert_eq!(matched, truth.len());
}
