//! The plain text log reader end to end: the real modded-nanogpt record (its
//! training script's source first, then `step:N/M` lines) and the real
//! torchtune SLURM output (the loss only inside one line of `\r` frames), and
//! a hand-made tree: a folder of two nanoGPT logs (one run each), an epoch
//! log that completes, and files that must not be claimed (a README, a log
//! of INFO lines only, a `training.log` left to its own reader).

use serde_json::Value;
use std::fs;
use std::path::Path;

mod common;
use common::{build, metric, no_problems, run_by_path, write};

fn names(run: &Value) -> Vec<&str> {
    run["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect()
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn real_modded_nanogpt_and_torchtune_logs() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/realruns");
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    for sub in ["nanogpt_style", "plain_text_logs"] {
        fs::create_dir_all(root.join(sub)).unwrap();
        copy_tree(&fixtures.join(sub), &root.join(sub));
    }
    let runs = build(&root, &tmp.path().join("site"));
    assert_eq!(runs.len(), 2, "{runs:?}");

    let run = run_by_path(
        &runs,
        "nanogpt_style/KellerJordan__modded-nanogpt/records/track_3_optimization/results/20260610_tuned_baseline_3250",
    );
    assert_eq!(run["format"], "plain_log");
    assert_eq!(names(run), ["val_loss", "step_avg_ms", "train_time_s"]);
    let val = metric(run, "val_loss");
    assert_eq!(
        (&val["family"], &val["split"]),
        (&"loss".into(), &"val".into())
    );
    assert_eq!(val["points"], 38);
    assert_eq!(val["first"], 10.82584);
    assert_eq!(val["last"], 3.27722);
    assert_eq!(val["best"], 3.27722);
    assert_eq!(val["last_step"], 3250);
    let avg = metric(run, "step_avg_ms");
    assert_eq!(
        (&avg["family"], &avg["points"]),
        (&"time".into(), &37.into())
    );
    assert_eq!(metric(run, "train_time_s")["last"], 503.169);
    assert_eq!(run["status"], "completed");
    assert_eq!(run["status_reason"], "reached its planned 3250 steps");
    no_problems(run);

    let run = run_by_path(
        &runs,
        "plain_text_logs/shanshanwangcsc__torchtune-gpu-benchmark/csc-scripts/logs",
    );
    assert_eq!(run["format"], "plain_log");
    assert_eq!(names(run), ["loss"]);
    let loss = metric(run, "loss");
    assert_eq!(
        (&loss["family"], &loss["split"]),
        (&"loss".into(), &"train".into())
    );
    assert_eq!(loss["points"], 512);
    assert_eq!(loss["first"], 1.9749605655670166);
    assert_eq!(loss["last"], 1.018775463104248);
    assert_eq!(loss["last_step"], 512);
    assert_eq!(run["status"], "unknown");
    no_problems(run);
}

#[test]
fn hand_made_logs() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let nano = |seed: f64| {
        let mut s = String::from("Overriding config with config/train_shakespeare_char.py:\n");
        for i in 0..5 {
            let loss = seed - i as f64 * 0.1;
            s += &format!("iter {}: loss {loss:.4}, time 50.00ms, mfu 3.50%\n", i * 10);
        }
        s += "step 50: train loss 1.2000, val loss 1.4000\n";
        s
    };
    write(&root, "sweep/a.log", &nano(2.0));
    write(&root, "sweep/b.log", &nano(3.0));
    write(
        &root,
        "sweep/README.txt",
        "# Notes\nstep 1: install\nthen run it\n",
    );
    write(
        &root,
        "epochs/stdout.txt",
        "2024-01-01 12:00:00,123 - INFO - starting\n\
         2024-01-01 12:00:01,000 - INFO - Epoch 1/3 - Train Loss: 0.9000, Val Loss: 1.0000, Val Acc: 60.0%\n\
         2024-01-01 12:00:02,000 - WARNING - lr is high\n\
         2024-01-01 12:00:03,000 - INFO - Epoch 2/3 - Train Loss: 0.7000, Val Loss: 0.8000, Val Acc: 70.0%\n\
         2024-01-01 12:00:04,000 - INFO - Epoch 3/3 - Train Loss: 0.5000, Val Loss: 0.7500, Val Acc: 75.0%\n",
    );
    write(
        &root,
        "infos/run.log",
        "INFO:x:one\nINFO:x:two\nINFO:x:three\nINFO:x:four\n",
    );
    let runs = build(&root, &tmp.path().join("site"));
    assert_eq!(runs.len(), 3, "{runs:?}");

    for (path, first) in [("sweep/a.log", 2.0), ("sweep/b.log", 3.0)] {
        let run = run_by_path(&runs, path);
        assert_eq!(run["format"], "plain_log");
        assert_eq!(
            names(run),
            ["loss", "train_loss", "val_loss", "time_ms", "mfu"]
        );
        assert_eq!(metric(run, "loss")["points"], 5);
        assert_eq!(metric(run, "loss")["first"], first);
        assert_eq!(metric(run, "val_loss")["last_step"], 50);
        assert_eq!(metric(run, "val_loss")["split"], "val");
        no_problems(run);
    }
    let run = run_by_path(&runs, "epochs");
    assert_eq!(names(run), ["train_loss", "val_loss", "val_acc"]);
    assert_eq!(metric(run, "val_acc")["family"], "accuracy");
    assert_eq!(metric(run, "val_loss")["best"], 0.75);
    assert_eq!(run["status"], "completed");
    assert_eq!(run["status_reason"], "reached its planned 3 epochs");
    no_problems(run);
}
